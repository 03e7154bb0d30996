package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Pamd edits rules of PAM service files (/etc/pam.d).
type Pamd struct{}

var _ module.Module = (*Pamd)(nil)

var pamdTypes = []string{"account", "-account", "auth", "-auth", "password", "-password", "session", "-session"}

// Spec implements module.Module.
func (*Pamd) Spec() *module.Spec {
	return &module.Spec{
		Name:  "pamd",
		Short: "Manage PAM modules",
		Description: "Edits the rules of a PAM service file as community.general.pamd does, with the same " +
			"parser and the same list operations, so the file comes out line for line as Ansible writes it: " +
			"rules matched by type, control and module_path are updated, removed, get a new rule inserted before " +
			"or after them, or get module arguments added or removed. Rules are rewritten in pamd's layout " +
			"(type padded to 11 columns) and a `# Updated by Ansible - TIME` line (the host's local time) is " +
			"kept as the second line. The file is read and written in one round trip each; a symbolic link is " +
			"followed and its target keeps its mode and owner.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, Doc: "The service file under path (`login`, `common-auth`)."},
			{Name: "type", Required: true, Type: module.String, Choices: pamdTypes, Doc: "The type of the rule to find."},
			{Name: "control", Required: true, Type: module.String, Doc: "The control of the rule to find (`required`, `[success=1 default=ignore]`)."},
			{Name: "module_path", Required: true, Type: module.String, Doc: "The module of the rule to find (`pam_unix.so`)."},
			{Name: "new_type", Type: module.String, Choices: pamdTypes, Doc: "The type of the updated or inserted rule."},
			{Name: "new_control", Type: module.String, Doc: "The control of the updated or inserted rule."},
			{Name: "new_module_path", Type: module.String, Doc: "The module of the updated or inserted rule."},
			{Name: "module_arguments", Type: module.List, Elements: module.String, Doc: "Arguments of the updated or inserted rule, or those to add or remove (args_present, args_absent)."},
			{Name: "state", Type: module.String, Default: "updated", Choices: []string{"absent", "after", "args_absent", "args_present", "before", "updated"},
				Doc: "updated: change the matching rules to the new_* values and arguments; before/after: insert the new rule next to each match; args_present/args_absent: add or remove arguments; absent: remove the matching rules."},
			{Name: "path", Type: module.Path, Expand: true, Default: "/etc/pam.d", Doc: "The directory of the service files."},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a timestamped copy of the file before changing it."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- pamd:
    name: common-password
    type: password
    control: "[success=1 default=ignore]"
    module_path: pam_unix.so
    module_arguments: [sha512, rounds=65536]
    state: args_present
`,
	}
}

var (
	pamdRuleRegex = regexp.MustCompile(`(-?(?:auth|account|session|password))\s+(\[.*\]|\S*)\s+(\S*)\s*(.*)\s*`)
	pamdArgRegex  = regexp.MustCompile(`(\[.*\]|\S*)`)
)

// pamdLine is one line of a service file: a rule, or a comment, include
// or empty line kept as text.
type pamdLine struct {
	kind       string // "rule", "comment", "include", "empty"
	text       string
	ruleType   string
	control    string   // a simple control
	controlSet []string // a [value=action ...] control
	isSet      bool
	rulePath   string
	args       []string
	prev, next *pamdLine
}

func (l *pamdLine) setControl(c string) {
	if strings.HasPrefix(c, "[") {
		c = strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(c, " = ", "="), "[", ""), "]", "")
		l.controlSet, l.isSet = strings.Split(c, " "), true
		return
	}
	l.control, l.isSet = c, false
}

func (l *pamdLine) getControl() string {
	if l.isSet {
		return "[" + strings.Join(l.controlSet, " ") + "]"
	}
	return l.control
}

func (l *pamdLine) matches(typ, control, p string) bool {
	return l.kind == "rule" && l.ruleType == typ && l.getControl() == control && l.rulePath == p
}

func (l *pamdLine) String() string {
	if l.kind != "rule" {
		return l.text
	}
	t := l.ruleType
	if len(t) < 11 {
		t += strings.Repeat(" ", 11-len(t))
	}
	if len(l.args) > 0 {
		return t + l.getControl() + " " + l.rulePath + " " + strings.Join(l.args, " ")
	}
	return t + l.getControl() + " " + l.rulePath
}

var pamdSimpleControls = []string{"required", "requisite", "sufficient", "optional", "include", "substack", "definitive"}
var pamdControlValues = strings.Fields(`success open_err symbol_err service_err system_err buf_err perm_denied auth_err
	cred_insufficient authinfo_unavail user_unknown maxtries new_authtok_reqd acct_expired session_err cred_unavail
	cred_expired cred_err no_module_data conv_err authtok_err authtok_recover_err authtok_lock_busy authtok_disable_aging
	try_again ignore abort authtok_expired module_unknown bad_item conv_again incomplete default`)
var pamdControlActions = []string{"ignore", "bad", "die", "ok", "done", "reset"}

// validate is community.general's validate of one line: "" when valid.
func (l *pamdLine) validate() string {
	switch l.kind {
	case "comment":
		if !strings.HasPrefix(l.text, "#") {
			return "Rule is not valid " + l.text
		}
	case "include":
		if !strings.HasPrefix(l.text, "@include") {
			return "Rule is not valid " + l.text
		}
	case "empty":
	case "rule":
		if !containsStr(pamdTypes, l.ruleType) {
			return "Rule type, " + l.ruleType + ", is not valid in rule " + l.String()
		}
		if !l.isSet && !containsStr(pamdSimpleControls, l.control) {
			return "Rule control, " + l.control + ", is not valid in rule " + l.String()
		}
		for _, c := range l.controlSet {
			v, act, ok := strings.Cut(c, "=")
			if !ok || strings.Contains(act, "=") {
				return "Rule control " + c + " is not value=action in rule " + l.String()
			}
			if !containsStr(pamdControlValues, v) {
				return "Rule control value, " + v + ", is not valid in rule " + l.String()
			}
			if n, err := strconv.Atoi(act); !containsStr(pamdControlActions, act) && (err != nil || n < 0) {
				return "Rule control action, " + act + ", is not valid in rule " + l.String()
			}
		}
	}
	return ""
}

// parsePamdArgs is community.general's parse_module_arguments.
func parsePamdArgs(args []string) []string {
	if len(args) == 1 && args[0] == "" {
		return []string{}
	}
	out := []string{}
	for _, a := range args {
		for _, item := range pamdArgRegex.FindAllString(a, -1) {
			if item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func newPamdRule(typ, control, p string, args []string) *pamdLine {
	l := &pamdLine{kind: "rule", ruleType: typ, rulePath: p, args: parsePamdArgs(args)}
	l.setControl(control)
	return l
}

// pamdService is community.general's PamdService: a doubly linked list
// of lines, changed in place by the same operations.
type pamdService struct{ head, tail *pamdLine }

// splitLinesPy splits like Python's str.splitlines for the line breaks a
// text file holds.
func splitLinesPy(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func parsePamdService(content string) (*pamdService, error) {
	s := &pamdService{}
	for _, line := range splitLinesPy(content) {
		var l *pamdLine
		trimmed := strings.TrimLeft(line, " \t\v\f")
		switch {
		case strings.HasPrefix(trimmed, "#"):
			l = &pamdLine{kind: "comment", text: line}
		case strings.HasPrefix(trimmed, "@include"):
			l = &pamdLine{kind: "include", text: line}
		case strings.TrimSpace(line) == "":
			l = &pamdLine{kind: "empty", text: line}
		default:
			m := pamdRuleRegex.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("cannot parse the PAM rule %q", line)
			}
			l = newPamdRule(m[1], m[2], m[3], []string{m[4]})
		}
		s.append(l)
	}
	return s, nil
}

func (s *pamdService) append(l *pamdLine) {
	if s.head == nil {
		s.head, s.tail = l, l
		return
	}
	l.prev, l.next = s.tail, nil
	s.tail.next = l
	s.tail = l
}

func (s *pamdService) get(typ, control, p string) []*pamdLine {
	var out []*pamdLine
	for l := s.head; l != nil; l = l.next {
		if l.matches(typ, control, p) {
			out = append(out, l)
		}
	}
	return out
}

func (s *pamdService) remove(typ, control, p string) int {
	changed := 0
	for l := s.head; l != nil; l = l.next {
		if !l.matches(typ, control, p) {
			continue
		}
		if l.prev != nil {
			l.prev.next = l.next
			if l.next != nil {
				l.next.prev = l.prev
			}
		} else {
			s.head = l.next
			if l.next != nil {
				l.next.prev = nil
			}
		}
		changed++
	}
	return changed
}

func (s *pamdService) update(typ, control, p, newType, newControl, newPath string, newArgs []string, hasArgs bool) int {
	changes := 0
	for _, r := range s.get(typ, control, p) {
		changed := false
		if newType != "" && r.ruleType != newType {
			changed, r.ruleType = true, newType
		}
		if newControl != "" && r.getControl() != newControl {
			changed = true
			r.setControl(newControl)
		}
		if newPath != "" && r.rulePath != newPath {
			changed, r.rulePath = true, newPath
		}
		if hasArgs {
			want := parsePamdArgs(newArgs)
			if strings.Join(r.args, "\x00") != strings.Join(want, "\x00") || len(r.args) != len(want) {
				changed, r.args = true, want
			}
		}
		if changed {
			changes++
		}
	}
	return changes
}

func skippable(l *pamdLine) bool { return l.kind == "comment" || l.kind == "empty" }

func (s *pamdService) insertBefore(typ, control, p, newType, newControl, newPath string, newArgs []string) int {
	changes := 0
	for _, cur := range s.get(typ, control, p) {
		n := newPamdRule(newType, newControl, newPath, newArgs)
		prev := cur.prev
		for prev != nil && skippable(prev) {
			prev = prev.prev
		}
		switch {
		case prev != nil && !prev.matches(newType, newControl, newPath):
			prev.next, n.prev, n.next, cur.prev = n, prev, cur, n
			changes++
		case prev == nil:
			if cur.prev == nil {
				s.head = n
			} else {
				cur.prev.next = n
			}
			n.prev, n.next, cur.prev = cur.prev, cur, n
			changes++
		}
	}
	return changes
}

func (s *pamdService) insertAfter(typ, control, p, newType, newControl, newPath string, newArgs []string) int {
	changes := 0
	for _, cur := range s.get(typ, control, p) {
		next := cur.next
		for next != nil && skippable(next) {
			next = next.next
		}
		n := newPamdRule(newType, newControl, newPath, newArgs)
		switch {
		case next != nil && !next.matches(newType, newControl, newPath):
			next.prev, n.next, n.prev, cur.next = n, next, cur, n
			changes++
		case next == nil:
			n.prev, n.next = s.tail, nil
			s.tail.next = n
			s.tail = n
			cur.next = n
			changes++
		}
	}
	return changes
}

// splitPamdArgs sorts arguments into simple ones and key=value pairs, as
// add_module_arguments does; bracketed ones are left out.
func splitPamdArgs(args []string) (simple []string, kv map[string]string, keys []string) {
	kv = map[string]string{}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "["):
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			if _, ok := kv[k]; !ok {
				keys = append(keys, k)
			}
			kv[k] = v
		default:
			if !containsStr(simple, a) {
				simple = append(simple, a)
			}
		}
	}
	return simple, kv, keys
}

func (s *pamdService) addArgs(typ, control, p string, add []string) int {
	add = parsePamdArgs(add)
	changes := 0
	for _, r := range s.get(typ, control, p) {
		newSimple, newKV, newKeys := splitPamdArgs(add)
		curSimple, curKV, _ := splitPamdArgs(r.args)
		changed := false
		for _, a := range newSimple {
			if !containsStr(curSimple, a) {
				r.args, changed = append(r.args, a), true
			}
		}
		for _, k := range newKeys {
			if _, ok := curKV[k]; !ok {
				r.args, changed = append(r.args, k+"="+newKV[k]), true
			}
		}
		for _, k := range newKeys {
			if v, ok := curKV[k]; ok && v != newKV[k] {
				for i, a := range r.args {
					if a == k+"="+v {
						r.args[i] = k + "=" + newKV[k]
						break
					}
				}
				changed = true
			}
		}
		if changed {
			changes++
		}
	}
	return changes
}

func (s *pamdService) removeArgs(typ, control, p string, remove []string) int {
	remove = parsePamdArgs(remove)
	changes := 0
	for _, r := range s.get(typ, control, p) {
		var keep []string
		for _, a := range r.args {
			if !containsStr(remove, a) {
				keep = append(keep, a)
			}
		}
		if len(keep) == len(r.args) {
			continue
		}
		r.args = keep
		changes++
	}
	return changes
}

func (s *pamdService) validate() string {
	for l := s.head; l != nil; l = l.next {
		if msg := l.validate(); msg != "" {
			return msg
		}
	}
	return ""
}

// render is PamdService.__str__ with the host's time in the mark line.
func (s *pamdService) render(now string) string {
	var lines []string
	for l := s.head; l != nil; l = l.next {
		lines = append(lines, l.String())
	}
	mark := "# Updated by Ansible - " + now
	switch {
	case len(lines) <= 1:
		lines = append([]string{"", mark}, lines...)
	case strings.HasPrefix(lines[1], "# Updated by Ansible"):
		lines[1] = mark
	default:
		lines = append(lines[:1], append([]string{mark}, lines[1:]...)...)
	}
	return strings.Join(lines, "\n") + "\n"
}

// editPamd applies a pamd task to content: the change count and the
// new content, or a failure message.
func editPamd(content string, a module.Args, now string) (int, string, string) {
	svc, err := parsePamdService(content)
	if err != nil {
		return 0, "", err.Error()
	}
	typ, control, p := a.String("type"), a.String("control"), a.String("module_path")
	nt, nc, np := a.String("new_type"), a.String("new_control"), a.String("new_module_path")
	args := a.List("module_arguments")
	changes := 0
	switch a.String("state") {
	case "updated":
		changes = svc.update(typ, control, p, nt, nc, np, args, a.Has("module_arguments"))
	case "before":
		changes = svc.insertBefore(typ, control, p, nt, nc, np, args)
	case "after":
		changes = svc.insertAfter(typ, control, p, nt, nc, np, args)
	case "args_absent":
		changes = svc.removeArgs(typ, control, p, args)
	case "args_present":
		for _, x := range parsePamdArgs(args) {
			if strings.HasPrefix(x, "[") {
				return 0, "", "Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'."
			}
		}
		changes = svc.addArgs(typ, control, p, args)
	case "absent":
		changes = svc.remove(typ, control, p)
	}
	if msg := svc.validate(); msg != "" {
		return 0, "", msg
	}
	return changes, svc.render(now), ""
}

// Plan implements module.Module.
func (*Pamd) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	state := a.String("state")
	switch {
	case (state == "args_present" || state == "args_absent") && !a.Has("module_arguments"):
		return module.Unchanged(module.Failed("state is %s but all of the following are missing: module_arguments", state)), nil
	case (state == "before" || state == "after") && (a.String("new_control") == "" || a.String("new_type") == "" || a.String("new_module_path") == ""):
		return module.Unchanged(module.Failed("state is %s but all of the following are missing: new_control, new_type, new_module_path", state)), nil
	}
	fname := path.Join(a.String("path"), a.String("name"))
	q := shell.Path(fname)
	secs, err := runProbe(ctx, h, "PAM service "+fname, "if [ -r "+q+" ] && [ -f "+q+" ]; then echo Y; cat -- "+q+"; else echo N; cat -- "+q+" 2>&1 >/dev/null; fi",
		"readlink -f -- "+q, "date +%Y-%m-%dT%H:%M:%S.%6N")
	if err != nil {
		return nil, err
	}
	content, ok := readCat(secs[0])
	if !ok {
		return module.Unchanged(module.Failed("Unable to open/read PAM module file %s with error %s.", fname, strings.TrimSpace(strings.TrimPrefix(secs[0], "N\n")))), nil
	}
	changes, out, fail := editPamd(content, a, strings.TrimSpace(secs[2]))
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	result := module.Result{"change_count": changes, "backupdest": ""}
	if changes == 0 {
		return module.Unchanged(result), nil
	}
	real := strings.TrimSpace(secs[1])
	if real == "" {
		real = fname
	}
	return &module.Plan{Changed: true, Result: result,
		Diff: []module.Diff{{BeforeHeader: fname, AfterHeader: fname, Before: content, After: out}},
		Apply: func(ctx context.Context) (module.Result, error) {
			r := module.Result{"change_count": changes, "backupdest": ""}
			if a.Bool("backup") {
				b, err := backupRemote(ctx, h, fname)
				if err != nil {
					return nil, err
				}
				r["backupdest"] = b
			}
			st, err := inspectRemote(ctx, h, real, statOptions{})
			if err != nil {
				return nil, err
			}
			owner, group := keepOwnership(st, "", "")
			if err := writeRemote(ctx, h, real, []byte(out), writeOptions{Mode: newFileMode(st), Owner: owner, Group: group}); err != nil {
				return nil, err
			}
			return r, nil
		}}, nil
}
