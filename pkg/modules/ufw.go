package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Ufw manages the Uncomplicated Firewall with the host's ufw command.
type Ufw struct{}

var _ module.Module = (*Ufw)(nil)

// Spec implements module.Module.
func (*Ufw) Spec() *module.Spec {
	return &module.Spec{
		Name:  "ufw",
		Short: "Manage firewall with UFW",
		Description: "Enables, disables, reloads or resets ufw, sets default policies and logging, and adds, " +
			"inserts or deletes rules, with the host's ufw command, as community.general.ufw does. Plan predicts " +
			"the change the way Ansible's check mode does: from `ufw status verbose`, and for a rule from the rules " +
			"`ufw --dry-run RULE` would write compared with the `### tuple` lines of the user rules files. Apply " +
			"runs the commands and reports changed when `ufw status verbose` or the rules differ afterwards (or " +
			"for reloaded and reset), as Ansible does. The commands run are returned in `commands` (as " +
			"`ufw ...`). A rule that is predicted unchanged is not run.",
		Args: []module.Arg{
			{Name: "state", Type: module.String, Choices: []string{"enabled", "disabled", "reloaded", "reset"}, Doc: "enabled/disabled switch the firewall (ufw -f enable/disable); reloaded and reset always change."},
			{Name: "default", Aliases: []string{"policy"}, Type: module.String, Choices: []string{"allow", "deny", "reject"}, Doc: "Default policy for direction (incoming when not given)."},
			{Name: "logging", Type: module.String, Choices: []string{"full", "high", "low", "medium", "off", "on"}, Doc: "Log level."},
			{Name: "direction", Type: module.String, Choices: []string{"in", "incoming", "out", "outgoing", "routed"}, Doc: "in/out for rules; incoming/outgoing/routed for default."},
			{Name: "delete", Type: module.Bool, Default: false, Doc: "Delete the rule instead of adding it."},
			{Name: "route", Type: module.Bool, Default: false, Doc: "A routed (forwarding) rule."},
			{Name: "insert", Type: module.Int, Doc: "Insert the rule at this position (ufw insert NUM)."},
			{Name: "insert_relative_to", Type: module.String, Default: "zero", Choices: []string{"zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"}, Doc: "What insert counts from (ufw status numbered)."},
			{Name: "rule", Type: module.String, Choices: []string{"allow", "deny", "limit", "reject"}, Doc: "Add (or with delete, remove) a rule."},
			{Name: "interface", Aliases: []string{"if"}, Type: module.String, Doc: "Interface of the rule (needs direction)."},
			{Name: "interface_in", Aliases: []string{"if_in"}, Type: module.String, Doc: "Incoming interface of a rule."},
			{Name: "interface_out", Aliases: []string{"if_out"}, Type: module.String, Doc: "Outgoing interface of a rule."},
			{Name: "log", Type: module.Bool, Default: false, Doc: "Log new connections matched by the rule."},
			{Name: "from_ip", Aliases: []string{"from", "src"}, Type: module.String, Default: "any", Doc: "Source address or network."},
			{Name: "from_port", Type: module.String, Doc: "Source port."},
			{Name: "to_ip", Aliases: []string{"dest", "to"}, Type: module.String, Default: "any", Doc: "Destination address or network."},
			{Name: "to_port", Aliases: []string{"port"}, Type: module.String, Doc: "Destination port (or range `6000:6007`)."},
			{Name: "proto", Aliases: []string{"protocol"}, Type: module.String, Choices: []string{"ah", "any", "esp", "ipv6", "tcp", "udp", "gre", "igmp"}, Doc: "Protocol."},
			{Name: "name", Aliases: []string{"app"}, Type: module.String, Doc: "An application profile (`ufw app list`)."},
			{Name: "comment", Type: module.String, Doc: "Comment stored with the rule (ufw 0.35 and later)."},
		},
		MutuallyExclusive: [][]string{{"name", "proto", "logging"}, {"direction", "interface_in"}, {"direction", "interface_out"}},
		RequiredOneOf:     [][]string{{"state", "default", "rule", "logging"}},
		Check:             module.CheckFull,
		Examples: `- ufw:
    rule: allow
    port: "22"
    proto: tcp
- ufw:
    state: enabled
    policy: deny
`,
	}
}

