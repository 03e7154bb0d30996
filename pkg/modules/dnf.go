package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Dnf manages RPM packages with dnf on RHEL-family hosts.
type Dnf struct{}

// Yum manages RPM packages with yum; on current RHEL yum is dnf.
type Yum struct{}

var (
	_ module.Module = (*Dnf)(nil)
	_ module.Module = (*Yum)(nil)
)

func rpmSpec(tool string) *module.Spec {
	return &module.Spec{
		Name:  tool,
		Short: "Manage RPM packages with " + tool,
		Description: "Installs, upgrades and removes RPM packages with " + tool + ". Installed versions " +
			"are read in one round trip with `rpm -q` (plus `" + tool + " check-update` for " +
			"`state: latest`). Names may carry a version (`nginx-1.20.1`). Package groups (`@group`), " +
			"local .rpm files and URLs are not supported yet.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"pkg"}, Type: module.List, NotOption: true, Elements: module.String, Required: true,
				Doc: "Package names, optionally with a version (`name-1.2`)."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "installed", "latest", "absent", "removed"},
				Doc: "`present` installs, `latest` also upgrades, `absent` removes."},
			{Name: "update_cache", Aliases: []string{"expire-cache"}, Type: module.Bool, Default: false,
				Doc: "Refresh the metadata before acting (`--refresh`, or `makecache` for yum)."},
			{Name: "disable_gpg_check", Type: module.Bool, Default: false, Doc: "Pass --nogpgcheck."},
			{Name: "enablerepo", Type: module.List, Elements: module.String, Doc: "Repositories to enable for this run."},
			{Name: "disablerepo", Type: module.List, Elements: module.String, Doc: "Repositories to disable for this run."},
			{Name: "install_weak_deps", Type: module.Bool, Default: true, Doc: "Install weak dependencies (Recommends); dnf only."},
			{Name: "exclude", Type: module.List, Elements: module.String, Doc: "Packages to exclude (--exclude)."},
			{Name: "allow_downgrade", Type: module.Bool, Default: false, Doc: "Allow a lower version than installed (--allowerasing is not implied)."},
			{Name: "autoremove", Type: module.Bool, Default: false, Doc: "With state=absent, also remove unneeded dependencies."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Web server
  ` + tool + `:
    name: [nginx, jq]
    state: latest
    enablerepo: [epel]
`,
	}
}

// Spec implements module.Module.
func (Dnf) Spec() *module.Spec { return rpmSpec("dnf") }

// Spec implements module.Module.
func (Yum) Spec() *module.Spec { return rpmSpec("yum") }

// Plan implements module.Module.
func (Dnf) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	return planRPM(ctx, h, "dnf", args)
}

// Plan implements module.Module.
func (Yum) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	return planRPM(ctx, h, "yum", args)
}

// rpmQueryFormat prints what the module compares; EPOCHNUM is 0 when the
// package has no epoch.
const rpmQueryFormat = "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n"

// rpmProbe prints "QUERY<TAB>rpm -q output line" for each name, so a
// query with a version maps back to its answer.
func rpmProbe(names []string) string {
	return "for _n in " + shell.Join(names...) + "; do printf '%s\\t' \"$_n\"; rpm -q --qf '" + rpmQueryFormat + "' -- \"$_n\" 2>&1 | head -n 1; done"
}

// rpmInstalled is one installed package from rpmProbe.
type rpmInstalled struct{ Name, EVRA string }

// parseRPMQuery decodes rpmProbe output: query -> installed package, for
// installed ones only.
func parseRPMQuery(out string) map[string]rpmInstalled {
	m := map[string]rpmInstalled{}
	for _, line := range strings.Split(out, "\n") {
		q, ans, ok := strings.Cut(line, "\t")
		if !ok || strings.Contains(ans, "is not installed") || strings.HasPrefix(ans, "error") {
			continue
		}
		f := strings.Fields(ans)
		if len(f) == 2 {
			m[q] = rpmInstalled{Name: f[0], EVRA: f[1]}
		}
	}
	return m
}

// parseCheckUpdate reads `dnf -q check-update` output: package name
// (without arch) -> available version. Obsoleting lines are skipped.
func parseCheckUpdate(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(line, " ") || strings.HasPrefix(f[0], "Obsoleting") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "."); i > 0 {
			name = name[:i]
		}
		m[name] = f[1]
	}
	return m
}

// rpmCommand builds a dnf/yum command line.
func rpmCommand(tool string, args module.Args, sub string, pkgs []string) string {
	c := []string{tool, "-y", "-q"}
	if args.Bool("disable_gpg_check") {
		c = append(c, "--nogpgcheck")
	}
	for _, r := range args.List("enablerepo") {
		c = append(c, "--enablerepo="+r)
	}
	for _, r := range args.List("disablerepo") {
		c = append(c, "--disablerepo="+r)
	}
	for _, e := range args.List("exclude") {
		c = append(c, "--exclude="+e)
	}
	if tool == "dnf" && !args.Bool("install_weak_deps") && sub == "install" {
		c = append(c, "--setopt=install_weak_deps=False")
	}
	if tool == "dnf" && args.Bool("update_cache") && sub != "remove" {
		c = append(c, "--refresh")
	}
	if sub == "remove" && !args.Bool("autoremove") {
		c = append(c, "--setopt=clean_requirements_on_remove=False")
	}
	c = append(c, sub)
	if len(pkgs) > 0 {
		c = append(c, "--")
		c = append(c, pkgs...)
	}
	return shell.Join(c...)
}

// rpmDecision is what dnf/yum would do.
type rpmDecision struct {
	install, upgrade, remove []string
	before, after            map[string]string
}

func decideRPM(names []string, state string, installed map[string]rpmInstalled, updates map[string]string) rpmDecision {
	d := rpmDecision{before: map[string]string{}, after: map[string]string{}}
	for _, n := range names {
		inst, ok := installed[n]
		switch state {
		case "absent", "removed":
			if ok {
				d.remove = append(d.remove, n)
				d.before[n], d.after[n] = inst.EVRA, "removed"
			}
		case "latest":
			if !ok {
				d.install = append(d.install, n)
				d.before[n], d.after[n] = "not installed", "latest"
			} else if v, up := updates[inst.Name]; up {
				d.upgrade = append(d.upgrade, n)
				d.before[n], d.after[n] = inst.EVRA, v
			}
		default:
			if !ok {
				d.install = append(d.install, n)
				d.before[n], d.after[n] = "not installed", "installed"
			}
		}
	}
	return d
}

func planRPM(ctx context.Context, h *module.Host, tool string, args module.Args) (*module.Plan, error) {
	var names []string
	for _, n := range args.List("name") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if strings.HasPrefix(n, "@") || strings.HasSuffix(n, ".rpm") || strings.Contains(n, "://") {
			return module.Unchanged(module.Failed("%s: package groups, .rpm files and URLs are not supported yet: %s", tool, n)), nil
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return module.Unchanged(module.Failed("%s: no package names given", tool)), nil
	}
	state := args.String("state")
	probes := []string{rpmProbe(names)}
	if state == "latest" {
		// check-update exits 100 when updates exist; that is not a failure.
		probes = append(probes, rpmCommand(tool, args, "check-update", names)+"; true")
	}
	secs, err := runProbe(ctx, h, "packages", probes...)
	if err != nil {
		return nil, err
	}
	installed := parseRPMQuery(secs[0])
	var updates map[string]string
	if len(secs) > 1 {
		updates = parseCheckUpdate(secs[1])
	}
	d := decideRPM(names, state, installed, updates)
	result := module.Result{"results": []string{}, "rc": 0, "msg": ""}
	if len(d.before) == 0 {
		result["msg"] = "Nothing to do"
		return module.Unchanged(result), nil
	}
	var cmds []string
	if args.Bool("update_cache") && tool == "yum" {
		cmds = append(cmds, rpmCommand(tool, args, "makecache", nil))
	}
	if len(d.install) > 0 {
		cmds = append(cmds, rpmCommand(tool, args, "install", d.install))
	}
	if len(d.upgrade) > 0 {
		cmds = append(cmds, rpmCommand(tool, args, "upgrade", d.upgrade))
	}
	if len(d.remove) > 0 {
		cmds = append(cmds, rpmCommand(tool, args, "remove", d.remove))
	}
	keys := make([]string, 0, len(d.before))
	for k := range d.before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b, a strings.Builder
	var results []string
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, d.before[k])
		fmt.Fprintf(&a, "%s: %s\n", k, d.after[k])
		results = append(results, k+": "+d.after[k])
	}
	result["results"] = results
	diff := module.Diff{BeforeHeader: "packages", AfterHeader: "packages", Before: b.String(), After: a.String()}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, tool, strings.Join(cmds, " && "))
			if err != nil || !ok {
				return r, err
			}
			r["results"] = results
			r["msg"] = ""
			return r, nil
		}}, nil
}
