package modules

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
	"github.com/ulikunitz/xz"
)

// Apt manages Debian packages with apt-get and dpkg: no python-apt on the
// host. A converged host is confirmed with one dpkg-query round trip.
type Apt struct{}

var _ module.Module = (*Apt)(nil)

// Spec implements module.Module.
func (Apt) Spec() *module.Spec {
	return &module.Spec{
		Name:  "apt",
		Short: "Manage apt packages",
		Description: "Installs, upgrades and removes Debian packages with apt-get, and installs .deb files. " +
			"Package state is read in one round trip with `dpkg-query` (plus `apt-cache policy` for " +
			"`state: latest`). Names may pin a version: `name=1.2-3` (exact) or `name=1.2*` (glob).\n\n" +
			"`deb:` takes a URL or a path. A URL is fetched by the controller (only the first MiB, " +
			"enough to read the package's name and version, when the server supports ranges); the " +
			"package is uploaded and installed only when that version is not installed yet. A path is " +
			"looked up on the controller first (role files/, playbook directory) and otherwise taken " +
			"as a path on the host, as in Ansible.\n\n" +
			"Every apt-get runs with DEBIAN_FRONTEND=noninteractive and waits up to `lock_timeout` " +
			"seconds for the dpkg lock.\n\n" +
			"`update_cache` with names: the cache is refreshed when packages change, or always for " +
			"`state: latest` (which needs fresh lists to decide); on its own it refreshes them when they are " +
			"older than `cache_valid_time` (always without it) and, as in Ansible, reports a change only when " +
			"the refresh brought new lists (their time stamp moved; check mode predicts a change).",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"pkg", "package"}, Type: module.List, NotOption: true, Elements: module.String,
				Doc: "Package names, optionally `name=version` or `name=version*`."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "installed", "latest", "absent", "removed"},
				Doc: "`present` installs missing packages, `latest` also upgrades them, `absent` removes them."},
			{Name: "deb", Type: module.String, Expand: true, Doc: "URL or path of a .deb file to install."},
			{Name: "update_cache", Aliases: []string{"update-cache"}, Type: module.Bool, Default: false,
				Doc: "Run `apt-get update` first (see the description for when)."},
			{Name: "cache_valid_time", Type: module.Int, Default: 0,
				Doc: "Refresh the cache only when it is older than this many seconds (implies update_cache)."},
			{Name: "install_recommends", Aliases: []string{"install-recommends"}, Type: module.Bool,
				Doc: "Install recommended packages; default: apt's configuration."},
			{Name: "autoremove", Type: module.Bool, Default: false, Doc: "Remove packages no longer needed."},
			{Name: "purge", Type: module.Bool, Default: false, Doc: "With state=absent, also remove configuration files."},
			{Name: "force_apt_get", Type: module.Bool, Default: false, Doc: "Accepted for compatibility: tend always uses apt-get."},
			{Name: "allow_downgrade", Aliases: []string{"allow-downgrade", "allow_downgrades", "allow-downgrades"}, Type: module.Bool, Default: false,
				Doc: "Allow installing a version lower than the installed one."},
			{Name: "allow_unauthenticated", Aliases: []string{"allow-unauthenticated"}, Type: module.Bool, Default: false,
				Doc: "Allow packages that cannot be authenticated."},
			{Name: "default_release", Aliases: []string{"default-release"}, Type: module.String,
				Doc: "Release to install from (`apt-get -t`)."},
			{Name: "dpkg_options", Type: module.String, Default: "force-confdef,force-confold",
				Doc: "Comma-separated dpkg options, each passed as `-o Dpkg::Options::=--OPTION`."},
			{Name: "lock_timeout", Type: module.Int, Default: 60,
				Doc: "Seconds to wait for the dpkg/apt lock held by another process."},
			{Name: "upgrade", Type: module.String, Default: "no", Choices: []string{"dist", "full", "no", "safe", "yes"},
				Doc: "Upgrade the installed packages: yes/safe `apt-get upgrade --with-new-pkgs`, full/dist `apt-get dist-upgrade` (tend always uses apt-get, never aptitude). Plan simulates it (`apt-get -s`); changed unless apt-get reports 0 upgraded, 0 newly installed. Packages named in the same task are ignored, as in Ansible."},
			{Name: "only_upgrade", Type: module.Bool, Default: false, Doc: "Only upgrade packages that are installed; others named are skipped (--only-upgrade)."},
			{Name: "autoclean", Type: module.Bool, Default: false, Doc: "Without packages: remove package files that can no longer be downloaded (apt-get autoclean); changed when it deletes any."},
			{Name: "clean", Type: module.Bool, Default: false, Doc: "Run apt-get clean first; on its own it always reports changed, as in Ansible."},
			{Name: "force", Type: module.Bool, Default: false, Doc: "apt-get --force-yes (deprecated by apt; prefer the allow_* options)."},
			{Name: "allow_change_held_packages", Type: module.Bool, Default: false, Doc: "Allow installing or upgrading packages that are held (--allow-change-held-packages)."},
			{Name: "fail_on_autoremove", Type: module.Bool, Default: false, Doc: "Fail instead of removing packages an install or upgrade would remove (--no-remove)."},
			{Name: "policy_rc_d", Type: module.Int, Doc: "While apt-get runs, /usr/sbin/policy-rc.d exits with this code (101: installed services are not started); an existing one is restored afterwards."},
			{Name: "update_cache_retries", Type: module.Int, Default: 5, Doc: "How many times apt-get update is tried."},
			{Name: "update_cache_retry_max_delay", Type: module.Int, Default: 12, Doc: "Longest wait in seconds between apt-get update attempts (exponential backoff from 1 s)."},
		},
		MutuallyExclusive: [][]string{{"deb", "name"}},
		RequiredOneOf:     [][]string{{"name", "deb", "update_cache", "autoremove", "cache_valid_time", "upgrade", "autoclean", "clean"}},
		Check:             module.CheckFull,
		Diff:              true,
		Examples: `- name: Install tools, refreshing the lists at most hourly
  apt:
    name: [jq, tree]
    update_cache: true
    cache_valid_time: 3600

- name: Pin a version
  apt:
    name: nginx=1.22*

- name: Install a vendor package
  apt:
    deb: https://example.com/pool/tool_1.2.0_amd64.deb

- name: Remove a package and its configuration
  apt:
    name: nano
    state: absent
    purge: true
`,
	}
}

