package playbook

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tend-dev/tend/pkg/module"
)

// SplitArgs splits a free-form argument string into words the way
// Ansible's split_args does: whitespace separates, quotes group, and
// Jinja2 {{ }} / {% %} blocks are kept whole.
func SplitArgs(s string) ([]string, error) {
	words, _, err := splitArgSpans(s)
	return words, err
}

// splitArgSpans is SplitArgs that also returns each word's byte span in s.
func splitArgSpans(s string) ([]string, [][2]int, error) {
	var words []string
	var spans [][2]int
	var cur strings.Builder
	inWord := false
	start := 0
	var quote rune
	depth := 0
	rs := []rune(s)
	// byteAt maps rune index to byte offset for spans.
	byteAt := make([]int, len(rs)+1)
	off := 0
	for i, r := range rs {
		byteAt[i] = off
		off += len(string(r))
	}
	byteAt[len(rs)] = off
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if depth == 0 && quote == 0 && (r == ' ' || r == '\t' || r == '\n') {
			if inWord {
				words = append(words, cur.String())
				spans = append(spans, [2]int{byteAt[start], byteAt[i]})
				cur.Reset()
				inWord = false
			}
			continue
		}
		if !inWord {
			start = i
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
		return nil, nil, fmt.Errorf("unbalanced quotes in %q", s)
	}
	if depth != 0 {
		return nil, nil, fmt.Errorf("unbalanced template braces in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
		spans = append(spans, [2]int{byteAt[start], byteAt[len(rs)]})
	}
	return words, spans, nil
}

// ParseKV parses "a=1 b='x y' free words" into key=value pairs and the
// remaining free-form text. Only keys in allowed are taken out of free-form
// text when freeForm is true; otherwise every word must be key=value.
//
// Free-form text keeps its original spacing and newlines (a multi-line
// shell script stays one), only the extracted key=value words are cut out.
func ParseKV(s string, freeForm bool, allowed func(string) bool) (map[string]any, string, error) {
	words, spans, err := splitArgSpans(s)
	if err != nil {
		return nil, "", err
	}
	out := map[string]any{}
	var free strings.Builder
	last := 0
	for i, w := range words {
		if freeForm && w == "\\" {
			// A lone backslash is Ansible's line continuation: split_args
			// drops it and the newline that ends its line.
			free.WriteString(s[last:spans[i][0]])
			last = skipToNextLine(s, spans[i][1])
			continue
		}
		// Ansible's parse_kv decodes Python escapes in each word
		// (regexp='\\b' is a backspace, '\\\\b' a word boundary); free-form
		// words are kept as written.
		k, v, ok := strings.Cut(decodeEscapes(w), "=")
		// A templated key ("{{ name }}_dir=x", for set_fact) is rendered
		// when the task runs, as Ansible's parse_kv allows.
		if ok && (isIdent(k) || !freeForm && module.IsTemplated(k)) && (!freeForm || allowed(k)) {
			out[k] = unquote(v)
			free.WriteString(s[last:spans[i][0]])
			last = spans[i][1]
			if last < len(s) && s[last] == '\n' {
				// split_args ties the newline to the word before it.
				last++
			}
			continue
		}
		if !freeForm {
			return nil, "", fmt.Errorf("expected key=value, got %q", w)
		}
	}
	free.WriteString(s[last:])
	// join_args drops leading blanks and keeps the text's final newlines
	// (a YAML block's), not trailing spaces where key=value words were.
	return out, strings.TrimRight(strings.TrimLeft(free.String(), " \t\n"), " \t"), nil
}

// skipToNextLine returns the offset after the blanks from i, the newline
// that follows them and the next line's first space (join_args puts one
// space back), or i if something else follows.
func skipToNextLine(s string, i int) int {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j >= len(s) || s[j] != '\n' {
		return i
	}
	j++
	if j < len(s) && s[j] == ' ' {
		j++
	}
	return j
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

// unquote is Ansible's: a value quoted at both ends (the closing quote not
// escaped) loses its quotes.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] && v[len(v)-2] != '\\' {
		return v[1 : len(v)-1]
	}
	return v
}

// decodeEscapes is Ansible's _decode_escapes: Python's backslash escapes
// (\\, \', \", \a \b \f \n \r \t \v, \xHH, \uHHHH, \UHHHHHHHH) become the
// characters they name; anything else (octal too, which ansible-core 2.14
// keeps) stays as written.
func decodeEscapes(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		c := s[i+1]
		if r, ok := simpleEscapes[c]; ok {
			b.WriteByte(r)
			i++
			continue
		}
		n := 0
		switch c {
		case 'x':
			n = 2
		case 'u':
			n = 4
		case 'U':
			n = 8
		}
		if n > 0 {
			if i+2+n <= len(s) {
				if cp, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil && utf8.ValidRune(rune(cp)) {
					b.WriteRune(rune(cp))
					i += 1 + n
					continue
				}
			}
			b.WriteByte(s[i])
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var simpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"', 'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}
