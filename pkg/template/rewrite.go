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
//
// Brackets are matched once up front and every token is copied once, so
// the time is linear in the number of tokens however deeply they nest.
func rewriteInlineIf(toks []*tokens.Token) []*tokens.Token {
	r := &ifRewriter{toks: toks, close: matchBrackets(toks), out: make([]*tokens.Token, 0, len(toks))}
	r.span(0, len(toks))
	return r.out
}

// ifRewriter holds the tokens being rewritten, the index of the bracket
// closing each opening one (-1 if none), and the tokens written so far.
type ifRewriter struct {
	toks  []*tokens.Token
	close []int
	out   []*tokens.Token
}

// matchBrackets returns, for each opening bracket, the index of the bracket
// closing it, or -1. Any closing bracket closes the innermost open one.
func matchBrackets(toks []*tokens.Token) []int {
	close := make([]int, len(toks))
	var open []int
	for k, t := range toks {
		close[k] = -1
		switch {
		case isOpener(t.Type):
			open = append(open, k)
		case isCloser(t.Type) && len(open) > 0:
			close[open[len(open)-1]] = k
			open = open[:len(open)-1]
		}
	}
	return close
}

// span writes toks[from:to], rewriting the elements of every bracket in it.
func (r *ifRewriter) span(from, to int) {
	for i := from; i < to; i++ {
		t := r.toks[i]
		if !isOpener(t.Type) {
			r.out = append(r.out, t)
			continue
		}
		end := r.close[i]
		if end < 0 || end >= to {
			r.out = append(r.out, r.toks[i:to]...)
			return
		}
		r.out = append(r.out, t)
		r.group(i+1, end, t.Type)
		r.out = append(r.out, r.toks[end])
		i = end
	}
}

// group writes the elements between an opening bracket and its closing one.
func (r *ifRewriter) group(from, to int, opener tokens.Type) {
	start := from
	for {
		comma := r.indexDepth0(start, to, isType(tokens.Comma))
		if comma < 0 {
			r.element(start, to, opener)
			return
		}
		r.element(start, comma, opener)
		r.out = append(r.out, r.toks[comma])
		start = comma + 1
	}
}

// element writes one element of a bracketed list: the value of a dict
// entry or keyword argument, or the element itself.
func (r *ifRewriter) element(from, to int, opener tokens.Type) {
	sep := tokens.Type(-1)
	switch opener {
	case tokens.LeftBrace:
		sep = tokens.Colon
	case tokens.LeftParenthesis:
		sep = tokens.Assign
	}
	if sep >= 0 {
		if k := r.indexDepth0(from, to, isType(sep)); k >= 0 {
			r.span(from, k+1)
			from = k + 1
		}
	}
	r.ifCall(from, to)
}

// ifCall writes toks[from:to] wrapped as __tend_if__ when it is
// `X if C [else Y]` at depth zero.
func (r *ifRewriter) ifCall(from, to int) {
	ifAt := r.indexDepth0(from, to, isName("if"))
	if ifAt <= from {
		r.span(from, to)
		return
	}
	elseAt := r.indexDepth0(ifAt+1, to, isName("else"))
	tok := r.toks[ifAt]
	at := func(t tokens.Type, val string) *tokens.Token {
		return &tokens.Token{Type: t, Val: val, Pos: tok.Pos, Line: tok.Line, Col: tok.Col}
	}
	group := func(from, to int) {
		r.out = append(r.out, at(tokens.LeftParenthesis, "("))
		r.span(from, to)
		r.out = append(r.out, at(tokens.RightParenthesis, ")"))
	}
	r.out = append(r.out, at(tokens.Name, inlineIf), at(tokens.LeftParenthesis, "("))
	group(from, ifAt)
	r.out = append(r.out, at(tokens.Comma, ","))
	if elseAt < 0 {
		group(ifAt+1, to)
	} else {
		group(ifAt+1, elseAt)
		r.out = append(r.out, at(tokens.Comma, ","))
		r.ifCall(elseAt+1, to)
	}
	r.out = append(r.out, at(tokens.RightParenthesis, ")"))
}

// indexDepth0 returns the index of the first token in toks[from:to] outside
// any bracket that match accepts, or -1. Brackets are skipped whole.
func (r *ifRewriter) indexDepth0(from, to int, match func(*tokens.Token) bool) int {
	for k := from; k < to; k++ {
		t := r.toks[k]
		if isOpener(t.Type) {
			if r.close[k] < 0 || r.close[k] >= to {
				return -1
			}
			k = r.close[k]
			continue
		}
		if !isCloser(t.Type) && match(t) {
			return k
		}
	}
	return -1
}

func isOpener(t tokens.Type) bool {
	return t == tokens.LeftParenthesis || t == tokens.LeftBracket || t == tokens.LeftBrace
}