// aptPkg is one requested package.
type aptPkg struct {
	name    string // as given, without the version (may hold :arch)
	version string // "" when not pinned
}

func (p aptPkg) base() string { n, _, _ := strings.Cut(p.name, ":"); return n }

func (p aptPkg) spec() string {
	if p.version == "" {
		return p.name
	}
	return p.name + "=" + p.version
}

// parseAptNames splits name=version pins.
func parseAptNames(names []string) ([]aptPkg, error) {
	var out []aptPkg
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		name, ver, _ := strings.Cut(n, "=")
		name = strings.TrimSpace(name)
		ver = strings.TrimSpace(ver)
		if name == "" || strings.ContainsAny(name, " \t/") {
			return nil, fmt.Errorf("invalid package name %q", n)
		}
		out = append(out, aptPkg{name: name, version: ver})
	}
	return out, nil
}

// dpkgState is one line of `dpkg-query -W -f='${Package} ${Status} ${Version}\n'`.
type dpkgState struct {
	Status  string // third status word: installed, config-files, half-installed...
	Version string
}

// Installed reports whether the package is fully installed.
func (d dpkgState) Installed() bool { return d.Status == "installed" }

// parseDpkgQuery reads dpkg-query output; "dpkg-query: no packages found"
// lines (stderr merged in) are skipped.
func parseDpkgQuery(out string) map[string]dpkgState {
	m := map[string]dpkgState{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || strings.HasPrefix(line, "dpkg-query:") {
			continue
		}
		st := dpkgState{Status: f[3]}
		if len(f) >= 5 {
			st.Version = f[4]
		}
		// Several architectures of one package: keep an installed one.
		if prev, ok := m[f[0]]; ok && prev.Installed() {
			continue
		}
		m[f[0]] = st
	}
	return m
}

// aptPolicy is the part of `apt-cache policy` output the module uses.
type aptPolicy struct {
	Installed string // "" when not installed
	Candidate string // "" when nothing is installable
}

// parseAptCachePolicy reads `apt-cache policy NAMES` output.
func parseAptCachePolicy(out string) map[string]aptPolicy {
	m := map[string]aptPolicy{}
	cur := ""
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, " ") && strings.HasSuffix(line, ":") {
			cur = strings.TrimSuffix(line, ":")
			cur, _, _ = strings.Cut(cur, ":") // drop :arch
			m[cur] = aptPolicy{}
			continue
		}
		if cur == "" {
			continue
		}
		t := strings.TrimSpace(line)
		p := m[cur]
		if v, ok := strings.CutPrefix(t, "Installed: "); ok {
			if v != "(none)" {
				p.Installed = v
			}
		} else if v, ok := strings.CutPrefix(t, "Candidate: "); ok {
			if v != "(none)" {
				p.Candidate = v
			}
		}
		m[cur] = p
	}
	return m
}

// versionMatches reports whether an installed version satisfies a pin:
// exact, or a shell glob when the pin holds * or ?.
func versionMatches(pin, installed string) bool {
	if pin == "" {
		return true
	}
	if strings.ContainsAny(pin, "*?[") {
		ok, err := path.Match(pin, installed)
		return err == nil && ok
	}
	return pin == installed
}

// aptDecision is what the module would do with the requested packages.
type aptDecision struct {
	install []aptPkg // not installed or wrong version
	upgrade []aptPkg // installed, a newer candidate exists
	remove  []aptPkg // installed (or config files left, with purge)
	missing []string // no candidate (state present/latest)
	before  map[string]string
	after   map[string]string
}

func (d aptDecision) changed() bool { return len(d.install)+len(d.upgrade)+len(d.remove) > 0 }

