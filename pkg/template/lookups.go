package template

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
)

// resolvePath makes p absolute against BaseDir (Ansible reports absolute
// controller paths).
func (e *Engine) resolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + p[1:]
		}
	}
	joined := filepath.Join(e.opts.BaseDir, p)
	if abs, err := filepath.Abs(joined); err == nil {
		return abs
	}
	return joined
}

// searchDirs are the lookup search dirs for this render: the role of the
// task (the role_path variable) first, as Ansible searches a role's
// files/ and templates/, then the engine's search path.
func (s *state) searchDirs() []string {
	if rp, ok := s.vars["role_path"].(string); ok && rp != "" {
		return append([]string{rp}, s.e.search...)
	}
	return s.e.search
}

// findFile looks p up the way Ansible's lookups do: in each search dir (and
// its subdir, e.g. files/ or templates/), then in BaseDir/subdir and
// BaseDir.
func (s *state) findFile(p, subdir string) (string, error) {
	e := s.e
	if filepath.IsAbs(p) {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("could not find or access %q", p)
		}
		return p, nil
	}
	var candidates []string
	// The task's search path (its roles, its file's directory, the
	// playbook's) comes first, as in Ansible.
	if sp, ok := s.vars["ansible_search_path"].([]any); ok {
		for _, d := range sp {
			candidates = append(candidates, filepath.Join(toStr(d), subdir, p), filepath.Join(toStr(d), p))
		}
	}
	for _, d := range s.searchDirs() {
		candidates = append(candidates, filepath.Join(d, subdir, p), filepath.Join(d, p))
	}
	base := e.opts.BaseDir
	candidates = append(candidates, filepath.Join(base, subdir, p), filepath.Join(base, p))
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("could not find or access %q (searched %s)", p, strings.Join(candidates, ", "))
}

// lookup implements lookup(name, terms..., **kw) and query/q (wantList).
func (s *state) lookup(args []any, kw map[string]any, wantList bool) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("lookup needs a plugin name")
	}
	name := LookupName(toStr(args[0]))
	terms := args[1:]
	if toBool(kw["wantlist"]) {
		wantList = true
	}
	errMode := "strict"
	if m, ok := kw["errors"]; ok {
		errMode = toStr(m)
	}
	opts := maps.Clone(kw)
	delete(opts, "wantlist")
	delete(opts, "errors")
	delete(opts, "allow_unsafe")
	results, err := s.runLookup(name, terms, opts)
	if err == nil && !toBool(kw["allow_unsafe"]) {
		// Like Ansible, what a lookup returns (a file, a command's output)
		// is data unless the caller vouches for it with allow_unsafe=True.
		s.tainted = true
	}
	if err != nil {
		if errMode == "ignore" || errMode == "warn" {
			if wantList {
				return []any{}, nil
			}
			return nil, nil
		}
		var ue *UndefinedError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, fmt.Errorf("lookup %s: %w", name, err)
	}
	if wantList || len(results) == 0 {
		// An empty result is the empty list even without wantlist, as
		// Ansible joins only a non-empty one.
		return s.seal(results), nil
	}
	// Ansible joins string results with commas; otherwise a single result is
	// returned as is and several as a list.
	allStrings := true
	parts := make([]string, len(results))
	for i, r := range results {
		str, ok := r.(string)
		if !ok {
			allStrings = false
			break
		}
		parts[i] = str
	}
	if allStrings {
		return strings.Join(parts, ","), nil
	}
	if len(results) == 1 {
		return s.seal(results[0]), nil
	}
	return s.seal(results), nil
}

// lookupCollections maps the names of lookup plugins that live outside
// ansible.builtin (Ansible redirects the short names there) to the name
// tend implements them under: cartesian is nested's product.
var lookupCollections = map[string]string{
	"community.general.flattened": "flattened",
	"community.general.cartesian": "nested",
	"cartesian":                   "nested",
}

// LookupName returns the name tend knows a lookup plugin by, for lookup(),
// query() and with_<name>: ansible.builtin.X and ansible.legacy.X are X,
// and the community.general lookups tend implements (flattened,
// cartesian) are found by their full names too. Other names are returned
// unchanged.
func LookupName(name string) string {
	if short, ok := lookupCollections[name]; ok {
		return short
	}
	for _, prefix := range []string{"ansible.builtin.", "ansible.legacy."} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			return rest
		}
	}
	return name
}

// runLookup runs the lookup plugin name (see builtinLookups).
func (s *state) runLookup(name string, terms []any, kw map[string]any) ([]any, error) {
	if s.e.noCommands && (name == "pipe" || name == "lines") {
		return nil, fmt.Errorf("lookup %s is disabled", name)
	}
	f, ok := s.e.lookups[name]
	if !ok {
		return nil, fmt.Errorf("lookup plugin '%s' not found", name)
	}
	return f(s, terms, kw)
}

