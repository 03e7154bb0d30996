package template

import (
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/tokens"
)

// inlineIf is the call that a parenthesised inline if is rewritten to;
// evalCall evaluates it lazily (only the branch taken).
const inlineIf = "__tend_if__"

// rewriteInlineIf turns an inline if that is not at the top of an
// expression, `(X if C else Y)`, `[X if C else Y, ...]`, `f(X if C else Y)`
// or `{'k': X if C else Y}`, into `__tend_if__((X), (C), (Y))`: gonja parses
// an inline if only at the top of an expression, Jinja2 (and Ansible's
// roles) use it anywhere.
func rewriteInlineIf(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !isOpener(t.Type) {
			out = append(out, t)
			continue
		}
		end := matchClose(toks, i)
		if end < 0 {
			out = append(out, toks[i:]...)
			break
		}
		out = append(out, t)
		for j, el := range splitDepth0(toks[i+1:end], tokens.Comma) {
			if j > 0 {
				out = append(out, el[0]) // the comma
				el = el[1:]
			}
			out = append(out, rewriteElement(el, t.Type)...)
		}
		out = append(out, toks[end])
		i = end
	}
	return out
}

// rewriteElement rewrites one element of a bracketed list: the value of a
// dict entry or keyword argument, or the element itself.
func rewriteElement(el []*tokens.Token, opener tokens.Type) []*tokens.Token {
	sep := tokens.Type(-1)
	switch opener {
	case tokens.LeftBrace:
		sep = tokens.Colon
	case tokens.LeftParenthesis:
		sep = tokens.Assign
	}
	if sep >= 0 {
		if k := indexDepth0(el, 0, isType(sep)); k >= 0 {
			head := rewriteInlineIf(el[:k+1])
			return append(head, inlineIfCall(rewriteInlineIf(el[k+1:]))...)
		}
	}
	return inlineIfCall(rewriteInlineIf(el))
}

// inlineIfCall wraps el as __tend_if__ when it is `X if C [else Y]` at
// depth zero.
func inlineIfCall(el []*tokens.Token) []*tokens.Token {
	ifAt := indexDepth0(el, 0, isName("if"))
	if ifAt <= 0 {
		return el
	}
	elseAt := indexDepth0(el, ifAt+1, isName("else"))
	tok := el[ifAt]
	at := func(t tokens.Type, val string) *tokens.Token {
		return &tokens.Token{Type: t, Val: val, Pos: tok.Pos, Line: tok.Line, Col: tok.Col}
	}
	group := func(part []*tokens.Token) []*tokens.Token {
		g := []*tokens.Token{at(tokens.LeftParenthesis, "(")}
		g = append(g, part...)
		return append(g, at(tokens.RightParenthesis, ")"))
	}
	out := []*tokens.Token{at(tokens.Name, inlineIf), at(tokens.LeftParenthesis, "(")}
	out = append(out, group(el[:ifAt])...)
	out = append(out, at(tokens.Comma, ","))
	if elseAt < 0 {
		out = append(out, group(el[ifAt+1:])...)
	} else {
		out = append(out, group(el[ifAt+1:elseAt])...)
		out = append(out, at(tokens.Comma, ","))
		out = append(out, inlineIfCall(el[elseAt+1:])...)
	}
	return append(out, at(tokens.RightParenthesis, ")"))
}

func isOpener(t tokens.Type) bool {
	return t == tokens.LeftParenthesis || t == tokens.LeftBracket || t == tokens.LeftBrace
}

func isCloser(t tokens.Type) bool {
	return t == tokens.RightParenthesis || t == tokens.RightBracket || t == tokens.RightBrace
}

// matchClose returns the index of the bracket closing toks[start], or -1.
func matchClose(toks []*tokens.Token, start int) int {
	depth := 0
	for k := start; k < len(toks); k++ {
		switch {
		case isOpener(toks[k].Type):
			depth++
		case isCloser(toks[k].Type):
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// splitDepth0 splits toks before each depth-zero separator; every part
// after the first starts with its separator.
func splitDepth0(toks []*tokens.Token, sep tokens.Type) [][]*tokens.Token {
	var parts [][]*tokens.Token
	depth, last := 0, 0
	for k, t := range toks {
		switch {
		case isOpener(t.Type):
			depth++
		case isCloser(t.Type):
			depth--
		case t.Type == sep && depth == 0:
			parts = append(parts, toks[last:k])
			last = k
		}
	}
	return append(parts, toks[last:])
}

// indexDepth0 returns the index of the first depth-zero token at or after
// from that match accepts, or -1.
func indexDepth0(toks []*tokens.Token, from int, match func(*tokens.Token) bool) int {
	depth := 0
	for k, t := range toks {
		switch {
		case isOpener(t.Type):
			depth++
		case isCloser(t.Type):
			depth--
		case k >= from && depth == 0 && match(t):
			return k
		}
	}
	return -1
}

func isType(typ tokens.Type) func(*tokens.Token) bool {
	return func(t *tokens.Token) bool { return t.Type == typ }
}

func isName(name string) func(*tokens.Token) bool {
	return func(t *tokens.Token) bool { return t.Type == tokens.Name && t.Val == name }
}

// rewriteStrings gives string literals Ansible's backslash rules. Inside
// {{ }} Ansible doubles every backslash before Jinja2 sees the template, so
// '\d' and '\n' stay a backslash and a letter (the YAML layer already
// decoded what the author meant). Inside {% %}, and in conditions (which
// Ansible evaluates as {% if %}), Python's escapes apply: \n, \t, \xHH...
// are decoded and unknown escapes such as \s keep their backslash. The
// token value is re-escaped so that gonja's own decoding yields exactly
// that value.
func rewriteStrings(toks []*tokens.Token, cond bool) []*tokens.Token {
	inVar := false
	for _, t := range toks {
		switch t.Type {
		case tokens.VariableBegin:
			inVar = true
		case tokens.VariableEnd:
			inVar = false
		case tokens.String:
			if strings.IndexByte(t.Val, '\\') < 0 {
				continue
			}
			v := t.Val
			if !inVar || cond {
				v = pyUnescape(v)
			}
			t.Val = strings.ReplaceAll(v, `\`, `\\`)
		}
	}
	return toks
}

// pyUnescape decodes Python string-literal escapes; gonja's lexer has
// already decoded \" and \'.
func pyUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': `\`, '\'': "'", '"': `"`, 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '0': "\x00"}
		if r, ok := simple[n]; ok {
			b.WriteString(r)
			i++
			continue
		}
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[n]
		if width > 0 && i+2+width <= len(s) {
			if v, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32); err == nil {
				b.WriteRune(rune(v))
				i += 1 + width
				continue
			}
		}
		b.WriteByte(c) // unknown escape: keep the backslash, as Python does
	}
	return b.String()
}