// decideApt compares requested packages with dpkg and policy state.
func decideApt(pkgs []aptPkg, state string, purge bool, dpkg map[string]dpkgState, policy map[string]aptPolicy) aptDecision {
	d := aptDecision{before: map[string]string{}, after: map[string]string{}}
	for _, p := range pkgs {
		st, known := dpkg[p.base()]
		installed := known && st.Installed()
		cur := "not installed"
		if installed {
			cur = st.Version
		}
		switch state {
		case "absent", "removed":
			if installed || (purge && known && st.Status == "config-files") {
				d.remove = append(d.remove, p)
				d.before[p.name], d.after[p.name] = cur, "removed"
			}
		case "latest":
			pol, hasPol := policy[p.base()]
			if !installed {
				if hasPol && pol.Candidate == "" || policy != nil && !hasPol {
					d.missing = append(d.missing, p.name)
					continue
				}
				d.install = append(d.install, p)
				d.before[p.name], d.after[p.name] = cur, orDefault(pol.Candidate, "latest")
			} else if hasPol && pol.Candidate != "" && pol.Candidate != st.Version {
				d.upgrade = append(d.upgrade, p)
				d.before[p.name], d.after[p.name] = cur, pol.Candidate
			}
		default:
			if !installed || !versionMatches(p.version, st.Version) {
				d.install = append(d.install, p)
				d.before[p.name], d.after[p.name] = cur, orDefault(p.version, "installed")
			}
		}
	}
	return d
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// aptDiff renders a decision as before/after package lists.
func aptDiff(d aptDecision) []module.Diff {
	names := make([]string, 0, len(d.before))
	for n := range d.before {
		names = append(names, n)
	}
	sort.Strings(names)
	var b, a strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s: %s\n", n, d.before[n])
		fmt.Fprintf(&a, "%s: %s\n", n, d.after[n])
	}
	return []module.Diff{{BeforeHeader: "packages", AfterHeader: "packages", Before: b.String(), After: a.String()}}
}

// aptLockErrors are apt-get/dpkg messages meaning another process holds
// the lock.
const aptLockPattern = "Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock|is locked by another process"

// aptLockWrap runs cmd, retrying for up to timeout seconds while it fails
// because another apt/dpkg process holds a lock. stdout and stderr of the
// last attempt are passed through, and its exit status is kept.
func aptLockWrap(cmd string, timeout int) string {
	return "export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a; " +
		"_t=$(mktemp -d) || exit 1; _end=$(( $(date +%s) + " + strconv.Itoa(timeout) + " )); " +
		"while :; do ( " + cmd + " ) >\"$_t/o\" 2>\"$_t/e\"; _rc=$?; " +
		"if [ $_rc -ne 0 ] && grep -Eq " + shell.Quote(aptLockPattern) + " \"$_t/e\" && [ $(date +%s) -lt $_end ]; then sleep 1; continue; fi; break; done; " +
		"cat \"$_t/o\"; cat \"$_t/e\" >&2; rm -rf \"$_t\"; exit $_rc"
}

// aptGetCommand builds an apt-get command line from the module's options.
func aptGetCommand(args module.Args, sub string, pkgs []string) string {
	parts := []string{"apt-get", "-y", "-q"}
	for _, o := range strings.Split(args.String("dpkg_options"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			parts = append(parts, "-o", "Dpkg::Options::=--"+o)
		}
	}
	if args.Has("install_recommends") && (sub == "install") {
		if args.Bool("install_recommends") {
			parts = append(parts, "--install-recommends")
		} else {
			parts = append(parts, "--no-install-recommends")
		}
	}
	if args.Bool("allow_downgrade") && upgradeOrInstall(sub) {
		parts = append(parts, "--allow-downgrades")
	}
	if args.Bool("allow_unauthenticated") {
		parts = append(parts, "--allow-unauthenticated")
	}
	if args.Bool("force") {
		parts = append(parts, "--force-yes")
	}
	upgrading := sub == "install" || sub == "upgrade" || sub == "dist-upgrade"
	if args.Bool("allow_change_held_packages") && upgrading {
		parts = append(parts, "--allow-change-held-packages")
	}
	if args.Bool("fail_on_autoremove") && upgrading {
		parts = append(parts, "--no-remove")
	}
	if args.Bool("only_upgrade") && sub == "install" {
		parts = append(parts, "--only-upgrade")
	}
	if r := args.String("default_release"); r != "" && upgradeOrInstall(sub) {
		parts = append(parts, "-t", r)
	}
	switch sub {
	case "remove", "autoremove", "autoclean":
		if args.Bool("purge") {
			parts = append(parts, "--purge")
		}
		if args.Bool("autoremove") && sub == "remove" {
			parts = append(parts, "--auto-remove")
		}
	case "upgrade", "dist-upgrade":
		if args.Bool("autoremove") {
			parts = append(parts, "--auto-remove")
		}
	}
	parts = append(parts, sub)
	if sub == "upgrade" {
		parts = append(parts, "--with-new-pkgs")
	}
	if len(pkgs) > 0 {
		parts = append(parts, "--")
		parts = append(parts, pkgs...)
	}
	return shell.Join(parts...)
}

func upgradeOrInstall(sub string) bool {
	return sub == "install" || sub == "upgrade" || sub == "dist-upgrade"
}

// aptNothingChanged is apt-get's summary when it did nothing.
const aptNothingChanged = "0 upgraded, 0 newly installed, 0 to remove"

// debInfo is what the module reads from a .deb's control file.
type debInfo struct {
	Package, Version, Architecture string
}

