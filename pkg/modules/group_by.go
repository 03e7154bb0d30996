package modules

import (
	"context"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// GroupBy puts the host in a group created during the run.
type GroupBy struct{}

var _ module.Module = (*GroupBy)(nil)

// Spec implements module.Module.
func (*GroupBy) Spec() *module.Spec {
	return &module.Spec{
		Name:         "group_by",
		ActionPlugin: true,
		Short:        "Create inventory groups from host data during the run",
		Description: "Adds the host to the group named key (spaces become dashes), creating it and its parents as " +
			"needed, for the rest of the run: later plays' host patterns, groups and group_names see it. " +
			"Reports changed when the inventory changed. Runs on the controller.",
		Args: []module.Arg{
			{Name: "key", Type: module.String, Required: true, Doc: "The group to add the host to."},
			{Name: "parents", Type: module.List, Elements: module.String, Default: []any{"all"}, Doc: "The groups the new group becomes a child of."},
		},
		Controller: true,
		Examples: `- group_by:
    key: os_{{ ansible_distribution }}
    parents: linux`,
	}
}

// Plan implements module.Module. The executor applies the result to the
// inventory, which a module cannot reach.
func (*GroupBy) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	parents := []any{}
	for _, p := range a.List("parents") {
		parents = append(parents, strings.ReplaceAll(p, " ", "-"))
	}
	if len(parents) == 0 {
		parents = []any{"all"}
	}
	return module.Unchanged(module.Result{
		"add_group":     strings.ReplaceAll(a.String("key"), " ", "-"),
		"parent_groups": parents,
	}), nil
}
