package modules

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// WaitForConnection waits until the host answers through its connection.
type WaitForConnection struct{}

var _ module.Module = (*WaitForConnection)(nil)

// Spec implements module.Module.
func (*WaitForConnection) Spec() *module.Spec {
	return &module.Spec{
		Name:         "wait_for_connection",
		ActionPlugin: true,
		Short:        "Wait until a remote system is reachable and usable",
		Description: "Waits `delay` seconds, then runs `echo pong` on the host (tend's counterpart of the ping " +
			"module) until it answers or `timeout` seconds have passed, `sleep` seconds apart. After a " +
			"failure the connection is dialed again (at most `connect_timeout` seconds per try), so a host " +
			"that rebooted or came up late is reached, and the new connection is the one later tasks use. " +
			"Returns elapsed (seconds). Skipped in check mode, as in Ansible.",
		Args: []module.Arg{
			{Name: "connect_timeout", Type: module.Int, Default: 5, Doc: "Seconds to wait for a connection to be made before trying again."},
			{Name: "delay", Type: module.Int, Default: 0, Doc: "Seconds to wait before the first try."},
			{Name: "sleep", Type: module.Int, Default: 1, Doc: "Seconds between tries."},
			{Name: "timeout", Type: module.Int, Default: 600, Doc: "Seconds to wait in all."},
		},
		Check: module.CheckNone,
		Examples: `- name: Wait for the hosts to come up
  wait_for_connection:
    delay: 10
    timeout: 300
`,
	}
}

// Plan implements module.Module. Waiting changes nothing on the host.
func (*WaitForConnection) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	start := time.Now()
	if err := sleepCtx(ctx, time.Duration(a.Int("delay"))*time.Second); err != nil {
		return nil, err
	}
	sleep := time.Duration(a.Int("sleep")) * time.Second
	err := retryHost(ctx, h, hostRetry{
		timeout:        time.Duration(a.Int("timeout")) * time.Second,
		connectTimeout: time.Duration(a.Int("connect_timeout")) * time.Second,
		pause:          func(int) time.Duration { return sleep },
	}, func(ctx context.Context) error {
		res, err := h.Run(ctx, "echo pong")
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(res.Stdout)) != "pong" {
			return errors.New("ping test failed")
		}
		return nil
	})
	elapsed := int(time.Since(start).Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return module.Unchanged(module.Result{"failed": true, "elapsed": elapsed,
			"msg": "timed out waiting for ping module test: " + lastLine(err.Error())}), nil
	}
	return module.Unchanged(module.Result{"elapsed": elapsed}), nil
}

// hostRetry says how retryHost tries.
type hostRetry struct {
	timeout        time.Duration
	connectTimeout time.Duration             // bound on each redial; 0: none but timeout
	pause          func(n int) time.Duration // pause after the n-th failure (0-based)
}

// retryHost runs try until it succeeds or r.timeout has passed. After a
// failure it waits r.pause and, for connections that can (Redialer), dials
// the host again and uses the new connection from then on. It returns the
// last error on timeout.
func retryHost(ctx context.Context, h *module.Host, r hostRetry, try func(context.Context) error) error {
	deadline := time.Now().Add(r.timeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var last error
	for n := 0; ; n++ {
		err := try(dctx)
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if sleepCtx(dctx, r.pause(n)) != nil {
			return last
		}
		if rd, ok := h.Conn.(connection.Redialer); ok {
			cctx, ccancel := dctx, context.CancelFunc(func() {})
			if r.connectTimeout > 0 {
				cctx, ccancel = context.WithTimeout(dctx, r.connectTimeout)
			}
			c, err := rd.Redial(cctx)
			ccancel()
			if err != nil {
				last = err
				if dctx.Err() != nil {
					return last
				}
				continue
			}
			h.Conn = c
		}
		if dctx.Err() != nil {
			return last
		}
	}
}

// backoffPause is Ansible's reboot retry pause: 2^n seconds plus up to a
// second at random, at most about 12 seconds.
func backoffPause(n int) time.Duration {
	jitter := time.Duration(rand.IntN(1000)) * time.Millisecond
	if n > 3 {
		return 12*time.Second + jitter
	}
	return time.Duration(1<<n)*time.Second + jitter
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lastLine is the last line of an error message, as Ansible reports it.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