// Plan implements module.Module: it reads the packages' state and the
// lists' age from the host (probeApt), decides what would change
// (decideApt or decideDeb, then aptRefresh), checks that what is to be
// installed can be, and leaves the apt-get runs to aptApply.
func (Apt) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	pkgs, err := parseAptNames(args.List("name"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	state := args.String("state")
	if state == "latest" {
		for _, p := range pkgs {
			if p.version != "" {
				return module.Unchanged(module.Failed("version number inconsistent with state=latest: %s", p.spec())), nil
			}
		}
	}
	if plan, err, ok := planAptMaintenance(ctx, h, args, pkgs, state); ok {
		return plan, err
	}
	var deb *debSource
	if src := args.String("deb"); src != "" {
		deb, err = openDebSource(ctx, h, src)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		pkgs = []aptPkg{{name: deb.info.Package}}
		state = "present"
	}

	p, err := probeApt(ctx, h, pkgs, state == "latest")
	if err != nil {
		return nil, err
	}
	cacheStale, cacheTime := false, 0
	if args.Bool("update_cache") || args.Int("cache_valid_time") > 0 {
		cacheStale, cacheTime = aptCacheState(p.cacheTimes, args.Int("cache_valid_time"))
	}
	var d aptDecision
	if deb != nil {
		d = decideDeb(deb.info, p.dpkg)
	} else {
		d = decideApt(pkgs, state, args.Bool("purge"), p.dpkg, p.policy)
		if args.Bool("only_upgrade") {
			d = onlyUpgrades(d, p.dpkg)
		}
	}
	if len(d.missing) > 0 && !cacheStale {
		return module.Unchanged(module.Failed("No package matching '%s' is available", strings.Join(d.missing, "', '"))), nil
	}
	// Packages to install that are not in the cache: a second round trip,
	// only on hosts that need an install anyway, so a run can fail in check
	// mode as it would for real.
	if len(d.install) > 0 && deb == nil && !cacheStale && state != "latest" {
		missing, err := aptUnavailable(ctx, h, d.install)
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			return module.Unchanged(module.Failed("No package matching '%s' is available", strings.Join(missing, "', '"))), nil
		}
	}
	if args.Bool("autoremove") && len(pkgs) == 0 {
		res, err := h.Run(ctx, "apt-get -s autoremove")
		if err != nil {
			return nil, fmt.Errorf("apt-get -s autoremove on %s: %w", h.Name, err)
		}
		if !strings.Contains(string(res.Stdout), aptNothingChanged) {
			d.remove = append(d.remove, aptPkg{name: "(autoremove)"})
		}
	}

	doUpdate, changed := aptRefresh(cacheStale, d, len(pkgs) == 0, state)
	result := module.Result{"cache_updated": doUpdate, "cache_update_time": cacheTime}
	plan := &module.Plan{Changed: changed, Result: result}
	if args.Bool("clean") {
		plan.Housekeeping = aptCleanFirst(h, args)
	}
	if d.changed() {
		plan.Diff = aptDiff(d)
	}
	if !changed {
		return plan, nil
	}
	a := &aptApply{h: h, args: args, timeout: args.Int("lock_timeout"), pkgs: pkgs, state: state,
		deb: deb, d: d, doUpdate: doUpdate, cacheTime: cacheTime}
	plan.Apply = a.apply
	return plan, nil
}

// planAptMaintenance plans the tasks that upgrade or clean instead of
// installing (ok true): upgrade, `name: "*"` with state=latest (an
// upgrade, as in Ansible), and clean or autoclean without packages.
func planAptMaintenance(ctx context.Context, h *module.Host, args module.Args, pkgs []aptPkg, state string) (*module.Plan, error, bool) {
	if up := args.String("upgrade"); up != "no" || (state == "latest" && len(pkgs) == 1 && pkgs[0].name == "*") {
		if up == "no" {
			up = "yes"
		}
		plan, err := planAptUpgrade(ctx, h, args, up)
		return plan, err, true
	}
	if len(pkgs) == 0 && args.String("deb") == "" && (args.Bool("clean") || args.Bool("autoclean")) {
		plan, err := planAptClean(ctx, h, args)
		return plan, err, true
	}
	return nil, nil, false
}

// aptCleanFirst runs apt-get clean before anything else, as Ansible does
// for clean=yes with packages; it is not counted as a change.
func aptCleanFirst(h *module.Host, args module.Args) func(context.Context) (module.Result, error) {
	return func(ctx context.Context) (module.Result, error) {
		r, ok, err := runCmd(ctx, h, "apt-get clean", aptLockWrap("apt-get clean", args.Int("lock_timeout")))
		if err != nil || !ok {
			return r, err
		}
		return nil, nil
	}
}

// planAptClean plans clean (always a change, as in Ansible) or autoclean
// (a change when apt-get would delete package files) without packages.
func planAptClean(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	timeout := args.Int("lock_timeout")
	if args.Bool("clean") {
		return &module.Plan{Changed: true, Result: module.Result{}, Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "apt-get clean", aptLockWrap("apt-get clean", timeout))
			if err != nil || !ok {
				return r, err
			}
			r["msg"] = r["stdout"]
			return r, nil
		}}, nil
	}
	cmd := aptGetCommand(args, "autoclean", nil)
	r, ok, err := runCmd(ctx, h, "apt-get autoclean", strings.Replace(cmd, " autoclean", " -s autoclean", 1))
	if err != nil || !ok {
		return module.Unchanged(r), err
	}
	if !strings.Contains(r["stdout"].(string), "Del ") {
		return module.Unchanged(r), nil
	}
	return &module.Plan{Changed: true, Result: r, Apply: func(ctx context.Context) (module.Result, error) {
		r, ok, err := runCmd(ctx, h, "apt-get autoclean", aptLockWrap(cmd, timeout))
		if err != nil || !ok {
			return r, err
		}
		return withChanged(r, strings.Contains(r["stdout"].(string), "Del ")), nil
	}}, nil
}

