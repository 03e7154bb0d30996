package modules

import (
	"context"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Timezone sets the system time zone.
type Timezone struct{}

var _ module.Module = (*Timezone)(nil)

// Spec implements module.Module.
func (Timezone) Spec() *module.Spec {
	return &module.Spec{
		Name:  "timezone",
		Short: "Set the system time zone",
		Description: "Points /etc/localtime at /usr/share/zoneinfo/NAME and writes NAME to /etc/timezone " +
			"(Debian's record of it). The current link, /etc/timezone and the zone file's existence are " +
			"read in one round trip. timedatectl is used when it works (it also informs " +
			"systemd-timedated); otherwise, as in containers, the link is set directly.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "Zone name from the tz database, e.g. `Europe/Paris` or `Etc/UTC`."},
			{Name: "hwclock", Type: module.String, Choices: []string{"local", "UTC"}, Doc: "Accepted for compatibility; the hardware clock is not changed."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Servers run on UTC
  timezone:
    name: Etc/UTC
`,
	}
}

// Plan implements module.Module.
func (Timezone) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	name := strings.TrimSpace(args.String("name"))
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return module.Unchanged(module.Failed("invalid timezone name %q", args.String("name"))), nil
	}
	zone := "/usr/share/zoneinfo/" + name
	secs, err := runProbe(ctx, h, "timezone", "readlink /etc/localtime", catIfExists("/etc/timezone"),
		"[ -f "+shell.Quote(zone)+" ] && echo Y || echo N")
	if err != nil {
		return nil, err
	}
	link := strings.TrimSpace(secs[0])
	content, _ := readCat(secs[1])
	cur := strings.TrimSpace(content)
	if strings.TrimSpace(secs[2]) != "Y" {
		return module.Unchanged(module.Failed("given timezone %q is not available", name)), nil
	}
	curName := strings.TrimPrefix(strings.TrimPrefix(link, "/usr/share/zoneinfo/"), "../usr/share/zoneinfo/")
	before := curName
	if cur != "" {
		before = cur
	}
	// Ansible's timezone returns its diff in every result (content reads
	// the zone it replaced from diff.before.name).
	result := module.Result{"name": name, "diff": map[string]any{"before": map[string]any{"name": before}, "after": map[string]any{"name": name}}}
	if (link == zone || link == "../usr/share/zoneinfo/"+name) && cur == name {
		return module.Unchanged(result), nil
	}
	diff := module.Diff{Before: "name: " + curName + "\n", After: "name: " + name + "\n"}
	q, zq := shell.Quote(name), shell.Quote(zone)
	// timedatectl is tried for systemd-timedated's sake; whatever it did,
	// the link is then checked and set directly if needed.
	cmd := "timedatectl set-timezone " + q + " >/dev/null 2>&1; " +
		"case \"$(readlink /etc/localtime)\" in " + zq + "|" + shell.Quote("../usr/share/zoneinfo/"+name) + ") ;; " +
		"*) ln -sfn " + zq + " /etc/localtime || exit 1 ;; esac; " +
		"printf '%s\\n' " + q + " > /etc/timezone"
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "set timezone", cmd)
			if err != nil || !ok {
				return r, err
			}
			return result, nil
		}}, nil
}
