package modules

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// IniFile is community.general's ini_file module, plus a tend extension
// for git-config-style (gcfg) files.
type IniFile struct{}

var _ module.Module = (*IniFile)(nil)

var iniFileSpec = &module.Spec{
	Name:  "ini_file",
	Short: "Manage options in INI-style files",
	Description: `Adds, changes or removes single options (or whole sections) in INI-style files,
keeping comments, blank lines and the order of everything else. Follows community.general's
ini_file (6.x) line by line: options are matched also when commented out with # or ;
(and then replaced), new options go after the last non-comment line of their section,
a missing section is appended at the end. An empty or null section means the options
before the first section header. values with exclusive=false keeps other values of a
repeated (multi-valued) option; exclusive=true (the default) makes the option hold exactly
the given values.

gcfg: true is a tend extension for git-config-style files (git, gcfg, Posit's rstudio-pm.gcfg):
section headers may carry a quoted subsection, [Section "Name"], matched with the section
name case-insensitive and the subsection case-sensitive ("section: 'Server \"main\"'"),
option names are compared case-insensitively, changed lines keep their indentation and new
options are indented with a tab. Repeated keys are multi-valued options: manage them with
values (and exclusive). Without gcfg, matching is exact and case-sensitive as in Ansible.`,
	Args: append([]module.Arg{
		{Name: "path", Aliases: []string{"dest"}, Type: module.Path, Expand: true, Required: true, Doc: "The INI file; created if missing unless create=false."},
		{Name: "section", Type: module.String, Doc: "Section name, without brackets. Empty or null: options before the first section."},
		{Name: "option", Aliases: []string{"key"}, Type: module.String, Doc: "Option name. Without it, state=present ensures the section exists and state=absent removes the whole section."},
		{Name: "value", Type: module.String, Doc: "The option's value."},
		{Name: "values", Type: module.List, Elements: module.String, Doc: "Several values for a repeated option (one line each)."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present adds or changes, absent removes the option (all of its lines with exclusive, else only the lines with the given values) or the section."},
		{Name: "exclusive", Type: module.Bool, Default: true, Doc: "Whether the given values are the option's only values (extra lines are removed)."},
		{Name: "allow_no_value", Type: module.Bool, Default: false, Doc: "Allow options without a value (a bare 'option' line)."},
		{Name: "no_extra_spaces", Type: module.Bool, Default: false, Doc: "Write 'option=value' instead of 'option = value'."},
		{Name: "create", Type: module.Bool, Default: true, Doc: "Create the file when it is missing; false makes a missing file an error."},
		{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a copy of the old file named FILE.PID.YYYY-MM-DD@HH:MM:SS~."},
		{Name: "gcfg", Type: module.Bool, Default: false, Doc: "tend extension: git-config (gcfg) syntax, with quoted subsections [Section \"Name\"], case-insensitive section and option names, kept indentation."},
	}, fileAttrArgs()...),
	MutuallyExclusive: [][]string{{"value", "values"}},
	Check:             module.CheckFull,
	Diff:              true,
	Examples: `- name: Set the number of fav drinks
  ini_file:
    path: /etc/conf
    section: drinks
    option: fav
    value: lemonade
    mode: '0600'
    backup: true

- name: Several values for one repeated option
  ini_file:
    path: /etc/conf
    section: drinks
    option: beverage
    values: [coke, pepsi]

- name: Posit Package Manager config (gcfg) with a quoted subsection
  ini_file:
    path: /etc/rstudio-pm/rstudio-pm.gcfg
    gcfg: true
    section: 'Database "main"'
    option: Provider
    value: postgres`,
}

// Spec implements module.Module.
func (*IniFile) Spec() *module.Spec { return iniFileSpec }

// IniEdit holds ini_file's edit arguments. A nil Section or Option was not
// given.
type IniEdit struct {
	Section       *string
	Option        *string
	Values        []string
	Absent        bool
	Exclusive     bool
	AllowNoValue  bool
	NoExtraSpaces bool
	// Gcfg switches on git-config syntax (see the module description).
	Gcfg bool
}

// fakeSection is Ansible's name for the section holding the lines before
// the first header.
const fakeSection = "ad01e11446efb704fcdbdb21f2c43757423d91c5"

var (
	iniBlankOrComment = regexp.MustCompile(`^[ \t]*([#;].*)?$`)
	gcfgHeader        = regexp.MustCompile(`^[ \t]*\[[ \t]*([^ \t"\]]+)(?:[ \t]+"((?:[^"\\]|\\.)*)")?[ \t]*\]`)
)

// gcfgSection splits a section argument like `Server "main"` into a
// lower-cased name and the case-sensitive subsection.
func gcfgSection(s string) (name, sub string, hasSub bool) {
	m := gcfgHeader.FindStringSubmatch("[" + s + "]")
	if m == nil {
		return strings.ToLower(strings.TrimSpace(s)), "", false
	}
	return strings.ToLower(m[1]), unquoteGcfg(m[2]), strings.Contains(s, `"`)
}

func unquoteGcfg(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// iniApply edits an INI file's content as community.general's do_ini
// does. It returns the new content, whether it changed and Ansible's
// message.
//
// Like do_ini it works in steps over the lines of the target section:
// first the lines already naming the option are set to the wanted values
// (setMatching, then setExclusive for the values left over), then the
// values still missing are added after the section's last option line
// (addMissing); state=absent instead drops lines (removeAbsent). A section
// that is not there at all is appended with its options (appendSection).
func iniApply(content string, e IniEdit) (string, bool, string) {
	lines, changed := iniLines(content)
	section := fakeSection
	if e.Section != nil && *e.Section != "" {
		section = *e.Section
	}
	start, end, within := findIniSection(lines, iniHeaderMatcher(e.Gcfg, section), e.Gcfg)
	r := newIniRun(e, lines[start:end])
	r.changed = changed
	if e.Absent {
		r.removeAbsent()
	} else {
		if r.hasOption {
			r.setMatching()
		}
		if e.Exclusive && !e.AllowNoValue {
			r.setExclusive()
		}
		r.addMissing()
	}
	out := append(append(append([]string{}, lines[:start]...), r.sect...), lines[end:]...)
	// Drop the frame as do_ini does, with del lines[0] and del lines[-1:],
	// which do nothing on an empty list: removing the lines before the
	// first section takes the top frame line with them, and the list can
	// then hold just the bottom one, or nothing.
	if len(out) > 0 {
		out = out[1:]
	}
	if len(out) > 0 {
		out = out[:len(out)-1]
	}
	if !within && !e.Absent {
		out = r.appendSection(out, section)
	}
	if !r.changed {
		return content, false, r.msg
	}
	return strings.Join(out, ""), true, r.msg
}

// iniLines splits content into lines for iniApply, framed as do_ini frames
// them: a header for the lines before the first section at the top, a bare
// "[" at the bottom so the last section ends somewhere. changed reports the
// newline added to a last line without one.
func iniLines(content string) (lines []string, changed bool) {
	lines = splitLinesKeep(strings.TrimPrefix(content, "\ufeff"))
	if len(lines) == 0 {
		lines = append(lines, "\n")
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "\n") {
		lines[len(lines)-1] += "\n"
		changed = true
	}
	lines = append([]string{"[" + fakeSection + "]"}, lines...)
	return append(lines, "["), changed
}

// iniHeaderMatcher returns the test for the header line of section: a
// literal prefix as in Ansible, or with gcfg a case-insensitive name and an
// exact quoted subsection.
func iniHeaderMatcher(gcfg bool, section string) func(string) bool {
	if !gcfg || section == fakeSection {
		return func(l string) bool { return strings.HasPrefix(l, "["+section+"]") }
	}
	wantName, wantSub, wantHasSub := gcfgSection(section)
	return func(l string) bool {
		m := gcfgHeader.FindStringSubmatch(l)
		if m == nil {
			return false
		}
		hasSub := strings.Contains(l[:len(m[0])], `"`)
		return strings.ToLower(m[1]) == wantName && hasSub == wantHasSub && unquoteGcfg(m[2]) == wantSub
	}
}

// findIniSection returns the lines [start, end) of the last section whose
// header isHeader accepts, and whether there is one. With gcfg a header may
// be indented.
func findIniSection(lines []string, isHeader func(string) bool, gcfg bool) (start, end int, within bool) {
	for i, l := range lines {
		if isHeader(l) {
			within = true
			start = i
		} else if strings.HasPrefix(strings.TrimLeft(l, " \t"), "[") && (gcfg || strings.HasPrefix(l, "[")) {
			if within {
				return start, i, true
			}
		}
	}
	return start, end, within
}

// iniRun is the state of one iniApply over the target section.
type iniRun struct {
	e         IniEdit
	option    string
	hasOption bool
	// values are the wanted values not yet placed on a line.
	values []string
	// sect is a copy of the target section's lines, header first; touched
	// marks the lines already set to a wanted value.
	sect    []string
	touched []bool
	// optRe matches the option's lines, also commented out; activeRe only
	// the lines in effect.
	optRe, activeRe *regexp.Regexp
	changed         bool
	msg             string
	noValuePresent  bool
}

func newIniRun(e IniEdit, sect []string) *iniRun {
	r := &iniRun{e: e, values: []string{}, sect: append([]string{}, sect...), msg: "OK"}
	r.touched = make([]bool, len(r.sect))
	for _, v := range e.Values {
		if !slices.Contains(r.values, v) {
			r.values = append(r.values, v)
		}
	}
	if e.Option != nil && *e.Option != "" {
		r.option, r.hasOption = *e.Option, true
	}
	flags := ""
	if e.Gcfg {
		flags = "(?i)"
	}
	r.optRe = regexp.MustCompile(flags + `^[#;]?[ \t]*(` + regexp.QuoteMeta(r.option) + `)[ \t]*(=|$)[ \t]*(.*)`)
	r.activeRe = regexp.MustCompile(flags + `^[ \t]*(` + regexp.QuoteMeta(r.option) + `)[ \t]*(=|$)[ \t]*(.*)`)
	return r
}

func (r *iniRun) match(re *regexp.Regexp, l string) []string {
	return re.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
}

// newLine renders the option line replacing sect[i] (i < 0: a new line);
// gcfg keeps the old line's indentation and the option's spelling.
func (r *iniRun) newLine(i int, v string, noValue bool) string {
	indent := ""
	if r.e.Gcfg {
		indent = "\t"
	}
	lead, opt := "", r.option
	if r.e.Gcfg && i >= 0 {
		old := r.sect[i]
		if old != "" && old[0] != '#' && old[0] != ';' {
			lead = old[:len(old)-len(strings.TrimLeft(old, " \t"))]
			if m := r.match(r.optRe, old); m != nil {
				opt = m[1]
			}
		} else {
			lead = indent
		}
	} else if i < 0 {
		lead = indent
	}
	if noValue {
		return lead + opt + "\n"
	}
	if r.e.NoExtraSpaces {
		return lead + opt + "=" + v + "\n"
	}
	return lead + opt + " = " + v + "\n"
}

func (r *iniRun) update(i int, nl string) {
	if r.sect[i] != nl {
		r.changed = true
		r.msg = "option changed"
	}
	r.sect[i] = nl
	r.touched[i] = true
}

func (r *iniRun) placed(v string) {
	if i := slices.Index(r.values, v); i >= 0 {
		r.values = append(r.values[:i], r.values[i+1:]...)
	}
}

// setMatching rewrites the option lines that already hold one of the
// wanted values (or, with allow_no_value and no values, the first option
// line) into their canonical form.
func (r *iniRun) setMatching() {
	for i, l := range r.sect {
		m := r.match(r.optRe, l)
		if m == nil {
			continue
		}
		if len(r.values) > 0 && slices.Contains(r.values, m[3]) {
			v := m[3]
			if v == "" && r.e.AllowNoValue {
				r.update(i, r.newLine(i, "", true))
				r.noValuePresent = true
			} else {
				r.update(i, r.newLine(i, v, false))
			}
			r.placed(v)
		} else if len(r.values) == 0 && r.e.AllowNoValue {
			r.update(i, r.newLine(i, "", true))
			r.noValuePresent = true
			return
		}
	}
}

// setExclusive gives the remaining values to the option lines not yet
// touched, in order, and removes the option lines left over.
func (r *iniRun) setExclusive() {
	if len(r.values) > 0 {
		for i, l := range r.sect {
			if !r.touched[i] && r.match(r.optRe, l) != nil {
				v := r.values[0]
				r.values = r.values[1:]
				r.update(i, r.newLine(i, v, false))
				if len(r.values) == 0 {
					break
				}
			}
		}
	}
	for i := len(r.sect) - 1; i > 0; i-- {
		if !r.touched[i] && r.match(r.optRe, r.sect[i]) != nil {
			r.sect = append(r.sect[:i], r.sect[i+1:]...)
			r.touched = append(r.touched[:i], r.touched[i+1:]...)
			r.changed = true
			r.msg = "option changed"
		}
	}
}

// addMissing inserts the values not yet placed after the section's last
// line that is neither blank nor a comment.
func (r *iniRun) addMissing() {
	for i := len(r.sect); i > 0; i-- {
		if iniBlankOrComment.MatchString(strings.TrimSuffix(r.sect[i-1], "\n")) {
			continue
		}
		if r.hasOption && len(r.values) > 0 {
			add := make([]string, 0, len(r.values))
			for _, v := range r.values {
				add = append(add, r.newLine(-1, v, false))
			}
			r.sect = insertLines(r.sect, i, add...)
			r.msg = "option added"
			r.changed = true
		} else if r.hasOption && len(r.values) == 0 && r.e.AllowNoValue && !r.noValuePresent {
			r.sect = insertLines(r.sect, i, r.newLine(-1, "", true))
			r.msg = "option added"
			r.changed = true
		}
		return
	}
}

// removeAbsent drops the option's lines in effect (all of them with
// exclusive, else those holding one of the values), or without an option
// the whole section.
func (r *iniRun) removeAbsent() {
	if !r.hasOption {
		if len(r.sect) > 0 {
			r.sect = nil
			r.msg = "section removed"
			r.changed = true
		}
		return
	}
	var kept []string
	for _, l := range r.sect {
		m := r.match(r.activeRe, l)
		drop := m != nil && (r.e.Exclusive || slices.Contains(r.values, m[3]))
		if !r.e.Exclusive && len(r.values) == 0 {
			drop = false
		}
		if !drop {
			kept = append(kept, l)
		}
	}
	if len(kept) != len(r.sect) {
		r.changed = true
		r.msg = "option changed"
		r.sect = kept
	}
}

// appendSection adds the missing section, with its option lines, at the
// end of out.
func (r *iniRun) appendSection(out []string, section string) []string {
	out = append(out, "["+section+"]\n")
	r.msg = "section and option added"
	switch {
	case r.hasOption && len(r.values) > 0:
		for _, v := range r.values {
			out = append(out, r.newLine(-1, v, false))
		}
	case r.hasOption && r.e.AllowNoValue:
		out = append(out, r.newLine(-1, "", true))
	default:
		r.msg = "only section added"
	}
	r.changed = true
	return out
}

// Plan implements module.Module.
func (*IniFile) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	path := args.String("path")
	absent := args.String("state") == "absent"
	values := args.List("values")
	if args.Has("value") {
		values = []string{args.String("value")}
	}
	if !absent && !args.Bool("allow_no_value") && !args.Has("value") && len(values) == 0 {
		return module.Unchanged(module.Failed("Parameter 'value(s)' must be defined if state=present and allow_no_value=False.")), nil
	}
	mode, err := parseMode(args["mode"])
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	st, err := inspectRemote(ctx, h, path, statOptions{Follow: true, Content: true})
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return module.Unchanged(module.Failed("Path %s is a directory !", path)), nil
	}
	if !st.Exists && !args.Bool("create") {
		return module.Unchanged(module.Result{"failed": true, "rc": 257, "msg": fmt.Sprintf("Destination %s does not exist!", path)}), nil
	}
	if st.Exists && !st.HasContent {
		return module.Unchanged(module.Failed("cannot read %s: not a readable regular file", path)), nil
	}
	after, changed, msg := iniApply(string(st.Content), IniEdit{
		Section: optString(args, "section"), Option: optString(args, "option"), Values: values,
		Absent: absent, Exclusive: args.Bool("exclusive"), AllowNoValue: args.Bool("allow_no_value"),
		NoExtraSpaces: args.Bool("no_extra_spaces"), Gcfg: args.Bool("gcfg"),
	})
	dest := st.Path
	if st.RealPath != "" {
		dest = st.RealPath
	}
	if !changed {
		after = string(st.Content)
	}
	cc := &contentChange{
		Path: dest, St: st, After: []byte(after),
		Owner: args.String("owner"), Group: args.String("group"), Mode: mode,
		Backup:     args.Bool("backup"),
		DiffHeader: path + " (content)",
	}
	if !st.Exists && !changed {
		return module.Unchanged(module.Result{"msg": msg, "path": path}), nil
	}
	plan, err := planEdit(h, cc, module.Result{"path": path}, "")
	if plan != nil && plan.Result["failed"] == nil {
		// ini_file keeps its own message; attribute changes do not add to it.
		plan.Result["msg"] = msg
	}
	return plan, err
}