// planAptUpgrade plans upgrade=yes/safe/full/dist: apt-get simulates the
// upgrade (with the lists as they are); the lists are refreshed first
// when update_cache asks and they are stale, and the real run's own
// summary says whether anything changed.
func planAptUpgrade(ctx context.Context, h *module.Host, args module.Args, mode string) (*module.Plan, error) {
	sub := "upgrade"
	if mode == "full" || mode == "dist" {
		sub = "dist-upgrade"
	}
	cmd := aptGetCommand(args, sub, nil)
	stale := false
	if args.Bool("update_cache") || args.Int("cache_valid_time") > 0 {
		res, err := h.Run(ctx, "date +%s; stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0")
		if err != nil {
			return nil, fmt.Errorf("read the apt lists' age on %s: %w", h.Name, err)
		}
		stale, _ = aptCacheState(strings.ReplaceAll(string(res.Stdout), "\n", " "), args.Int("cache_valid_time"))
	}
	sim, ok, err := runCmd(ctx, h, "apt-get "+sub, strings.Replace(cmd, " "+sub, " -s "+sub, 1))
	if err != nil || !ok {
		return module.Unchanged(sim), err
	}
	simOut := sim["stdout"].(string)
	changes := !strings.Contains("\n"+simOut, "\n"+aptNothingChanged)
	result := module.Result{"msg": simOut, "stdout": simOut, "stderr": sim["stderr"]}
	if !changes && !stale {
		return module.Unchanged(result), nil
	}
	plan := &module.Plan{Changed: true, Result: result, Apply: func(ctx context.Context) (module.Result, error) {
		if stale {
			if r, ok, err := aptUpdate(ctx, h, args); err != nil || !ok {
				return r, err
			}
		}
		r, ok, err := runCmd(ctx, h, "apt-get "+sub, aptLockWrap(aptPolicyRcD(args, cmd), args.Int("lock_timeout")))
		if err != nil || !ok {
			return r, err
		}
		out := r["stdout"].(string)
		r["msg"] = out
		return withChanged(r, !strings.Contains("\n"+out, "\n"+aptNothingChanged)), nil
	}}
	if args.Bool("clean") {
		plan.Housekeeping = aptCleanFirst(h, args)
	}
	return plan, nil
}

// aptUpdate runs apt-get update, tried update_cache_retries times with an
// exponential backoff of at most update_cache_retry_max_delay seconds.
func aptUpdate(ctx context.Context, h *module.Host, args module.Args) (module.Result, bool, error) {
	tries := max(args.Int("update_cache_retries"), 1)
	maxDelay := args.Int("update_cache_retry_max_delay")
	var r module.Result
	for i := 0; i < tries; i++ {
		var ok bool
		var err error
		r, ok, err = runCmd(ctx, h, "apt-get update", aptLockWrap("apt-get -q update", args.Int("lock_timeout")))
		if err != nil || ok {
			return r, ok, err
		}
		if i == tries-1 {
			break
		}
		delay := min(1<<i, maxDelay)
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(time.Duration(delay) * time.Second):
		}
	}
	r["msg"] = "Failed to update apt cache: " + fmt.Sprint(r["msg"])
	return r, false, nil
}

// aptPolicyRcD wraps cmd so that, with policy_rc_d set, invoke-rc.d asks
// /usr/sbin/policy-rc.d (exiting with that code) while it runs; an
// existing policy-rc.d is put back afterwards.
func aptPolicyRcD(args module.Args, cmd string) string {
	if !args.Has("policy_rc_d") {
		return cmd
	}
	const p = "/usr/sbin/policy-rc.d"
	return "_s=; if [ -e " + p + " ]; then _s=" + p + ".tend-saved; mv -f " + p + " \"$_s\" || exit 1; fi; " +
		"printf '#!/bin/sh\\nexit %d\\n' " + strconv.Itoa(args.Int("policy_rc_d")) + " > " + p + " && chmod 0755 " + p + " || exit 1; " +
		"( " + cmd + " ); _rc=$?; rm -f " + p + "; [ -z \"$_s\" ] || mv -f \"$_s\" " + p + "; exit $_rc"
}

// onlyUpgrades drops the installs of packages that are not installed
// (only_upgrade).
func onlyUpgrades(d aptDecision, dpkg map[string]dpkgState) aptDecision {
	var keep []aptPkg
	for _, p := range d.install {
		if st, ok := dpkg[p.base()]; ok && st.Installed() {
			keep = append(keep, p)
			continue
		}
		delete(d.before, p.name)
		delete(d.after, p.name)
	}
	d.install = keep
	return d
}

// aptProbed is what Plan reads from the host in one round trip.
type aptProbed struct {
	dpkg map[string]dpkgState
	// cacheTimes is "NOW MTIME" of the package lists, in Unix seconds.
	cacheTimes string
	// policy is apt-cache policy for the packages, read for state=latest.
	policy map[string]aptPolicy
}

