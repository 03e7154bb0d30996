package template

import (
	"reflect"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// isComparison reports whether t is one of the operators Jinja2 chains as
// Python does: `a == b == c` means `a == b and b == c`.
func isComparison(t tokens.Type) bool {
	switch t {
	case tokens.Equals, tokens.Ne, tokens.LowerThan, tokens.LowerThanOrEqual, tokens.GreaterThan, tokens.GreaterThanOrEqual:
		return true
	}
	return false
}

// unchainComparisons rewrites chained comparisons in a parsed template into
// the conjunctions they mean. gonja parses `a == b == c` as `(a == b) == c`,
// which compares a boolean with c (the known_hosts idiom
// `x.before_header == x.after_header == path` is then always false). The
// parse tree does not keep parentheses, so toks (the tokens parsed) tell a
// chain from a parenthesised comparison: the inner comparison was closed
// by a bracket when one closes between the two operators.
func unchainComparisons(root nodes.Node, toks []*tokens.Token) {
	comparisons := 0
	for _, t := range toks {
		if isComparison(t.Type) {
			comparisons++
		}
	}
	if comparisons < 2 {
		return
	}
	index := make(map[*tokens.Token]int, len(toks))
	for i, t := range toks {
		index[t] = i
	}
	chained := func(inner, outer *tokens.Token) bool {
		from, ok1 := index[inner]
		to, ok2 := index[outer]
		if !ok1 || !ok2 || from >= to {
			return false
		}
		depth := 0
		for _, t := range toks[from+1 : to] {
			switch {
			case isOpener(t.Type):
				depth++
			case isCloser(t.Type):
				depth--
				if depth < 0 {
					return false
				}
			}
		}
		return true
	}
	visitBinary(reflect.ValueOf(root), map[uintptr]bool{}, func(n *nodes.BinaryExpression) {
		left, ok := n.Left.(*nodes.BinaryExpression)
		if !ok || n.Operator == nil || left.Operator == nil ||
			!isComparison(n.Operator.Token.Type) || !isComparison(left.Operator.Token.Type) ||
			!chained(left.Operator.Token, n.Operator.Token) {
			return
		}
		// (a op1 b) op2 c  ->  (a op1 b) and (b op2 c); the left part may
		// itself be a chain, rewritten when the walk reaches it (parents
		// are visited before children).
		op := n.Operator.Token
		and := &tokens.Token{Type: tokens.And, Val: "and", Pos: op.Pos, Line: op.Line, Col: op.Col}
		n.Right = &nodes.BinaryExpression{Left: left.Right, Operator: n.Operator, Right: n.Right}
		n.Operator = &nodes.BinOperator{Token: and}
	})
}

var (
	binaryType = reflect.TypeFor[*nodes.BinaryExpression]()
	tokenType  = reflect.TypeFor[*tokens.Token]()
)

// visitBinary calls f on every binary expression reachable from v, parents
// before children. The parse tree's node types are many and gonja offers no
// walker, so the walk goes by reflection; seen guards against shared nodes.
func visitBinary(v reflect.Value, seen map[uintptr]bool, f func(*nodes.BinaryExpression)) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			visitBinary(v.Elem(), seen, f)
		}
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		switch v.Type() {
		case binaryType:
			if v.CanInterface() {
				f(v.Interface().(*nodes.BinaryExpression))
			}
		case tokenType:
			return
		}
		visitBinary(v.Elem(), seen, f)
	case reflect.Struct:
		for i := range v.NumField() {
			visitBinary(v.Field(i), seen, f)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			visitBinary(v.Index(i), seen, f)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			visitBinary(it.Value(), seen, f)
		}
	}
}
