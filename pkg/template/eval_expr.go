// Expressions: names, literals, attribute and item access, slices,
// operators with Python's semantics, calls of globals, filters, tests and
// methods.

package template

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
	"github.com/tend-dev/tend/pkg/odict"
)

// evalDefined evaluates an expression and fails if the result is undefined.
func (s *state) evalDefined(n nodes.Node) (any, error) {
	v, err := s.eval(n)
	if err != nil {
		return nil, err
	}
	if u, ok := v.(*undefined); ok {
		return nil, u.err("")
	}
	return v, nil
}

// eval evaluates an expression; the result may be *undefined.
func (s *state) eval(node nodes.Node) (any, error) {
	switch n := node.(type) {
	case *nodes.None:
		return nil, nil
	case *nodes.String:
		return n.Val, nil
	case *nodes.Integer:
		return n.Val, nil
	case *nodes.Float:
		return n.Val, nil
	case *nodes.Bool:
		return n.Val, nil
	case *nodes.List:
		return s.evalList(n.Val)
	case *nodes.Tuple:
		return s.evalList(n.Val)
	case *nodes.Dict:
		return s.evalDict(n)
	case *nodes.Name:
		return s.lookupName(n.Name.Val)
	case *nodes.GetAttribute:
		return s.evalGetAttribute(n)
	case *nodes.GetItem:
		return s.evalGetItem(n)
	case *nodes.GetSlice:
		return s.evalSlice(n)
	case *nodes.Negation:
		v, err := s.evalDefined(n.Term)
		if err != nil {
			return nil, err
		}
		t, err := truthy(v)
		return !t, err
	case *nodes.UnaryExpression:
		return s.evalUnary(n)
	case *nodes.BinaryExpression:
		return s.evalBinary(n)
	case *nodes.FilteredExpression:
		return s.evalFiltered(n)
	case *nodes.TestExpression:
		v, err := s.eval(n.Expression)
		if err != nil {
			return nil, err
		}
		return s.applyTestCall(n.Test, v)
	case *nodes.Call:
		return s.evalCall(n)
	case *nodes.Error:
		return nil, n.Error
	case nil:
		return nil, fmt.Errorf("missing expression")
	}
	return nil, fmt.Errorf("unsupported expression %T", node)
}

// evalDict builds a dict literal; keys are strings, as in YAML.
func (s *state) evalDict(n *nodes.Dict) (any, error) {
	out := odict.New(len(n.Pairs))
	for _, p := range n.Pairs {
		k, err := s.evalDefined(p.Key)
		if err != nil {
			return nil, err
		}
		v, err := s.evalDefined(p.Value)
		if err != nil {
			return nil, err
		}
		out.Set(toStr(k), v)
	}
	return s.sealShallow(out), nil
}

// evalGetAttribute is x.name, and x.0 (gonja parses it as an attribute
// with an index).
func (s *state) evalGetAttribute(n *nodes.GetAttribute) (any, error) {
	base, err := s.eval(n.Node)
	if err != nil {
		return nil, err
	}
	if n.Attribute == "" {
		return s.getItem(n.Node, base, n.Index)
	}
	if mod, ok := base.(*templateModule); ok {
		if v, ok := mod.macros[n.Attribute]; ok {
			return v, nil
		}
		return &undefined{name: mod.file + "." + n.Attribute}, nil
	}
	return s.getAttr(n.Node, base, n.Attribute)
}

// evalGetItem is x[key].
func (s *state) evalGetItem(n *nodes.GetItem) (any, error) {
	base, err := s.eval(n.Node)
	if err != nil {
		return nil, err
	}
	if n.Arg == nil {
		return nil, fmt.Errorf("empty subscript")
	}
	key, err := s.evalDefined(n.Arg)
	if err != nil {
		return nil, err
	}
	return s.getItem(n.Node, base, key)
}

// evalUnary is unary + and -; -x of the smallest int becomes a big int
// rather than wrapping around, and booleans count as 0 and 1.
func (s *state) evalUnary(n *nodes.UnaryExpression) (any, error) {
	v, err := s.evalDefined(n.Term)
	if err != nil {
		return nil, err
	}
	if !n.Negative {
		return v, nil
	}
	switch x := v.(type) {
	case int:
		return normInt(new(big.Int).Neg(big.NewInt(int64(x)))), nil
	case *big.Int:
		return normInt(new(big.Int).Neg(x)), nil
	case float64:
		return -x, nil
	case bool:
		if x {
			return -1, nil
		}
		return 0, nil
	}
	return nil, fmt.Errorf("bad operand type for unary -: '%s'", typeName(v))
}