var (
	ufwIPv4 = regexp.MustCompile(`((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])`)
	ufwIPv6 = regexp.MustCompile(`(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:` +
		`|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}` +
		`(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4})` +
		`{1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]` +
		`{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]` +
		`{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4})` +
		`{0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]` +
		`|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}` +
		`[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}` +
		`[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))`)
	ufwLogging  = regexp.MustCompile(`Logging: (on|off)(?: \(([a-z]+)\))?`)
	ufwDefaults = regexp.MustCompile(`Default: (deny|allow|reject) \(incoming\), (deny|allow|reject) \(outgoing\), (deny|allow|reject|disabled) \(routed\)`)
	ufwVersion  = regexp.MustCompile(`^ufw.+(\d+)\.(\d+)(?:\.(\d+))?.*$`)
	ufwNumbered = regexp.MustCompile(`^\[ *([0-9]+)\] `)
)

// ufwRulesCmd prints the ### tuple lines of the user rules files, as
// community.general's get_current_rules does.
const ufwRulesCmd = "grep -h '^### tuple' /lib/ufw/user.rules /lib/ufw/user6.rules /etc/ufw/user.rules /etc/ufw/user6.rules " +
	"/var/lib/ufw/user.rules /var/lib/ufw/user6.rules 2>/dev/null"

// keepLines returns the lines of s (with their ends) for which keep is true.
func keepLines(s string, keep func(string) bool) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" && keep(l) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// ufwInsertAt is the rule number insert and insert_relative_to give, with
// ok false when ufw would refuse it (beyond the last rule: no insert).
func ufwInsertAt(insert int, relative, numbered string) (int, bool) {
	if relative == "zero" {
		return insert, true
	}
	type line struct {
		no   int
		ipv6 bool
	}
	var lines []line
	for _, l := range strings.Split(numbered, "\n") {
		if m := ufwNumbered.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			lines = append(lines, line{n, strings.Contains(l, "(v6)")})
		}
	}
	last, lastV4, hasV4, hasV6 := 0, 0, false, false
	for _, l := range lines {
		last = max(last, l.no)
		if l.ipv6 {
			hasV6 = true
		} else {
			hasV4, lastV4 = true, max(lastV4, l.no)
		}
	}
	rel := 1
	switch relative {
	case "last-ipv4":
		if hasV4 {
			rel = lastV4
		}
	case "first-ipv6":
		if hasV4 {
			rel = lastV4 + 1
		}
	case "last-ipv6":
		rel = last + 1
		if hasV6 {
			rel = last
		}
	}
	at := insert + rel
	if at > last {
		return 0, false
	}
	return at, true
}

// ufwRuleWords builds the words after "ufw [--dry-run]" of a rule command.
func ufwRuleWords(a module.Args, insertAt int, doInsert, comment bool) []string {
	var w []string
	add := func(cond bool, words ...string) {
		if cond {
			w = append(w, words...)
		}
	}
	add(a.Bool("route"), "route")
	add(a.Bool("delete"), "delete")
	add(doInsert, "insert", strconv.Itoa(insertAt))
	w = append(w, a.String("rule"))
	add(a.String("direction") != "", a.String("direction"))
	add(a.String("interface") != "", "on", a.String("interface"))
	add(a.String("interface_in") != "", "in", "on", a.String("interface_in"))
	add(a.String("interface_out") != "", "out", "on", a.String("interface_out"))
	add(a.Bool("log"), "log")
	add(a.String("from_ip") != "", "from", a.String("from_ip"))
	add(a.String("from_port") != "", "port", a.String("from_port"))
	add(a.String("to_ip") != "", "to", a.String("to_ip"))
	add(a.String("to_port") != "", "port", a.String("to_port"))
	add(a.String("proto") != "", "proto", a.String("proto"))
	add(a.String("name") != "", "app", a.String("name"))
	add(comment && a.String("comment") != "", "comment", a.String("comment"))
	return w
}

