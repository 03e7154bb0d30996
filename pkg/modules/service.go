package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Service manages services through whatever init system the host runs:
// systemd hosts get the systemd module's logic, others the SysV `service`
// command and update-rc.d (or chkconfig).
type Service struct{}

var _ module.Module = (*Service)(nil)

// Spec implements module.Module.
func (Service) Spec() *module.Spec {
	return &module.Spec{
		Name:  "service",
		Short: "Manage services (systemd or SysV init)",
		Description: "Starts, stops, restarts or reloads a service and enables it at boot, using the " +
			"host's service manager: the `ansible_service_mgr` fact (or `use`) chooses; without the fact " +
			"tend checks for /run/systemd/system on the host. On systemd this behaves exactly like the " +
			"`systemd` module. Elsewhere it runs `service NAME ACTION` and manages boot links with " +
			"update-rc.d (Debian) or chkconfig (RHEL); running state comes from `service NAME status` " +
			"or, with `pattern`, from the process table. On systemd, arguments of the `systemd` module " +
			"(daemon_reload, ...) are passed to it, as in Ansible.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "Service name."},
			{Name: "state", Type: module.String, Choices: []string{"started", "stopped", "restarted", "reloaded"},
				Doc: "Desired state; `restarted` and `reloaded` always act."},
			{Name: "enabled", Type: module.Bool, Doc: "Whether the service starts at boot."},
			{Name: "pattern", Type: module.String,
				Doc: "SysV only: the service counts as running when a process's command line contains this string."},
			{Name: "sleep", Type: module.Int,
				Doc: "SysV only: seconds to wait between stop and start when restarting."},
			{Name: "arguments", Aliases: []string{"args"}, Type: module.String, Default: "",
				Doc: "SysV only: extra arguments for the `service` command."},
			{Name: "runlevel", Type: module.String, Default: "default", Doc: "Accepted for compatibility (OpenRC); ignored."},
			{Name: "use", Type: module.String, Default: "auto",
				Doc: "Service manager to use: `auto` (the fact), `systemd`, `sysvinit` or `service`."},
		},
		RequiredOneOf: [][]string{{"state", "enabled"}},
		// On systemd, arguments of the systemd module (daemon_reload...)
		// pass to it, as in Ansible.
		PassThrough: true,
		Check:       module.CheckFull,
		Examples: `- name: Make sure cron runs and starts at boot
  service:
    name: cron
    state: started
    enabled: true
`,
	}
}

// Plan implements module.Module.
func (Service) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	mgr := args.String("use")
	if mgr == "" || mgr == "auto" {
		mgr = factVar(h, "service_mgr")
	}
	if mgr == "" {
		res, err := h.Run(ctx, "[ -d /run/systemd/system ] && echo systemd || echo sysvinit")
		if err != nil {
			return nil, fmt.Errorf("detect service manager on %s: %w", h.Name, err)
		}
		mgr = strings.TrimSpace(string(res.Stdout))
	}
	own := Service{}.Spec()
	if mgr == "systemd" {
		raw := map[string]any{"name": args.String("name"), "scope": "system"}
		if args.Has("state") {
			raw["state"] = args.String("state")
		}
		if args.Has("enabled") {
			raw["enabled"] = args.Bool("enabled")
		}
		// Other arguments go to the systemd module as they are
		// (daemon_reload...), as Ansible's service action passes them;
		// the SysV-only ones are dropped, as it drops them.
		for k, v := range args {
			if _, known := own.Arg(k); !known {
				raw[k] = v
			}
		}
		sargs, err := Systemd{}.Spec().Validate(raw, false)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		return planSystemd(ctx, h, sargs)
	}
	for k := range args {
		if _, known := own.Arg(k); !known {
			return module.Unchanged(module.Failed("Unsupported parameters for (service) module: %s", k)), nil
		}
	}
	return planSysV(ctx, h, args)
}

// sysvProbe returns the command printing "running=0|1" and "enabled=0|1"
// for a SysV service.
func sysvProbe(name, pattern string) string {
	q := shell.Quote(name)
	var run string
	if pattern != "" {
		// A fixed-string match on every command line, minus the grep
		// itself.
		run = "ps -A -o args= 2>/dev/null | grep -F -- " + shell.Quote(pattern) + " | grep -v -F 'grep -F' >/dev/null"
	} else {
		run = "service " + q + " status >/dev/null 2>&1"
	}
	// The glob stays outside the quotes, the name inside.
	enabled := "ls /etc/rc[2345].d/S??" + q + " >/dev/null 2>&1 || " +
		"{ command -v chkconfig >/dev/null 2>&1 && chkconfig " + q + " 2>/dev/null | grep -q ':on'; }"
	return "if " + run + "; then echo running=1; else echo running=0; fi; " +
		"if " + enabled + "; then echo enabled=1; else echo enabled=0; fi"
}

// sysvCommands returns the commands that bring a SysV service to the
// requested state, given whether it runs and is enabled.
func sysvCommands(args module.Args, running, enabled bool) []string {
	name := shell.Quote(args.String("name"))
	extra := ""
	if a := strings.TrimSpace(args.String("arguments")); a != "" {
		// arguments is a command-line fragment by design (Ansible passes
		// it to the shell as is).
		extra = " " + a
	}
	var cmds []string
	if args.Has("enabled") && args.Bool("enabled") != enabled {
		if args.Bool("enabled") {
			cmds = append(cmds, "if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "+name+" defaults && update-rc.d "+name+" enable; else chkconfig "+name+" on; fi")
		} else {
			cmds = append(cmds, "if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "+name+" disable; else chkconfig "+name+" off; fi")
		}
	}
	switch args.String("state") {
	case "started":
		if !running {
			cmds = append(cmds, "service "+name+" start"+extra)
		}
	case "stopped":
		if running {
			cmds = append(cmds, "service "+name+" stop"+extra)
		}
	case "restarted":
		if args.Has("sleep") {
			cmds = append(cmds, "{ service "+name+" stop"+extra+" || true; }", "sleep "+strconv.Itoa(args.Int("sleep")), "service "+name+" start"+extra)
		} else {
			cmds = append(cmds, "service "+name+" restart"+extra)
		}
	case "reloaded":
		if running {
			cmds = append(cmds, "service "+name+" reload"+extra)
		} else {
			cmds = append(cmds, "service "+name+" start"+extra)
		}
	}
	return cmds
}

func planSysV(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	name := args.String("name")
	res, err := h.Run(ctx, sysvProbe(name, args.String("pattern")))
	if err != nil {
		return nil, fmt.Errorf("inspect service %s on %s: %w", name, h.Name, err)
	}
	out := string(res.Stdout)
	running := strings.Contains(out, "running=1")
	enabled := strings.Contains(out, "enabled=1")
	result := module.Result{"name": name}
	if args.Has("state") {
		result["state"] = args.String("state")
	}
	if args.Has("enabled") {
		result["enabled"] = args.Bool("enabled")
	}
	cmds := sysvCommands(args, running, enabled)
	if len(cmds) == 0 {
		return module.Unchanged(result), nil
	}
	return &module.Plan{Changed: true, Result: result, Apply: func(ctx context.Context) (module.Result, error) {
		r, ok, err := runCmd(ctx, h, "service "+name, strings.Join(cmds, " && "))
		if err != nil {
			return nil, err
		}
		if !ok {
			return r, nil
		}
		for k, v := range result {
			r[k] = v
		}
		return r, nil
	}}, nil
}
