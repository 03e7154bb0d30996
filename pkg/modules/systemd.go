package modules

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Systemd manages systemd units: start/stop/restart/reload, enable,
// mask, daemon-reload. It reads the unit's state in one `systemctl show`
// round trip and applies all changes in one more.
type Systemd struct{}

// SystemdService is Systemd under its newer Ansible name.
type SystemdService struct{ Systemd }

var (
	_ module.Module = (*Systemd)(nil)
	_ module.Module = (*SystemdService)(nil)
)

func systemdSpec(name string) *module.Spec {
	return &module.Spec{
		Name:  name,
		Short: "Manage systemd units",
		Description: "Controls systemd units: starts, stops, restarts or reloads them, enables or " +
			"disables them at boot, masks them, and runs daemon-reload or daemon-reexec. The unit's " +
			"state is read with one `systemctl show` and every change is applied in one command, in " +
			"Ansible's order: daemon-reload, daemon-reexec, mask/unmask, enable/disable, then the state " +
			"change.\n\nAs in Ansible, a requested daemon_reload or daemon_reexec runs outside check mode " +
			"and is not reported as a change by itself; with `name`, a daemon-reload is skipped when " +
			"systemd says the unit needs none (NeedDaemonReload=no) and nothing else changes.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"service", "unit"}, Type: module.String,
				Doc: "Unit name, e.g. `nginx` or `nginx.service` (`.service` is implied)."},
			{Name: "state", Type: module.String, Choices: []string{"started", "stopped", "restarted", "reloaded"},
				Doc: "`started`/`stopped` are idempotent; `restarted` always restarts; `reloaded` reloads a running unit and starts a stopped one."},
			{Name: "enabled", Type: module.Bool, Doc: "Whether the unit starts at boot."},
			{Name: "masked", Type: module.Bool, Doc: "Whether the unit is masked (cannot be started)."},
			{Name: "force", Type: module.Bool, Doc: "Pass --force to enable/disable/mask (overrides existing symlinks)."},
			{Name: "daemon_reload", Aliases: []string{"daemon-reload"}, Type: module.Bool, Default: false,
				Doc: "Run `systemctl daemon-reload` first, so changed unit files are read."},
			{Name: "daemon_reexec", Aliases: []string{"daemon-reexec"}, Type: module.Bool, Default: false,
				Doc: "Run `systemctl daemon-reexec` first."},
			{Name: "scope", Type: module.String, Default: "system", Choices: []string{"system", "user", "global"},
				Doc: "systemctl scope: `system`, `user` (--user, the become user's manager) or `global`."},
			{Name: "no_block", Type: module.Bool, Default: false, Doc: "Pass --no-block to state changes."},
		},
		RequiredOneOf: [][]string{{"name", "daemon_reload", "daemon_reexec"}},
		Check:         module.CheckFull,
		Examples: `- name: Restart nginx after a config change
  ` + name + `:
    name: nginx
    state: restarted
    enabled: true

- name: Pick up a new unit file and start it
  ` + name + `:
    name: myapp
    daemon_reload: true
    state: started
`,
	}
}

// Spec implements module.Module.
func (Systemd) Spec() *module.Spec { return systemdSpec("systemd") }

// Spec implements module.Module.
func (SystemdService) Spec() *module.Spec { return systemdSpec("systemd_service") }

// unitStatus is the part of `systemctl show` output the module decides on.
type unitStatus map[string]string

// parseSystemctlShow reads `systemctl show` KEY=VALUE lines.
func parseSystemctlShow(out string) unitStatus {
	st := unitStatus{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			continue
		}
		st[k] = v
	}
	return st
}

// running is Ansible's is_running_service.
func (s unitStatus) running() bool {
	return s["ActiveState"] == "active" || s["ActiveState"] == "activating"
}

func (s unitStatus) deactivating() bool { return s["ActiveState"] == "deactivating" }

// enabled approximates `systemctl is-enabled` exit status 0, as Ansible
// uses it; indirect and alias units count as disabled, as in Ansible.
func (s unitStatus) enabled() bool {
	switch s["UnitFileState"] {
	case "enabled", "enabled-runtime", "static", "generated", "transient":
		return true
	}
	return false
}

func (s unitStatus) masked() bool {
	return s["UnitFileState"] == "masked" || s["UnitFileState"] == "masked-runtime" || s["LoadState"] == "masked"
}

func (s unitStatus) found() bool {
	return s["LoadState"] != "" && s["LoadState"] != "not-found"
}

// systemdPlan is what the module decides for one unit.
type systemdPlan struct {
	actions []string // systemctl sub-commands, in order
	state   string   // resulting state for the result
	enabled *bool
}

func systemctlBase(scope string) string {
	switch scope {
	case "user":
		return "systemctl --user"
	case "global":
		return "systemctl --global"
	}
	return "systemctl"
}

