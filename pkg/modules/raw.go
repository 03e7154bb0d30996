package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Raw runs a command line as it is, with no transfer and no quoting.
type Raw struct{}

var _ module.Module = (*Raw)(nil)

// Spec implements module.Module.
func (Raw) Spec() *module.Spec {
	return &module.Spec{
		Name:  "raw",
		Short: "Run a command line as it is, with nothing transferred",
		Description: `Runs the free-form text as a shell command line on the host, exactly as
written: tend adds no quoting, transfers nothing and reads no facts, so raw works on hosts
that have nothing but a shell (to bootstrap them). It runs through /bin/sh -c, or through
executable -c when executable is given, with the task's become and environment.
A non-zero exit code fails the task. raw is never idempotent and always reports changed;
in check mode it is skipped, as in Ansible.`,
		Args: []module.Arg{
			{Name: "free_form", Aliases: []string{"cmd"}, Type: module.String, Required: true, Doc: "The command line, run as written."},
			{Name: "executable", Type: module.String, Doc: "Shell to run the command with (as: executable -c 'command'); default /bin/sh."},
		},
		FreeForm: "free_form",
		Check:    module.CheckNone,
		Examples: `- name: Bootstrap a host without Python or sudo configured
  raw: apt-get update && apt-get install -y sudo

- name: Run with bash
  ansible.builtin.raw: set -o pipefail; cat /proc/loadavg | cut -d' ' -f1
  args:
    executable: /bin/bash`,
	}
}

// rawCommand is the command line raw runs.
func rawCommand(cmd, executable string) string {
	if executable == "" {
		return cmd
	}
	return "exec " + shell.Quote(executable) + " -c " + shell.Quote(cmd)
}

// Plan implements module.Module.
func (Raw) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	line := rawCommand(args.String("free_form"), args.String("executable"))
	return &module.Plan{
		Changed:       true,
		Unpredictable: true,
		Result:        module.Result{},
		Apply: func(ctx context.Context) (module.Result, error) {
			res, err := h.RunWith(ctx, connection.Command{Cmd: line})
			if err != nil {
				return nil, fmt.Errorf("raw on %s: %w", h.Name, err)
			}
			return commandOutcome(res), nil
		},
	}, nil
}

// commandOutcome is a command's result, failed with Ansible's message
// when it exited non-zero.
func commandOutcome(res connection.Result) module.Result {
	r := module.CommandResult(res)
	if res.ExitCode != 0 {
		r["failed"] = true
		r["msg"] = "non-zero return code"
	}
	return r
}

// splitFreeForm splits "path rest" where path may be quoted with ' or ".
func splitFreeForm(s string) (first, rest string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if q := s[0]; q == '\'' || q == '"' {
		if end := strings.IndexByte(s[1:], q); end >= 0 {
			return s[1 : end+1], strings.TrimSpace(s[end+2:])
		}
	}
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}
