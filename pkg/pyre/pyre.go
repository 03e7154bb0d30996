// Package pyre is tend's engine for the regular expressions that Ansible
// content writes for Python's re module: lineinfile, replace, blockinfile,
// find, include_vars and wait_for arguments, the regex_* filters, the
// match/search/regex tests and the varnames lookup. It wraps
// github.com/dlclark/regexp2 (a backtracking engine with lookaround and
// backreferences) and bridges what differs from Python:
//
//   - (?P<name>...) and (?P=name) groups; groups are numbered in pattern
//     order, named or not, as in Python;
//   - \Z is the absolute end (regexp2's \z), "$" matches at the end or
//     before a trailing newline (as both engines do), x{,n} means x{0,n};
//   - Python's inline flags (?aiLmsux): (?a) and the ASCII flag make \w \d
//     \s (and their complements outside classes) ASCII-only; L and u have
//     no effect (str patterns are Unicode in Python 3, and so are these);
//   - Match, Search and FullMatch as Python's re.match, re.search and
//     re.fullmatch; FindAll and Subn with Python 3.7's empty-match rules;
//   - replacement templates in Python syntax (Expand): \1, \g<1>,
//     \g<name>, \n and the other escapes, "$" literal.
//
// Every match runs under a timeout (Timeout), so a pattern that backtracks
// catastrophically fails the task with an error naming the pattern instead
// of hanging the run. Known differences: lookbehind may be of variable
// width (Python refuses it); under ASCII, \b and case folding stay
// Unicode and \W \D \S inside a class too; bytes patterns are matched on
// characters (a multibyte character is one "." where Python sees bytes).
package pyre

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/dlclark/regexp2/v2/syntax"
)

// Flags are Python's re flags that callers pass outside the pattern.
type Flags uint8

// The flags, named after Python's.
const (
	IgnoreCase Flags = 1 << iota // re.I
	Multiline                    // re.M
	DotAll                       // re.S
	Verbose                      // re.X
	// ASCII is re.A: \w \d \s match ASCII characters only, as in Python's
	// bytes patterns (lineinfile and blockinfile compile bytes).
	ASCII
)

// Timeout bounds one match call (one search, one step of FindAll or Subn).
const Timeout = 10 * time.Second

// Regexp is a compiled Python regular expression. It is safe for
// concurrent use.
type Regexp struct {
	pattern string
	flags   Flags
	re      *regexp2.Regexp
	// names maps group names to their numbers; ngroups counts groups.
	names   map[string]int
	ngroups int

	fullOnce sync.Once
	full     *regexp2.Regexp
	fullErr  error
	// verbose is whether the whole pattern is in verbose mode, for wrapping
	// it (a trailing comment must be closed by a newline).
	verbose bool
}

// Error is a bad pattern or a match that ran out of time.
type Error struct {
	Pattern string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("regular expression %q: %v", e.Pattern, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTimeout is wrapped by the error of a match that took longer than
// Timeout.
var ErrTimeout = errors.New("matching took longer than " + Timeout.String() + " (catastrophic backtracking?); simplify the pattern")

// Compile parses a Python regular expression with flags.
func Compile(pattern string, flags Flags) (*Regexp, error) {
	t, err := translate(pattern, flags)
	if err != nil {
		return nil, &Error{Pattern: pattern, Err: err}
	}
	if t.verbose {
		flags |= Verbose
	}
	if t.ascii {
		flags |= ASCII
	}
	re, err := compile(t.expr, flags)
	if err != nil {
		return nil, &Error{Pattern: pattern, Err: cleanErr(err)}
	}
	r := &Regexp{pattern: pattern, flags: flags, re: re, names: map[string]int{}, verbose: flags&Verbose != 0}
	for _, n := range re.GetGroupNumbers() {
		if n > r.ngroups {
			r.ngroups = n
		}
		if name := re.GroupNameFromNumber(n); name != strconv.Itoa(n) {
			r.names[name] = n
		}
	}
	return r, nil
}

// MustCompile is Compile for patterns known to be valid (tests, constants).
func MustCompile(pattern string, flags Flags) *Regexp {
	r, err := Compile(pattern, flags)
	if err != nil {
		panic(err)
	}
	return r
}

func compile(expr string, flags Flags) (*regexp2.Regexp, error) {
	opts := regexp2.None
	if flags&IgnoreCase != 0 {
		opts |= regexp2.IgnoreCase
	}
	if flags&Multiline != 0 {
		opts |= regexp2.Multiline
	}
	if flags&DotAll != 0 {
		opts |= regexp2.Singleline
	}
	if flags&Verbose != 0 {
		opts |= regexp2.IgnorePatternWhitespace
	}
	re, err := regexp2.Compile(expr, opts, regexp2.OptionMaintainCaptureOrder(), regexp2.OptionMaxBacktrackingStackSize(-1))
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = Timeout
	return re, nil
}

// cleanErr drops regexp2's repetition of the pattern from its message.
func cleanErr(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		if py, ok := pythonErrors[se.Code]; ok {
			return errors.New(py)
		}
	}
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "error parsing regexp") {
		msg = msg[i+2:]
	}
	return errors.New(msg)
}

