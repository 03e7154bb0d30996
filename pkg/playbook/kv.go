package playbook

import (
	"fmt"
	"strings"
)

// SplitArgs splits a free-form argument string into words the way
// Ansible's split_args does: whitespace separates, quotes group, and
// Jinja2 {{ }} / {% %} blocks are kept whole.
func SplitArgs(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	depth := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if depth == 0 && quote == 0 && (r == ' ' || r == '\t' || r == '\n') {
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		}
		inWord = true
		if i+1 < len(rs) && r == '{' && (rs[i+1] == '{' || rs[i+1] == '%') {
			depth++
			cur.WriteRune(r)
			cur.WriteRune(rs[i+1])
			i++
			continue
		}
		if depth > 0 && i+1 < len(rs) && (r == '}' || r == '%') && rs[i+1] == '}' {
			depth--
			cur.WriteRune(r)
			cur.WriteRune(rs[i+1])
			i++
			continue
		}
		if depth == 0 {
			if quote == 0 && (r == '"' || r == '\'') {
				quote = r
			} else if quote != 0 && r == quote && (i == 0 || rs[i-1] != '\\') {
				quote = 0
			}
		}
		cur.WriteRune(r)
	}
	if quote != 0 {
		return nil, fmt.Errorf("unbalanced quotes in %q", s)
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced template braces in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// ParseKV parses "a=1 b='x y' free words" into key=value pairs and the
// remaining free-form text. Only keys in allowed are taken out of free-form
// text when freeForm is true; otherwise every word must be key=value.
func ParseKV(s string, freeForm bool, allowed func(string) bool) (map[string]any, string, error) {
	words, err := SplitArgs(s)
	if err != nil {
		return nil, "", err
	}
	out := map[string]any{}
	var free []string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if ok && isIdent(k) && (!freeForm || allowed(k)) {
			out[k] = unquote(v)
			continue
		}
		if !freeForm {
			return nil, "", fmt.Errorf("expected key=value, got %q", w)
		}
		free = append(free, w)
	}
	return out, strings.Join(free, " "), nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		inner := v[1 : len(v)-1]
		if v[0] == '"' {
			inner = strings.ReplaceAll(inner, `\"`, `"`)
		}
		return inner
	}
	return v
}