func probeApt(ctx context.Context, h *module.Host, pkgs []aptPkg, latest bool) (aptProbed, error) {
	probes := []string{"true"}
	if len(pkgs) > 0 {
		q := []string{"dpkg-query", "-W", "-f=${Package} ${Status} ${Version}\n", "--"}
		for _, p := range pkgs {
			q = append(q, p.name)
		}
		probes[0] = shell.Join(q...)
	}
	probes = append(probes, "date +%s; "+aptListsMtime)
	if latest && len(pkgs) > 0 {
		q := []string{"apt-cache", "policy", "--"}
		for _, p := range pkgs {
			q = append(q, p.name)
		}
		probes = append(probes, shell.Join(q...))
	}
	secs, err := runProbe(ctx, h, "packages", probes...)
	if err != nil {
		return aptProbed{}, err
	}
	p := aptProbed{dpkg: parseDpkgQuery(secs[0]), cacheTimes: secs[1]}
	if len(secs) > 2 {
		p.policy = parseAptCachePolicy(secs[2])
	}
	return p, nil
}

// aptListsMtime prints when the package lists were last updated, as
// Ansible's apt module reads it: the update-success stamp, else the lists
// folder.
const aptListsMtime = "stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0"

// aptListsMoved reads aptListsMtime's output after an update and says
// whether the lists changed since before (their time stamp then) and when
// they were last updated; unreadable output counts as updated now.
func aptListsMoved(before int, out string) (updated bool, mtime int) {
	after, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return true, before
	}
	return after != before, after
}

// aptCacheState reads "NOW MTIME" and says whether the lists are older
// than validTime seconds (always, without a valid time) and when they were
// last updated.
func aptCacheState(times string, validTime int) (stale bool, mtime int) {
	f := strings.Fields(times)
	now := 0
	if len(f) >= 2 {
		now, _ = strconv.Atoi(f[0])
		mtime, _ = strconv.Atoi(f[1])
	}
	return validTime <= 0 || now-mtime > validTime, mtime
}

// decideDeb compares a .deb with the installed package of its name: it is
// installed unless that exact version is.
func decideDeb(info debInfo, dpkg map[string]dpkgState) aptDecision {
	d := aptDecision{before: map[string]string{}, after: map[string]string{}}
	st, ok := dpkg[info.Package]
	if ok && st.Installed() && st.Version == info.Version {
		return d
	}
	d.install = []aptPkg{{name: info.Package, version: info.Version}}
	d.before[info.Package] = orDefault(st.Version, "not installed")
	if ok && !st.Installed() {
		d.before[info.Package] = "not installed"
	}
	d.after[info.Package] = info.Version
	return d
}

// aptUnavailable returns the packages of install that have no candidate
// in the host's package lists.
func aptUnavailable(ctx context.Context, h *module.Host, install []aptPkg) ([]string, error) {
	q := []string{"apt-cache", "policy", "--"}
	for _, p := range install {
		q = append(q, p.name)
	}
	res, err := h.Run(ctx, shell.Join(q...))
	if err != nil {
		return nil, fmt.Errorf("apt-cache policy on %s: %w", h.Name, err)
	}
	pol := parseAptCachePolicy(string(res.Stdout))
	var missing []string
	for _, p := range install {
		if pp, ok := pol[p.base()]; !ok || pp.Candidate == "" {
			missing = append(missing, p.name)
		}
	}
	return missing, nil
}

// aptRefresh decides whether the package lists are refreshed and whether
// the task changes anything. The lists are refreshed when they are stale
// and something else happens, when that is all the task asks for (no
// packages), for state=latest, whose answer depends on fresh lists, or to
// look again for packages without a candidate. A refresh alone counts as a
// change only in those last cases.
func aptRefresh(cacheStale bool, d aptDecision, noPkgs bool, state string) (doUpdate, changed bool) {
	refreshAlone := noPkgs || state == "latest" || len(d.missing) > 0
	doUpdate = cacheStale && (d.changed() || refreshAlone)
	return doUpdate, d.changed() || (doUpdate && refreshAlone)
}

// aptInstallSpecs returns what apt-get install is given: for state=latest
// the names, so apt-get decides what is new after a refresh, otherwise
// exactly the planned installs.
func aptInstallSpecs(state string, pkgs []aptPkg, d aptDecision) []string {
	var installs []string
	switch {
	case state == "latest":
		for _, p := range pkgs {
			installs = append(installs, p.name)
		}
	case state != "absent" && state != "removed":
		for _, p := range d.install {
			installs = append(installs, p.spec())
		}
	}
	return installs
}

// aptRemoveCommand returns the apt-get subcommand and packages for the
// planned removals: autoremove when only the autoremove marker is there.
func aptRemoveCommand(remove []aptPkg) (sub string, names []string) {
	for _, p := range remove {
		if p.name != "(autoremove)" {
			names = append(names, p.name)
		}
	}
	if len(names) == 0 {
		return "autoremove", nil
	}
	return "remove", names
}

// aptApply runs what Plan decided, collecting the output of every apt-get
// run into the result.
type aptApply struct {
	h         *module.Host
	args      module.Args
	timeout   int
	pkgs      []aptPkg
	state     string
	deb       *debSource
	d         aptDecision
	doUpdate  bool
	cacheTime int

	out            module.Result
	stdout, stderr []string
}

// run runs one apt-get command under the lock wrapper; a failure's result
// fields go into the module's result.
func (a *aptApply) run(ctx context.Context, msg, cmd string) (bool, string, error) {
	if msg != "apt-get update" {
		cmd = aptPolicyRcD(a.args, cmd)
	}
	r, ok, err := runCmd(ctx, a.h, msg, aptLockWrap(cmd, a.timeout))
	if err != nil {
		return false, "", err
	}
	a.stdout = append(a.stdout, r["stdout"].(string))
	a.stderr = append(a.stderr, r["stderr"].(string))
	if !ok {
		for k, v := range r {
			a.out[k] = v
		}
	}
	return ok, r["stdout"].(string), nil
}

