package inventory

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseINIValue interprets an INI value the way Ansible does: as a Python
// literal (ast.literal_eval) when possible, otherwise as the raw string.
func parseINIValue(s string) any {
	if v, ok := parsePyLiteral(s); ok {
		return v
	}
	return s
}

// parsePyLiteral evaluates s as Python's ast.literal_eval would: numbers,
// strings (with prefixes and implicit concatenation), True/False/None, lists,
// tuples and sets (as []any), dicts (as map[string]any) and unary +/- on
// numbers. Anything else, and values Go cannot represent (complex numbers,
// integers beyond int64), report ok=false so the caller keeps the string.
func parsePyLiteral(s string) (v any, ok bool) {
	p := &pyParser{src: s}
	// Python 3.10+ strips leading spaces and tabs before parsing.
	p.pos = len(s) - len(strings.TrimLeft(s, " \t"))
	v, ok = p.exprList(true)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, false
	}
	if t, isTuple := v.(pyTuple); isTuple {
		return []any(t), true
	}
	return v, true
}

type pyParser struct {
	src   string
	pos   int
	depth int // nesting depth of brackets, to allow newlines inside and to bound recursion
}

// maxPyDepth bounds nesting so hostile input cannot exhaust the stack.
const maxPyDepth = 200

type pyTuple []any // a tuple or bare comma list, kept apart from a parenthesised value

func (p *pyParser) skipSpace() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			p.pos++
		case (c == '\n' || c == '\r') && p.depth > 0:
			p.pos++
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.pos += 2
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *pyParser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// exprList parses "a" or "a, b, ..." (a tuple when a comma appears).
// top reports whether this is the whole input (where a bare tuple is legal).
func (p *pyParser) exprList(top bool) (any, bool) {
	first, ok := p.value()
	if !ok {
		return nil, false
	}
	if p.peek() != ',' {
		return first, true
	}
	items := pyTuple{first}
	for p.peek() == ',' {
		p.pos++
		c := p.peek()
		if c == 0 || c == ')' || (!top && c == ']') {
			break
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		items = append(items, v)
	}
	return items, true
}

func (p *pyParser) value() (any, bool) {
	if p.depth > maxPyDepth {
		return nil, false
	}
	c := p.peek()
	switch {
	case c == 0:
		return nil, false
	case c == '-' || c == '+':
		return p.signed(c)
	case c == '[':
		return p.container('[', ']')
	case c == '(':
		return p.container('(', ')')
	case c == '{':
		return p.braces()
	case c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '\'' || c == '"':
		return p.strings()
	case isIdentStart(c):
		return p.word()
	}
	return nil, false
}

// signed parses a number after its sign c. literal_eval accepts a sign
// only directly on a number: -True and --1 are rejected.
func (p *pyParser) signed(c byte) (any, bool) {
	p.pos++
	v, ok := p.numericAtom()
	if !ok {
		return nil, false
	}
	if c == '+' {
		return v, true
	}
	switch n := v.(type) {
	case int:
		if n == math.MinInt {
			return nil, false
		}
		return -n, true
	case float64:
		return -n, true
	}
	return nil, false
}

// word parses what starts with a letter: a string with a prefix (r, b, rb...),
// True, False, None or set().
func (p *pyParser) word() (any, bool) {
	start := p.pos
	for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
		p.pos++
	}
	word := p.src[start:p.pos]
	if p.pos < len(p.src) && (p.src[p.pos] == '\'' || p.src[p.pos] == '"') && isStringPrefix(word) {
		p.pos = start
		return p.strings()
	}
	switch word {
	case "True":
		return true, true
	case "False":
		return false, true
	case "None":
		return nil, true
	case "set":
		// set() is the only call literal_eval accepts.
		if p.peek() == '(' {
			p.pos++
			if p.peek() == ')' {
				p.pos++
				return []any{}, true
			}
		}
	}
	return nil, false
}

