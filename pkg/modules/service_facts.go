package modules

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// ServiceFacts reads the host's services into the fact "services".
type ServiceFacts struct{}

var _ module.Module = (*ServiceFacts)(nil)

// Spec implements module.Module.
func (*ServiceFacts) Spec() *module.Spec {
	return &module.Spec{
		Name:  "service_facts",
		Short: "Return service state information as facts",
		Description: "Sets ansible_facts.services: each service's name mapped to {name, state, status, source}, " +
			"read as Ansible's service_facts reads it. SysV scripts come from `service --status-all` " +
			"(source sysv, state running or stopped; used where the `service` tool exists and chkconfig " +
			"and rc-status do not); systemd units from `systemctl list-units` and `list-unit-files` " +
			"when PID 1 is systemd (source systemd; state running, stopped or the unit's ActiveState for " +
			"units not loaded; status the unit file state, or not-found, masked or failed). Both lists are " +
			"read in one round trip, the ActiveState of units that are not loaded in a second. Upstart, " +
			"Red Hat's chkconfig, OpenRC, AIX and OpenBSD services are not read. Never changes anything.",
		Args:  nil,
		Check: module.CheckFull,
		Examples: `- service_facts:
- debug:
    msg: "nginx is {{ ansible_facts.services['nginx.service'].state }}"
  when: "'nginx.service' in ansible_facts.services"
`,
	}
}

// serviceFactsProbe prints, in three sections: the sysv listing (Y then
// its output, or N), whether systemd is PID 1 with systemctl (Y/N) and
// list-units, and list-unit-files. Ansible runs these with LC_ALL=C.
var serviceFactsProbe = []string{
	"export LC_ALL=C LANG=C; if command -v service >/dev/null && ! command -v chkconfig >/dev/null && " +
		"! command -v rc-status >/dev/null; then echo Y; service --status-all 2>/dev/null; else echo N; fi",
	"if grep -q systemd /proc/1/comm 2>/dev/null && command -v systemctl >/dev/null; then echo Y; " +
		"systemctl list-units --no-pager --type service --all 2>/dev/null; else echo N; fi",
	"if grep -q systemd /proc/1/comm 2>/dev/null && command -v systemctl >/dev/null; then " +
		"systemctl list-unit-files --no-pager --type service --all 2>/dev/null; fi",
}

// Plan implements module.Module: reading services changes nothing, so it
// runs in check mode too.
func (*ServiceFacts) Plan(ctx context.Context, h *module.Host, _ module.Args) (*module.Plan, error) {
	secs, err := runProbe(ctx, h, "services", serviceFactsProbe...)
	if err != nil {
		return nil, err
	}
	services := map[string]any{}
	if out, ok := strings.CutPrefix(secs[0], "Y\n"); ok {
		parseSysvStatus(out, services)
	}
	if out, ok := strings.CutPrefix(secs[1], "Y\n"); ok {
		parseListUnits(out, services)
		missing := parseUnitFiles(secs[2], services)
		if len(missing) > 0 {
			states, err := unitActiveStates(ctx, h, missing)
			if err != nil {
				return nil, err
			}
			for _, name := range missing {
				services[name].(map[string]any)["state"] = states[name]
			}
		}
	}
	if len(services) == 0 {
		return module.Unchanged(module.Result{"skipped": true,
			"msg": "Failed to find any services. This can be due to privileges or some other configuration issue."}), nil
	}
	return module.Unchanged(module.Result{"ansible_facts": map[string]any{"services": services}}), nil
}

// sysvLine is Ansible's pattern for `service --status-all` lines.
var sysvLine = regexp.MustCompile(`(?m)^\s*\[ (\+|-) \]\s+(.+)$`)

// parseSysvStatus adds the services `service --status-all` lists; "[ ? ]"
// lines are left out, as in Ansible.
func parseSysvStatus(out string, services map[string]any) {
	for _, m := range sysvLine.FindAllStringSubmatch(out, -1) {
		state := "stopped"
		if m[1] == "+" {
			state = "running"
		}
		name := strings.TrimRight(m[2], "\r")
		services[name] = map[string]any{"name": name, "state": state, "source": "sysv"}
	}
}

