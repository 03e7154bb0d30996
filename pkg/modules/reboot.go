package modules

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Reboot reboots the host and waits for it to come back.
type Reboot struct{}

var _ module.Module = (*Reboot)(nil)

// Spec implements module.Module.
func (*Reboot) Spec() *module.Spec {
	return &module.Spec{
		Name:         "reboot",
		ActionPlugin: true,
		Short:        "Reboot a machine and wait for it to come back",
		Description: "Reads the boot id (`boot_time_command`), runs `shutdown -r MINUTES \"MSG\"` (MINUTES is " +
			"pre_reboot_delay divided by 60, as Ansible does on Linux) or `reboot_command`, waits " +
			"post_reboot_delay seconds, then dials the host again until the boot id has changed and " +
			"`test_command` succeeds, within reboot_timeout seconds (pauses of 1, 2, 4, 8, then 12 seconds " +
			"between tries). The new connection is the one later tasks use. Returns rebooted and elapsed " +
			"(seconds). In check mode the task reports changed without touching the host, as in Ansible. " +
			"A local connection is refused: it would reboot the controller.",
		Args: []module.Arg{
			{Name: "reboot_timeout", Aliases: []string{"reboot_timeout_sec"}, Type: module.Int, Default: 600, Doc: "Seconds to wait for the host to come back and pass test_command."},
			{Name: "connect_timeout", Aliases: []string{"connect_timeout_sec"}, Type: module.Int, Doc: "Seconds to wait for each connection attempt; default: the connection's own."},
			{Name: "pre_reboot_delay", Type: module.Int, Default: 0, Doc: "Seconds before the reboot; Linux's shutdown counts whole minutes."},
			{Name: "post_reboot_delay", Type: module.Int, Default: 0, Doc: "Seconds to wait after the reboot command before checking the host."},
			{Name: "test_command", Type: module.String, Default: "whoami", Doc: "Command that must succeed once the host is back."},
			{Name: "msg", Type: module.String, Default: "Reboot initiated by Ansible", Doc: "Message shown to logged-in users."},
			{Name: "search_paths", Type: module.List, Elements: module.String, Default: []any{"/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"}, Doc: "Where to look for shutdown."},
			{Name: "boot_time_command", Type: module.String, Default: "cat /proc/sys/kernel/random/boot_id", Doc: "Command printing something that changes with each boot."},
			{Name: "reboot_command", Type: module.String, Doc: "Command (with arguments) that reboots; the first word is looked up in search_paths."},
		},
		Check: module.CheckFull,
		Examples: `- name: Reboot after the kernel upgrade
  reboot:
    reboot_timeout: 900
  when: kernel_upgraded is changed
`,
	}
}

// rebootCommand is the shutdown command line: reboot_command's first word
// looked up in search_paths (PATH too), followed by its arguments or by
// Ansible's Linux arguments.
func rebootCommand(a module.Args) string {
	bin, args := "shutdown", ""
	if a.Has("reboot_command") {
		bin, args, _ = strings.Cut(strings.TrimSpace(a.String("reboot_command")), " ")
	} else {
		args = "-r " + strconv.Itoa(a.Int("pre_reboot_delay")/60) + " " + shell.Quote(a.String("msg"))
	}
	find := "b=; for d in"
	for _, p := range a.List("search_paths") {
		find += " " + shell.Quote(p)
	}
	find += "; do if [ -x \"$d\"/" + shell.Quote(bin) + " ]; then b=\"$d\"/" + shell.Quote(bin) + "; break; fi; done; " +
		"[ -n \"$b\" ] || b=$(command -v " + shell.Quote(bin) + ") || { echo " + shell.Quote("Unable to find command \""+bin+"\" in search paths") + " >&2; exit 127; }; "
	return find + "\"$b\" " + args
}

// Plan implements module.Module: a reboot always changes the host; the
// plan reads nothing.
func (*Reboot) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	if _, local := h.Conn.(connection.Local); local {
		return module.Unchanged(module.Result{"failed": true, "rebooted": false, "elapsed": 0,
			"msg": "Running reboot with local connection would reboot the control node."}), nil
	}
	return &module.Plan{Changed: true, Result: module.Result{"rebooted": true, "elapsed": 0},
		Apply: func(ctx context.Context) (module.Result, error) { return reboot(ctx, h, a) }}, nil
}

// reboot carries out the reboot and the wait, as Ansible's reboot action.
func reboot(ctx context.Context, h *module.Host, a module.Args) (module.Result, error) {
	bootCmd := a.String("boot_time_command")
	before, err := h.Run(ctx, bootCmd)
	if err != nil {
		return nil, fmt.Errorf("read the boot id of %s: %w", h.Name, err)
	}
	if before.ExitCode != 0 {
		return module.Result{"failed": true, "rebooted": false, "changed": false, "msg": fmt.Sprintf(
			"reboot: failed to get host boot time info, rc: %d, stdout: %s, stderr: %s",
			before.ExitCode, strings.TrimSpace(string(before.Stdout)), strings.TrimSpace(string(before.Stderr)))}, nil
	}
	bootID := strings.TrimSpace(string(before.Stdout))
	// The connection may drop before shutdown answers: that is success, as
	// in Ansible, and so is a command that does not return in time.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	res, err := h.Run(sctx, rebootCommand(a))
	cancel()
	start := time.Now()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err == nil && res.ExitCode != 0 {
		return module.Result{"failed": true, "rebooted": false, "changed": false, "elapsed": 0, "msg": fmt.Sprintf(
			"Reboot command failed. Error was: '%s, %s'", strings.TrimSpace(string(res.Stdout)), strings.TrimSpace(string(res.Stderr)))}, nil
	}
	if err := sleepCtx(ctx, time.Duration(a.Int("post_reboot_delay"))*time.Second); err != nil {
		return nil, err
	}
	timeout := time.Duration(a.Int("reboot_timeout")) * time.Second
	retry := hostRetry{timeout: timeout, connectTimeout: time.Duration(a.Int("connect_timeout")) * time.Second, pause: backoffPause}
	elapsed := func() int { return int(time.Since(start).Seconds()) }
	stage := "last boot time check"
	err = retryHost(ctx, h, retry, func(ctx context.Context) error {
		r, err := h.Run(ctx, bootCmd)
		switch {
		case err != nil:
			return err
		case r.ExitCode != 0:
			return fmt.Errorf("failed to get host boot time info, rc: %d", r.ExitCode)
		case strings.TrimSpace(string(r.Stdout)) == "" || strings.TrimSpace(string(r.Stdout)) == bootID:
			return errors.New("boot time has not changed")
		}
		return nil
	})
	if err == nil {
		stage = "post-reboot test command"
		// Each stage has the whole reboot_timeout, as in Ansible.
		err = retryHost(ctx, h, retry, func(ctx context.Context) error {
			r, err := h.Run(ctx, a.String("test_command"))
			if err != nil {
				return err
			}
			if r.ExitCode != 0 {
				return fmt.Errorf("test command failed: %s %s", strings.TrimSpace(string(r.Stderr)), strings.TrimSpace(string(r.Stdout)))
			}
			return nil
		})
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return module.Result{"failed": true, "rebooted": true, "changed": true, "elapsed": elapsed(),
			"msg": fmt.Sprintf("Timed out waiting for %s (timeout=%d)", stage, a.Int("reboot_timeout"))}, nil
	}
	return module.Result{"rebooted": true, "changed": true, "elapsed": elapsed()}, nil
}
