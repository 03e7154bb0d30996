package modules

import (
	"context"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
)

// Package installs packages with the host's package manager: apt, dnf or
// yum, chosen from the ansible_pkg_mgr fact or `use`.
type Package struct{}

var _ module.Module = (*Package)(nil)

// Spec implements module.Module.
func (Package) Spec() *module.Spec {
	return &module.Spec{
		Name:  "package",
		Short: "Manage packages with the host's package manager",
		Description: "A generic front end: passes its arguments to the apt, dnf or yum module, chosen " +
			"by the `ansible_pkg_mgr` fact (gathered facts) or the `use` argument. Arguments other than " +
			"name, state and use go to that module as they are, as in Ansible: one it does not know " +
			"fails the task when it runs. Package names often differ between distributions; only name " +
			"and state are portable.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.List, NotOption: true, Elements: module.String, Doc: "Package names."},
			{Name: "state", Type: module.String, Choices: []string{"present", "installed", "latest", "absent", "removed"},
				Doc: "Desired state."},
			{Name: "use", Type: module.String, Default: "auto", Doc: "`auto` (the fact), `apt`, `dnf` or `yum`."},
		},
		PassThrough: true,
		Check:       module.CheckFull,
		Diff:        true,
		Examples: `- name: Portable install
  package:
    name: rsync
    state: present
`,
	}
}

// packageBackend returns the module for a package manager name.
func packageBackend(mgr string) (module.Module, bool) {
	switch mgr {
	case "apt":
		return Apt{}, true
	case "dnf", "dnf5":
		return Dnf{}, true
	case "yum":
		return Yum{}, true
	}
	return nil, false
}

// Plan implements module.Module.
func (Package) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	mgr := args.String("use")
	if mgr == "" || mgr == "auto" {
		mgr = factVar(h, "pkg_mgr")
	}
	if mgr == "" {
		return module.Unchanged(module.Failed("Could not detect which package manager to use. Gather facts (ansible_pkg_mgr) or set 'use'.")), nil
	}
	m, ok := packageBackend(mgr)
	if !ok {
		return module.Unchanged(module.Failed("package manager %q is not supported (apt, dnf, yum)", mgr)), nil
	}
	raw := make(map[string]any, len(args))
	for k, v := range args {
		if k != "use" {
			raw[k] = v
		}
	}
	bargs, err := m.Spec().Validate(raw, false)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	p, err := m.Plan(ctx, h, bargs)
	if err != nil {
		return nil, fmt.Errorf("package via %s: %w", mgr, err)
	}
	return p, nil
}
