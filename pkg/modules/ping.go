package modules

import (
	"context"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Ping checks that tend can log in and run a command.
type Ping struct{}

var _ module.Module = (*Ping)(nil)

// Spec implements module.Module.
func (*Ping) Spec() *module.Spec {
	return &module.Spec{
		Name:  "ping",
		Short: "Check that the host answers",
		Description: "Connects to the host and runs a trivial command, returning ping: pong (or data). Needs only /bin/sh on the host, no Python. " +
			"data=crash makes it fail as Ansible's ping fails when its Python code raises Exception(\"boom\"): failed, not changed, rc 1, " +
			"msg \"MODULE FAILURE\\nSee stdout/stderr for the exact error\", module_stdout empty, and module_stderr and exception holding " +
			"a Python-style traceback ending in \"Exception: boom\" (tend runs no Python: the traceback is written by tend and names no file of the host).",
		Args: []module.Arg{
			{Name: "data", Type: module.String, Default: "pong", Doc: "Value returned as ping; crash fails the task with Ansible's module failure result (see above)."},
		},
		Examples: `- ping:`,
	}
}

// Plan implements module.Module.
func (*Ping) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	data := a.String("data")
	if data == "crash" {
		return module.Unchanged(pingCrash()), nil
	}
	res, err := h.Run(ctx, "printf '%s' "+shell.Quote(data))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return module.Unchanged(module.Failed("ping: %s", strings.TrimSpace(string(res.Stderr)))), nil
	}
	return module.Unchanged(module.Result{"ping": string(res.Stdout)}), nil
}

// pingCrashTraceback is what Ansible's ping prints on standard error for
// data=crash, shortened to its last frame: content tests the last line
// ("'Exception: boom' in result.module_stdout + result.module_stderr").
const pingCrashTraceback = "Traceback (most recent call last):\n" +
	"  File \"<tend ping>\", line 1, in main\n" +
	"Exception: boom\n"

// pingCrash is the result of Ansible's ping with data=crash: the module
// raises, and Ansible reports a module failure with what it printed.
func pingCrash() module.Result {
	return module.Result{
		"failed":        true,
		"changed":       false,
		"msg":           "MODULE FAILURE\nSee stdout/stderr for the exact error",
		"rc":            1,
		"module_stdout": "",
		"module_stderr": pingCrashTraceback,
		"exception":     pingCrashTraceback,
	}
}
