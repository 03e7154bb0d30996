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
			"and inventory variables and below extra vars. With cacheable: true the values are also host facts " +
			"(ansible_facts.NAME), as in Ansible; tend keeps no fact cache between runs.",
		// cacheable is the one argument with a meaning of its own; every
		// other key is a variable (AnyArgs).
		Args: []module.Arg{
			{Name: "cacheable", Type: module.Bool, Default: false, Doc: "Also make the values host facts (ansible_facts.NAME), " +
				"as Ansible does for its fact cache; tend keeps no fact cache between runs, so within the run the values " +
				"are both variables and facts."},
		},
		AnyArgs:    true,
		Controller: true,
		Examples: `- set_fact:
    ppm_url: "http://{{ groups['package_manager'][0] }}:4242"`,
	}
}

// Plan implements module.Module.
func (*SetFact) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	facts := map[string]any{}
	cacheable := false
	for k, v := range a {
		if k == "cacheable" {
			cacheable, _ = module.ToBool(v)
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
	res := module.Result{"ansible_facts": facts}
	if cacheable {
		res[module.FactsCacheable] = true
	}
	return module.Unchanged(res), nil
}
