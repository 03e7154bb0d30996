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
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	name := strings.TrimPrefix(toStr(args[0]), "ansible.builtin.")
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
	if wantList {
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

func flattenTerms(terms []any) []any {
	var out []any
	for _, t := range terms {
		if l, ok := t.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, t)
		}
	}
	return out
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
	return map[string]lookupFunc{
		"file":        (*state).lookupFile,
		"env":         lookupEnv,
		"template":    (*state).lookupTemplate,
		"pipe":        (*state).lookupPipe,
		"lines":       (*state).lookupLines,
		"first_found": (*state).firstFound,
		"vars":        (*state).lookupVars,
		"varnames":    (*state).lookupVarnames,
		"items":       func(_ *state, terms []any, _ map[string]any) ([]any, error) { return flattenTerms(terms), nil },
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
			for i, t := range flattenTerms(terms) {
				out = append(out, []any{i, t})
			}
			return out, nil
		},
		"dict":     lookupDict,
		"fileglob": (*state).lookupFileglob,
		"sequence": func(_ *state, terms []any, kw map[string]any) ([]any, error) { return lookupSequence(terms, kw) },
	}
}

// lookupFile reads controller files (files/ of the role first), stripped
// of trailing whitespace unless rstrip=False.
func (s *state) lookupFile(terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range flattenTerms(terms) {
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
	for _, t := range flattenTerms(terms) {
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
// role first) with the current variables plus template_vars.
func (s *state) lookupTemplate(terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range flattenTerms(terms) {
		p, err := s.findFile(toStr(t), "templates")
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		vars := s.vars
		if tv, ok := kw["template_vars"].(map[string]any); ok && len(tv) > 0 {
			vars = maps.Clone(s.vars)
			maps.Copy(vars, tv)
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		sub := s.e.WithSearchPath(filepath.Dir(p))
		r, err := sub.renderFile(s, p, string(b), vars, true)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", p, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// lookupPipe runs each term as a shell command on the controller and
// returns its output without trailing whitespace.
func (s *state) lookupPipe(terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range flattenTerms(terms) {
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
	for _, t := range flattenTerms(terms) {
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
	for _, t := range flattenTerms(terms) {
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

// lookupVarnames lists the names of the variables that match any of the
// terms, regular expressions searched anywhere in the name (Python's
// re.search; RE2 syntax here), as Ansible's varnames lookup does. Names
// come out sorted within each term (Ansible's follow the order variables
// were defined in).
func (s *state) lookupVarnames(terms []any, _ map[string]any) ([]any, error) {
	names := make([]string, 0, len(s.vars))
	for n := range s.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []any{}
	for _, t := range flattenTerms(terms) {
		str, ok := t.(string)
		if u, isUnsafe := t.(Unsafe); isUnsafe {
			str, ok = string(u), true
		}
		if !ok {
			return nil, fmt.Errorf("invalid setting identifier, \"%s\" is not a string, it is a %s", toStr(t), typeName(t))
		}
		re, err := regexp.Compile(str)
		if err != nil {
			return nil, fmt.Errorf("unable to use \"%s\" as a search parameter: %w", str, err)
		}
		for _, n := range names {
			if re.MatchString(n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// lookupDict turns dicts into {key, value} items, keys sorted.
func lookupDict(_ *state, terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		m, err := asMap(t, "dict lookup")
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(m) {
			out = append(out, map[string]any{"key": k, "value": m[k]})
		}
	}
	return out, nil
}

// lookupFileglob returns the absolute paths of the regular files matching
// each pattern, searched in files/ and the directory of each search path
// (the role's, then the playbook's); the first directory with a match wins.
func (s *state) lookupFileglob(terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range flattenTerms(terms) {
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
// and the keyword form.
func lookupSequence(terms []any, kw map[string]any) ([]any, error) {
	opts := map[string]string{}
	for k, v := range kw {
		opts[k] = toStr(v)
	}
	for _, t := range flattenTerms(terms) {
		str := strings.TrimSpace(toStr(t))
		if !strings.Contains(str, "=") {
			// Shortcut form: [start-]end[/stride][:format]
			if i := strings.IndexByte(str, ':'); i >= 0 {
				opts["format"] = str[i+1:]
				str = str[:i]
			}
			if i := strings.IndexByte(str, '/'); i >= 0 {
				opts["stride"] = str[i+1:]
				str = str[:i]
			}
			if i := strings.IndexByte(str, '-'); i > 0 {
				opts["start"] = str[:i]
				str = str[i+1:]
			}
			opts["end"] = str
			continue
		}
		for _, f := range strings.Fields(str) {
			k, v, _ := strings.Cut(f, "=")
			opts[k] = v
		}
	}
	num := func(k string, def int) (int, error) {
		v, ok := opts[k]
		if !ok {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("bad %s %q", k, v)
		}
		return int(n), nil
	}
	start, err := num("start", 1)
	if err != nil {
		return nil, err
	}
	stride, err := num("stride", 1)
	if err != nil {
		return nil, err
	}
	var end int
	if _, ok := opts["count"]; ok {
		count, err := num("count", 0)
		if err != nil {
			return nil, err
		}
		end = start + (count-1)*stride
	} else if end, err = num("end", 0); err != nil {
		return nil, err
	}
	if stride == 0 || (stride > 0 && end < start) || (stride < 0 && end > start) {
		return []any{}, nil
	}
	format := opts["format"]
	if format == "" {
		format = "%d"
	}
	out := []any{}
	for i := start; (stride > 0 && i <= end) || (stride < 0 && i >= end); i += stride {
		r, err := pyFormat(format, i)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		if len(out) > 1_000_000 {
			return nil, fmt.Errorf("sequence too long")
		}
	}
	return out, nil
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
