package template

import (
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/tokens"
)

// inlineIf is the call that a parenthesised inline if is rewritten to;
// evalCall evaluates it lazily (only the branch taken).
const inlineIf = "__tend_if__"

// rewriteInlineIf turns a parenthesised `(X if C else Y)` into
// `__tend_if__((X), (C), (Y))`: gonja parses an inline if only at the top
// of an expression, Jinja2 (and Ansible's roles) use it anywhere.
func rewriteInlineIf(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if tok.Type != tokens.LeftParenthesis || (i > 0 && isCallee(toks[i-1])) {
			out = append(out, tok)
			continue
		}
		end, ifAt, elseAt, comma := matchGroup(toks, i)
		if end < 0 || ifAt < 0 || comma {
			out = append(out, tok)
			continue
		}
		at := func(t tokens.Type, val string) *tokens.Token {
			return &tokens.Token{Type: t, Val: val, Pos: tok.Pos, Line: tok.Line, Col: tok.Col}
		}
		group := func(part []*tokens.Token) []*tokens.Token {
			g := []*tokens.Token{at(tokens.LeftParenthesis, "(")}
			g = append(g, rewriteInlineIf(part)...)
			return append(g, at(tokens.RightParenthesis, ")"))
		}
		out = append(out, at(tokens.Name, inlineIf), at(tokens.LeftParenthesis, "("))
		if elseAt < 0 {
			elseAt = end
		}
		out = append(out, group(toks[i+1:ifAt])...)
		out = append(out, at(tokens.Comma, ","))
		out = append(out, group(toks[ifAt+1:elseAt])...)
		if elseAt < end {
			out = append(out, at(tokens.Comma, ","))
			out = append(out, group(toks[elseAt+1:end])...)
		}
		out = append(out, toks[end])
		i = end
	}
	return out
}

// isCallee reports whether a token before "(" makes it a call or a
// subscript rather than a grouping parenthesis.
func isCallee(t *tokens.Token) bool {
	switch t.Type {
	case tokens.Name:
		return t.Val != "if" && t.Val != "else"
	case tokens.RightParenthesis, tokens.RightBracket:
		return true
	}
	return false
}

// matchGroup finds the parenthesis closing toks[start] and, at depth one,
// the positions of `if` and `else` and whether a comma makes it a tuple.
func matchGroup(toks []*tokens.Token, start int) (end, ifAt, elseAt int, comma bool) {
	end, ifAt, elseAt = -1, -1, -1
	depth := 0
	for k := start; k < len(toks); k++ {
		t := toks[k]
		switch t.Type {
		case tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace:
			depth++
		case tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
			depth--
			if depth == 0 {
				return k, ifAt, elseAt, comma
			}
		case tokens.Comma:
			if depth == 1 {
				comma = true
			}
		case tokens.Name:
			if depth == 1 && t.Val == "if" && ifAt < 0 {
				ifAt = k
			} else if depth == 1 && t.Val == "else" && ifAt >= 0 && elseAt < 0 {
				elseAt = k
			}
		}
	}
	return -1, -1, -1, false
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