// numericAtom parses a number, possibly parenthesised.
func (p *pyParser) numericAtom() (any, bool) {
	if p.depth > maxPyDepth {
		return nil, false
	}
	switch c := p.peek(); {
	case c == '(':
		p.pos++
		p.depth++
		v, ok := p.numericAtom()
		p.depth--
		if !ok || p.peek() != ')' {
			return nil, false
		}
		p.pos++
		return v, true
	case c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, false
}

// container parses [..] and (..).
func (p *pyParser) container(open, closing byte) (any, bool) {
	p.pos++ // open
	p.depth++
	defer func() { p.depth-- }()
	if p.peek() == closing {
		p.pos++
		return []any{}, true
	}
	v, ok := p.exprList(false)
	if !ok || p.peek() != closing {
		return nil, false
	}
	p.pos++
	switch t := v.(type) {
	case pyTuple:
		return []any(t), true
	default:
		if open == '(' {
			return v, true // parenthesised expression, not a tuple
		}
		return []any{v}, true
	}
}

// braces parses {} dicts and {a, b} sets.
func (p *pyParser) braces() (any, bool) {
	p.pos++
	p.depth++
	defer func() { p.depth-- }()
	if p.peek() == '}' {
		p.pos++
		return map[string]any{}, true
	}
	first, ok := p.value()
	if !ok {
		return nil, false
	}
	if p.peek() != ':' {
		// A set: elements must be hashable (no lists or dicts).
		items := []any{}
		seen := map[string]bool{}
		add := func(v any) bool {
			k, ok := pyKey(v)
			if !ok {
				return false
			}
			if !seen[k] {
				seen[k] = true
				items = append(items, v)
			}
			return true
		}
		if !add(first) {
			return nil, false
		}
		for p.peek() == ',' {
			p.pos++
			if p.peek() == '}' {
				break
			}
			v, ok := p.value()
			if !ok || !add(v) {
				return nil, false
			}
		}
		if p.peek() != '}' {
			return nil, false
		}
		p.pos++
		return items, true
	}
	m := map[string]any{}
	key := first
	for {
		if p.peek() != ':' {
			return nil, false
		}
		p.pos++
		val, ok := p.value()
		if !ok {
			return nil, false
		}
		k, ok := pyKey(key)
		if !ok {
			return nil, false
		}
		m[k] = val
		c := p.peek()
		if c == '}' {
			p.pos++
			return m, true
		}
		if c != ',' {
			return nil, false
		}
		p.pos++
		if p.peek() == '}' {
			p.pos++
			return m, true
		}
		if key, ok = p.value(); !ok {
			return nil, false
		}
	}
}

// pyKey turns a hashable Python value into a map key the way JSON encoding
// of the dict would.
func pyKey(v any) (string, bool) {
	switch k := v.(type) {
	case string:
		return k, true
	case int:
		return strconv.Itoa(k), true
	case float64:
		return strconv.FormatFloat(k, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(k), true
	case nil:
		return "null", true
	}
	return "", false
}

func (p *pyParser) number() (any, bool) {
	s := p.src[p.pos:]
	i := 0
	for i < len(s) && (isIdentByte(s[i]) || s[i] == '.' ||
		((s[i] == '+' || s[i] == '-') && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && !isHexPrefixed(s[:i]))) {
		i++
	}
	tok := s[:i]
	p.pos += i
	return pyNumber(tok)
}

func isHexPrefixed(s string) bool {
	return len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
}

// pyNumber converts one Python numeric token; ok is false for syntax errors,
// complex numbers and integers that do not fit in an int.
func pyNumber(tok string) (any, bool) {
	if tok == "" || tok == "." {
		return nil, false
	}
	if !validUnderscores(tok) {
		return nil, false
	}
	lower := strings.ToLower(strings.ReplaceAll(tok, "_", ""))
	switch {
	case len(lower) > 1 && lower[0] == '0' && (lower[1] == 'x' || lower[1] == 'o' || lower[1] == 'b'):
		return pyPrefixedInt(lower)
	case strings.HasSuffix(lower, "j"):
		return nil, false // complex
	case !strings.ContainsAny(lower, ".e"):
		return pyDecimalInt(lower)
	}
	return pyFloat(lower)
}

// pyPrefixedInt converts 0x, 0o and 0b integers (lower case, without
// underscores).
func pyPrefixedInt(lower string) (any, bool) {
	base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[lower[1]]
	if len(lower) == 2 {
		return nil, false
	}
	n, err := strconv.ParseInt(lower[2:], base, 64)
	if err != nil {
		return nil, false
	}
	return int(n), true
}

func pyDecimalInt(lower string) (any, bool) {
	if !isDigits(lower) {
		return nil, false
	}
	// Leading zeros are a syntax error unless the number is all zeros.
	if len(lower) > 1 && lower[0] == '0' && strings.Trim(lower, "0") != "" {
		return nil, false
	}
	n, err := strconv.ParseInt(lower, 10, 64)
	if err != nil {
		return nil, false
	}
	return int(n), true
}

// pyFloat checks Python float syntax: digits with optional fraction and
// exponent; no hex floats, no inf/nan words. Overflow gives ±Inf as in
// Python.
func pyFloat(lower string) (any, bool) {
	mant, exp, hasExp := strings.Cut(lower, "e")
	if hasExp {
		e := strings.TrimLeft(exp, "+-")
		if len(exp)-len(e) > 1 || !isDigits(e) {
			return nil, false
		}
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if (intPart != "" && !isDigits(intPart)) || (frac != "" && !isDigits(frac)) || (intPart == "" && frac == "") {
		return nil, false
	}
	if !hasDot && intPart == "" {
		return nil, false
	}
	f, err := strconv.ParseFloat(lower, 64)
	if err != nil && !isRangeErr(err) {
		return nil, false
	}
	return f, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// validUnderscores checks Python's rule: an underscore only between two
// digits of the number's base (or right after a base prefix).
func validUnderscores(tok string) bool {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	prefixed := len(tok) > 1 && tok[0] == '0' && strings.ContainsRune("xXoObB", rune(tok[1]))
	if prefixed {
		digit = isHexDigit
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] != '_' {
			continue
		}
		if i == 0 || i == len(tok)-1 {
			return false
		}
		if !(digit(tok[i-1]) || (prefixed && i == 2)) || !digit(tok[i+1]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "br", "rb":
		return true
	}
	return false
}

// strings parses one or more adjacent string literals and concatenates them.
func (p *pyParser) strings() (any, bool) {
	var sb strings.Builder
	kind := -1 // 0 text, 1 bytes: mixing them is a syntax error
	for {
		p.skipSpace()
		start := p.pos
		for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
			p.pos++
		}
		prefix := strings.ToLower(p.src[start:p.pos])
		if p.pos >= len(p.src) || (p.src[p.pos] != '\'' && p.src[p.pos] != '"') || (prefix != "" && !isStringPrefix(prefix)) {
			p.pos = start
			if kind < 0 {
				return nil, false
			}
			return sb.String(), true
		}
		k := 0
		if strings.Contains(prefix, "b") {
			k = 1
		}
		if kind >= 0 && k != kind {
			return nil, false
		}
		kind = k
		s, ok := p.stringBody(strings.Contains(prefix, "r"), k == 1)
		if !ok {
			return nil, false
		}
		sb.WriteString(s)
	}
}

func (p *pyParser) stringBody(raw, bytesLit bool) (string, bool) {
	q := p.src[p.pos]
	delim := string(q)
	if strings.HasPrefix(p.src[p.pos:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	p.pos += len(delim)
	var sb strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", false
		}
		if strings.HasPrefix(p.src[p.pos:], delim) {
			p.pos += len(delim)
			return sb.String(), true
		}
		c := p.src[p.pos]
		if c == '\n' && len(delim) == 1 {
			return "", false
		}
		if bytesLit && c >= 0x80 {
			return "", false
		}
		if c != '\\' {
			sb.WriteByte(c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.src) {
			return "", false
		}
		n := p.src[p.pos+1]
		p.pos += 2
		if raw {
			// In raw strings a backslash still protects the next character
			// from ending the string, but both are kept.
			sb.WriteByte('\\')
			sb.WriteByte(n)
			continue
		}
		if !p.escape(&sb, n, bytesLit) {
			return "", false
		}
	}
}

// pySimpleEscapes are the one-character escapes of Python string
// literals.
var pySimpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"',
	'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

// escape writes the value of the escape sequence \n, whose text after n
// starts at p.pos, and moves past it. false means a malformed escape or
// one tend does not decode (\N{...}).
func (p *pyParser) escape(sb *strings.Builder, n byte, bytesLit bool) bool {
	if c, ok := pySimpleEscapes[n]; ok {
		sb.WriteByte(c)
		return true
	}
	switch {
	case n == '\n':
		// A line continuation.
	case n >= '0' && n <= '7':
		j := p.pos - 1
		for j < len(p.src) && j < p.pos+2 && p.src[j] >= '0' && p.src[j] <= '7' {
			j++
		}
		v, _ := strconv.ParseUint(p.src[p.pos-1:j], 8, 32)
		p.pos = j
		writeCode(sb, v, bytesLit)
	case n == 'x':
		if p.pos+2 > len(p.src) {
			return false
		}
		v, err := strconv.ParseUint(p.src[p.pos:p.pos+2], 16, 8)
		if err != nil {
			return false
		}
		p.pos += 2
		writeCode(sb, v, bytesLit)
	case (n == 'u' || n == 'U') && bytesLit:
		// Not an escape in bytes literals.
		sb.WriteByte('\\')
		sb.WriteByte(n)
	case n == 'u' || n == 'U':
		return p.unicodeEscape(sb, n)
	case n == 'N':
		// \N{NAME} needs the Unicode name table; keep the raw text.
		return false
	default:
		// Unknown escapes keep their backslash.
		sb.WriteByte('\\')
		if n >= 0x80 {
			_, size := utf8.DecodeRuneInString(p.src[p.pos-1:])
			sb.WriteString(p.src[p.pos-1 : p.pos-1+size])
			p.pos += size - 1
		} else {
			sb.WriteByte(n)
		}
	}
	return true
}

// writeCode writes an octal or hex escape's value: a byte in bytes
// literals, a code point in strings.
func writeCode(sb *strings.Builder, v uint64, bytesLit bool) {
	if bytesLit {
		sb.WriteByte(byte(v))
	} else {
		sb.WriteRune(rune(v))
	}
}

// unicodeEscape decodes the hex digits of \uXXXX or \UXXXXXXXX.
func (p *pyParser) unicodeEscape(sb *strings.Builder, n byte) bool {
	w := 4
	if n == 'U' {
		w = 8
	}
	if p.pos+w > len(p.src) {
		return false
	}
	v, err := strconv.ParseUint(p.src[p.pos:p.pos+w], 16, 32)
	if err != nil || v > unicode.MaxRune {
		return false
	}
	p.pos += w
	sb.WriteRune(rune(v))
	return true
}
