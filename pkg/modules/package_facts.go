package modules

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// PackageFacts reads the installed packages into the fact "packages".
type PackageFacts struct{}

var _ module.Module = (*PackageFacts)(nil)

// packageManagers are the managers Ansible's package_facts knows, in the
// order `auto` tries them.
var packageManagers = []string{"rpm", "apt", "pacman", "pkg", "portage", "apk", "pkg_info"}

// Spec implements module.Module.
func (*PackageFacts) Spec() *module.Spec {
	return &module.Spec{
		Name:  "package_facts",
		Short: "Return installed package information as facts",
		Description: "Sets ansible_facts.packages: each installed package's name mapped to a list of " +
			"{name, version, arch, category, source} (one per installed architecture or version), as " +
			"Ansible's package_facts does. apt packages are read with dpkg-query (no python-apt needed); " +
			"a package of a foreign architecture is named `name:arch`, as python-apt names it. rpm " +
			"packages are read with `rpm -qa` ({name, version, release, epoch, arch, source}). One round " +
			"trip; never changes anything. Limits: apt's `origin` field (the archive a package came from) " +
			"is not returned; pacman, pkg, portage, apk and pkg_info are not read, so asking for only " +
			"those fails as on a host where they are missing.",
		Args: []module.Arg{
			{Name: "manager", Type: module.List, Elements: module.String, Default: []any{"auto"},
				Doc: "Package managers to read: auto (every known one, in order), apt, rpm, ..."},
			{Name: "strategy", Type: module.String, Default: "first", Choices: []string{"first", "all"},
				Doc: "first: only the first usable manager; all: every usable one."},
		},
		Check: module.CheckFull,
		Examples: `- package_facts:
- debug:
    msg: "nginx {{ ansible_facts.packages['nginx'][0].version }}"
  when: "'nginx' in ansible_facts.packages"
`,
	}
}

// packageFactsProbe lists dpkg's and rpm's databases, each as Y and its
// output or N when the tool is missing.
var packageFactsProbe = []string{
	"if command -v dpkg-query >/dev/null; then echo Y; dpkg --print-architecture; " +
		"dpkg-query -W -f='${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${Section}\\n'; else echo N; fi",
	"if command -v rpm >/dev/null; then echo Y; " +
		"rpm -qa --qf '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{EPOCH}\\t%{ARCH}\\n'; else echo N; fi",
}

// packageManagerOrder is package_facts' list of managers to try: auto
// replaced by every known manager after those named, duplicates dropped.
// It fails with Ansible's message for an unknown name.
func packageManagerOrder(given []string) ([]string, string) {
	var order []string
	auto := false
	for _, m := range given {
		m = strings.ToLower(m)
		if m == "auto" {
			auto = true
			continue
		}
		order = append(order, m)
	}
	if auto {
		order = append(order, packageManagers...)
	}
	var unsupported []string
	for _, m := range order {
		if !slices.Contains(packageManagers, m) && !slices.Contains(unsupported, m) {
			unsupported = append(unsupported, m)
		}
	}
	if len(unsupported) > 0 {
		if auto {
			return nil, "Could not auto detect a usable package manager, check warnings for details."
		}
		return nil, "Unsupported package managers requested: " + strings.Join(unsupported, ", ")
	}
	var out []string
	for _, m := range order {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, ""
}

// Plan implements module.Module: reading the databases changes nothing,
// so it runs in check mode too.
func (*PackageFacts) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	order, msg := packageManagerOrder(a.List("manager"))
	if msg != "" {
		return module.Unchanged(module.Failed("%s", msg)), nil
	}
	secs, err := runProbe(ctx, h, "installed packages", packageFactsProbe...)
	if err != nil {
		return nil, err
	}
	read := map[string]func() map[string]any{}
	if out, ok := strings.CutPrefix(secs[0], "Y\n"); ok {
		read["apt"] = func() map[string]any { return parseDpkgPackages(out) }
	}
	if out, ok := strings.CutPrefix(secs[1], "Y\n"); ok {
		read["rpm"] = func() map[string]any { return parseRpmPackages(out) }
	}
	packages := map[string]any{}
	found := 0
	for _, m := range order {
		if found > 0 && a.String("strategy") == "first" {
			break
		}
		if f, ok := read[m]; ok {
			found++
			for k, v := range f() {
				packages[k] = v
			}
		}
	}
	if found == 0 {
		return module.Unchanged(module.Failed("Could not detect a supported package manager from the following list: %s, "+
			"or the required Python library is not installed. Check warnings for details.", pyStrList(order))), nil
	}
	return module.Unchanged(module.Result{"ansible_facts": map[string]any{"packages": packages}}), nil
}

// pyStrList prints a list of strings as Python's repr does.
func pyStrList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// dpkgInstalled are the dpkg states in which python-apt sees an installed
// version (not-installed and config-files have none).
var dpkgInstalled = map[string]bool{"installed": true, "half-installed": true, "unpacked": true,
	"half-configured": true, "triggers-awaited": true, "triggers-pending": true}

// parseDpkgPackages decodes the dpkg section of packageFactsProbe: the
// native architecture, then status, package, version, architecture and
// section per line. A package of another architecture than the native one
// (and not "all") is named name:arch, as in python-apt's cache.
func parseDpkgPackages(out string) map[string]any {
	lines := strings.Split(out, "\n")
	native := strings.TrimSpace(lines[0])
	pkgs := map[string]any{}
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 5 || !dpkgInstalled[f[0]] {
			continue
		}
		name := f[1]
		if f[3] != native && f[3] != "all" && f[3] != "" {
			name += ":" + f[3]
		}
		d := map[string]any{"name": name, "version": f[2], "arch": f[3], "category": f[4], "source": "apt"}
		l, _ := pkgs[name].([]any)
		pkgs[name] = append(l, d)
	}
	return pkgs
}

// parseRpmPackages decodes the rpm section of packageFactsProbe; an unset
// epoch is null, as rpm's Python binding returns it.
func parseRpmPackages(out string) map[string]any {
	pkgs := map[string]any{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			continue
		}
		var epoch any
		if n, err := strconv.Atoi(f[3]); err == nil {
			epoch = n
		}
		d := map[string]any{"name": f[0], "version": f[1], "release": f[2], "epoch": epoch, "arch": f[4], "source": "rpm"}
		l, _ := pkgs[f[0]].([]any)
		pkgs[f[0]] = append(l, d)
	}
	return pkgs
}