// update runs apt-get update up to update_cache_retries times, waiting
// 1, 2, 4... seconds (at most update_cache_retry_max_delay) in between.
func (a *aptApply) update(ctx context.Context) (bool, error) {
	tries := max(a.args.Int("update_cache_retries"), 1)
	for i := 0; ; i++ {
		ok, _, err := a.run(ctx, "apt-get update", "apt-get -q update")
		if err != nil || ok || i >= tries-1 {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Duration(min(1<<i, a.args.Int("update_cache_retry_max_delay"))) * time.Second):
		}
		delete(a.out, "failed")
	}
}

func (a *aptApply) finish(changed bool) (module.Result, error) {
	o := strings.Join(a.stdout, "\n")
	e := strings.Join(a.stderr, "\n")
	a.out["stdout"], a.out["stderr"] = o, e
	a.out["stdout_lines"], a.out["stderr_lines"] = module.Lines(o), module.Lines(e)
	return withChanged(a.out, changed), nil
}

func (a *aptApply) apply(ctx context.Context) (module.Result, error) {
	a.out = module.Result{"cache_updated": false, "cache_update_time": a.cacheTime}
	a.stdout, a.stderr = nil, nil
	run := func(msg, cmd string) (bool, string, error) { return a.run(ctx, msg, cmd) }
	didChange := false
	if a.doUpdate {
		ok, err := a.update(ctx)
		if err != nil || !ok {
			return a.out, err
		}
		// As in Ansible, the lists count as updated (and a refresh alone as
		// a change) only when their time stamp moved: an update that
		// fetched nothing new changes nothing.
		updated, mtime := true, a.cacheTime
		if r, err := a.h.Run(ctx, aptListsMtime); err == nil {
			updated, mtime = aptListsMoved(a.cacheTime, string(r.Stdout))
		}
		a.out["cache_updated"], a.out["cache_update_time"] = updated, mtime
		if len(a.pkgs) == 0 {
			didChange = updated
		}
	}
	if a.deb != nil {
		ok, err := installDeb(ctx, a.h, a.args, a.deb, run)
		if err != nil || !ok {
			return a.out, err
		}
		return a.finish(true)
	}
	if installs := aptInstallSpecs(a.state, a.pkgs, a.d); len(installs) > 0 && (a.state == "latest" || len(a.d.install) > 0) {
		ok, o, err := run("apt-get install", aptGetCommand(a.args, "install", installs))
		if err != nil || !ok {
			return a.out, err
		}
		if !strings.Contains(o, aptNothingChanged) {
			didChange = true
		}
	}
	if len(a.d.remove) > 0 {
		sub, names := aptRemoveCommand(a.d.remove)
		ok, _, err := run("apt-get "+sub, aptGetCommand(a.args, sub, names))
		if err != nil || !ok {
			return a.out, err
		}
		didChange = true
	} else if a.args.Bool("autoremove") && didChange {
		ok, _, err := run("apt-get autoremove", aptGetCommand(a.args, "autoremove", nil))
		if err != nil || !ok {
			return a.out, err
		}
	}
	return a.finish(didChange)
}

// debSource is a .deb to install: on the controller (file or URL) or
// already on the host.
type debSource struct {
	info       debInfo
	url        string // fetched by the controller
	local      string // controller path
	remotePath string // path on the host
}

// openDebSource reads a .deb's control data from wherever it is.
func openDebSource(ctx context.Context, h *module.Host, src string) (*debSource, error) {
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		info, err := fetchDebInfo(ctx, src)
		if err != nil {
			return nil, err
		}
		return &debSource{info: info, url: src}, nil
	}
	local := ""
	if h.Files != nil {
		if p, err := h.Files.Find("files", src); err == nil {
			local = p
		}
	}
	if local != "" {
		f, err := os.Open(local)
		if err != nil {
			return nil, fmt.Errorf("open deb %s: %w", local, err)
		}
		defer f.Close()
		info, err := readDebInfo(f)
		if err != nil {
			return nil, fmt.Errorf("read deb %s: %w", local, err)
		}
		return &debSource{info: info, local: local}, nil
	}
	// A path on the host, as in Ansible: read its control fields there.
	res, err := h.Run(ctx, "dpkg-deb -f "+shell.Path(src)+" Package Version Architecture")
	if err != nil {
		return nil, fmt.Errorf("read deb %s on %s: %w", src, h.Name, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("read deb %s on %s: %s", src, h.Name, strings.TrimSpace(string(res.Stderr)))
	}
	info := parseControl(string(res.Stdout))
	if info.Package == "" || info.Version == "" {
		return nil, fmt.Errorf("deb %s on %s has no Package or Version field", src, h.Name)
	}
	return &debSource{info: info, remotePath: src}, nil
}