func ufwCommand(words ...string) (display, cmd string) {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shell.Quote(w)
	}
	return "ufw " + strings.Join(words, " "), "LANG=C ufw " + strings.Join(q, " ")
}

// ufwRuleChanged is community.general's check-mode test of a rule: the
// rules a dry run would write compared with the current ones.
func ufwRuleChanged(a module.Args, dry, preRules string) bool {
	lines := strings.SplitAfter(dry, "\n")
	if n := len(lines); lines[n-1] == "" {
		lines = lines[:n-1]
	}
	skipping := 0
	for _, l := range lines {
		if strings.Contains(l, "Skipping") {
			skipping++
		}
	}
	if skipping > 0 && skipping == len(lines) {
		return false
	}
	dry = keepLines(dry, func(l string) bool { return strings.HasPrefix(l, "### tuple") })
	starts := func(re *regexp.Regexp, s string) bool { loc := re.FindStringIndex(s); return loc != nil && loc[0] == 0 }
	v4 := func(l string) bool { return ufwIPv4.MatchString(l) }
	v6 := func(l string) bool { return ufwIPv6.MatchString(l) }
	switch {
	case starts(ufwIPv4, a.String("from_ip")) || starts(ufwIPv4, a.String("to_ip")):
		return keepLines(preRules, v4) != keepLines(dry, v4)
	case starts(ufwIPv6, a.String("from_ip")) || starts(ufwIPv6, a.String("to_ip")):
		return keepLines(preRules, v6) != keepLines(dry, v6)
	}
	return preRules != dry
}

// ufwState is the ufw verb of a state and whether it changes anything
// (reloaded and reset always do).
func ufwState(st, preState string) (string, bool) {
	verb := map[string]string{"enabled": "enable", "disabled": "disable", "reloaded": "reload", "reset": "reset"}[st]
	enabled := strings.Contains(preState, " active")
	return verb, st == "reloaded" || st == "reset" || (st == "disabled" && enabled) || (st == "enabled" && !enabled)
}

// ufwDefault is the command of a default policy and whether it changes
// anything, or a failure message.
func ufwDefault(a module.Args, def, preState string) ([]string, bool, string) {
	dir := a.String("direction")
	if dir != "" && dir != "outgoing" && dir != "incoming" && dir != "routed" {
		return nil, false, `For default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified.`
	}
	changed := true
	if m := ufwDefaults.FindStringSubmatch(preState); m != nil {
		cur := map[string]string{"incoming": m[1], "outgoing": m[2], "routed": m[3]}[orDefault(dir, "incoming")]
		// A real run changes a disabled routed policy too (Ansible's
		// check mode misses that one).
		changed = cur != def
	}
	words := []string{"default", def}
	if dir != "" {
		words = append(words, dir)
	}
	return words, changed, ""
}

// ufwLoggingChanges is community.general's check-mode test of logging.
func ufwLoggingChanges(lg, preState string) bool {
	m := ufwLogging.FindStringSubmatch(preState)
	if m == nil {
		return true
	}
	level, onOff := m[2], m[1]
	if lg != "off" {
		return onOff == "off" || (lg != "on" && lg != level)
	}
	return onOff != "off"
}

