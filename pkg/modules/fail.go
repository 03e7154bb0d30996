package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
)

// Fail fails the task with a message.
type Fail struct{}

var _ module.Module = (*Fail)(nil)

// Spec implements module.Module.
func (*Fail) Spec() *module.Spec {
	return &module.Spec{
		Name:         "fail",
		ActionPlugin: true,
		Short:        "Fail with a message",
		Description:  "Fails the task with msg. Use with when to stop a host on a condition.",
		Args: []module.Arg{
			{Name: "msg", Type: module.Raw, Default: "Failed as requested from task", Doc: "The failure message."},
		},
		Controller: true,
		Examples: `- fail:
    msg: "db_password is still the example placeholder"
  when: db_password == "changeme"`,
	}
}

// Plan implements module.Module.
func (*Fail) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	return module.Unchanged(module.Result{"failed": true, "msg": a["msg"]}), nil
}
