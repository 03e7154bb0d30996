package ssh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/shell"
)

// nasty holds strings that break careless quoting.
var nasty = []string{
	"plain",
	"with space",
	`single ' quote`,
	`double " quote`,
	"$(touch /tmp/tend-pwned)",
	"`touch /tmp/tend-pwned`",
	"new\nline",
	"glob * ? [a-z]",
	"ünïcødé ✓ 日本",
	`back\slash; semi & amp | pipe > redir`,
	"-leading-dash",
	"$HOME ${PATH} $1",
}

func TestRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	tests := append(commonRunCases(f.user.Name),
		runCase{name: "stdin", cmd: connection.Command{Cmd: "tr a-z A-Z", Stdin: strings.NewReader("shout")}, wantOut: "SHOUT"},
		runCase{name: "killed by signal", cmd: connection.Command{Cmd: "kill -s KILL $$"}, wantCode: 137},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, run(t, c, tt.cmd)) })
	}
	t.Run("nasty arguments round-trip", func(t *testing.T) {
		for _, s := range nasty {
			got := mustOut(t, c, "printf %s "+shell.Quote(s), nil)
			if got != s {
				t.Errorf("printf %q: got %q", s, got)
			}
		}
	})
}

func TestRunTimeoutAndCancelKillRemoteCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	for _, tc := range []struct {
		name   string
		become *connection.Become
		secs   string
	}{
		// Unique durations, so that pgrep finds only this run's commands.
		{"login user", nil, fmt.Sprintf("91.%06d", rand.IntN(1e6))},
		{"under sudo", &connection.Become{}, fmt.Sprintf("92.%06d", rand.IntN(1e6))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { time.Sleep(500 * time.Millisecond); cancel() }()
			start := time.Now()
			_, err := c.Run(ctx, connection.Command{Cmd: "sleep " + tc.secs + "; echo done", Become: tc.become})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("cancel took %s", d)
			}
			waitGone(t, "sleep "+tc.secs)

			_, err = c.Run(context.Background(), connection.Command{Cmd: "sleep 1" + tc.secs, Become: tc.become, Timeout: 300 * time.Millisecond})
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 300ms") {
				t.Fatalf("err = %v, want a timeout", err)
			}
			waitGone(t, "sleep 1"+tc.secs)
		})
	}
	// The connection is still fine afterwards.
	if got := mustOut(t, c, "echo ok", nil); got != "ok\n" {
		t.Errorf("after cancel: %q", got)
	}
}

// waitGone fails unless no process with pattern in its command line is
// left within a few seconds (the "remote" host is this machine).
func waitGone(t *testing.T, pattern string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if exec.Command("pgrep", "-f", "^"+pattern).Run() != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("remote command %q still running after cancel", pattern)
}

func TestConcurrentUseOfOneConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	p := f.pool(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	conns := make(chan connection.Connection, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Get(context.Background(), "target", f.vars())
			if err != nil {
				errs <- err
				return
			}
			conns <- c
			want := fmt.Sprintf("n=%d", i)
			res, err := c.Run(context.Background(), connection.Command{Cmd: "sleep 0.05; printf %s " + shell.Quote(want)})
			if err != nil {
				errs <- err
				return
			}
			if string(res.Stdout) != want {
				errs <- fmt.Errorf("goroutine %d got %q", i, res.Stdout)
			}
			var buf strings.Builder
			dst := "/tmp/tend-conc-" + f.user.Name + "-" + itoa(i)
			if err := c.Put(context.Background(), strings.NewReader(want), dst, connection.PutOptions{}); err != nil {
				errs <- err
				return
			}
			if err := c.Get(context.Background(), dst, &buf, connection.GetOptions{}); err != nil || buf.String() != want {
				errs <- fmt.Errorf("goroutine %d get %q: %v", i, buf.String(), err)
			}
			c.Run(context.Background(), connection.Command{Cmd: "rm -f " + shell.Quote(dst)})
		}()
	}
	wg.Wait()
	close(errs)
	close(conns)
	for err := range errs {
		t.Error(err)
	}
	var first connection.Connection
	for c := range conns {
		if first == nil {
			first = c
		} else if c != first {
			t.Fatal("Get returned different connections for one host")
		}
	}
	if n := strings.Count(f.srv.Logs(), "Accepted publickey"); n != 1 {
		t.Errorf("sshd accepted %d logins, want 1 (one pooled connection)", n)
	}
}

// TestRunRefusesUnsafeCommands: a NUL byte cannot reach /bin/sh intact and
// an environment name that is not a shell name would run as code; both are
// command errors (not an unreachable host), in a session and in the shared
// shell, and the connection keeps working.
func TestRunRefusesUnsafeCommands(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	c := f.conn(t)
	tests := []struct {
		name string
		cmd  connection.Command
		want string
	}{
		{"NUL in the command", connection.Command{Cmd: "echo a\x00b"}, "command contains a NUL byte"},
		{"NUL in the directory", connection.Command{Cmd: "pwd", Dir: "/tmp\x00x"}, `working directory "/tmp\x00x" contains a NUL byte`},
		{"NUL in an environment value", connection.Command{Cmd: "true", Env: map[string]string{"GREETING": "a\x00b"}}, `environment variable "GREETING" contains a NUL byte`},
		{"environment name that is code", connection.Command{Cmd: "true", Env: map[string]string{"X=1; touch /tmp/tend-pwned; Y": "v"}}, "is not a valid environment variable name"},
		{"environment name with a dash", connection.Command{Cmd: "true", Env: map[string]string{"MY-VAR": "v"}}, `"MY-VAR" is not a valid environment variable name`},
	}
	for _, tt := range tests {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s shared=%v", tt.name, shared), func(t *testing.T) {
				ctx := ctxT(t)
				if shared {
					ctx = connection.ReadOnly(ctx)
				}
				done := make(chan error, 1)
				go func() { _, err := c.Run(ctx, tt.cmd); done <- err }()
				var err error
				select {
				case err = <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("command hangs")
				}
				if err == nil || errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a command error with %q", err, tt.want)
				}
				if got := mustOut(t, c, "echo still here", nil); got != "still here\n" {
					t.Fatalf("connection broken after the refused command: %q", got)
				}
			})
		}
	}
}
