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
		{Name: "path", Aliases: []string{"dest"}, Type: module.Path, Required: true, Doc: "The INI file; created if missing unless create=false."},
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
// does. exists says whether the file exists. It returns the new content,
// whether it changed and Ansible's message.
func iniApply(content string, e IniEdit) (string, bool, string) {
	values := []string{}
	for _, v := range e.Values {
		if !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	option := ""
	hasOption := e.Option != nil && *e.Option != ""
	if hasOption {
		option = *e.Option
	}
	lines := splitLinesKeep(strings.TrimPrefix(content, "\ufeff"))
	changed := false
	if len(lines) == 0 {
		lines = append(lines, "\n")
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "\n") {
		lines[len(lines)-1] += "\n"
		changed = true
	}
	lines = append([]string{"[" + fakeSection + "]"}, lines...)
	lines = append(lines, "[")

	section := fakeSection
	if e.Section != nil && *e.Section != "" {
		section = *e.Section
	}
	isHeader := func(l string) bool { return strings.HasPrefix(l, "["+section+"]") }
	if e.Gcfg && section != fakeSection {
		wantName, wantSub, wantHasSub := gcfgSection(section)
		isHeader = func(l string) bool {
			m := gcfgHeader.FindStringSubmatch(l)
			if m == nil {
				return false
			}
			hasSub := strings.Contains(l[:len(m[0])], `"`)
			return strings.ToLower(m[1]) == wantName && hasSub == wantHasSub && unquoteGcfg(m[2]) == wantSub
		}
	}
	within := false
	start, end := 0, 0
	for i, l := range lines {
		if isHeader(l) {
			within = true
			start = i
		} else if strings.HasPrefix(strings.TrimLeft(l, " \t"), "[") && (e.Gcfg || strings.HasPrefix(l, "[")) {
			if within {
				end = i
				break
			}
		}
	}
	msg := "OK"
	format := func(opt, v string) string {
		if e.NoExtraSpaces {
			return opt + "=" + v + "\n"
		}
		return opt + " = " + v + "\n"
	}
	indent := ""
	if e.Gcfg {
		indent = "\t"
	}
	before := append([]string{}, lines[:start]...)
	sect := append([]string{}, lines[start:end]...)
	after := append([]string{}, lines[end:]...)
	changedLines := make([]bool, len(sect))

	flags := ""
	if e.Gcfg {
		flags = "(?i)"
	}
	optRe := regexp.MustCompile(flags + `^[#;]?[ \t]*(` + regexp.QuoteMeta(option) + `)[ \t]*(=|$)[ \t]*(.*)`)
	activeRe := regexp.MustCompile(flags + `^[ \t]*(` + regexp.QuoteMeta(option) + `)[ \t]*(=|$)[ \t]*(.*)`)
	matchOpt := func(re *regexp.Regexp, l string) []string {
		return re.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
	}
	// newLine renders the option line replacing sect[i]; gcfg keeps the
	// old line's indentation and the option's spelling.
	newLine := func(i int, v string, noValue bool) string {
		lead, opt := "", option
		if e.Gcfg && i >= 0 {
			old := sect[i]
			if old != "" && old[0] != '#' && old[0] != ';' {
				lead = old[:len(old)-len(strings.TrimLeft(old, " \t"))]
				if m := matchOpt(optRe, old); m != nil {
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
		return lead + format(opt, v)
	}
	update := func(i int, nl string) {
		if sect[i] != nl {
			changed = true
			msg = "option changed"
		}
		sect[i] = nl
		changedLines[i] = true
	}
	removeValue := func(v string) {
		for i, x := range values {
			if x == v {
				values = append(values[:i], values[i+1:]...)
				return
			}
		}
	}
	noValuePresent := false

	if !e.Absent && hasOption {
		for i, l := range sect {
			m := matchOpt(optRe, l)
			if m == nil {
				continue
			}
			if len(values) > 0 && slices.Contains(values, m[3]) {
				v := m[3]
				if v == "" && e.AllowNoValue {
					update(i, newLine(i, "", true))
					noValuePresent = true
				} else {
					update(i, newLine(i, v, false))
				}
				removeValue(v)
			} else if len(values) == 0 && e.AllowNoValue {
				update(i, newLine(i, "", true))
				noValuePresent = true
				break
			}
		}
	}
	if !e.Absent && e.Exclusive && !e.AllowNoValue {
		if len(values) > 0 {
			for i, l := range sect {
				if !changedLines[i] && matchOpt(optRe, l) != nil {
					v := values[0]
					values = values[1:]
					update(i, newLine(i, v, false))
					if len(values) == 0 {
						break
					}
				}
			}
		}
		for i := len(sect) - 1; i > 0; i-- {
			if !changedLines[i] && matchOpt(optRe, sect[i]) != nil {
				sect = append(sect[:i], sect[i+1:]...)
				changedLines = append(changedLines[:i], changedLines[i+1:]...)
				changed = true
				msg = "option changed"
			}
		}
	}
	if !e.Absent {
		for i := len(sect); i > 0; i-- {
			if iniBlankOrComment.MatchString(strings.TrimSuffix(sect[i-1], "\n")) {
				continue
			}
			if hasOption && len(values) > 0 {
				add := make([]string, 0, len(values))
				for _, v := range values {
					add = append(add, newLine(-1, v, false))
				}
				sect = insertLines(sect, i, add...)
				msg = "option added"
				changed = true
			} else if hasOption && len(values) == 0 && e.AllowNoValue && !noValuePresent {
				sect = insertLines(sect, i, newLine(-1, "", true))
				msg = "option added"
				changed = true
			}
			break
		}
	}
	if e.Absent {
		if hasOption {
			var kept []string
			for _, l := range sect {
				m := matchOpt(activeRe, l)
				drop := m != nil && (e.Exclusive || slices.Contains(values, m[3]))
				if !e.Exclusive && len(values) == 0 {
					drop = false
				}
				if !drop {
					kept = append(kept, l)
				}
			}
			if len(kept) != len(sect) {
				changed = true
				msg = "option changed"
				sect = kept
			}
		} else if len(sect) > 0 {
			sect = nil
			msg = "section removed"
			changed = true
		}
	}
	out := append(append(before, sect...), after...)
	out = out[1 : len(out)-1]
	if !within && !e.Absent {
		out = append(out, "["+section+"]\n")
		msg = "section and option added"
		switch {
		case hasOption && len(values) > 0:
			for _, v := range values {
				out = append(out, newLine(-1, v, false))
			}
		case hasOption && e.AllowNoValue:
			out = append(out, newLine(-1, "", true))
		default:
			msg = "only section added"
		}
		changed = true
	}
	if !changed {
		return content, false, msg
	}
	return strings.Join(out, ""), true, msg
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