func isCloser(t tokens.Type) bool {
	return t == tokens.RightParenthesis || t == tokens.RightBracket || t == tokens.RightBrace
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

// keywordTokens are the word operators gonja recognises only when a space
// or tab follows them; Jinja2 recognises them whatever follows.
var keywordTokens = map[string]tokens.Type{"and": tokens.And, "or": tokens.Or, "not": tokens.Not, "in": tokens.In, "is": tokens.Is}

// rewriteKeywords turns the names and, or, not, in and is into their
// operators where gonja lexed them as plain names because a line break or
// an opening bracket or quote follows ("a and\n b", "x or(y)"), as Jinja2
// reads them: long conditions are commonly broken after an operator. A name
// after a dot (an attribute) or after "is" (a test such as "is in") stays
// a name, and gonja's operator there becomes the attribute's name again
// ("d.and").
func rewriteKeywords(toks []*tokens.Token, src string) []*tokens.Token {
	for i, tok := range toks {
		typ, ok := keywordTokens[tok.Val]
		if !ok {
			continue
		}
		if i > 0 && toks[i-1].Type == tokens.Dot {
			if tok.Type != tokens.Name {
				copied := *tok
				copied.Type = tokens.Name
				toks[i] = &copied
			}
			continue
		}
		if tok.Type != tokens.Name || (i > 0 && toks[i-1].Type == tokens.Is) {
			continue
		}
		end := tok.Pos + len(tok.Val)
		if end >= len(src) || !strings.ContainsRune("\n\r([{'\"", rune(src[end])) {
			continue
		}
		copied := *tok
		copied.Type = typ
		toks[i] = &copied
	}
	return toks
}

// fqcnCollections are the collections whose filters and tests tend has
// under their short names.
var fqcnCollections = map[string]bool{"builtin": true, "utils": true, "netcommon": true}

// communityGeneral are the community.general filters tend has.
var communityGeneral = map[string]bool{"json_query": true}

// rewriteFQCN drops the "ansible.builtin." (and ansible.utils.,
// ansible.netcommon.) prefix of filter and test names: gonja's parser
// does not accept dotted ones, and they name the same plugins. Only code
// tokens change, never string literals or template text.
func rewriteFQCN(toks []*tokens.Token) []*tokens.Token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		if i+4 < len(toks) && toks[i].Type == tokens.Name && toks[i].Val == "community" &&
			toks[i+1].Type == tokens.Dot && toks[i+2].Type == tokens.Name && toks[i+2].Val == "general" &&
			toks[i+3].Type == tokens.Dot && toks[i+4].Type == tokens.Name && communityGeneral[toks[i+4].Val] {
			i += 3
			continue
		}
		if i+4 < len(toks) && toks[i].Type == tokens.Name && toks[i].Val == "ansible" &&
			toks[i+1].Type == tokens.Dot && toks[i+2].Type == tokens.Name && fqcnCollections[toks[i+2].Val] &&
			toks[i+3].Type == tokens.Dot && toks[i+4].Type == tokens.Name {
			i += 3
			continue
		}
		out = append(out, toks[i])
	}
	return out
}

// rewriteInOperand wraps the right operand of "in" and "not in" in
// parentheses when it holds a filter or an operator: gonja reads
// `x in l | map(...)` as `(x in l) | map(...)`, Jinja2 as
// `x in (l | map(...))`, because filters, tests and arithmetic bind tighter
// than comparisons. The common `inventory_hostname in groups['db'] |
// default([])` depends on it. The operand ends, as in Jinja2's
// parse_compare, at the next comparison, and, or, not, inline if/else,
// comma, colon or closing bracket outside brackets. The "in" of a
// {% for %} header is left alone (its target ends differently).
func rewriteInOperand(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	forHeader := false
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		out = append(out, tok)
		switch tok.Type {
		case tokens.BlockBegin:
			forHeader = i+1 < len(toks) && toks[i+1].Type == tokens.Name && toks[i+1].Val == "for"
			continue
		case tokens.BlockEnd, tokens.VariableEnd:
			forHeader = false
			continue
		case tokens.In:
		default:
			continue
		}
		if forHeader {
			forHeader = false
			continue
		}
		if i > 0 && toks[i-1].Type == tokens.Is {
			continue
		}
		end, compound := inOperandEnd(toks, i+1)
		if !compound {
			continue
		}
		open := *toks[i+1]
		open.Type, open.Val = tokens.LeftParenthesis, "("
		shut := *toks[end-1]
		shut.Type, shut.Val = tokens.RightParenthesis, ")"
		out = append(out, &open)
		out = append(out, toks[i+1:end]...)
		out = append(out, &shut)
		i = end - 1
	}
	return out
}