// decideSystemd compares the requested args with the unit's status and
// returns the systemctl sub-commands to run. A non-empty fail message means
// the task fails.
func decideSystemd(args module.Args, st unitStatus) (systemdPlan, string) {
	var p systemdPlan
	name := args.String("name")
	// "--": unit names may start with "-" (the root slice is -.slice).
	q := "-- " + shell.Quote(name)
	force := ""
	if args.Bool("force") {
		force = " --force"
	}
	block := ""
	if args.Bool("no_block") {
		block = " --no-block"
	}
	if args.Has("masked") {
		want := args.Bool("masked")
		if want != st.masked() {
			if want {
				p.actions = append(p.actions, "mask"+force+" "+q)
			} else {
				p.actions = append(p.actions, "unmask "+q)
			}
		}
	}
	willBeMasked := st.masked()
	if args.Has("masked") {
		willBeMasked = args.Bool("masked")
	}
	if (args.Has("enabled") || args.Has("state")) && !st.found() && !(args.Has("masked") && !args.Bool("masked")) {
		return p, fmt.Sprintf("Could not find the requested service %s: host", name)
	}
	if args.Has("enabled") {
		want := args.Bool("enabled")
		cur := st.enabled()
		p.enabled = &cur
		if want != cur {
			if willBeMasked && want {
				return p, fmt.Sprintf("Unable to enable service %s: unit is masked", name)
			}
			if want {
				p.actions = append(p.actions, "enable"+force+" "+q)
			} else {
				p.actions = append(p.actions, "disable"+force+" "+q)
			}
			p.enabled = &want
		}
	}
	if state := args.String("state"); state != "" {
		p.state = state
		action := ""
		switch state {
		case "started":
			if !st.running() {
				action = "start"
			}
		case "stopped":
			if st.running() || st.deactivating() {
				action = "stop"
			}
		case "restarted":
			action = "restart"
		case "reloaded":
			if st.running() {
				action = "reload"
			} else {
				action = "start"
			}
		}
		if action != "" {
			if willBeMasked && action != "stop" {
				return p, fmt.Sprintf("Unable to %s service %s: unit is masked", action, name)
			}
			p.actions = append(p.actions, action+block+" "+q)
		}
	}
	return p, ""
}

// Plan implements module.Module.
func (Systemd) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	return planSystemd(ctx, h, args)
}

func planSystemd(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	base := systemctlBase(args.String("scope"))
	name := args.String("name")
	var pre []string
	if args.Bool("daemon_reload") {
		pre = append(pre, "daemon-reload")
	}
	if args.Bool("daemon_reexec") {
		pre = append(pre, "daemon-reexec")
	}
	result := module.Result{}
	if name == "" {
		// daemon_reload/daemon_reexec alone: run, but not a change.
		return &module.Plan{Result: result, Housekeeping: systemctlHousekeeping(h, base, pre)}, nil
	}
	res, err := h.Run(ctx, base+" show -- "+shell.Quote(name))
	if err != nil {
		return nil, fmt.Errorf("systemctl show %s on %s: %w", name, h.Name, err)
	}
	if res.ExitCode != 0 {
		r := module.CommandResult(res)
		r["failed"] = true
		r["msg"] = fmt.Sprintf("systemctl show %s failed: %s", name, strings.TrimSpace(string(res.Stderr)))
		return module.Unchanged(r), nil
	}
	st := parseSystemctlShow(string(res.Stdout))
	status := make(map[string]any, len(st))
	for k, v := range st {
		status[k] = v
	}
	result["name"] = name
	result["status"] = status
	offline := systemctlIgnored(string(res.Stdout), string(res.Stderr))
	if st, err = unitStatusFor(ctx, h, args, base, name, st, offline); err != nil {
		return nil, err
	}
	p, fail := decideSystemd(args, st)
	if offline && fail == "" && args.Has("state") {
		p.actions = offlineActions(h, p.actions)
	}
	if fail != "" {
		result["failed"] = true
		result["msg"] = fail
		return module.Unchanged(result), nil
	}
	if p.state != "" {
		result["state"] = p.state
		if p.state == "restarted" || p.state == "reloaded" {
			// Ansible's systemd reports the state the unit is left in.
			result["state"] = "started"
		}
	}
	if p.enabled != nil {
		result["enabled"] = *p.enabled
	}
	// A daemon-reload or -reexec runs first when asked for, as in Ansible,
	// and is not a change by itself; a daemon-reload is skipped when
	// systemd says the unit's files are unchanged and nothing else happens.
	if len(pre) > 0 && len(p.actions) == 0 && st["NeedDaemonReload"] == "no" && !args.Bool("daemon_reexec") {
		pre = nil
	}
	plan := &module.Plan{Result: result}
	if len(pre) > 0 {
		plan.Housekeeping = systemctlHousekeeping(h, base, pre)
	}
	if len(p.actions) > 0 {
		plan.Changed = true
		plan.Apply = func(ctx context.Context) (module.Result, error) {
			return applySystemctl(ctx, h, base, p.actions, result)
		}
	}
	return plan, nil
}

