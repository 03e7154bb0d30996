package custommodule

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyImport is one import statement of a Python file: "import a.b" (From
// false, Module "a.b") or "from ..a import x, y" (Level 2, Module "a",
// Names x, y). Nested is true when the statement is not at the file's top
// level (inside try:, if:, a function), which AnsiballZ treats as an
// optional import.
type pyImport struct {
	From   bool
	Level  int
	Module string
	Names  []string
	Nested bool
}

// scanImports finds the import statements of Python source without
// running or fully parsing it: it splits the source into logical lines
// (brackets and backslashes join physical ones; strings and comments are
// skipped) and reads the statements starting with import or from. A
// statement is nested when its logical line is indented, or follows a
// colon on the line of a compound statement ("try: import x").
func scanImports(src []byte) []pyImport {
	var out []pyImport
	for _, ll := range logicalLines(string(src)) {
		toks := ll.toks
		for i := 0; i < len(toks); i++ {
			start := i == 0 || toks[i-1] == ";" || toks[i-1] == ":"
			if !start {
				continue
			}
			nested := ll.indented || (i > 0 && toks[i-1] == ":")
			switch toks[i] {
			case "import":
				out = append(out, readImport(toks[i+1:], nested)...)
			case "from":
				if imp, ok := readFrom(toks[i+1:], nested); ok {
					out = append(out, imp)
				}
			}
		}
	}
	return out
}

// readImport reads "a.b [as c], d" up to the statement's end.
func readImport(toks []string, nested bool) []pyImport {
	var out []pyImport
	name, skip := "", false
	for _, t := range toks {
		switch t {
		case ";":
			if name != "" {
				out = append(out, pyImport{Module: name, Nested: nested})
			}
			return out
		case ",":
			if name != "" {
				out = append(out, pyImport{Module: name, Nested: nested})
			}
			name, skip = "", false
		case "as":
			skip = true
		case ".":
			if !skip {
				name += "."
			}
		default:
			if !skip {
				name += t
			}
		}
	}
	if name != "" {
		out = append(out, pyImport{Module: name, Nested: nested})
	}
	return out
}

// readFrom reads "..a.b import (x as y, z)" up to the statement's end.
func readFrom(toks []string, nested bool) (pyImport, bool) {
	imp := pyImport{From: true, Nested: nested}
	i := 0
	for ; i < len(toks) && toks[i] == "."; i++ {
		imp.Level++
	}
	for ; i < len(toks) && toks[i] != "import"; i++ {
		imp.Module += toks[i]
	}
	if i >= len(toks) {
		return imp, false
	}
	skip := false
	for _, t := range toks[i+1:] {
		switch t {
		case ";":
			return imp, len(imp.Names) > 0
		case "(", ")":
		case ",":
			skip = false
		case "as":
			skip = true
		default:
			if !skip {
				imp.Names = append(imp.Names, t)
			}
		}
	}
	return imp, len(imp.Names) > 0
}

// logicalLine is one logical line's tokens: names, numbers and operator
// characters; strings appear as the token "”".
type logicalLine struct {
	toks     []string
	indented bool
}

// lexer state for logicalLines.
type pyLexer struct {
	s      string
	i      int
	depth  int
	lines  []logicalLine
	cur    logicalLine
	atBOL  bool // at the beginning of a logical line
	indent bool
}

func logicalLines(s string) []logicalLine {
	lx := &pyLexer{s: s, atBOL: true}
	for lx.i < len(s) {
		lx.step()
	}
	lx.endLine()
	return lx.lines
}

func (lx *pyLexer) endLine() {
	if len(lx.cur.toks) > 0 {
		lx.lines = append(lx.lines, lx.cur)
	}
	lx.cur = logicalLine{}
	lx.atBOL = true
	lx.indent = false
}

func (lx *pyLexer) add(tok string) {
	if len(lx.cur.toks) == 0 {
		lx.cur.indented = lx.indent
	}
	lx.cur.toks = append(lx.cur.toks, tok)
	lx.atBOL = false
}

func (lx *pyLexer) step() {
	c := lx.s[lx.i]
	switch {
	case c == '\n':
		lx.i++
		if lx.depth == 0 {
			lx.endLine()
		}
	case c == ' ' || c == '\t' || c == '\f' || c == '\r':
		if lx.atBOL && len(lx.cur.toks) == 0 {
			lx.indent = true
		}
		lx.i++
	case c == '\\' && lx.i+1 < len(lx.s) && (lx.s[lx.i+1] == '\n' || lx.s[lx.i+1] == '\r'):
		lx.i += 2
		if lx.s[lx.i-1] == '\r' && lx.i < len(lx.s) && lx.s[lx.i] == '\n' {
			lx.i++
		}
	case c == '#':
		for lx.i < len(lx.s) && lx.s[lx.i] != '\n' {
			lx.i++
		}
	case c == '\'' || c == '"':
		lx.skipString()
		lx.add("''")
	case isNameStart(lx.s, lx.i):
		lx.name()
	case c == '(' || c == '[' || c == '{':
		lx.depth++
		lx.add(string(c))
		lx.i++
	case c == ')' || c == ']' || c == '}':
		if lx.depth > 0 {
			lx.depth--
		}
		lx.add(string(c))
		lx.i++
	default:
		lx.add(string(c))
		lx.i++
	}
}

// name reads an identifier, keyword or number, or a string with a prefix
// (r"", b”, f"""...""").
func (lx *pyLexer) name() {
	j := lx.i
	for j < len(lx.s) {
		r, n := utf8.DecodeRuneInString(lx.s[j:])
		if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			break
		}
		j += n
	}
	word := lx.s[lx.i:j]
	if j < len(lx.s) && (lx.s[j] == '\'' || lx.s[j] == '"') && isStringPrefix(word) {
		lx.i = j
		lx.skipString()
		lx.add("''")
		return
	}
	lx.i = j
	lx.add(word)
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// skipString skips the string literal at lx.i (its quote).
func (lx *pyLexer) skipString() {
	q := lx.s[lx.i]
	triple := strings.HasPrefix(lx.s[lx.i:], strings.Repeat(string(q), 3))
	if triple {
		lx.i += 3
	} else {
		lx.i++
	}
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		switch {
		case c == '\\':
			// An escape; in a raw string too, a quote after a backslash
			// does not end the string.
			lx.i += 2
			continue
		case c == '\n' && !triple:
			// An unterminated string: stop at the line's end.
			return
		case c == q && !triple:
			lx.i++
			return
		case c == q && strings.HasPrefix(lx.s[lx.i:], strings.Repeat(string(q), 3)):
			lx.i += 3
			return
		}
		lx.i++
	}
}

func isNameStart(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