// evalFiltered is x | f | g.
func (s *state) evalFiltered(n *nodes.FilteredExpression) (any, error) {
	filters := n.Filters
	var v any
	if name, ok := s.nativeTextType(n); ok {
		v, filters = name, filters[1:]
	} else {
		var err error
		if v, err = s.eval(n.Expression); err != nil {
			return nil, err
		}
	}
	for _, f := range filters {
		var err error
		if v, err = s.applyFilterCall(f, v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// nativeTextType is type_debug of a variable whose value is text Ansible
// keeps as text (a template ending in to_json, string..., or the template
// lookup with convert_data=False: see keepsText): Ansible's class for it,
// NativeJinjaText, or NativeJinjaUnsafeText when it came from host data
// or a lookup. ok is false for any other expression.
func (s *state) nativeTextType(n *nodes.FilteredExpression) (string, bool) {
	name, isName := n.Expression.(*nodes.Name)
	if !isName || len(n.Filters) == 0 || strings.TrimPrefix(n.Filters[0].Name, "ansible.builtin.") != "type_debug" {
		return "", false
	}
	if _, local := s.lookupLocal(name.Name.Val); local {
		return "", false
	}
	raw, ok := s.vars[name.Name.Val].(string)
	if !ok || !IsTemplate(raw) {
		return "", false
	}
	c, err := s.e.WithDelims(Delims{}).compile(raw)
	if err != nil || c.single == nil || !c.keepsText || len(c.root.Nodes) != 1 {
		return "", false
	}
	sub := s.e.newState(s.vars, raw)
	if _, err := sub.run(c, true); err != nil {
		return "", false
	}
	if sub.tainted {
		return "NativeJinjaUnsafeText", true
	}
	return "NativeJinjaText", true
}

// evalList evaluates the elements of a list or tuple literal.
func (s *state) evalList(list []nodes.Expression) ([]any, error) {
	out := make([]any, len(list))
	for i, e := range list {
		v, err := s.evalDefined(e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	s.sealShallow(out)
	return out, nil
}

// exprName prints the variable an expression refers to, for error messages.
func exprName(n nodes.Node) string {
	switch x := n.(type) {
	case *nodes.Name:
		return x.Name.Val
	case *nodes.GetAttribute:
		if x.Attribute == "" {
			return fmt.Sprintf("%s.%d", exprName(x.Node), x.Index)
		}
		return exprName(x.Node) + "." + x.Attribute
	case *nodes.GetItem:
		if str, ok := x.Arg.(*nodes.String); ok {
			return fmt.Sprintf("%s[%s]", exprName(x.Node), pyQuote(str.Val))
		}
		if i, ok := x.Arg.(*nodes.Integer); ok {
			return fmt.Sprintf("%s[%d]", exprName(x.Node), i.Val)
		}
		return exprName(x.Node) + "[...]"
	case *nodes.Call:
		return exprName(x.Func) + "(...)"
	}
	return "expression"
}

// getAttr is base.attr: a dict key, or a loop variable's attribute.
// Missing attributes are undefined rather than errors, so that
// `x.y | default(z)` and `x.y is defined` work.
func (s *state) getAttr(baseNode nodes.Node, base any, attr string) (any, error) {
	switch b := base.(type) {
	case *undefined:
		// Ansible lets undefined chain so `x.y | default(z)` works.
		return &undefined{name: b.name + "." + attr, hint: b.hint}, nil
	case map[string]any:
		if v, ok := b[attr]; ok {
			return s.resolveLazy(v)
		}
		return &undefined{name: exprName(baseNode) + "." + attr, hint: fmt.Sprintf("'dict object' has no attribute '%s'", attr)}, nil
	case *odict.Dict:
		if v, ok := b.Get(attr); ok {
			return s.resolveLazy(v)
		}
		return &undefined{name: exprName(baseNode) + "." + attr, hint: fmt.Sprintf("'dict object' has no attribute '%s'", attr)}, nil
	case *loopInfo:
		if v, ok := b.attr(attr); ok {
			return v, nil
		}
	case pyDatetime, pyTimedelta:
		if v, ok := timeAttr(b, attr); ok {
			return v, nil
		}
	}
	return &undefined{name: exprName(baseNode) + "." + attr,
		hint: fmt.Sprintf("'%s object' has no attribute '%s'", typeName(base), attr)}, nil
}

// getItem is base[key] on dicts, lists and strings (negative indexes count
// from the end). As with getAttr, what is missing is undefined, not an
// error; only a wrong index type is.
func (s *state) getItem(baseNode nodes.Node, base any, key any) (any, error) {
	switch b := base.(type) {
	case *undefined:
		return &undefined{name: b.name + "[" + toStr(key) + "]", hint: b.hint}, nil
	case map[string]any, *odict.Dict:
		k := toStr(key)
		m, _ := odict.AsMap(b)
		if v, ok := m[k]; ok {
			return s.resolveLazy(v)
		}
		return &undefined{name: exprName(baseNode) + "[" + pyQuote(k) + "]", hint: fmt.Sprintf("'dict object' has no attribute %s", pyQuote(k))}, nil
	case []any:
		i, ok := key.(int)
		if !ok {
			if str, isStr := key.(string); isStr {
				return &undefined{name: exprName(baseNode) + "." + str, hint: fmt.Sprintf("'list object' has no attribute '%s'", str)}, nil
			}
			return nil, fmt.Errorf("list indices must be integers, not %s", typeName(key))
		}
		if i < 0 {
			i += len(b)
		}
		if i < 0 || i >= len(b) {
			return &undefined{name: fmt.Sprintf("%s[%d]", exprName(baseNode), i), hint: "list object has no element " + toStr(key)}, nil
		}
		return s.resolveLazy(b[i])
	case string:
		i, ok := key.(int)
		if !ok {
			return &undefined{name: exprName(baseNode) + "." + toStr(key), hint: fmt.Sprintf("'str object' has no attribute '%s'", toStr(key))}, nil
		}
		r := []rune(b)
		if i < 0 {
			i += len(r)
		}
		if i < 0 || i >= len(r) {
			return &undefined{name: fmt.Sprintf("%s[%d]", exprName(baseNode), i), hint: "string index out of range"}, nil
		}
		return string(r[i]), nil
	case *loopInfo:
		if k, ok := key.(string); ok {
			return s.getAttr(baseNode, base, k)
		}
	}
	return &undefined{name: exprName(baseNode) + "[" + toStr(key) + "]",
		hint: fmt.Sprintf("'%s object' is not subscriptable", typeName(base))}, nil
}

// evalSlice is x[start:stop:step] on lists and strings, with Python's
// bounds (sliceBounds).
func (s *state) evalSlice(n *nodes.GetSlice) (any, error) {
	base, err := s.evalDefined(n.Node)
	if err != nil {
		return nil, err
	}
	bound := func(node nodes.Node) (int, bool, error) {
		if node == nil {
			return 0, false, nil
		}
		v, err := s.evalDefined(node)
		if err != nil {
			return 0, false, err
		}
		if v == nil {
			return 0, false, nil
		}
		i, ok := v.(int)
		if !ok {
			return 0, false, fmt.Errorf("slice indices must be integers, not %s", typeName(v))
		}
		return i, true, nil
	}
	start, hasStart, err := bound(n.Start)
	if err != nil {
		return nil, err
	}
	end, hasEnd, err := bound(n.End)
	if err != nil {
		return nil, err
	}
	step, hasStep, err := bound(n.Step)
	if err != nil {
		return nil, err
	}
	if !hasStep {
		step = 1
	}
	if step == 0 {
		return nil, fmt.Errorf("slice step cannot be zero")
	}
	var items []any
	str, isStr := base.(string)
	var runes []rune
	switch b := base.(type) {
	case []any:
		items = b
	case string:
		runes = []rune(b)
	default:
		return nil, fmt.Errorf("'%s' object is not subscriptable", typeName(base))
	}
	_ = str
	length := len(items)
	if isStr {
		length = len(runes)
	}
	lo, hi := sliceBounds(length, start, end, step, hasStart, hasEnd)
	var idx []int
	if step > 0 {
		for i := lo; i < hi; i += step {
			idx = append(idx, i)
		}
	} else {
		for i := lo; i > hi; i += step {
			idx = append(idx, i)
		}
	}
	if isStr {
		out := make([]rune, 0, len(idx))
		for _, i := range idx {
			out = append(out, runes[i])
		}
		return string(out), nil
	}
	out := make([]any, 0, len(idx))
	for _, i := range idx {
		v, err := s.resolveLazy(items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return s.sealShallow(out), nil
}

// sliceBounds follows Python's slice.indices.
func sliceBounds(n, start, stop, step int, hasStart, hasStop bool) (int, int) {
	clamp := func(i, lo, hi int) int {
		if i < lo {
			return lo
		}
		if i > hi {
			return hi
		}
		return i
	}
	if step > 0 {
		if !hasStart {
			start = 0
		} else if start < 0 {
			start += n
		}
		if !hasStop {
			stop = n
		} else if stop < 0 {
			stop += n
		}
		return clamp(start, 0, n), clamp(stop, 0, n)
	}
	if !hasStart {
		start = n - 1
	} else if start < 0 {
		start += n
	}
	if !hasStop {
		stop = -1
	} else if stop < 0 {
		stop += n
	}
	return clamp(start, -1, n-1), clamp(stop, -1, n-1)
}

// evalBinary evaluates a binary operator. and/or short-circuit and return
// an operand, as in Python; the others see both operands fully resolved.
func (s *state) evalBinary(n *nodes.BinaryExpression) (any, error) {
	op := n.Operator.Token
	left, err := s.evalDefined(n.Left)
	if err != nil {
		return nil, err
	}
	switch op.Type {
	case tokens.And:
		ok, err := truthy(left)
		if err != nil || !ok {
			return left, err
		}
		return s.evalDefined(n.Right)
	case tokens.Or:
		ok, err := truthy(left)
		if err != nil || ok {
			return left, err
		}
		return s.evalDefined(n.Right)
	}
	right, err := s.evalDefined(n.Right)
	if err != nil {
		return nil, err
	}
	left, err = s.deepResolve(left, 0)
	if err != nil {
		return nil, err
	}
	right, err = s.deepResolve(right, 0)
	if err != nil {
		return nil, err
	}
	switch op.Type {
	case tokens.Equals:
		return equal(left, right), nil
	case tokens.Ne:
		return !equal(left, right), nil
	case tokens.LowerThan, tokens.LowerThanOrEqual, tokens.GreaterThan, tokens.GreaterThanOrEqual:
		c, err := compare(left, right)
		if err != nil {
			return nil, err
		}
		switch op.Type {
		case tokens.LowerThan:
			return c < 0, nil
		case tokens.LowerThanOrEqual:
			return c <= 0, nil
		case tokens.GreaterThan:
			return c > 0, nil
		}
		return c >= 0, nil
	case tokens.In:
		return contains(right, left)
	case tokens.Tilde:
		return toStr(left) + toStr(right), nil
	}
	v, err := arith(op.Val, left, right)
	if err == nil {
		err = s.spendOnResult(v)
	}
	return s.seal(v), err
}

// arith implements Python's arithmetic operators.
func arith(op string, left, right any) (any, error) {
	if v, ok := timeArith(op, left, right); ok {
		return v, nil
	}
	if v, handled, err := sequenceArith(op, left, right); handled {
		return v, err
	}
	if v, handled, err := intArith(op, left, right); handled {
		return v, err
	}
	lf, ok1 := toNumber(left)
	rf, ok2 := toNumber(right)
	if !ok1 || !ok2 {
		return nil, badOperands(op, left, right)
	}
	_, lFloat := left.(float64)
	_, rFloat := right.(float64)
	if !lFloat && !rFloat {
		if v, ok, err := smallIntArith(op, int(lf), int(rf)); ok {
			return v, err
		}
	}
	return floatArith(op, lf, rf)
}

// badOperands is Python's TypeError for operands of the wrong types.
func badOperands(op string, left, right any) error {
	return fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(left), typeName(right))
}

// sequenceArith is the operators Python defines on strings and lists:
// concatenation, repetition (bounded by maxRepeat) and %-formatting.
// handled is false when the operands are not for it.
func sequenceArith(op string, left, right any) (v any, handled bool, err error) {
	switch op {
	case "+":
		switch l := left.(type) {
		case string:
			if r, ok := right.(string); ok {
				return l + r, true, nil
			}
			return nil, true, badOperands(op, left, right)
		case []any:
			if r, ok := right.([]any); ok {
				out := make([]any, 0, len(l)+len(r))
				return append(append(out, l...), r...), true, nil
			}
			return nil, true, badOperands(op, left, right)
		}
	case "*":
		if _, ok := left.(int); ok {
			switch right.(type) {
			case string, []any:
				left, right = right, left
			}
		}
		if r, ok := right.(int); ok {
			return repeat(left, r)
		}
	case "%":
		if l, ok := left.(string); ok {
			v, err := pyFormat(l, right)
			return v, true, err
		}
	}
	return nil, false, nil
}

// repeat is 'x' * n and [x] * n.
func repeat(seq any, n int) (v any, handled bool, err error) {
	switch l := seq.(type) {
	case string:
		if tooLong(len(l), n) {
			return nil, true, fmt.Errorf("repeated string too long (MemoryError): more than %d characters", maxRepeat)
		}
		return strings.Repeat(l, max(n, 0)), true, nil
	case []any:
		if tooLong(len(l), n) {
			return nil, true, fmt.Errorf("repeated list too long (MemoryError): more than %d items", maxRepeat)
		}
		var out []any
		for i := 0; i < n && len(l) > 0; i++ {
			out = append(out, l...)
		}
		if out == nil {
			out = []any{}
		}
		return out, true, nil
	}
	return nil, false, nil
}

// smallIntArith is arithmetic on two machine integers with Python's
// semantics (floor division, modulo with the divisor's sign). ok is false
// for the operators whose result is a float: / and ** with a negative or
// large exponent.
func smallIntArith(op string, l, r int) (v any, ok bool, err error) {
	switch op {
	case "+":
		return l + r, true, nil
	case "-":
		return l - r, true, nil
	case "*":
		return l * r, true, nil
	case "//":
		if r == 0 {
			return nil, true, fmt.Errorf("integer division or modulo by zero")
		}
		q := l / r
		if (l%r != 0) && ((l < 0) != (r < 0)) {
			q--
		}
		return q, true, nil
	case "%":
		if r == 0 {
			return nil, true, fmt.Errorf("integer division or modulo by zero")
		}
		m := l % r
		if m != 0 && ((m < 0) != (r < 0)) {
			m += r
		}
		return m, true, nil
	case "**":
		if r >= 0 && r <= 62 {
			out := 1
			for i := 0; i < r; i++ {
				out *= l
			}
			return out, true, nil
		}
	}
	return nil, false, nil
}

// floatArith is arithmetic on floats with Python's semantics.
func floatArith(op string, l, r float64) (any, error) {
	switch op {
	case "+":
		return l + r, nil
	case "-":
		return l - r, nil
	case "*":
		return l * r, nil
	case "/":
		if r == 0 {
			return nil, fmt.Errorf("division by zero")
		}
		return l / r, nil
	case "//":
		if r == 0 {
			return nil, fmt.Errorf("integer division or modulo by zero")
		}
		return math.Floor(l / r), nil
	case "%":
		if r == 0 {
			return nil, fmt.Errorf("integer division or modulo by zero")
		}
		m := math.Mod(l, r)
		if m != 0 && ((m < 0) != (r < 0)) {
			m += r
		}
		return m, nil
	case "**":
		return math.Pow(l, r), nil
	}
	return nil, fmt.Errorf("unsupported operator %q", op)
}

// pyFormat implements the common cases of Python's "fmt" % args.
// undefinedRepr prints Ansible's undefined object as Python's repr()
// does: AnsibleUndefined(hint=None, obj=missing, name='x').
type undefinedRepr struct{ u *undefined }

func (r undefinedRepr) String() string {
	name, _, _ := strings.Cut(r.u.name, ".")
	name, _, _ = strings.Cut(name, "[")
	return fmt.Sprintf("AnsibleUndefined(hint=None, obj=missing, name=%s)", repr(name))
}

func pyFormat(format string, arg any) (any, error) {
	args, ok := arg.([]any)
	if !ok {
		args = []any{arg}
	}
	var b strings.Builder
	ai := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("0123456789.-+ ", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return nil, fmt.Errorf("incomplete format")
		}
		verb := format[j]
		if verb == '%' {
			b.WriteByte('%')
			i = j
			continue
		}
		if ai >= len(args) {
			return nil, fmt.Errorf("not enough arguments for format string")
		}
		flags := format[i+1 : j]
		if len(flags) > 6 {
			return nil, fmt.Errorf("format width too large")
		}
		a := args[ai]
		ai++
		if u, isUndef := a.(*undefined); isUndef {
			// Only repr() of Ansible's undefined object works; any other
			// use of it is the undefined error.
			if verb != 'r' {
				return nil, u.err("")
			}
			a = undefinedRepr{u}
		}
		switch verb {
		case 's':
			fmt.Fprintf(&b, "%"+flags+"s", toStr(a))
		case 'r':
			if ur, ok := a.(undefinedRepr); ok {
				fmt.Fprintf(&b, "%"+flags+"s", ur.String())
				break
			}
			fmt.Fprintf(&b, "%"+flags+"s", repr(a))
		case 'd', 'i':
			fmt.Fprintf(&b, "%"+flags+"d", toInt(a, 0, 10))
		case 'f', 'e', 'g':
			if !strings.Contains(flags, ".") && verb == 'f' {
				flags += ".6"
			}
			fmt.Fprintf(&b, "%"+flags+string(verb), toFloat(a, 0))
		case 'x', 'o', 'X':
			fmt.Fprintf(&b, "%"+flags+string(verb), toInt(a, 0, 10))
		default:
			return nil, fmt.Errorf("unsupported format character %q", verb)
		}
		i = j
	}
	return b.String(), nil
}

// evalArgs evaluates the positional and keyword arguments of a call,
// filter or test.
func (s *state) evalArgs(args []nodes.Expression, kwargs map[string]nodes.Expression) ([]any, map[string]any, error) {
	var out []any
	for _, a := range args {
		star := false
		if c, ok := a.(*nodes.Call); ok && len(c.Args) == 1 {
			if f, ok := c.Func.(*nodes.Name); ok && f.Name.Val == starArg {
				a, star = c.Args[0], true
			}
		}
		v, err := s.evalDefined(a)
		if err != nil {
			return nil, nil, err
		}
		if v, err = s.deepResolve(v, 0); err != nil {
			return nil, nil, err
		}
		if !star {
			out = append(out, v)
			continue
		}
		items, err := iterate(v)
		if err != nil {
			return nil, nil, fmt.Errorf("argument after * must be an iterable: %w", err)
		}
		out = append(out, items...)
	}
	var kw map[string]any
	if len(kwargs) > 0 {
		kw = make(map[string]any, len(kwargs))
		for k, a := range kwargs {
			v, err := s.evalDefined(a)
			if err != nil {
				return nil, nil, err
			}
			if v, err = s.deepResolve(v, 0); err != nil {
				return nil, nil, err
			}
			if !strings.HasPrefix(k, dstarArgs) {
				kw[k] = v
				continue
			}
			m, ok := odict.AsMap(v)
			if !ok {
				return nil, nil, fmt.Errorf("argument after ** must be a mapping, not %s", typeName(v))
			}
			maps.Copy(kw, m)
		}
	}
	return out, kw, nil
}

// evalCall is f(...): the inline if rewrite.go produces, a macro, a
// global function (callGlobal) or a Python method (callMethod).
func (s *state) evalCall(n *nodes.Call) (any, error) {
	if f, ok := n.Func.(*nodes.Name); ok && f.Name.Val == inlineIf && len(n.Args) >= 2 {
		// A parenthesised inline if: only the branch taken is evaluated.
		c, err := s.eval(n.Args[1])
		if err != nil {
			return nil, err
		}
		ok, err := truthy(c)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			return s.eval(n.Args[0])
		case len(n.Args) > 2:
			return s.eval(n.Args[2])
		}
		return &undefined{name: "inline if"}, nil
	}
	args, kw, err := s.evalArgs(n.Args, n.Kwargs)
	if err != nil {
		return nil, err
	}
	switch f := n.Func.(type) {
	case *nodes.Name:
		name := f.Name.Val
		if v, ok := s.lookupLocal(name); ok {
			if m, ok := v.(*macro); ok {
				return s.callMacro(m, args, kw)
			}
			if sb, ok := v.(*superBlock); ok {
				return s.callSuper(sb)
			}
		}
		if name == "lookup" || name == "query" || name == "q" {
			if err := s.renderLiteralTerms(n.Args, args); err != nil {
				return nil, err
			}
		}
		v, err := s.callGlobal(name, args, kw)
		return s.seal(v), err
	case *nodes.GetAttribute:
		base, err := s.evalDefined(f.Node)
		if err != nil {
			return nil, err
		}
		if mod, ok := base.(*templateModule); ok {
			return s.callModuleMacro(mod, f.Attribute, args, kw)
		}
		if base, err = s.deepResolve(base, 0); err != nil {
			return nil, err
		}
		v, err := callMethod(base, f.Attribute, args, kw)
		return s.seal(v), err
	}
	return nil, fmt.Errorf("%s is not callable", exprName(n.Func))
}

// renderLiteralTerms renders the lookup terms written as string literals
// that hold a template (lookup('pipe', '{{ python }} -c ...')): Ansible
// templates a lookup's terms before the plugin runs. Only literals of the
// template itself are rendered, so a term computed from host data is never
// templated.
func (s *state) renderLiteralTerms(nodesArgs []nodes.Expression, args []any) error {
	for i := 1; i < len(nodesArgs) && i < len(args); i++ {
		lit, ok := nodesArgs[i].(*nodes.String)
		if !ok || !IsTemplate(lit.Val) {
			continue
		}
		v, err := s.renderNested(lit.Val)
		if err != nil {
			return err
		}
		// Ansible renders terms as text, turning back into values only
		// text that reads as a list, dict or boolean.
		switch v.(type) {
		case nil:
			v = ""
		case string, Unsafe, bool, []any:
		default:
			if _, _, isDict := odict.As(v); !isDict {
				v = toStr(v)
			}
		}
		args[i] = v
	}
	return nil
}

// callGlobal calls the global functions Ansible's templates see: lookup,
// query/q, range, dict, namespace, now and undef.
func (s *state) callGlobal(name string, args []any, kw map[string]any) (any, error) {
	switch name {
	case "lookup":
		return s.lookup(args, kw, false)
	case "query", "q":
		return s.lookup(args, kw, true)
	case "range":
		r, err := pyRange(args)
		if err == nil {
			err = s.spend(len(r.([]any)))
		}
		return r, err
	case "dict":
		out := odict.New(len(kw))
		if len(args) > 0 {
			d, err := filterDict(s, args[0], nil, nil)
			if err != nil {
				return nil, err
			}
			for k, v := range d.(*odict.Dict).All() {
				out.Set(k, v)
			}
		}
		for _, k := range odict.SortedKeys(kw) {
			out.Set(k, kw[k])
		}
		return out, nil
	case "namespace":
		out := map[string]any{}
		for k, v := range kw {
			out[k] = v
		}
		return out, nil
	case "now":
		return nowFunc(kw)
	case "undef":
		hint := ""
		if len(args) > 0 {
			hint = toStr(args[0])
		}
		return &undefined{name: "undef", hint: hint}, nil
	}
	return nil, fmt.Errorf("'%s' is undefined", name)
}

// pyRange is Python's range(stop) / range(start, stop[, step]), as a list
// whose length is checked before it is built (rangeLen).
func pyRange(args []any) (any, error) {
	ints := make([]int, len(args))
	for i, a := range args {
		v, ok := a.(int)
		if !ok {
			return nil, fmt.Errorf("range() arguments must be integers")
		}
		ints[i] = v
	}
	start, stop, step := 0, 0, 1
	switch len(ints) {
	case 1:
		stop = ints[0]
	case 2:
		start, stop = ints[0], ints[1]
	case 3:
		start, stop, step = ints[0], ints[1], ints[2]
	default:
		return nil, fmt.Errorf("range expected 1 to 3 arguments, got %d", len(ints))
	}
	if step == 0 {
		return nil, fmt.Errorf("range() arg 3 must not be zero")
	}
	n := rangeLen(start, stop, step)
	if n > maxRange {
		return nil, fmt.Errorf("range too large (MemoryError): %d items, at most %d", n, maxRange)
	}
	out := make([]any, 0, n)
	for i := uint64(0); i < n; i++ {
		out = append(out, start+int(i)*step)
	}
	return out, nil
}
