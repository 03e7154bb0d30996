package pyre

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// translated is a Python pattern rewritten for regexp2.
type translated struct {
	expr string
	// verbose and ascii are set by a global (?x) or (?a) flag.
	verbose, ascii bool
}

// translate rewrites the Python syntax that regexp2 reads differently or
// not at all; everything else is passed through as written.
func translate(p string, flags Flags) (translated, error) {
	verbose := flags&Verbose != 0
	var b strings.Builder
	t := translated{}
	inClass := false
	classStart := 0 // where the class's first member begins, for a literal "]"
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 == len(p) {
				return t, fmt.Errorf("bad escape (end of pattern)")
			}
			n, err := translateEscape(&b, p[i+1:], inClass, flags&ASCII != 0 || t.ascii)
			if err != nil {
				return t, err
			}
			i += n
		case inClass:
			switch {
			case c == ']' && i > classStart:
				inClass = false
				b.WriteByte(c)
			case c == '[':
				// Python reads "[" in a class as itself; regexp2 would
				// read "-[" as class subtraction.
				b.WriteString(`\[`)
			default:
				b.WriteByte(c)
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			classStart = i + 1
			if classStart < len(p) && p[classStart] == '^' {
				b.WriteByte('^')
				i++
				classStart++
			}
		case c == '#' && (verbose || t.verbose):
			end := strings.IndexByte(p[i:], '\n')
			if end < 0 {
				end = len(p) - i
			}
			b.WriteString(p[i : i+end])
			i += end - 1
		case c == '(' && strings.HasPrefix(p[i:], "(?"):
			n, err := translateGroup(&b, p[i:], i == 0, &t)
			if err != nil {
				return t, err
			}
			i += n - 1
		case c == '{' && strings.HasPrefix(p[i:], "{,"):
			// Python's x{,n} is x{0,n}; regexp2 would read it literally.
			j := i + 2
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			if j < len(p) && p[j] == '}' {
				b.WriteString("{0," + p[i+2:j] + "}")
				i = j
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	if inClass {
		return t, fmt.Errorf("unterminated character set")
	}
	t.expr = b.String()
	return t, nil
}

// translateEscape writes the escape that follows a backslash (rest) and
// returns how many bytes of rest it used.
func translateEscape(b *strings.Builder, rest string, inClass, ascii bool) (int, error) {
	c := rest[0]
	if ascii {
		if class, ok := asciiClasses[c]; ok && (!inClass || class[1] != '^') {
			if inClass {
				class = class[1 : len(class)-1]
			}
			b.WriteString(class)
			return 1, nil
		}
	}
	switch {
	case c == 'Z' && !inClass:
		b.WriteString(`\z`)
		return 1, nil
	case c == 'U':
		if len(rest) < 9 {
			return 0, fmt.Errorf(`incomplete escape \%s`, rest)
		}
		v, err := strconv.ParseUint(rest[1:9], 16, 32)
		if err != nil || v > utf8.MaxRune {
			return 0, fmt.Errorf(`bad escape \%s`, rest[:9])
		}
		if v < 0x10000 {
			fmt.Fprintf(b, `\u%04x`, v)
		} else {
			b.WriteRune(rune(v))
		}
		return 9, nil
	case c == 'N':
		return 0, fmt.Errorf(`named Unicode escapes (\N{...}) are not supported; write the character itself`)
	}
	_, size := utf8.DecodeRuneInString(rest)
	b.WriteByte('\\')
	b.WriteString(rest[:size])
	return size, nil
}

// asciiClasses are \w \d \s and their complements under re.ASCII (and
// in bytes patterns); inside a class only the positive ones are rewritten.
var asciiClasses = map[byte]string{
	'w': `[a-zA-Z0-9_]`, 'W': `[^a-zA-Z0-9_]`,
	'd': `[0-9]`, 'D': `[^0-9]`,
	's': `[ \t\n\r\f\v]`, 'S': `[^ \t\n\r\f\v]`,
}

// translateGroup handles a group opening "(?..." at the start of rest:
// (?P<name> becomes (?<name>, (?P=name) becomes \k<name>, inline flags
// lose Python's a, L and u (no equivalent, no effect here), and a comment
// (?#...) is passed over whole. It returns the bytes of rest used.
func translateGroup(b *strings.Builder, rest string, atStart bool, t *translated) (int, error) {
	switch {
	case strings.HasPrefix(rest, "(?P<"):
		b.WriteString("(?<")
		return 4, nil
	case strings.HasPrefix(rest, "(?P="):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, fmt.Errorf("missing ), unterminated name in %q", rest)
		}
		name := rest[4:end]
		if name == "" {
			return 0, fmt.Errorf("missing group name in (?P=)")
		}
		b.WriteString(`\k<` + name + `>`)
		return end + 1, nil
	case strings.HasPrefix(rest, "(?#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, fmt.Errorf("missing ), unterminated comment")
		}
		b.WriteString(rest[:end+1])
		return end + 1, nil
	}
	j := 2
	for j < len(rest) && strings.IndexByte("aiLmsux-", rest[j]) >= 0 {
		j++
	}
	if j == 2 || j == len(rest) || (rest[j] != ')' && rest[j] != ':') {
		b.WriteString("(?")
		return 2, nil
	}
	var kept strings.Builder
	for _, f := range []byte(rest[2:j]) {
		if f != 'a' && f != 'L' && f != 'u' {
			kept.WriteByte(f)
		}
	}
	flags := strings.TrimSuffix(kept.String(), "-")
	if rest[j] == ')' {
		if atStart && !strings.Contains(rest[2:j], "-") {
			t.verbose = t.verbose || strings.Contains(flags, "x")
			t.ascii = t.ascii || strings.Contains(rest[2:j], "a")
		}
		if flags == "" {
			return j + 1, nil
		}
	}
	b.WriteString("(?" + flags + rest[j:j+1])
	return j + 1, nil
}
