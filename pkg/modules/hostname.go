package modules

import (
	"context"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Hostname sets the host's name: /etc/hostname and the running kernel's.
type Hostname struct{}

var _ module.Module = (*Hostname)(nil)

// Spec implements module.Module.
func (Hostname) Spec() *module.Spec {
	return &module.Spec{
		Name:  "hostname",
		Short: "Set the host name",
		Description: "Sets the permanent host name (/etc/hostname) and the running one. Both are read in " +
			"one round trip. With `use: systemd` (the default on systemd hosts) `hostnamectl " +
			"set-hostname` is tried first; where it is not allowed (containers such as " +
			"systemd-nspawn, no D-Bus) tend falls back to writing /etc/hostname and running " +
			"`hostname NAME`, which is also what `use: debian` and `use: generic` do. " +
			"/etc/hosts is not changed.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "The host name (may be a FQDN)."},
			{Name: "use", Type: module.String, Choices: []string{"systemd", "debian", "generic", "alpine", "redhat", "sles"},
				Doc: "Strategy; default: systemd when the host runs it, else debian."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Name the web server
  hostname:
    name: web1.example.com
`,
	}
}

// Plan implements module.Module.
func (Hostname) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	name := strings.TrimSpace(args.String("name"))
	if name == "" || strings.ContainsAny(name, " \t\n/") {
		return module.Unchanged(module.Failed("invalid hostname %q", args.String("name"))), nil
	}
	secs, err := runProbe(ctx, h, "hostname", "hostname", catIfExists("/etc/hostname"),
		"[ -d /run/systemd/system ] && command -v hostnamectl >/dev/null && echo systemd || echo other")
	if err != nil {
		return nil, err
	}
	running := strings.TrimSpace(secs[0])
	content, _ := readCat(secs[1])
	permanent := strings.TrimSpace(content)
	short, domain, _ := strings.Cut(name, ".")
	facts := map[string]any{"ansible_hostname": short, "ansible_nodename": name, "ansible_fqdn": name, "ansible_domain": domain}
	result := module.Result{"name": name, "ansible_facts": facts}
	if running == name && permanent == name {
		return module.Unchanged(result), nil
	}
	use := args.String("use")
	if use == "" {
		use = "debian"
		if strings.TrimSpace(secs[2]) == "systemd" {
			use = "systemd"
		}
	}
	diff := module.Diff{Before: "hostname = " + running + "\n", After: "hostname = " + name + "\n"}
	q := shell.Quote(name)
	fallback := "printf '%s\\n' " + q + " > /etc/hostname && hostname " + q
	cmd := fallback
	if use == "systemd" {
		// hostnamectl needs systemd-hostnamed over D-Bus, which containers
		// often refuse; the fallback does the same job directly.
		cmd = "{ hostnamectl set-hostname " + q + " 2>/dev/null && [ \"$(hostname)\" = " + q + " ] && [ \"$(cat /etc/hostname)\" = " + q + " ]; } || { " + fallback + "; }"
	}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "set hostname", cmd)
			if err != nil || !ok {
				return r, err
			}
			return result, nil
		}}, nil
}