// unitStatusFor completes what systemctl show said of the unit: with
// systemd offline, what its unit file says; for an indirect unit,
// whether its install links exist.
func unitStatusFor(ctx context.Context, h *module.Host, args module.Args, base, name string, st unitStatus, offline bool) (unitStatus, error) {
	if offline {
		// systemd is not running (a chroot, SYSTEMD_OFFLINE=1): show
		// says nothing, the unit files say whether the unit exists.
		var err error
		if st, err = offlineUnitStatus(ctx, h, base, name); err != nil {
			return nil, err
		}
	}
	if args.Has("enabled") && (st["UnitFileState"] == "indirect" || st["UnitFileState"] == "alias") {
		// Ansible's is-enabled --full: an indirect unit (enabled through
		// Also= or an alias) is enabled once its install symlinks exist.
		res, err := h.Run(ctx, base+" is-enabled --full -- "+shell.Quote(name))
		if err != nil {
			return nil, fmt.Errorf("systemctl is-enabled %s on %s: %w", name, h.Name, err)
		}
		if lines := strings.Fields(strings.TrimSpace(string(res.Stdout))); res.ExitCode == 0 && len(lines) > 1 {
			st["UnitFileState"] = "enabled"
		}
	}
	return st, nil
}

// offlineActions drops the state changes (start, stop...) systemd
// offline cannot make or report, with Ansible's warning.
func offlineActions(h *module.Host, actions []string) []string {
	if h.Warn != nil {
		h.Warn("Target is a chroot or systemd is offline. This can lead to false positives or prevent the init system tools from working.")
	}
	return slices.DeleteFunc(actions, func(a string) bool {
		verb, _, _ := strings.Cut(a, " ")
		return verb == "start" || verb == "stop" || verb == "restart" || verb == "reload"
	})
}

// systemctlIgnored reports whether systemctl ignored the request (it
// runs in a chroot or offline), as Ansible's request_was_ignored.
func systemctlIgnored(out, errOut string) bool {
	ignored := func(s string) bool {
		return !strings.Contains(s, "=") && (strings.Contains(s, "ignoring request") || strings.Contains(s, "ignoring command"))
	}
	return ignored(out) || ignored(errOut)
}

// offlineUnitStatus is what can be known of a unit without a running
// systemd: whether its unit file exists and is enabled (is-enabled, else
// list-unit-files), as Ansible's systemd module falls back to.
func offlineUnitStatus(ctx context.Context, h *module.Host, base, name string) (unitStatus, error) {
	q := shell.Quote(name)
	res, err := h.Run(ctx, "s=$("+base+" is-enabled -- "+q+" 2>/dev/null); printf '%s\n' \"$s\"; "+base+" list-unit-files -- "+q+" >/dev/null 2>&1; echo $?")
	if err != nil {
		return nil, fmt.Errorf("systemctl is-enabled %s on %s: %w", name, h.Name, err)
	}
	state, rc, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), "\n")
	st := unitStatus{}
	switch state = strings.TrimSpace(state); state {
	case "enabled", "enabled-runtime", "linked", "linked-runtime", "masked", "masked-runtime", "static", "indirect", "disabled", "generated", "transient":
		st["LoadState"], st["UnitFileState"] = "loaded", state
	default:
		if strings.TrimSpace(rc) == "0" {
			st["LoadState"] = "loaded"
		}
	}
	return st, nil
}

// systemctlHousekeeping runs daemon-reload or daemon-reexec: nil when they
// succeeded, the failed result otherwise.
func systemctlHousekeeping(h *module.Host, base string, actions []string) func(ctx context.Context) (module.Result, error) {
	return func(ctx context.Context) (module.Result, error) {
		r, err := applySystemctl(ctx, h, base, actions, module.Result{})
		if err != nil || r["failed"] == true {
			return r, err
		}
		return nil, nil
	}
}

// applySystemctl runs the systemctl sub-commands in one command line,
// stopping at the first failure.
func applySystemctl(ctx context.Context, h *module.Host, base string, actions []string, result module.Result) (module.Result, error) {
	cmds := make([]string, len(actions))
	for i, a := range actions {
		cmds[i] = base + " " + a
	}
	r, ok, err := runCmd(ctx, h, "systemctl", strings.Join(cmds, " && "))
	if err != nil {
		return nil, err
	}
	out := module.Result{}
	for k, v := range result {
		out[k] = v
	}
	if !ok {
		for k, v := range r {
			out[k] = v
		}
	}
	return out, nil
}
