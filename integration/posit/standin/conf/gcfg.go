package conf

import (
	"fmt"
	"strings"
)

// Gcfg is a parsed gcfg file. Sections with the same name and subsection
// are merged; variables keep their order, so repeated keys form lists.
type Gcfg struct {
	Sections []*Section
}

// Section is one [Name] or [Name "Sub"] section.
type Section struct {
	Name   string // as written; compared case-insensitively
	Sub    string // subsection, case-sensitive
	HasSub bool
	Vars   []Var
}

// Var is one variable. A name without "= value" is the boolean true and
// has Blank set.
type Var struct {
	Name  string
	Value string
	Blank bool
	Line  int
}

// Error is a syntax or validation error at a line of a file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ParseGcfg parses gcfg text; file names the source in errors.
func ParseGcfg(file string, data []byte) (*Gcfg, error) {
	g := &Gcfg{}
	var cur *Section
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := lines[i]
		// Continuation: a backslash at the very end joins the next line.
		for strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + lines[i]
		}
		s := strings.TrimSpace(line)
		if s == "" || s[0] == ';' || s[0] == '#' {
			continue
		}
		errf := func(format string, a ...any) error {
			return &Error{File: file, Line: lineNo, Msg: fmt.Sprintf(format, a...)}
		}
		if s[0] == '[' {
			sec, err := parseHeader(s)
			if err != nil {
				return nil, errf("%v", err)
			}
			cur = g.section(sec.Name, sec.Sub, sec.HasSub, true)
			continue
		}
		if cur == nil {
			return nil, errf("variable %q outside of any section", s)
		}
		name, rest := s, ""
		if k := strings.IndexAny(s, "=;#"); k >= 0 {
			name, rest = s[:k], s[k:]
		}
		name = strings.TrimSpace(name)
		if !validName(name) {
			return nil, errf("invalid variable name %q", name)
		}
		v := Var{Name: name, Line: lineNo}
		if rest == "" || rest[0] != '=' {
			v.Blank = true
		} else {
			val, err := parseValue(rest[1:])
			if err != nil {
				return nil, errf("variable %s: %v", name, err)
			}
			v.Value = val
		}
		cur.Vars = append(cur.Vars, v)
	}
	return g, nil
}

func parseHeader(s string) (*Section, error) {
	end := strings.LastIndexByte(s, ']')
	if end < 0 {
		return nil, fmt.Errorf("section header %q lacks ']'", s)
	}
	if tail := strings.TrimSpace(s[end+1:]); tail != "" && tail[0] != ';' && tail[0] != '#' {
		return nil, fmt.Errorf("unexpected %q after section header", tail)
	}
	body := strings.TrimSpace(s[1:end])
	name, sub := body, ""
	hasSub := false
	if k := strings.IndexAny(body, " \t"); k >= 0 {
		name = body[:k]
		q := strings.TrimSpace(body[k:])
		if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			return nil, fmt.Errorf("subsection of [%s] must be a quoted string, got %s", name, q)
		}
		var b strings.Builder
		inner := q[1 : len(q)-1]
		for j := 0; j < len(inner); j++ {
			c := inner[j]
			switch {
			case c == '\\' && j+1 < len(inner):
				j++
				b.WriteByte(inner[j])
			case c == '"' || c == '\\':
				return nil, fmt.Errorf("unescaped %q in subsection name %s", c, q)
			default:
				b.WriteByte(c)
			}
		}
		sub, hasSub = b.String(), true
	}
	if !validSectionName(name) {
		return nil, fmt.Errorf("invalid section name %q", name)
	}
	return &Section{Name: name, Sub: sub, HasSub: hasSub}, nil
}

func validSectionName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !(letter || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// parseValue unquotes a gcfg value: surrounding blanks trimmed (except
// inside quotes), comments cut at an unquoted ';' or '#', escapes \" \\ \n
// \t \b.
func parseValue(s string) (string, error) {
	var b strings.Builder
	quoted := false
	pendingSpace := "" // blanks kept only if more value follows
	started := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
			b.WriteString(pendingSpace)
			pendingSpace = ""
			started = true
		case !quoted && (c == ';' || c == '#'):
			i = len(s)
		case !quoted && (c == ' ' || c == '\t'):
			if started {
				pendingSpace += string(c)
			}
		case c == '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("trailing backslash")
			}
			i++
			var r byte
			switch s[i] {
			case '"', '\\':
				r = s[i]
			case 'n':
				r = '\n'
			case 't':
				r = '\t'
			case 'b':
				r = '\b'
			default:
				return "", fmt.Errorf("invalid escape \\%c", s[i])
			}
			b.WriteString(pendingSpace)
			pendingSpace = ""
			b.WriteByte(r)
			started = true
		default:
			b.WriteString(pendingSpace)
			pendingSpace = ""
			b.WriteByte(c)
			started = true
		}
	}
	if quoted {
		return "", fmt.Errorf("unterminated quoted value")
	}
	return b.String(), nil
}

func (g *Gcfg) section(name, sub string, hasSub, create bool) *Section {
	for _, s := range g.Sections {
		if strings.EqualFold(s.Name, name) && s.Sub == sub && s.HasSub == hasSub {
			return s
		}
	}
	if !create {
		return nil
	}
	s := &Section{Name: name, Sub: sub, HasSub: hasSub}
	g.Sections = append(g.Sections, s)
	return s
}

// Section returns the section [name] (sub empty) or [name "sub"], or nil.
func (g *Gcfg) Section(name, sub string) *Section {
	return g.section(name, sub, sub != "", false)
}

// Subsections returns the subsection names of section name, in order.
func (g *Gcfg) Subsections(name string) []string {
	var out []string
	for _, s := range g.Sections {
		if s.HasSub && strings.EqualFold(s.Name, name) {
			out = append(out, s.Sub)
		}
	}
	return out
}

// All returns every value of key in the section, in order ("true" for a
// blank variable).
func (g *Gcfg) All(section, sub, key string) []string {
	s := g.Section(section, sub)
	if s == nil {
		return nil
	}
	var out []string
	for _, v := range s.Vars {
		if strings.EqualFold(v.Name, key) {
			if v.Blank {
				out = append(out, "true")
			} else {
				out = append(out, v.Value)
			}
		}
	}
	return out
}

// Get returns the last value of key and whether it is set.
func (g *Gcfg) Get(section, sub, key string) (string, bool) {
	all := g.All(section, sub, key)
	if len(all) == 0 {
		return "", false
	}
	return all[len(all)-1], true
}

// Line returns the line of the last occurrence of key, 0 if absent.
func (g *Gcfg) Line(section, sub, key string) int {
	s := g.Section(section, sub)
	if s == nil {
		return 0
	}
	line := 0
	for _, v := range s.Vars {
		if strings.EqualFold(v.Name, key) {
			line = v.Line
		}
	}
	return line
}

// ParseBool reads a gcfg boolean: true/false, yes/no, on/off, 1/0.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true/false, yes/no, on/off)", s)
}
