// The Python methods templates call on values: 'a,b'.split(','),
// d.items(), l.index(x)... Ansible templates run on Python objects, so
// playbooks use them freely.

package template

import (
	"fmt"
	"strconv"
	"strings"
)

// callMethod implements the Python str/list/dict methods templates use.
func callMethod(base any, name string, args []any, kw map[string]any) (any, error) {
	arg := func(i int) string {
		if i < len(args) {
			return toStr(args[i])
		}
		return ""
	}
	switch b := base.(type) {
	case string:
		switch name {
		case "startswith":
			if l, ok := firstArg(args).([]any); ok {
				for _, p := range l {
					if strings.HasPrefix(b, toStr(p)) {
						return true, nil
					}
				}
				return false, nil
			}
			return strings.HasPrefix(b, arg(0)), nil
		case "endswith":
			if l, ok := firstArg(args).([]any); ok {
				for _, p := range l {
					if strings.HasSuffix(b, toStr(p)) {
						return true, nil
					}
				}
				return false, nil
			}
			return strings.HasSuffix(b, arg(0)), nil
		case "split":
			return filterSplit(nil, b, args, kw)
		case "rsplit":
			if len(args) == 0 {
				return filterSplit(nil, b, nil, nil)
			}
			n := -1
			if len(args) > 1 {
				n = toInt(args[1], -1, 10)
			}
			parts := strings.Split(b, arg(0))
			if n >= 0 && len(parts) > n+1 {
				head := strings.Join(parts[:len(parts)-n], arg(0))
				parts = append([]string{head}, parts[len(parts)-n:]...)
			}
			return strsToList(parts), nil
		case "splitlines":
			return strsToList(splitLines(b)), nil
		case "strip", "lstrip", "rstrip":
			cut := " \t\n\r\v\f"
			if len(args) > 0 && args[0] != nil {
				cut = arg(0)
			}
			switch name {
			case "lstrip":
				return strings.TrimLeft(b, cut), nil
			case "rstrip":
				return strings.TrimRight(b, cut), nil
			}
			return strings.Trim(b, cut), nil
		case "lower":
			return strings.ToLower(b), nil
		case "upper":
			return strings.ToUpper(b), nil
		case "title":
			return filterTitle(nil, b, nil, nil)
		case "capitalize":
			return filterCapitalize(nil, b, nil, nil)
		case "replace":
			n := -1
			if len(args) > 2 {
				n = toInt(args[2], -1, 10)
			}
			return strings.Replace(b, arg(0), arg(1), n), nil
		case "find":
			return strings.Index(b, arg(0)), nil
		case "index":
			i := strings.Index(b, arg(0))
			if i < 0 {
				return nil, fmt.Errorf("substring not found")
			}
			return i, nil
		case "count":
			return strings.Count(b, arg(0)), nil
		case "join":
			l, ok := firstArg(args).([]any)
			if !ok {
				return nil, fmt.Errorf("join() argument must be a list")
			}
			parts := make([]string, len(l))
			for i, e := range l {
				parts[i] = toStr(e)
			}
			return strings.Join(parts, b), nil
		case "format":
			return strFormat(b, args, kw)
		case "isdigit":
			return b != "" && strings.Trim(b, "0123456789") == "", nil
		case "isalpha":
			if b == "" {
				return false, nil
			}
			for _, r := range b {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					return false, nil
				}
			}
			return true, nil
		case "zfill":
			w := toInt(firstArg(args), 0, 10)
			if w > maxRepeat {
				return nil, fmt.Errorf("zfill width too large")
			}
			if len(b) < w {
				b = strings.Repeat("0", w-len(b)) + b
			}
			return b, nil
		}
	case []any:
		switch name {
		case "index":
			for i, e := range b {
				if equal(e, firstArg(args)) {
					return i, nil
				}
			}
			return nil, fmt.Errorf("%s is not in list", repr(firstArg(args)))
		case "count":
			n := 0
			for _, e := range b {
				if equal(e, firstArg(args)) {
					n++
				}
			}
			return n, nil
		}
	case map[string]any:
		switch name {
		case "items":
			out := make([]any, 0, len(b))
			for _, k := range sortedKeys(b) {
				out = append(out, []any{k, b[k]})
			}
			return out, nil
		case "keys":
			out := make([]any, 0, len(b))
			for _, k := range sortedKeys(b) {
				out = append(out, k)
			}
			return out, nil
		case "values":
			out := make([]any, 0, len(b))
			for _, k := range sortedKeys(b) {
				out = append(out, b[k])
			}
			return out, nil
		case "get":
			if v, ok := b[arg(0)]; ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		}
	}
	return nil, fmt.Errorf("'%s object' has no attribute '%s'", typeName(base), name)
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
