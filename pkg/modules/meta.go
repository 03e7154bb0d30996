package modules

import (
	"context"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
)

// Meta asks the executor to act on the run itself; the executor handles
// it before any module code runs, so Plan is only reached for unknown
// actions.
type Meta struct{}

var _ module.Module = (*Meta)(nil)

// Spec implements module.Module.
func (*Meta) Spec() *module.Spec {
	return &module.Spec{
		Name:  "meta",
		Short: "Control the run: flush handlers, end the play or a host",
		Description: "flush_handlers runs notified handlers now; end_play ends the play for all hosts; end_host ends " +
			"it for this host; end_batch ends the current serial batch; noop does nothing; clear_facts forgets " +
			"gathered facts; clear_host_errors lets failed hosts continue; refresh_inventory and reset_connection are " +
			"accepted and do nothing.",
		Args: []module.Arg{
			{Name: "action", Aliases: []string{"_raw_params"}, Type: module.String, Required: true, Choices: module.MetaActions, Doc: "The action (given as free-form text)."},
		},
		FreeForm:   "action",
		Controller: true,
		Examples:   `- meta: flush_handlers`,
	}
}

// Plan implements module.Module.
func (*Meta) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	return nil, fmt.Errorf("meta %s must be handled by the executor", a.String("action"))
}
