package facts

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
)

// Gather runs Script for subsets on the host behind conn in one command,
// parses the output and keeps only the facts matching filter. subsets
// follows gather_subset (nil means all); filter is a shell-style pattern
// or a comma-separated list of them, matched against the fact name with
// and without the ansible_ prefix (Ansible's examples write
// "ansible_distribution*"); empty keeps everything. The result also holds
// "gather_subset" (the list asked for) and "module_setup": true, as
// Ansible's setup module returns (unless the filter drops them).
func Gather(ctx context.Context, conn connection.Connection, subsets []string, filter string) (map[string]any, error) {
	run := func(ctx context.Context, cmd string) (connection.Result, error) {
		return conn.Run(ctx, connection.Command{Cmd: cmd})
	}
	return Collect(ctx, run, Options{Subsets: subsets, Filter: filter})
}

// Options are the setup module's arguments.
type Options struct {
	Subsets  []string      // gather_subset; nil means all
	Filter   string        // comma-separated shell patterns; empty keeps all
	FactPath string        // where local facts are; default DefaultFactPath
	Timeout  time.Duration // for the whole gathering; 0 means none
}

// Runner runs a shell command on the host.
type Runner func(ctx context.Context, cmd string) (connection.Result, error)

// Collect is Gather with a runner of its own (the setup module runs the
// script with the task's become and environment) and all of setup's
// options.
func Collect(ctx context.Context, run Runner, o Options) (map[string]any, error) {
	if _, err := Resolve(o.Subsets); err != nil {
		return nil, err
	}
	for _, p := range splitFilter(o.Filter) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("gather facts: filter %q: %w", p, err)
		}
	}
	fp := o.FactPath
	if fp == "" {
		fp = DefaultFactPath
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	res, err := run(connection.ReadOnly(ctx), ScriptWith(o.Subsets, fp))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("gather facts: timed out after %v (gather_timeout): %w", o.Timeout, err)
		}
		return nil, fmt.Errorf("gather facts: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("gather facts: script exited with %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	f, err := Parse(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("gather facts: %w", err)
	}
	asked := []any{}
	if len(o.Subsets) == 0 {
		asked = append(asked, "all")
	}
	for _, s := range o.Subsets {
		asked = append(asked, s)
	}
	f["gather_subset"] = asked
	f["module_setup"] = true
	// As in Ansible, the filter applies to these two as well.
	return Filter(f, o.Filter), nil
}

func splitFilter(filter string) []string {
	var out []string
	for _, p := range strings.Split(filter, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Filter returns the facts whose name matches one of the comma-separated
// shell patterns in filter, with or without the ansible_ prefix. An empty
// filter returns facts unchanged.
func Filter(facts map[string]any, filter string) map[string]any {
	pats := splitFilter(filter)
	if len(pats) == 0 {
		return facts
	}
	out := map[string]any{}
	for k, v := range facts {
		for _, p := range pats {
			m1, _ := path.Match(p, k)
			m2, _ := path.Match(p, "ansible_"+k)
			if m1 || m2 {
				out[k] = v
				break
			}
		}
	}
	return out
}