// lookupFunc runs one lookup plugin on its terms and keyword arguments and
// returns the list of results.
type lookupFunc func(s *state, terms []any, kw map[string]any) ([]any, error)

// builtinLookups are the lookup plugins tend implements, by name.
func builtinLookups() map[string]lookupFunc {
	m := map[string]lookupFunc{
		"file":        (*state).lookupFile,
		"env":         lookupEnv,
		"template":    (*state).lookupTemplate,
		"pipe":        (*state).lookupPipe,
		"lines":       (*state).lookupLines,
		"first_found": (*state).firstFound,
		"vars":        (*state).lookupVars,
		"password":    (*state).lookupPassword,
		"varnames":    (*state).lookupVarnames,
		"items":       func(_ *state, terms []any, _ map[string]any) ([]any, error) { return pyFlatten(terms), nil },
		"list": func(_ *state, terms []any, _ map[string]any) ([]any, error) {
			if len(terms) == 1 {
				if l, ok := terms[0].([]any); ok {
					return l, nil
				}
			}
			return terms, nil
		},
		"indexed_items": func(_ *state, terms []any, _ map[string]any) ([]any, error) {
			out := []any{}
			for i, t := range pyFlatten(terms) {
				out = append(out, []any{i, t})
			}
			return out, nil
		},
		"dict":     lookupDict,
		"fileglob": (*state).lookupFileglob,
		"sequence": func(_ *state, terms []any, kw map[string]any) ([]any, error) { return lookupSequence(terms, kw) },
	}
	// The other lookups that reshape their terms: lookup('nested', a, b)
	// runs as with_nested: [a, b] does.
	for name, f := range loopLookups {
		if _, ok := m[name]; !ok {
			m[name] = func(_ *state, terms []any, _ map[string]any) ([]any, error) { return f(terms) }
		}
	}
	return m
}

// lookupFile reads controller files (files/ of the role first), stripped
// of trailing whitespace unless rstrip=False.
func (s *state) lookupFile(terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range pyFlatten(terms) {
		p, err := s.findFile(toStr(t), "files")
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		content := string(b)
		if toBoolDefault(kw["rstrip"], true) {
			content = strings.TrimRight(content, " \t\r\n\v\f")
		}
		if toBool(kw["lstrip"]) {
			content = strings.TrimLeft(content, " \t\r\n\v\f")
		}
		out = append(out, content)
	}
	return out, nil
}

// lookupEnv reads the controller's environment; unset variables give the
// default= argument, else "".
func lookupEnv(_ *state, terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	def, hasDef := kw["default"]
	for _, t := range pyFlatten(terms) {
		v, ok := os.LookupEnv(toStr(t))
		switch {
		case ok:
			out = append(out, v)
		case hasDef:
			out = append(out, def)
		default:
			out = append(out, "")
		}
	}
	return out, nil
}