// installDeb uploads the .deb when it lives on the controller and installs
// it with apt-get, which also pulls in its dependencies.
func installDeb(ctx context.Context, h *module.Host, args module.Args, deb *debSource, run func(msg, cmd string) (bool, string, error)) (bool, error) {
	target := deb.remotePath
	if target == "" {
		res, err := h.Run(ctx, "mktemp -d /tmp/tend-deb-XXXXXXXX")
		if err != nil {
			return false, fmt.Errorf("create temporary directory on %s: %w", h.Name, err)
		}
		if res.ExitCode != 0 {
			return false, fmt.Errorf("create temporary directory on %s: %s", h.Name, strings.TrimSpace(string(res.Stderr)))
		}
		dir := strings.TrimSpace(string(res.Stdout))
		defer h.Run(context.WithoutCancel(ctx), "rm -rf "+shell.Quote(dir)) //nolint:errcheck // best-effort cleanup
		target = dir + "/" + debFileName(deb.info)
		var body io.ReadCloser
		if deb.url != "" {
			body, err = httpGet(ctx, deb.url, "")
		} else {
			body, err = os.Open(deb.local)
		}
		if err != nil {
			return false, err
		}
		defer body.Close()
		if err := h.Conn.Put(ctx, body, target, putOpts(h, 0o644)); err != nil {
			return false, fmt.Errorf("upload %s to %s: %w", debFileName(deb.info), h.Name, err)
		}
	}
	ok, _, err := run("apt-get install", aptGetCommand(args, "install", []string{target}))
	return ok, err
}

func debFileName(i debInfo) string {
	clean := func(s string) string { return strings.NewReplacer("/", "_", ":", "%3a").Replace(s) }
	return clean(i.Package) + "_" + clean(i.Version) + "_" + clean(orDefault(i.Architecture, "all")) + ".deb"
}

// debHeadBytes is how much of a remote .deb the controller fetches to read
// its control member, which comes right after the tiny debian-binary one.
const debHeadBytes = 1 << 20

// httpGet fetches u; a non-empty rng is sent as a Range header.
func httpGet(ctx context.Context, u, rng string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch %s: HTTP %s", u, resp.Status)
	}
	return resp.Body, nil
}

// fetchDebInfo reads a remote .deb's control fields, fetching only its
// first MiB when the server honours the range and the whole file
// otherwise.
func fetchDebInfo(ctx context.Context, u string) (debInfo, error) {
	body, err := httpGet(ctx, u, fmt.Sprintf("bytes=0-%d", debHeadBytes-1))
	if err != nil {
		return debInfo{}, err
	}
	info, err := readDebInfo(io.LimitReader(body, debHeadBytes))
	body.Close()
	if err == nil {
		return info, nil
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		return debInfo{}, fmt.Errorf("read deb %s: %w", u, err)
	}
	body, err = httpGet(ctx, u, "")
	if err != nil {
		return debInfo{}, err
	}
	defer body.Close()
	info, err = readDebInfo(body)
	if err != nil {
		return debInfo{}, fmt.Errorf("read deb %s: %w", u, err)
	}
	return info, nil
}

// readDebInfo reads the control file of a .deb (an ar archive holding
// debian-binary, control.tar[.gz|.xz|.zst] and data.tar.*). A reader that
// ends before the control member does gives io.ErrUnexpectedEOF.
func readDebInfo(r io.Reader) (debInfo, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil {
		return debInfo{}, fmt.Errorf("read ar magic: %w", unexpected(err))
	}
	if string(magic) != "!<arch>\n" {
		return debInfo{}, errors.New("not a .deb file (no ar archive header)")
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			if err == io.EOF {
				return debInfo{}, errors.New("no control member in .deb")
			}
			return debInfo{}, fmt.Errorf("read ar header: %w", unexpected(err))
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return debInfo{}, fmt.Errorf("bad ar member size for %q", name)
		}
		if strings.HasPrefix(name, "control.tar") {
			data := make([]byte, size)
			if _, err := io.ReadFull(br, data); err != nil {
				return debInfo{}, fmt.Errorf("read %s: %w", name, unexpected(err))
			}
			return readControlTar(name, data)
		}
		if _, err := io.CopyN(io.Discard, br, size+size%2); err != nil {
			return debInfo{}, fmt.Errorf("skip %s: %w", name, unexpected(err))
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readControlTar extracts ./control from a control.tar member. xz (dpkg's
// default) and zstd (Ubuntu's) need libraries outside the standard library.
func readControlTar(name string, data []byte) (debInfo, error) {
	var r io.Reader = bytes.NewReader(data)
	switch path.Ext(name) {
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return debInfo{}, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
	case ".xz":
		xr, err := xz.NewReader(r)
		if err != nil {
			return debInfo{}, fmt.Errorf("%s: %w", name, err)
		}
		r = xr
	case ".zst":
		zr, err := zstd.NewReader(r)
		if err != nil {
			return debInfo{}, fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	case ".tar":
	default:
		return debInfo{}, fmt.Errorf("unsupported control member compression %q", name)
	}
	tr := tar.NewReader(r)
	for {
		th, err := tr.Next()
		if err != nil {
			if err == io.EOF {
				return debInfo{}, fmt.Errorf("%s holds no control file", name)
			}
			return debInfo{}, fmt.Errorf("%s: %w", name, err)
		}
		if path.Clean(strings.TrimPrefix(th.Name, "./")) != "control" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return debInfo{}, fmt.Errorf("%s: read control: %w", name, err)
		}
		info := parseControl(string(b))
		if info.Package == "" || info.Version == "" {
			return debInfo{}, errors.New("control file has no Package or Version field")
		}
		return info, nil
	}
}

// parseControl reads the fields the module needs from a deb822 control
// paragraph.
func parseControl(s string) debInfo {
	var i debInfo
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			i.Package = v
		case "Version":
			i.Version = v
		case "Architecture":
			i.Architecture = v
		}
	}
	return i
}