// pythonErrors are Python's re messages for the syntax errors patterns
// commonly have (content matches on them, as ansible-core's tests do).
var pythonErrors = map[syntax.ErrorCode]string{
	syntax.ErrMissingRepeatArgument: "nothing to repeat",
	syntax.ErrInvalidRepeatOp:       "multiple repeat",
	syntax.ErrMissingParen:          "missing ), unterminated subpattern",
	syntax.ErrUnexpectedParen:       "unbalanced parenthesis",
	syntax.ErrUnterminatedBracket:   "unterminated character set",
}

// String returns the pattern as written.
func (r *Regexp) String() string { return r.pattern }

// NumGroups is the number of capturing groups (Python's groups).
func (r *Regexp) NumGroups() int { return r.ngroups }

// GroupIndex returns the number of the group named name, or -1.
func (r *Regexp) GroupIndex(name string) int {
	if n, ok := r.names[name]; ok {
		return n
	}
	return -1
}

// GroupNames returns the name of each group by number ("" for unnamed
// groups and for group 0).
func (r *Regexp) GroupNames() []string {
	out := make([]string, r.ngroups+1)
	for name, n := range r.names {
		out[n] = name
	}
	return out
}

func (r *Regexp) fail(err error) error {
	if errors.Is(err, regexp2.ErrMatchTimeout) {
		err = ErrTimeout
	}
	return &Error{Pattern: r.pattern, Err: err}
}

// indexes converts a regexp2 match to Go-style submatch byte offsets:
// group i spans s[m[2i]:m[2i+1]], -1 for a group that did not take part.
func (r *Regexp) indexes(m *regexp2.Match) []int {
	out := make([]int, 2*(r.ngroups+1))
	for i := 0; i <= r.ngroups; i++ {
		out[2*i], out[2*i+1] = -1, -1
		g := m.GroupByNumber(i)
		if g == nil || len(g.Captures) == 0 {
			continue
		}
		start, n := g.ByteRange()
		out[2*i], out[2*i+1] = start, start+n
	}
	return out
}

// Search is Python's re.search: the first match anywhere in s, as
// submatch byte offsets (see indexes), or nil.
func (r *Regexp) Search(s string) ([]int, error) {
	m, err := r.re.FindStringMatch(s)
	if err != nil {
		return nil, r.fail(err)
	}
	if m == nil {
		return nil, nil
	}
	return r.indexes(m), nil
}

// Match is Python's re.match: a match starting at the beginning of s.
// (A backtracking search tries position 0 first, so the first match
// found starts at 0 whenever a match at 0 exists.)
func (r *Regexp) Match(s string) ([]int, error) {
	m, err := r.Search(s)
	if m == nil || err != nil || m[0] != 0 {
		return nil, err
	}
	return m, nil
}

// FullMatch is Python's re.fullmatch: a match spanning all of s.
func (r *Regexp) FullMatch(s string) ([]int, error) {
	r.fullOnce.Do(func() {
		t, _ := translate(r.pattern, r.flags)
		end := ")\\z"
		if r.verbose {
			end = "\n)\\z"
		}
		r.full, r.fullErr = compile(`\A(?:`+t.expr+end, r.flags)
	})
	if r.fullErr != nil {
		return nil, &Error{Pattern: r.pattern, Err: cleanErr(r.fullErr)}
	}
	m, err := r.full.FindStringMatch(s)
	if err != nil {
		return nil, r.fail(err)
	}
	if m == nil {
		return nil, nil
	}
	return r.indexes(m), nil
}

// MatchString reports whether Search finds a match.
func (r *Regexp) MatchString(s string) (bool, error) {
	m, err := r.Search(s)
	return m != nil, err
}

// FindAll returns every non-overlapping match of s, as Python's
// re.finditer finds them (an empty match may follow a non-empty one).
func (r *Regexp) FindAll(s string) ([][]int, error) {
	var out [][]int
	m, err := r.re.FindStringMatch(s)
	for ; m != nil && err == nil; m, err = r.re.FindNextMatch(m) {
		out = append(out, r.indexes(m))
	}
	if err != nil {
		return nil, r.fail(err)
	}
	return out, nil
}

// Subn is Python's re.subn: every match (at most count, when count > 0)
// replaced by the template repl (see Expand). It returns the new string
// and the number of replacements.
func (r *Regexp) Subn(s, repl string, count int) (string, int, error) {
	tmpl, err := r.ParseTemplate(repl)
	if err != nil {
		return "", 0, err
	}
	var b strings.Builder
	last, n := 0, 0
	m, err := r.re.FindStringMatch(s)
	for ; m != nil && err == nil && (count <= 0 || n < count); m, err = r.re.FindNextMatch(m) {
		idx := r.indexes(m)
		b.WriteString(s[last:idx[0]])
		tmpl.expand(&b, s, idx)
		last = idx[1]
		n++
	}
	if err != nil {
		return "", 0, r.fail(err)
	}
	b.WriteString(s[last:])
	return b.String(), n, nil
}