// lookupTemplate renders controller template files (templates/ of the
// role first) with the current variables plus template_vars, with the
// delimiters of variable_start_string, variable_end_string,
// comment_start_string and comment_end_string.
func (s *state) lookupTemplate(terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range pyFlatten(terms) {
		p, err := s.findFile(toStr(t), "templates")
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		vars := s.vars
		if tv, ok := odict.AsMap(kw["template_vars"]); ok && len(tv) > 0 {
			vars = maps.Clone(s.vars)
			maps.Copy(vars, tv)
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		sub := s.e.WithSearchPath(filepath.Dir(p)).WithDelims(Delims{
			VariableStart: toStrOr(kw["variable_start_string"]), VariableEnd: toStrOr(kw["variable_end_string"]),
			CommentStart: toStrOr(kw["comment_start_string"]), CommentEnd: toStrOr(kw["comment_end_string"]),
		})
		r, err := sub.renderFile(s, p, string(b), vars, true)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", p, err)
		}
		// convert_data (the default): like any template Ansible renders,
		// output that reads as a Python literal ({...}, [...], True) is
		// that value.
		if toBoolDefault(kw["convert_data"], true) {
			if lv, ok := s.e.pyLiteral(r); ok {
				out = append(out, lv)
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// lookupPipe runs each term as a shell command on the controller and
// returns its output without trailing whitespace.
func (s *state) lookupPipe(terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range pyFlatten(terms) {
		cmd := s.command(toStr(t))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("command %q failed: %w: %s", toStr(t), err, strings.TrimSpace(stderr.String()))
		}
		out = append(out, strings.TrimRight(string(b), " \t\r\n"))
	}
	return out, nil
}

// lookupLines runs each term as a shell command on the controller and
// returns its output lines.
func (s *state) lookupLines(terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range pyFlatten(terms) {
		cmd := s.command(toStr(t))
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("command %q failed: %w", toStr(t), err)
		}
		for _, l := range splitLines(string(b)) {
			out = append(out, l)
		}
	}
	return out, nil
}

// lookupVars returns variables by name, fully resolved; an undefined one
// is an error unless default= is given.
func (s *state) lookupVars(terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	def, hasDef := kw["default"]
	for _, t := range pyFlatten(terms) {
		if _, ok := normalize(t).(string); !ok {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("Invalid setting identifier, \"%s\" is not a string, its a <class '%s'>", toStr(t), typeName(normalize(t)))
		}
		n := toStr(t)
		v, err := s.lookupName(n)
		if err != nil {
			return nil, err
		}
		if u, ok := v.(*undefined); ok {
			if !hasDef {
				return nil, &UndefinedError{Name: u.name, Hint: fmt.Sprintf("No variable found with this name: %s", n)}
			}
			v = def
		}
		if v, err = s.deepResolve(v, 0); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// lookupDict turns dicts into {key, value} items, in the dict's order.
func lookupDict(_ *state, terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		keys, m, err := asDict(t, "dict lookup")
		if err != nil {
			return nil, err
		}
		out = appendDictItems(out, keys, m)
	}
	return out, nil
}

// appendDictItems appends a {key, value} item for each key, in order, as
// the dict lookup and with_dict give them.
func appendDictItems(out []any, keys []string, m map[string]any) []any {
	for _, k := range keys {
		item := odict.New(2)
		item.Set("key", k)
		item.Set("value", m[k])
		out = append(out, item)
	}
	return out
}

// lookupFileglob returns the absolute paths of the regular files matching
// each pattern, searched in files/ and the directory of each search path
// (the role's, then the playbook's); the first directory with a match wins.
func (s *state) lookupFileglob(terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range pyFlatten(terms) {
		pattern := toStr(t)
		dirs := []string{}
		if filepath.IsAbs(pattern) {
			dirs = append(dirs, "")
		} else {
			for _, d := range s.searchDirs() {
				dirs = append(dirs, filepath.Join(d, "files"), d)
			}
			dirs = append(dirs, filepath.Join(s.e.opts.BaseDir, "files"), s.e.opts.BaseDir)
		}
		for _, d := range dirs {
			matches, err := globFiles(filepath.Join(d, pattern))
			if err != nil {
				return nil, err
			}
			if len(matches) > 0 {
				out = append(out, matches...)
				break
			}
		}
	}
	return out, nil
}

// globFiles returns the absolute paths of the regular files matching pattern.
func globFiles(pattern string) ([]any, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			if abs, err := filepath.Abs(m); err == nil {
				m = abs
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// toStrOr is a keyword argument as a string, "" when it is not given.
func toStrOr(v any) string {
	if v == nil {
		return ""
	}
	return toStr(v)
}

func toBoolDefault(v any, def bool) bool {
	if v == nil {
		return def
	}
	return toBool(v)
}

// firstFound implements lookup('first_found', ...): the names are tried in
// the task's search path with the files/ subdirectory, as Ansible does.
func (s *state) firstFound(terms []any, kw map[string]any) ([]any, error) {
	names, skip, err := FirstFoundNames(terms, kw)
	if err != nil {
		return nil, err
	}
	for _, f := range names {
		if c, err := s.findFile(f, "files"); err == nil {
			return []any{c}, nil
		}
	}
	if skip {
		return []any{}, nil
	}
	return nil, fmt.Errorf("no file was found when using first_found (tried %s)", strings.Join(names, ", "))
}

// lookupSequence implements lookup('sequence', 'start=1 end=5 format=x%02d')
// and, beyond Ansible (which ignores them), the keyword form
// lookup('sequence', start=1, end=5).
func lookupSequence(terms []any, kw map[string]any) ([]any, error) {
	if len(kw) > 0 {
		var b strings.Builder
		for k, v := range kw {
			fmt.Fprintf(&b, "%s=%s ", k, toStr(v))
		}
		terms = append(terms, b.String())
	}
	return Sequence(pyFlatten(terms))
}

// sequenceShortcut is the sequence lookup's [start-]end[/stride][:format].
var sequenceShortcut = regexp.MustCompile(`(?i)^((0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(/(0?x?[0-9a-f]+))?(:(.+))?$`)

// sequenceSpec is one term of the sequence lookup.
type sequenceSpec struct {
	start, stride int
	end, count    *int
	format        string
}

// Sequence is Ansible's sequence lookup (and with_sequence): each term is
// "start=N end=N|count=N stride=N format=F" or the shortcut
// "[start-]end[/stride][:format]"; numbers are read as Python's int(x, 0)
// does. Errors carry Ansible's messages, which content asserts on.
func Sequence(terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		sp := sequenceSpec{start: 1, stride: 1, format: "%d"}
		term := toStr(t)
		if m := sequenceShortcut.FindStringSubmatch(term); m != nil {
			if err := sp.parseShortcut(m); err != nil {
				return nil, err
			}
		} else if err := sp.parseKV(term); err != nil {
			return nil, err
		}
		if err := sp.check(); err != nil {
			return nil, err
		}
		if sp.stride == 0 {
			continue
		}
		adjust := 1
		if sp.stride < 0 {
			adjust = -1
		}
		end := *sp.end + adjust
		for i := sp.start; (sp.stride > 0 && i < end) || (sp.stride < 0 && i > end); i += sp.stride {
			r, err := pyFormat(sp.format, i)
			if err != nil {
				return nil, fmt.Errorf("problem formatting %d with %s", i, pyfmt.Repr(sp.format))
			}
			out = append(out, r)
			if len(out) > 1_000_000 {
				return nil, fmt.Errorf("sequence too long")
			}
		}
	}
	return out, nil
}

func (sp *sequenceSpec) parseShortcut(m []string) error {
	for _, f := range []struct {
		name, v string
		dst     *int
	}{{"start", m[2], &sp.start}, {"end", m[3], nil}, {"stride", m[5], &sp.stride}} {
		if f.v == "" {
			continue
		}
		n, err := pyInt0(f.v)
		if err != nil {
			return fmt.Errorf("can't parse %s=%s as integer", f.name, f.v)
		}
		if f.dst == nil {
			sp.end = &n
		} else {
			*f.dst = n
		}
	}
	if m[6] != "" {
		sp.format = m[7]
	}
	return nil
}

func (sp *sequenceSpec) parseKV(term string) error {
	args := map[string]string{}
	var order []string
	for _, w := range strings.Fields(term) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			k, v = "_raw_params", w
		}
		if _, seen := args[k]; !seen {
			order = append(order, k)
		}
		args[k] = v
	}
	for _, k := range []string{"start", "end", "count", "stride"} {
		v, ok := args[k]
		if !ok {
			continue
		}
		delete(args, k)
		n, err := pyInt0(v)
		if err != nil {
			return fmt.Errorf("can't parse %s=%s as integer", k, v)
		}
		switch k {
		case "start":
			sp.start = n
		case "end":
			sp.end = &n
		case "count":
			sp.count = &n
		case "stride":
			sp.stride = n
		}
	}
	if v, ok := args["format"]; ok {
		sp.format = v
		delete(args, "format")
	}
	if len(args) > 0 {
		var rest []any
		for _, k := range order {
			if _, ok := args[k]; ok {
				rest = append(rest, k)
			}
		}
		return fmt.Errorf("unrecognized arguments to with_sequence: %s", pyfmt.Repr(rest))
	}
	return nil
}

func (sp *sequenceSpec) check() error {
	switch {
	case sp.count == nil && sp.end == nil:
		return fmt.Errorf("must specify count or end in with_sequence")
	case sp.count != nil && sp.end != nil:
		return fmt.Errorf("can't specify both count and end in with_sequence")
	case sp.count != nil:
		end := 0
		if *sp.count != 0 {
			end = sp.start + *sp.count*sp.stride - 1
		} else {
			sp.start, sp.stride = 0, 0
		}
		sp.end = &end
	}
	if sp.stride > 0 && *sp.end < sp.start {
		return fmt.Errorf("to count backwards make stride negative")
	}
	if sp.stride < 0 && *sp.end > sp.start {
		return fmt.Errorf("to count forward don't make stride negative")
	}
	if strings.Count(sp.format, "%") != 1 {
		return fmt.Errorf("bad formatting string: %s", sp.format)
	}
	return nil
}

// pyInt0 reads an integer as Python's int(s, 0): 0x, 0o and 0b prefixes,
// underscores between digits, and no leading zero on a decimal number.
func pyInt0(s string) (int, error) {
	s = strings.TrimSpace(s)
	digits := strings.TrimLeft(s, "+-")
	if len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0_") != "" && !strings.ContainsAny(digits[1:2], "xXoObB") {
		return 0, fmt.Errorf("invalid literal for int() with base 0: %s", pyfmt.Repr(s))
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid literal for int() with base 0: %s", pyfmt.Repr(s))
	}
	return int(n), nil
}

// command returns a shell running script for the pipe and lines lookups.
// It runs in its own process group so that cancelling the engine's
// context kills the whole group: killing only the shell would leave its
// children holding the output pipe open, and the lookup waiting on it.
func (s *state) command(script string) *exec.Cmd {
	cmd := exec.CommandContext(s.e.context(), "/bin/sh", "-c", script)
	cmd.Dir = s.e.opts.BaseDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	return cmd
}
