package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// AddHost adds a host to the in-memory inventory.
type AddHost struct{}

var _ module.Module = (*AddHost)(nil)

// Spec implements module.Module.
func (*AddHost) Spec() *module.Spec {
	return &module.Spec{
		Name:  "add_host",
		Short: "Add a host to the inventory during the run",
		Description: "Adds the host name (host:port sets ansible_ssh_port, as in Ansible) to the inventory for the rest of the run, " +
			"in groups, with every other argument as a host variable (ansible_host, ansible_user...). " +
			"Runs once per task, not once per host, as in Ansible; reports changed when the inventory changed.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"host", "hostname"}, Type: module.String, Required: true, Doc: "The host to add, optionally with :port."},
			{Name: "groups", Aliases: []string{"group", "groupname"}, Type: module.List, Elements: module.String, Doc: "The groups to put the host in."},
		},
		AnyArgs:    true,
		Controller: true,
		Examples: `- add_host:
    name: "{{ new_ip }}"
    groups: just_created
    ansible_user: admin`,
	}
}

// Plan implements module.Module. The executor applies the result to the
// inventory, which a module cannot reach.
func (*AddHost) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	name := ""
	vars := map[string]any{}
	groups := []any{}
	for k, v := range a {
		switch k {
		case "name", "host", "hostname":
			name = fmt.Sprint(v)
		case "groups", "group", "groupname":
			groups = append(groups, groupList(v)...)
		default:
			vars[k] = v
		}
	}
	if name == "" {
		return module.Unchanged(module.Failed("name, host or hostname needs to be provided")), nil
	}
	if host, port, ok := splitHostPort(name); ok {
		name = host
		vars["ansible_ssh_port"] = port
	}
	return module.Unchanged(module.Result{
		"add_host": map[string]any{"host_name": name, "groups": groups, "host_vars": vars},
	}), nil
}

func groupList(v any) []any {
	var out []any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
	case string:
		for _, g := range strings.Split(x, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
	case nil:
	default:
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// splitHostPort splits "host:port" as Ansible's parse_address does for a
// name that is not a bare IPv6 address.
func splitHostPort(s string) (string, int, bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return "", 0, false
		}
		p, err := strconv.Atoi(s[end+2:])
		return s[1:end], p, err == nil
	}
	if strings.Count(s, ":") != 1 {
		return "", 0, false
	}
	i := strings.IndexByte(s, ':')
	p, err := strconv.Atoi(s[i+1:])
	return s[:i], p, err == nil
}