// Expand is Python's match.expand: the template tmpl with the groups of
// the match m (submatch byte offsets into s) filled in.
func (r *Regexp) Expand(tmpl, s string, m []int) (string, error) {
	t, err := r.ParseTemplate(tmpl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	t.expand(&b, s, m)
	return b.String(), nil
}

// Template is a parsed Python replacement template.
type Template struct {
	// parts alternate literal text and group numbers: a part with
	// group >= 0 inserts that group.
	parts []tmplPart
}

type tmplPart struct {
	lit   string
	group int
}

func (t *Template) expand(b *strings.Builder, s string, m []int) {
	for _, p := range t.parts {
		if p.group < 0 {
			b.WriteString(p.lit)
		} else if 2*p.group+1 < len(m) && m[2*p.group] >= 0 {
			b.WriteString(s[m[2*p.group]:m[2*p.group+1]])
		}
	}
}

// ParseTemplate parses a replacement template as Python's re does: \1 to
// \99 and \g<n> or \g<name> insert groups (an unmatched group inserts
// nothing), \0 and three-digit \ooo are octal escapes, \n \t \r \f \v \a
// \b \\ are escapes, another backslash before a letter is an error and
// before anything else stays as written.
func (r *Regexp) ParseTemplate(tmpl string) (*Template, error) {
	t := &Template{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '\\' {
			lit.WriteByte(c)
			continue
		}
		if i+1 == len(tmpl) {
			return nil, r.badTemplate(tmpl, "bad escape (end of pattern)")
		}
		i++
		c = tmpl[i]
		switch {
		case c == 'g' || c >= '1' && c <= '9' || c == '0':
			n, used, octal, err := r.templateRef(tmpl[i:])
			if err != nil {
				return nil, r.badTemplate(tmpl, "%v", err)
			}
			if octal {
				lit.WriteRune(rune(n))
			} else {
				flush()
				t.parts = append(t.parts, tmplPart{group: n})
			}
			i += used - 1
		default:
			if e, ok := simpleEscapes[c]; ok {
				lit.WriteByte(e)
			} else if isASCIILetter(c) {
				return nil, r.badTemplate(tmpl, "bad escape \\%c", c)
			} else {
				lit.WriteByte('\\')
				lit.WriteByte(c)
			}
		}
	}
	flush()
	return t, nil
}

func (r *Regexp) badTemplate(tmpl, format string, a ...any) error {
	return &Error{Pattern: r.pattern, Err: fmt.Errorf("replacement %q: "+format, append([]any{tmpl}, a...)...)}
}

// templateRef reads what follows a backslash in a template when it is a
// group reference (g<...>, digits) or an octal escape (0, or three octal
// digits): the group number or character, the bytes of ref used, and
// whether it is an octal character.
func (r *Regexp) templateRef(ref string) (n, used int, octal bool, err error) {
	switch {
	case ref[0] == 'g':
		end := strings.IndexByte(ref, '>')
		if len(ref) < 2 || ref[1] != '<' || end < 3 {
			return 0, 0, false, fmt.Errorf("missing group name after \\g")
		}
		name := ref[2:end]
		n, err := strconv.Atoi(name)
		if err != nil {
			if n = r.GroupIndex(name); n < 0 {
				return 0, 0, false, fmt.Errorf("unknown group name %q", name)
			}
		} else if n < 0 || n > r.ngroups {
			return 0, 0, false, fmt.Errorf("invalid group reference %d", n)
		}
		return n, end + 1, false, nil
	case ref[0] == '0':
		j := 1
		for j < len(ref) && j < 3 && isOctal(ref[j]) {
			j++
		}
		v, _ := strconv.ParseUint(ref[:j], 8, 32)
		return int(v), j, true, nil
	case len(ref) >= 3 && isOctal(ref[0]) && isOctal(ref[1]) && isOctal(ref[2]):
		v, _ := strconv.ParseUint(ref[:3], 8, 32)
		if v > 0o377 {
			return 0, 0, false, fmt.Errorf("octal escape value \\%s outside of range 0-0o377", ref[:3])
		}
		return int(v), 3, true, nil
	}
	j := 1
	if j < len(ref) && ref[j] >= '0' && ref[j] <= '9' {
		j++
	}
	n, _ = strconv.Atoi(ref[:j])
	if n > r.ngroups {
		return 0, 0, false, fmt.Errorf("invalid group reference %d", n)
	}
	return n, j, false, nil
}

var simpleEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'f': '\f', 'v': '\v', 'a': '\a', 'b': '\b', '\\': '\\'}

func isOctal(c byte) bool       { return c >= '0' && c <= '7' }
func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// Escape is Python's re.escape (3.7 and later): a backslash before each
// character that is special in a pattern.
func Escape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < utf8.RuneSelf && strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
