// The Python methods templates call on values: 'a,b'.split(','),
// d.items(), l.index(x)... Ansible templates run on Python objects, so
// playbooks use them freely.

package template

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// callMethod implements the Python str/list/dict methods templates use.
func callMethod(base any, name string, args []any, kw map[string]any) (any, error) {
	a := methodArgs{args: args, kw: kw}
	if v, handled, err := timeMethod(base, name, args); handled {
		return v, err
	}
	switch b := base.(type) {
	case string:
		if m, ok := strMethods[name]; ok {
			return m(b, a)
		}
	case []any:
		if m, ok := listMethods[name]; ok {
			return m(b, a)
		}
	case map[string]any, *odict.Dict:
		if m, ok := dictMethods[name]; ok {
			keys, d, _ := odict.As(b)
			return m(keys, d, a)
		}
	}
	return nil, fmt.Errorf("'%s object' has no attribute '%s'", typeName(base), name)
}

// methodArgs are the arguments of a method call.
type methodArgs struct {
	args []any
	kw   map[string]any
}

// str is positional argument i as a string, "" when absent.
func (a methodArgs) str(i int) string {
	if i < len(a.args) {
		return toStr(a.args[i])
	}
	return ""
}

func (a methodArgs) first() any { return firstArg(a.args) }

// strMethods are Python's str methods, by name.
var strMethods = map[string]func(s string, a methodArgs) (any, error){
	"startswith": func(s string, a methodArgs) (any, error) { return affixMatch(s, a, strings.HasPrefix), nil },
	"endswith":   func(s string, a methodArgs) (any, error) { return affixMatch(s, a, strings.HasSuffix), nil },
	"split":      func(s string, a methodArgs) (any, error) { return filterSplit(nil, s, a.args, a.kw) },
	"rsplit":     strRsplit,
	"splitlines": func(s string, _ methodArgs) (any, error) { return strsToList(splitLines(s)), nil },
	"strip":      stripMethod(strings.Trim),
	"lstrip":     stripMethod(strings.TrimLeft),
	"rstrip":     stripMethod(strings.TrimRight),
	"lower":      func(s string, _ methodArgs) (any, error) { return strings.ToLower(s), nil },
	"upper":      func(s string, _ methodArgs) (any, error) { return strings.ToUpper(s), nil },
	"title":      func(s string, _ methodArgs) (any, error) { return filterTitle(nil, s, nil, nil) },
	"capitalize": func(s string, _ methodArgs) (any, error) { return filterCapitalize(nil, s, nil, nil) },
	"replace": func(s string, a methodArgs) (any, error) {
		n := -1
		if len(a.args) > 2 {
			n = toInt(a.args[2], -1, 10)
		}
		return strings.Replace(s, a.str(0), a.str(1), n), nil
	},
	"find": func(s string, a methodArgs) (any, error) { return strings.Index(s, a.str(0)), nil },
	"index": func(s string, a methodArgs) (any, error) {
		i := strings.Index(s, a.str(0))
		if i < 0 {
			return nil, fmt.Errorf("substring not found")
		}
		return i, nil
	},
	"count": func(s string, a methodArgs) (any, error) { return strings.Count(s, a.str(0)), nil },
	"join": func(s string, a methodArgs) (any, error) {
		l, ok := a.first().([]any)
		if !ok {
			return nil, fmt.Errorf("join() argument must be a list")
		}
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = toStr(e)
		}
		return strings.Join(parts, s), nil
	},
	"format":  func(s string, a methodArgs) (any, error) { return strFormat(s, a.args, a.kw) },
	"isdigit": func(s string, _ methodArgs) (any, error) { return s != "" && strings.Trim(s, "0123456789") == "", nil },
	"isalpha": func(s string, _ methodArgs) (any, error) {
		if s == "" {
			return false, nil
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false, nil
			}
		}
		return true, nil
	},
	"zfill": func(s string, a methodArgs) (any, error) {
		w := toInt(a.first(), 0, 10)
		if w > maxRepeat {
			return nil, fmt.Errorf("zfill width too large")
		}
		if len(s) < w {
			s = strings.Repeat("0", w-len(s)) + s
		}
		return s, nil
	},
}

