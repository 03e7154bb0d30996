package modules

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/facts"
	"github.com/tend-dev/tend/pkg/module"
)

// Setup gathers facts as a task, as the implicit "Gathering Facts" step
// does.
type Setup struct{}

var _ module.Module = (*Setup)(nil)

// Spec implements module.Module.
func (*Setup) Spec() *module.Spec {
	return &module.Spec{
		Name:  "setup",
		Short: "Gather facts about the host",
		Description: "Gathers the facts Ansible's setup module gathers on Linux in one shell command (POSIX tools, " +
			"no Python on the host) and returns them as ansible_facts, so later tasks see ansible_NAME and " +
			"ansible_facts.NAME. Runs in check mode too: it changes nothing. Subsets: all, min, hardware, network, " +
			"virtual, or Ansible's collector names (distribution, interfaces, mounts...: the subset holding them is gathered); facter and ohai are accepted and gather nothing. gather_timeout bounds the whole gathering " +
			"(Ansible bounds each collector). python and python_version are set only when the host has python3 " +
			"(they describe that interpreter). Local facts: *.fact files under fact_path, JSON or INI, executable " +
			"ones run and their output read, as in Ansible.",
		Args: []module.Arg{
			{Name: "gather_subset", Type: module.List, Elements: module.String, Default: []any{"all"},
				Doc: "Subsets to gather: all, min, hardware, network, virtual; !NAME excludes one (!all gathers min only)."},
			{Name: "filter", Type: module.List, Elements: module.String, Default: []any{},
				Doc: "Shell-style patterns; only facts whose name (with or without ansible_) matches one are returned."},
			{Name: "gather_timeout", Type: module.Int, Default: 10, Doc: "Seconds the gathering may take."},
			{Name: "fact_path", Type: module.Path, Expand: true, Default: facts.DefaultFactPath, Doc: "Directory of local facts (*.fact), returned as ansible_local."},
		},
		Check: module.CheckFull,
		Examples: `- setup:
    gather_subset: ["!all", network]
    filter: ["ansible_default_ipv4", "ansible_hostname"]
- debug:
    msg: "{{ ansible_default_ipv4.address }}"`,
	}
}

// Plan implements module.Module: gathering changes nothing, so Plan does
// it and check mode runs it too.
func (*Setup) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	subsets := a.List("gather_subset")
	if _, err := facts.Resolve(subsets); err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	opts := facts.Options{
		Subsets:  subsets,
		Filter:   strings.Join(a.List("filter"), ","),
		FactPath: a.String("fact_path"),
	}
	if n := a.Int("gather_timeout"); n > 0 {
		opts.Timeout = time.Duration(n) * time.Second
	}
	run := func(ctx context.Context, cmd string) (connection.Result, error) { return h.Run(ctx, cmd) }
	f, err := facts.Collect(ctx, run, opts)
	if errors.Is(err, connection.ErrUnreachable) {
		return nil, err
	}
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	out := make(map[string]any, len(f))
	for k, v := range f {
		switch k {
		case "gather_subset", "module_setup":
			out[k] = v
		default:
			out["ansible_"+k] = v
		}
	}
	return module.Unchanged(module.Result{"ansible_facts": out}), nil
}
