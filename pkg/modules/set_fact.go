package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vars"
)

// SetFact sets host variables for the rest of the run.
type SetFact struct{}

var _ module.Module = (*SetFact)(nil)

// Spec implements module.Module.
func (*SetFact) Spec() *module.Spec {
	return &module.Spec{
		Name:  "set_fact",
		Short: "Set host variables",
		Description: "Each key=value becomes a variable of the host for the rest of the playbook run, above play " +
			"and inventory variables and below extra vars. cacheable is accepted and has no effect (tend keeps no fact cache).",
		AnyArgs:    true,
		Controller: true,
		Examples: `- set_fact:
    ppm_url: "http://{{ groups['package_manager'][0] }}:4242"`,
	}
}

// Plan implements module.Module.
func (*SetFact) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	facts := map[string]any{}
	for k, v := range a {
		if k == "cacheable" {
			continue
		}
		if !vars.ValidName(k) {
			return module.Unchanged(module.Failed("set_fact: %q is not a valid variable name", k)), nil
		}
		facts[k] = v
	}
	if len(facts) == 0 {
		return module.Unchanged(module.Failed("set_fact needs at least one key=value")), nil
	}
	return module.Unchanged(module.Result{"ansible_facts": facts}), nil
}