// affixMatch is startswith/endswith: the argument is one affix or a list
// of them (Python takes a tuple).
func affixMatch(s string, a methodArgs, has func(s, affix string) bool) bool {
	l, ok := a.first().([]any)
	if !ok {
		return has(s, a.str(0))
	}
	for _, p := range l {
		if has(s, toStr(p)) {
			return true
		}
	}
	return false
}

// stripMethod is strip/lstrip/rstrip: whitespace unless characters are given.
func stripMethod(trim func(s, cutset string) string) func(string, methodArgs) (any, error) {
	return func(s string, a methodArgs) (any, error) {
		cut := " \t\n\r\v\f"
		if len(a.args) > 0 && a.args[0] != nil {
			cut = a.str(0)
		}
		return trim(s, cut), nil
	}
}

// strRsplit is str.rsplit(sep, maxsplit): at most maxsplit splits, counted
// from the right.
func strRsplit(s string, a methodArgs) (any, error) {
	if len(a.args) == 0 {
		return filterSplit(nil, s, nil, nil)
	}
	n := -1
	if len(a.args) > 1 {
		n = toInt(a.args[1], -1, 10)
	}
	parts := strings.Split(s, a.str(0))
	if n >= 0 && len(parts) > n+1 {
		head := strings.Join(parts[:len(parts)-n], a.str(0))
		parts = append([]string{head}, parts[len(parts)-n:]...)
	}
	return strsToList(parts), nil
}

// listMethods are Python's list methods that do not modify the list.
var listMethods = map[string]func(l []any, a methodArgs) (any, error){
	"index": func(l []any, a methodArgs) (any, error) {
		for i, e := range l {
			if equal(e, a.first()) {
				return i, nil
			}
		}
		return nil, fmt.Errorf("%s is not in list", repr(a.first()))
	},
	"count": func(l []any, a methodArgs) (any, error) {
		n := 0
		for _, e := range l {
			if equal(e, a.first()) {
				n++
			}
		}
		return n, nil
	},
}

// dictMethods are Python's dict methods that do not modify the dict. Keys
// come in the dict's order (sorted for a plain map, so that output does not
// depend on Go's map order).
var dictMethods = map[string]func(keys []string, d map[string]any, a methodArgs) (any, error){
	"items": func(keys []string, d map[string]any, _ methodArgs) (any, error) {
		out := make([]any, 0, len(d))
		for _, k := range keys {
			out = append(out, []any{k, d[k]})
		}
		return out, nil
	},
	"keys": func(keys []string, d map[string]any, _ methodArgs) (any, error) {
		out := make([]any, 0, len(d))
		for _, k := range keys {
			out = append(out, k)
		}
		return out, nil
	},
	"values": func(keys []string, d map[string]any, _ methodArgs) (any, error) {
		out := make([]any, 0, len(d))
		for _, k := range keys {
			out = append(out, d[k])
		}
		return out, nil
	},
	"get": func(_ []string, d map[string]any, a methodArgs) (any, error) {
		if v, ok := d[a.str(0)]; ok {
			return v, nil
		}
		if len(a.args) > 1 {
			return a.args[1], nil
		}
		return nil, nil
	},
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

func strsToList(parts []string) []any {
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// strFormat implements "{} {name}".format(...) for plain fields.
func strFormat(f string, args []any, kw map[string]any) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '{' && i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		if c == '}' && i+1 < len(f) && f[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("single '{' encountered in format string")
		}
		field, _, _ := strings.Cut(f[i+1:i+end], ":")
		var v any
		switch {
		case field == "":
			if auto >= len(args) {
				return nil, fmt.Errorf("format: not enough arguments")
			}
			v = args[auto]
			auto++
		default:
			if n, err := strconv.Atoi(field); err == nil {
				if n >= len(args) {
					return nil, fmt.Errorf("format: index %d out of range", n)
				}
				v = args[n]
			} else {
				var ok bool
				if v, ok = kw[field]; !ok {
					return nil, fmt.Errorf("format: missing key %q", field)
				}
			}
		}
		b.WriteString(toStr(v))
		i += end
	}
	return b.String(), nil
}