// inOperandEnd returns the index just past the operand of "in" starting at
// start, and whether it is more than one term (a filter or an operator
// outside brackets).
func inOperandEnd(toks []*tokens.Token, start int) (end int, compound bool) {
	depth := 0
	for k := start; k < len(toks); k++ {
		t := toks[k]
		switch {
		case isOpener(t.Type):
			depth++
			continue
		case isCloser(t.Type):
			if depth == 0 {
				return k, compound && k > start
			}
			depth--
			continue
		}
		if depth > 0 {
			continue
		}
		switch t.Type {
		case tokens.Equals, tokens.Ne, tokens.GreaterThan, tokens.GreaterThanOrEqual, tokens.LowerThan,
			tokens.LowerThanOrEqual, tokens.In, tokens.Not, tokens.And, tokens.Or, tokens.Comma, tokens.Colon,
			tokens.Assign, tokens.Semicolon, tokens.VariableEnd, tokens.BlockEnd, tokens.EOF, tokens.Error:
			return k, compound && k > start
		case tokens.Pipe, tokens.Addition, tokens.Subtraction, tokens.Multiply, tokens.Division,
			tokens.FloorDivision, tokens.Modulo, tokens.Power, tokens.Tilde, tokens.Is:
			compound = compound || k > start
		case tokens.Name:
			if t.Val == "if" || t.Val == "else" || t.Val == "recursive" {
				return k, compound && k > start
			}
		}
	}
	return len(toks), false
}

// Names that rewriteStarArgs gives unpacked arguments; evalArgs expands them.
const (
	starArg   = "__tend_star__"
	dstarArgs = "__tend_dstar_"
)

// rewriteStarArgs turns the unpacking of call arguments, which gonja does
// not parse, into forms it does: `f(a, *l)` into `f(a, __tend_star__((l)))`
// and `f(**d)` into `f(__tend_dstar_0=(d))`; evalArgs expands them as
// Python does (lookup('list', *phrases) is a common use). Macro headers
// ({% macro m(*args) %}) are left to gonja's own parser.
func rewriteStarArgs(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	macroHeader, n := false, 0
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch tok.Type {
		case tokens.BlockBegin:
			macroHeader = i+1 < len(toks) && toks[i+1].Type == tokens.Name && toks[i+1].Val == "macro"
		case tokens.BlockEnd:
			macroHeader = false
		}
		unpack := (tok.Type == tokens.Multiply || tok.Type == tokens.Power) && !macroHeader && i > 0 &&
			(toks[i-1].Type == tokens.LeftParenthesis || toks[i-1].Type == tokens.Comma) && inCall(toks, i)
		if !unpack {
			out = append(out, tok)
			continue
		}
		end := argEnd(toks, i+1)
		mk := func(typ tokens.Type, val string) *tokens.Token {
			t := *tok
			t.Type, t.Val = typ, val
			return &t
		}
		if tok.Type == tokens.Multiply {
			out = append(out, mk(tokens.Name, starArg), mk(tokens.LeftParenthesis, "("))
		} else {
			out = append(out, mk(tokens.Name, dstarArgs+strconv.Itoa(n)), mk(tokens.Assign, "="))
			n++
		}
		out = append(out, mk(tokens.LeftParenthesis, "("))
		out = append(out, toks[i+1:end]...)
		out = append(out, mk(tokens.RightParenthesis, ")"))
		if tok.Type == tokens.Multiply {
			out = append(out, mk(tokens.RightParenthesis, ")"))
		}
		i = end - 1
	}
	return out
}

// inCall reports whether the argument list that token i is in belongs to a
// call: the innermost open parenthesis before it follows a name or a
// closing bracket.
func inCall(toks []*tokens.Token, i int) bool {
	depth := 0
	for k := i - 1; k >= 0; k-- {
		switch {
		case isCloser(toks[k].Type):
			depth++
		case isOpener(toks[k].Type):
			if depth > 0 {
				depth--
				continue
			}
			if toks[k].Type != tokens.LeftParenthesis || k == 0 {
				return false
			}
			prev := toks[k-1].Type
			return prev == tokens.Name || prev == tokens.RightParenthesis || prev == tokens.RightBracket
		}
	}
	return false
}

// argEnd returns the index of the comma or closing bracket that ends the
// call argument starting at start.
func argEnd(toks []*tokens.Token, start int) int {
	depth := 0
	for k := start; k < len(toks); k++ {
		switch {
		case isOpener(toks[k].Type):
			depth++
		case isCloser(toks[k].Type):
			if depth == 0 {
				return k
			}
			depth--
		case depth == 0 && (toks[k].Type == tokens.Comma || toks[k].Type == tokens.VariableEnd || toks[k].Type == tokens.BlockEnd || toks[k].Type == tokens.EOF):
			return k
		}
	}
	return len(toks)
}
