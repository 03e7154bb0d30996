package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/pyre"
)

// LineInFile is Ansible's lineinfile module: ensure one line is present in
// (or absent from) a text file, optionally replacing the line a regular
// expression finds.
type LineInFile struct{}

var _ module.Module = (*LineInFile)(nil)

var lineInFileSpec = &module.Spec{
	Name:  "lineinfile",
	Short: "Manage lines in text files",
	Description: `Ensures a particular line is in a file, or replaces an existing line found by a
regular expression (regexp) or a fixed string (search_string). With state=absent every
matching line is removed. The file is read and edited on the controller and written back
atomically only when it changes; a converged file costs one round trip.

Regular expressions are Python's (re.search on each line, its newline included, as in
Ansible): lookarounds, backreferences, (?P<name>...) groups and inline flags work, and
"$" matches before the line's newline. In line with backrefs=true, \1 and \g<name> insert
groups.`,
	Args: append([]module.Arg{
		{Name: "path", Aliases: []string{"dest", "destfile", "name"}, Type: module.Path, Expand: true, Required: true, Doc: "The file to modify."},
		{Name: "regexp", Aliases: []string{"regex"}, Type: module.String, Doc: "Regular expression looked for in every line. With state=present the last matching line (or the first, with firstmatch) is replaced; with state=absent all matching lines are removed."},
		{Name: "search_string", Type: module.String, Doc: "Fixed string looked for in every line; the literal counterpart of regexp."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the line should be there or not."},
		{Name: "line", Aliases: []string{"value"}, Type: module.String, Content: true, Doc: "The line to insert or replace with. Required for state=present. With backrefs it may use \\1 and \\g<name>."},
		{Name: "backrefs", Type: module.Bool, Default: false, Doc: "Expand regexp groups in line; when regexp matches nothing the file is left unchanged (instead of adding line)."},
		{Name: "insertafter", Type: module.String, Doc: "Where to add line when regexp/search_string match nothing: after the last line matching this regular expression, or EOF (the default) or BOF."},
		{Name: "insertbefore", Type: module.String, Doc: "Where to add line when nothing matches: before the last line matching this regular expression, or BOF."},
		{Name: "create", Type: module.Bool, Default: false, Doc: "Create the file when it does not exist (state=present); otherwise a missing file is an error."},
		{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a copy of the old file named FILE.PID.YYYY-MM-DD@HH:MM:SS~."},
		{Name: "firstmatch", Type: module.Bool, Default: false, Doc: "Use the first line matching regexp/insertafter/insertbefore instead of the last."},
		{Name: "validate", Type: module.String, Doc: "Command run on the new file before it replaces the old one; %s is the new file's path. A non-zero exit fails the task and leaves the file alone."},
		{Name: "others", Type: module.Raw, Doc: "Accepted for compatibility and ignored."},
	}, fileAttrArgs()...),
	MutuallyExclusive: [][]string{{"insertbefore", "insertafter"}, {"regexp", "search_string"}, {"backrefs", "search_string"}},
	Check:             module.CheckFull,
	Diff:              true,
	Examples: `- name: Ensure SELinux is set to enforcing mode
  lineinfile:
    path: /etc/selinux/config
    regexp: '^SELINUX='
    line: SELINUX=enforcing

- name: Make sure group wheel is not in the sudoers configuration
  lineinfile:
    path: /etc/sudoers
    state: absent
    regexp: '^%wheel'

- name: Add a line after the [server] section header
  lineinfile:
    path: /etc/app.conf
    insertafter: '^\[server\]'
    line: 'port = 8080'
    create: true
    mode: '0644'

- name: Change the listen port, keeping the address (backrefs)
  lineinfile:
    path: /etc/app.conf
    regexp: '^(listen\s+\S+:)\d+$'
    line: '\g<1>8081'
    backrefs: true
    validate: /usr/sbin/app --check-config %s`,
}

// Spec implements module.Module.
func (*LineInFile) Spec() *module.Spec { return lineInFileSpec }

// LineEdit holds lineinfile's edit arguments. Nil pointers are arguments
// that were not given (Python's None); they differ from empty strings.
type LineEdit struct {
	Regexp       *pyre.Regexp
	SearchString *string
	Line         *string
	InsertAfter  *string
	InsertBefore *string
	Backrefs     bool
	FirstMatch   bool
}

// linePresent applies lineinfile state=present to content, following
// Ansible's present() step by step: find the line (findLine), then
// replace it where it was found (replaceLine) or else insert it at the
// anchor (insertLine). It returns the new content, whether it changed and
// Ansible's message ("line added", "line replaced").
func linePresent(content string, e LineEdit) (string, bool, string, error) {
	lines := splitLinesKeep(content)
	line := ""
	if e.Line != nil {
		line = *e.Line
	}
	if e.InsertAfter == nil && e.InsertBefore == nil {
		eof := "EOF"
		e.InsertAfter = &eof
	}
	var ins *pyre.Regexp
	var err error
	switch {
	case e.InsertAfter != nil && *e.InsertAfter != "BOF" && *e.InsertAfter != "EOF":
		ins, err = compilePyRegexp("insertafter", *e.InsertAfter, bytesPattern)
	case e.InsertBefore != nil && *e.InsertBefore != "BOF":
		ins, err = compilePyRegexp("insertbefore", *e.InsertBefore, bytesPattern)
	}
	if err != nil {
		return "", false, "", err
	}
	f, err := findLine(lines, e, line, ins)
	if err != nil {
		return "", false, "", err
	}
	if f.index != -1 {
		return replaceLine(lines, e, line, f)
	}
	if e.Backrefs {
		// regexp matched nothing: leave the file alone.
		return strings.Join(lines, ""), false, "", nil
	}
	lines, changed := insertLine(lines, e, line, f.anchor)
	msg := ""
	if changed {
		msg = "line added"
	}
	return strings.Join(lines, ""), changed, msg, nil
}

// lineFound is where findLine found the line or its anchor.
type lineFound struct {
	// index is the line matching regexp or search_string or, without
	// such a match, equal to the line; -1 for none.
	index int
	// match is regexp's submatch indexes in lines[index], for backrefs.
	match   []int
	matched bool
	// anchor is where a new line goes by insertafter/insertbefore; -1 for
	// no anchor found.
	anchor int
}

// given is Python's truthiness of an optional string argument.
func given(p *string) bool { return p != nil && *p != "" }

// findLine looks for the line to replace as Ansible's present() does: the
// last (or with firstmatch the first) line matching regexp or containing
// search_string; without one, a line equal to line, and the anchor ins
// matches.
func findLine(lines []string, e LineEdit, line string, ins *pyre.Regexp) (lineFound, error) {
	f := lineFound{index: -1, anchor: -1}
	if e.Regexp != nil {
		for i, l := range lines {
			m, err := e.Regexp.Search(l)
			if err != nil {
				return f, err
			}
			if m != nil {
				f.index, f.match, f.matched = i, m, true
				if e.FirstMatch {
					break
				}
			}
		}
	}
	if e.SearchString != nil {
		for i, l := range lines {
			if strings.Contains(l, *e.SearchString) {
				f.index, f.matched = i, true
				if e.FirstMatch {
					break
				}
			}
		}
	}
	if f.matched {
		return f, nil
	}
	for i, l := range lines {
		if line == trimEOL(l) {
			f.index = i
			continue
		}
		if ins == nil {
			continue
		}
		if hit, err := ins.MatchString(l); err != nil {
			return f, err
		} else if !hit {
			continue
		}
		if given(e.InsertAfter) {
			f.anchor = i + 1
			if e.FirstMatch {
				break
			}
		}
		if given(e.InsertBefore) {
			f.anchor = i
			if e.FirstMatch {
				break
			}
		}
	}
	return f, nil
}

// replaceLine puts line (expanded with the regexp's groups for backrefs)
// in place of the line found.
func replaceLine(lines []string, e LineEdit, line string, f lineFound) (string, bool, string, error) {
	newLine := line
	if e.Backrefs && f.matched && f.match != nil {
		var err error
		newLine, err = e.Regexp.Expand(line, lines[f.index], f.match)
		if err != nil {
			return "", false, "", fmt.Errorf("line: %w", err)
		}
	}
	if !strings.HasSuffix(newLine, "\n") {
		newLine += "\n"
	}
	// Ansible's branch for "no regexp, no search_string, no exact match"
	// here cannot be reached: index is only set by one of them. What
	// remains is replacing the found line.
	if lines[f.index] == newLine {
		return strings.Join(lines, ""), false, "", nil
	}
	lines[f.index] = newLine
	return strings.Join(lines, ""), true, "line replaced", nil
}

// insertLine adds line at the beginning, the end or the anchor, unless
// the line at the anchor already is it.
func insertLine(lines []string, e LineEdit, line string, anchor int) ([]string, bool) {
	add := func(at int) ([]string, bool) {
		return append(lines[:at], append([]string{line + "\n"}, lines[at:]...)...), true
	}
	switch {
	case (e.InsertBefore != nil && *e.InsertBefore == "BOF") || (e.InsertAfter != nil && *e.InsertAfter == "BOF"):
		return add(0)
	case (e.InsertAfter != nil && *e.InsertAfter == "EOF") || anchor == -1:
		if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") && !strings.HasSuffix(lines[n-1], "\r") {
			lines = append(lines, "\n")
		}
		return add(len(lines))
	case given(e.InsertAfter):
		if len(lines) == anchor {
			if trimEOL(lines[anchor-1]) != line {
				return add(len(lines))
			}
		} else if line != trimEOL(lines[anchor]) {
			return add(anchor)
		}
		return lines, false
	}
	return add(anchor)
}

// lineAbsent applies lineinfile state=absent: every line matching
// regexp, containing search_string, or equal to line is removed. It
// returns the new content and the number of lines removed.
func lineAbsent(content string, e LineEdit) (string, int, error) {
	var kept []string
	found := 0
	for _, l := range splitLinesKeep(content) {
		var hit bool
		switch {
		case e.Regexp != nil:
			var err error
			if hit, err = e.Regexp.MatchString(l); err != nil {
				return "", 0, err
			}
		case e.SearchString != nil:
			hit = strings.Contains(l, *e.SearchString)
		case e.Line != nil:
			hit = *e.Line == trimEOL(l)
		}
		if hit {
			found++
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, ""), found, nil
}

func optString(a module.Args, name string) *string {
	if !a.Has(name) {
		return nil
	}
	s := a.String(name)
	return &s
}

// Plan implements module.Module.
func (*LineInFile) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	path := args.String("path")
	state := args.String("state")
	e := LineEdit{
		SearchString: optString(args, "search_string"),
		Line:         optString(args, "line"),
		InsertAfter:  optString(args, "insertafter"),
		InsertBefore: optString(args, "insertbefore"),
		Backrefs:     args.Bool("backrefs"),
		FirstMatch:   args.Bool("firstmatch"),
	}
	// Ansible's warnings about empty patterns go in the result, where
	// content reads them (result.warnings) and the report prints them.
	var warnings []any
	if re := optString(args, "regexp"); re != nil && *re == "" {
		warnings = append(warnings, "The regular expression is an empty string, which will match every line in the file. "+
			"This may have unintended consequences, such as replacing the last line in the file rather than appending. "+
			"If this is desired, use '^' to match every line in the file and avoid this warning.")
	} else if e.SearchString != nil && *e.SearchString == "" {
		warnings = append(warnings, "The search string is an empty string, which will match every line in the file. "+
			"This may have unintended consequences, such as replacing the last line in the file rather than appending.")
	}
	if re := optString(args, "regexp"); re != nil {
		r, err := compilePyRegexp("regexp", *re, bytesPattern)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		e.Regexp = r
	}
	mode, bad := editArgs(args)
	if bad != "" {
		return module.Unchanged(module.Failed("%s", bad)), nil
	}
	if state == "present" {
		if e.Backrefs && e.Regexp == nil {
			return module.Unchanged(module.Failed("regexp is required with backrefs=true")), nil
		}
		if e.Line == nil {
			return module.Unchanged(module.Failed("line is required with state=present")), nil
		}
	} else if e.Regexp == nil && e.SearchString == nil && e.Line == nil {
		return module.Unchanged(module.Failed("one of line, search_string, or regexp is required with state=absent")), nil
	}

	st, isDir, err := readForEdit(ctx, h, path)
	if err != nil || isDir != nil {
		return isDir, err
	}
	dest := st.Path
	if st.RealPath != "" {
		dest = st.RealPath
	}
	if st.Exists && !st.HasContent {
		return module.Unchanged(module.Failed("cannot read %s: not a readable regular file", path)), nil
	}
	result := module.Result{"backup": "", "msg": ""}
	if warnings != nil {
		result["warnings"] = warnings
	}
	var after string
	var changed bool
	var msg string
	if state == "present" {
		if !st.Exists && !args.Bool("create") {
			return module.Unchanged(module.Result{"failed": true, "rc": 257, "msg": fmt.Sprintf("Destination %s does not exist !", path)}), nil
		}
		after, changed, msg, err = linePresent(string(st.Content), e)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
	} else {
		if !st.Exists {
			return module.Unchanged(module.Result{"msg": "file not present"}), nil
		}
		var found int
		after, found, err = lineAbsent(string(st.Content), e)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		changed = found > 0
		if changed {
			msg = fmt.Sprintf("%d line(s) removed", found)
		}
		result["found"] = found
	}
	if !changed {
		after = string(st.Content)
	}
	cc := &contentChange{
		Path: dest, St: st, After: []byte(after),
		Owner: args.String("owner"), Group: args.String("group"), Mode: mode,
		Backup: args.Bool("backup"), Validate: args.String("validate"),
		DiffHeader: path + " (content)", AttrHeader: path + " (file attributes)",
	}
	return planEdit(h, cc, result, msg)
}

// planEdit finishes the plan of an edit module (lineinfile, blockinfile,
// replace, ini_file): content edits first, then attributes, with Ansible's
// combined message. The new parent directory of a created file is made
// first when needed.
func planEdit(h *module.Host, cc *contentChange, result module.Result, msg string) (*module.Plan, error) {
	cp, err := cc.plan()
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if cp.Attrs.Changed() && cc.St.Exists {
		if msg != "" {
			msg += " and "
		}
		msg += "ownership, perms or SE linux context changed"
	}
	result["msg"] = msg
	plan := &module.Plan{Changed: cp.Changed(), Result: result, Diff: cp.Diffs}
	if !plan.Changed {
		return plan, nil
	}
	plan.Apply = func(ctx context.Context) (module.Result, error) {
		if !cc.St.Exists {
			if err := runOK(ctx, h, "mkdir -p -- "+shellDir(cc.Path), "create parent directory of "+cc.Path); err != nil {
				return nil, err
			}
		}
		backup, fail, err := cc.apply(ctx, h, cp)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			return fail, nil
		}
		r := module.Result{}
		for k, v := range result {
			r[k] = v
		}
		r["backup"] = backup
		if backup != "" {
			r["backup_file"] = backup
		}
		return r, nil
	}
	return plan, nil
}

// bytesPattern is how lineinfile and blockinfile compile their patterns:
// Ansible compiles them as bytes, where \w \d \s are ASCII-only.
const bytesPattern = pyre.ASCII

// compilePyRegexp compiles a regular expression written for Python's re
// module (as Ansible's lineinfile, replace, blockinfile and find take
// them); arg names the argument in the error.
func compilePyRegexp(arg, pattern string, flags pyre.Flags) (*pyre.Regexp, error) {
	re, err := pyre.Compile(pattern, flags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return re, nil
}

// splitLinesKeep splits s after each "\n", keeping the line endings, like
// Python's readlines on a binary file.
func splitLinesKeep(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// trimEOL strips a line's trailing "\r\n" characters like Python's
// rstrip(b'\r\n').
func trimEOL(l string) string { return strings.TrimRight(l, "\r\n") }