// ufwRule is the command of a rule and whether it changes the rules (from
// a dry run), or a failed result.
func ufwRule(ctx context.Context, h *module.Host, a module.Args, version, numbered, preRules string) ([]string, bool, module.Result, error) {
	dir := a.String("direction")
	if dir != "" && dir != "in" && dir != "out" {
		return nil, false, module.Failed(`For rules, direction must be one of "in" and "out", or direction must not be specified.`), nil
	}
	if !a.Bool("route") && a.String("interface_in") != "" && a.String("interface_out") != "" {
		return nil, false, module.Failed("Only route rules can combine interface_in and interface_out"), nil
	}
	insertAt, doInsert := 0, false
	if a.Has("insert") && !a.Bool("delete") {
		insertAt, doInsert = ufwInsertAt(a.Int("insert"), a.String("insert_relative_to"), numbered)
	}
	lines := strings.Split(strings.TrimSpace(version), "\n")
	m := ufwVersion.FindStringSubmatch(strings.TrimSpace(lines[0]))
	if m == nil {
		return nil, false, module.Failed("Failed to get ufw version."), nil
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	words := ufwRuleWords(a, insertAt, doInsert, major > 0 || minor >= 35)
	_, dryCmd := ufwCommand(append([]string{"--dry-run"}, words...)...)
	res, err := h.Run(ctx, dryCmd)
	if err != nil {
		return nil, false, nil, fmt.Errorf("ufw --dry-run on %s: %w", h.Name, err)
	}
	if res.ExitCode != 0 {
		return nil, false, module.Failed("%s", orDefault(string(res.Stderr), string(res.Stdout))), nil
	}
	return words, ufwRuleChanged(a, string(res.Stdout), preRules), nil, nil
}

// ufwStep is one ufw command of a task.
type ufwStep struct{ display, cmd string }

// Plan implements module.Module.
func (*Ufw) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	if a.String("interface") != "" && a.String("direction") == "" {
		return module.Unchanged(module.Failed("missing parameter(s) required by 'interface': direction")), nil
	}
	// ufw is a Python program: only the calls this task needs are made.
	version, numbered := "true", "true"
	if a.String("rule") != "" {
		version = "LANG=C ufw --version"
		if a.Has("insert") && a.String("insert_relative_to") != "zero" {
			numbered = "LANG=C ufw status numbered"
		}
	}
	secs, err := runProbe(ctx, h, "ufw", "command -v ufw", "LANG=C ufw status verbose; echo \"@rc=$?\"", ufwRulesCmd+"; true",
		version, numbered)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(secs[0]) == "" {
		return module.Unchanged(module.Failed("Failed to find required executable \"ufw\" in paths (install ufw)")), nil
	}
	preState, rc, _ := strings.Cut(secs[1], "@rc=")
	if strings.TrimSpace(rc) != "0" {
		r := module.Failed("%s", strings.TrimSpace(preState))
		r["commands"] = []any{"ufw status verbose"}
		return module.Unchanged(r), nil
	}
	preRules := secs[2]
	changed := false
	var steps []ufwStep
	var commands []any
	addStep := func(words ...string) {
		d, c := ufwCommand(words...)
		steps = append(steps, ufwStep{d, c})
		commands = append(commands, d)
	}
	if st := a.String("state"); st != "" {
		verb, ch := ufwState(st, preState)
		changed = changed || ch
		addStep("-f", verb)
	}
	if def := a.String("default"); def != "" {
		words, ch, fail := ufwDefault(a, def, preState)
		if fail != "" {
			return module.Unchanged(module.Failed("%s", fail)), nil
		}
		changed = changed || ch
		addStep(words...)
	}
	if a.String("rule") != "" {
		words, ch, fail, err := ufwRule(ctx, h, a, secs[3], secs[4], preRules)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			fail["commands"] = commands
			return module.Unchanged(fail), nil
		}
		changed = changed || ch
		addStep(words...)
	}
	if lg := a.String("logging"); lg != "" {
		changed = changed || ufwLoggingChanges(lg, preState)
		addStep("logging", lg)
	}
	result := module.Result{"commands": commands}
	if !changed {
		result["msg"] = strings.TrimRight(preState, "\n")
		return module.Unchanged(result), nil
	}
	always := a.String("state") == "reloaded" || a.String("state") == "reset"
	return &module.Plan{Changed: true, Result: result, Apply: func(ctx context.Context) (module.Result, error) {
		var done []any
		for _, s := range steps {
			done = append(done, s.display)
			res, err := h.Run(ctx, s.cmd)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", s.display, h.Name, err)
			}
			if res.ExitCode != 0 {
				r := module.Failed("%s", orDefault(string(res.Stderr), string(res.Stdout)))
				r["commands"] = done
				return r, nil
			}
		}
		post, err := runProbe(ctx, h, "ufw", "LANG=C ufw status verbose", ufwRulesCmd+"; true")
		if err != nil {
			return nil, err
		}
		r := module.Result{"commands": done, "msg": strings.TrimRight(post[0], "\n")}
		return withChanged(r, always || post[0] != preState || post[1] != preRules), nil
	}}, nil
}