// badUnitStates are list-units states that replace the status; their
// lines start with a "●" that is dropped.
var badUnitStates = []string{"not-found", "masked", "failed"}

// parseListUnits adds the units `systemctl list-units` lists, as Ansible
// does: status is the ACTIVE column or a bad state, state is running when
// SUB is running and stopped otherwise.
func parseListUnits(out string, services map[string]any) {
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, ".service") {
			continue
		}
		fields := strings.Fields(line)
		status := ""
		for _, bad := range badUnitStates {
			if slices.Contains(fields, bad) {
				status = bad
				fields = fields[1:]
				break
			}
		}
		if len(fields) < 4 {
			continue
		}
		if status == "" {
			status = fields[2]
		}
		state := "stopped"
		if fields[3] == "running" {
			state = "running"
		}
		services[fields[0]] = map[string]any{"name": fields[0], "state": state, "status": status, "source": "systemd"}
	}
}

// parseUnitFiles sets each listed unit's status to its unit file state
// (unless list-units gave a bad state) and adds the units list-units did
// not show, returning their names: their state is their ActiveState.
func parseUnitFiles(out string, services map[string]any) []string {
	var missing []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, ".service") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name, status := fields[0], fields[1]
		s, ok := services[name].(map[string]any)
		if !ok {
			services[name] = map[string]any{"name": name, "state": "unknown", "status": status, "source": "systemd"}
			missing = append(missing, name)
			continue
		}
		if !slices.Contains(badUnitStates, fmt.Sprint(s["status"])) {
			s["status"] = status
		}
	}
	return missing
}

// unitActiveStates reads the ActiveState of units in one round trip:
// one `systemctl show` for them all (one block per unit, in order), or,
// when that fails because systemctl refuses one of the names, one call per
// unit. A unit systemctl cannot show (a template such as getty@.service)
// is "unknown", as in Ansible.
func unitActiveStates(ctx context.Context, h *module.Host, names []string) (map[string]string, error) {
	var list strings.Builder
	for _, n := range names {
		if !strings.HasSuffix(n, "@.service") {
			list.WriteString(" " + shell.Quote(n))
		}
	}
	if list.Len() == 0 {
		return parseActiveStates("", names), nil
	}
	cmd := "export LC_ALL=C LANG=C; set --" + list.String() + "; if out=$(systemctl show --property=ActiveState \"$@\" 2>/dev/null); then " +
		"echo B; printf '%s\\n' \"$out\"; else for u in \"$@\"; do if s=$(systemctl show \"$u\" --property=ActiveState 2>/dev/null); then " +
		"printf '%s\\t%s\\n' \"$u\" \"$s\"; fi; done; fi"
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("read unit states on %s: %w", h.Name, err)
	}
	return parseActiveStates(string(res.Stdout), names), nil
}

// parseActiveStates decodes unitActiveStates' output: "B" then one
// "ActiveState=x" block per unit shown (names without templates, in
// order), or "name\tActiveState=x" lines.
func parseActiveStates(out string, names []string) map[string]string {
	states := make(map[string]string, len(names))
	for _, n := range names {
		states[n] = "unknown"
	}
	if batch, ok := strings.CutPrefix(out, "B\n"); ok {
		var shown []string
		for _, n := range names {
			if !strings.HasSuffix(n, "@.service") {
				shown = append(shown, n)
			}
		}
		var vals []string
		for _, line := range strings.Split(batch, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ActiveState="); ok {
				vals = append(vals, v)
			}
		}
		if len(vals) == len(shown) {
			for i, n := range shown {
				states[n] = vals[i]
			}
		}
		return states
	}
	for _, line := range strings.Split(out, "\n") {
		name, val, ok := strings.Cut(line, "\t")
		if !ok || val == "" {
			continue
		}
		if _, want := states[name]; want {
			states[name] = strings.TrimRight(strings.Replace(val, "ActiveState=", "", 1), " \r")
		}
	}
	return states
}
