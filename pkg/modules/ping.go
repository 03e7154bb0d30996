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
		Name:        "ping",
		Short:       "Check that the host answers",
		Description: "Connects to the host and runs a trivial command, returning ping: pong (or data). Needs only /bin/sh on the host, no Python. data=crash makes it fail, as in Ansible.",
		Args: []module.Arg{
			{Name: "data", Type: module.String, Default: "pong", Doc: "Value returned as ping."},
		},
		Examples: `- ping:`,
	}
}

// Plan implements module.Module.
func (*Ping) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	data := a.String("data")
	if data == "crash" {
		return module.Unchanged(module.Failed("boom")), nil
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
