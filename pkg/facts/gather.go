package facts

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
)

// Gather runs Script for subsets on the host behind conn in one command,
// parses the output and keeps only the facts matching filter. subsets
// follows gather_subset (nil means all); filter is a shell-style pattern
// or a comma-separated list of them, matched against the fact name with
// and without the ansible_ prefix (Ansible's examples write
// "ansible_distribution*"); empty keeps everything. The result also holds
// "gather_subset" (the list asked for) and "module_setup": true, as
// Ansible's setup module returns.
func Gather(ctx context.Context, conn connection.Connection, subsets []string, filter string) (map[string]any, error) {
	if _, err := Resolve(subsets); err != nil {
		return nil, err
	}
	for _, p := range splitFilter(filter) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("gather facts: filter %q: %w", p, err)
		}
	}
	res, err := conn.Run(connection.ReadOnly(ctx), connection.Command{Cmd: Script(subsets)})
	if err != nil {
		return nil, fmt.Errorf("gather facts: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("gather facts: script exited with %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	f, err := Parse(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("gather facts: %w", err)
	}
	f = Filter(f, filter)
	asked := []any{}
	if len(subsets) == 0 {
		asked = append(asked, "all")
	}
	for _, s := range subsets {
		asked = append(asked, s)
	}
	f["gather_subset"] = asked
	f["module_setup"] = true
	return f, nil
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
