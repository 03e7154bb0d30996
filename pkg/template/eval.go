package template

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// maxDepth bounds nested lazy rendering and macro calls.
const maxDepth = 64

// maxRepeat bounds 'x' * n and [x] * n so a template cannot exhaust memory.
const maxRepeat = 1 << 24

var (
	errBreak    = errors.New("break outside of a loop")
	errContinue = errors.New("continue outside of a loop")
)

// state is one Render call: the variables, the template-local scopes and
// the variables being lazily rendered (for recursion detection).
type state struct {
	e      *Engine
	vars   map[string]any
	scopes []map[string]any
	active map[string]bool
	memo   map[string]any
	src    string
	depth  int
	files  []string // template files being rendered by lookup('template')
	// tainted is set once the render read an Unsafe value: its result is
	// then host data too (see seal and RenderMarked).
	tainted bool
}

func (e *Engine) newState(vars map[string]any, src string) *state {
	return &state{e: e, vars: vars, src: src}
}

// run executes a compiled template. With native set and a single-expression
// template, the expression's value is returned instead of text.
func (s *state) run(c *compiled, native bool) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("template error in %q: internal error: %v", truncate(c.src, 200), r)
		}
	}()
	if c.single != nil && native {
		v, err := s.evalOutput(c.single)
		if err != nil {
			return nil, s.wrap(err, c.single.Start)
		}
		if _, isStr := v.(string); !isStr || len(c.root.Nodes) == 1 {
			return v, nil
		}
		// A string keeps the whitespace around the expression.
		var b strings.Builder
		for _, n := range c.root.Nodes {
			if n == nodes.Node(c.single) {
				b.WriteString(v.(string))
			} else if err := s.renderNode(&b, n); err != nil {
				return nil, err
			}
		}
		return b.String(), nil
	}
	var b strings.Builder
	if err := s.renderNodes(&b, c.root.Nodes); err != nil {
		if errors.Is(err, errBreak) || errors.Is(err, errContinue) {
			return nil, fmt.Errorf("template error in %q: %w", truncate(c.src, 200), err)
		}
		return nil, err
	}
	return b.String(), nil
}

// wrap adds where an error happened; undefined errors get the template.
func (s *state) wrap(err error, tok *tokens.Token) error {
	var ue *UndefinedError
	if errors.As(err, &ue) {
		if ue.Expr == "" {
			ue.Expr = s.src
		}
		return err
	}
	var te *templateError
	if errors.As(err, &te) || errors.Is(err, errBreak) || errors.Is(err, errContinue) {
		return err
	}
	line := 0
	if tok != nil {
		line = tok.Line
	}
	return &templateError{Line: line, Src: s.src, Err: err}
}

// templateError is a failure while rendering, located in the template.
type templateError struct {
	Line int
	Src  string
	Err  error
}

func (e *templateError) Error() string {
	return fmt.Sprintf("template error at line %d in %q: %v", e.Line, truncate(e.Src, 200), e.Err)
}

func (e *templateError) Unwrap() error { return e.Err }

// maxRendered bounds the text one render produces: variables that each
// repeat the one before double at every level and would otherwise grow
// past the controller's memory.
const maxRendered = 1 << 26

var errTooLong = fmt.Errorf("rendered text longer than %d MiB", maxRendered>>20)

func (s *state) renderNodes(b *strings.Builder, list []nodes.Node) error {
	for _, n := range list {
		if err := s.renderNode(b, n); err != nil {
			return err
		}
		if b.Len() > maxRendered {
			return errTooLong
		}
	}
	return nil
}

func (s *state) renderNode(b *strings.Builder, node nodes.Node) error {
	switch n := node.(type) {
	case *nodes.Comment:
		return nil
	case *nodes.Data:
		out := n.Data.Val
		if n.RemoveFirstLineReturn {
			out = strings.TrimPrefix(out, "\r\n")
			out = strings.TrimPrefix(out, "\n")
		}
		if n.Trim.Left {
			out = strings.TrimLeft(out, " \r\n\t")
		}
		if n.Trim.Right {
			out = strings.TrimRight(out, " \r\n\t")
		}
		if n.RemoveTrailingWhiteSpaceFromLastLine {
			if i := strings.LastIndexByte(out, '\n'); i >= 0 {
				out = out[:i+1] + strings.TrimRight(out[i+1:], " \t\r")
			} else {
				out = strings.TrimRight(out, " \t\r")
			}
		}
		b.WriteString(out)
		return nil
	case *nodes.Output:
		v, err := s.evalOutput(n)
		if err != nil {
			return s.wrap(err, n.Start)
		}
		out := toStr(v)
		if b.Len()+len(out) > maxRendered {
			return s.wrap(errTooLong, n.Start)
		}
		b.WriteString(out)
		return nil
	case *nodes.ControlStructureBlock:
		if err := s.execStructure(b, n.ControlStructure); err != nil {
			return s.wrap(err, n.Location)
		}
		return nil
	case *nodes.Wrapper:
		return s.renderNodes(b, n.Nodes)
	case nil:
		return nil
	}
	return fmt.Errorf("unsupported template node %T", node)
}

// evalOutput evaluates {{ expr [if cond [else alt]] }} to a fully rendered
// value.
func (s *state) evalOutput(n *nodes.Output) (any, error) {
	expr := nodes.Node(n.Expression)
	if n.Condition != nil {
		c, err := s.evalDefined(n.Condition)
		if err != nil {
			return nil, err
		}
		ok, err := truthy(c)
		if err != nil {
			return nil, err
		}
		if !ok {
			if n.Alternative == nil {
				return "", nil
			}
			expr = n.Alternative
		}
	}
	v, err := s.evalDefined(expr)
	if err != nil {
		return nil, err
	}
	return s.deepResolve(v, 0)
}

func (s *state) execStructure(b *strings.Builder, cs nodes.ControlStructure) error {
	switch n := cs.(type) {
	case *controlStructures.IfControlStructure:
		for i, cond := range n.Conditions {
			v, err := s.evalDefined(cond)
			if err != nil {
				return err
			}
			ok, err := truthy(v)
			if err != nil {
				return err
			}
			if ok {
				return s.renderNodes(b, n.Wrappers[i].Nodes)
			}
		}
		if len(n.Wrappers) > len(n.Conditions) {
			return s.renderNodes(b, n.Wrappers[len(n.Conditions)].Nodes)
		}
		return nil
	case *controlStructures.ForControlStructure:
		return s.execFor(b, n)
	case *setNode:
		return s.execSet(n)
	case *rawNode:
		b.WriteString(n.text)
		return nil
	case *includeNode:
		return s.execInclude(b, n)
	case *controlStructures.MacroControlStructure:
		s.setLocal(n.Name, &macro{node: n.Macro})
		return nil
	case *controlStructures.BreakControlStructure:
		return errBreak
	case *controlStructures.ContinueControlStructure:
		return errContinue
	case *controlStructures.DoControlStructure:
		_, err := s.evalDefined(n.Expression)
		return err
	}
	return fmt.Errorf("unsupported statement %T", cs)
}

// loopInfo is Jinja2's loop variable.
type loopInfo struct {
	index, length int
	prev, next    any
	hasPrev       bool
	hasNext       bool
	depth         int
}

func (l *loopInfo) attr(name string) (any, bool) {
	switch name {
	case "index":
		return l.index + 1, true
	case "index0":
		return l.index, true
	case "revindex":
		return l.length - l.index, true
	case "revindex0":
		return l.length - l.index - 1, true
	case "first":
		return l.index == 0, true
	case "last":
		return l.index == l.length-1, true
	case "length":
		return l.length, true
	case "depth":
		return l.depth, true
	case "depth0":
		return l.depth - 1, true
	case "previtem":
		if !l.hasPrev {
			return &undefined{name: "loop.previtem"}, true
		}
		return l.prev, true
	case "nextitem":
		if !l.hasNext {
			return &undefined{name: "loop.nextitem"}, true
		}
		return l.next, true
	}
	return nil, false
}

func (s *state) execFor(b *strings.Builder, n *controlStructures.ForControlStructure) error {
	obj, err := s.evalDefined(n.ObjectEvaluator)
	if err != nil {
		return err
	}
	type binding struct{ key, value any }
	var items []binding
	if m, ok := obj.(map[string]any); ok && n.Value != "" {
		for _, k := range sortedKeys(m) {
			v, err := s.resolveLazy(m[k])
			if err != nil {
				return err
			}
			items = append(items, binding{k, v})
		}
	} else {
		list, err := iterate(obj)
		if err != nil {
			return err
		}
		for _, item := range list {
			item, err := s.resolveLazy(item)
			if err != nil {
				return err
			}
			if n.Value == "" {
				items = append(items, binding{key: item})
				continue
			}
			pair, ok := item.([]any)
			if !ok || len(pair) != 2 {
				return fmt.Errorf("cannot unpack %s into %s, %s", repr(item), n.Key, n.Value)
			}
			items = append(items, binding{s.unmark(pair[0]), s.unmark(pair[1])})
		}
	}
	bind := func(scope map[string]any, it binding) {
		scope[n.Key] = it.key
		if n.Value != "" {
			scope[n.Value] = it.value
		}
	}
	if n.IfCondition != nil {
		kept := items[:0:0]
		for _, it := range items {
			scope := map[string]any{}
			bind(scope, it)
			s.scopes = append(s.scopes, scope)
			v, err := s.evalDefined(n.IfCondition)
			s.scopes = s.scopes[:len(s.scopes)-1]
			if err != nil {
				return err
			}
			if ok, err := truthy(v); err != nil {
				return err
			} else if ok {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		if n.EmptyWrapper != nil {
			return s.renderNodes(b, n.EmptyWrapper.Nodes)
		}
		return nil
	}
	depth := 1
	if l, ok := s.lookupLocal("loop"); ok {
		if li, ok := l.(*loopInfo); ok {
			depth = li.depth + 1
		}
	}
	loopValue := func(it binding) any {
		if n.Value != "" {
			return []any{it.key, it.value}
		}
		return it.key
	}
	for i, it := range items {
		if err := s.canceled(); err != nil {
			return err
		}
		if b.Len() > maxOutput {
			return fmt.Errorf("rendered text too long (MemoryError): more than %d bytes", maxOutput)
		}
		li := &loopInfo{index: i, length: len(items), depth: depth}
		if i > 0 {
			li.prev, li.hasPrev = loopValue(items[i-1]), true
		}
		if i < len(items)-1 {
			li.next, li.hasNext = loopValue(items[i+1]), true
		}
		scope := map[string]any{"loop": li}
		bind(scope, it)
		s.scopes = append(s.scopes, scope)
		err := s.renderNodes(b, n.BodyWrapper.Nodes)
		s.scopes = s.scopes[:len(s.scopes)-1]
		if errors.Is(err, errBreak) {
			break
		}
		if err != nil && !errors.Is(err, errContinue) {
			return err
		}
	}
	return nil
}

func (s *state) setLocal(name string, v any) {
	if len(s.scopes) == 0 {
		s.scopes = append(s.scopes, map[string]any{})
	}
	s.scopes[len(s.scopes)-1][name] = v
}

func (s *state) lookupLocal(name string) (any, bool) {
	for i := len(s.scopes) - 1; i >= 0; i-- {
		if v, ok := s.scopes[i][name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (s *state) execSet(n *setNode) error {
	var v any
	if n.body != nil {
		var b strings.Builder
		if err := s.renderNodes(&b, n.body.Nodes); err != nil {
			return err
		}
		v = b.String()
	} else {
		expr := n.expr
		if n.condition != nil {
			c, err := s.evalDefined(n.condition)
			if err != nil {
				return err
			}
			ok, err := truthy(c)
			if err != nil {
				return err
			}
			if !ok {
				expr = n.alternative
			}
		}
		var err error
		if v, err = s.evalDefined(expr); err != nil {
			return err
		}
	}
	switch t := n.target.(type) {
	case *nodes.Name:
		s.setLocal(t.Name.Val, v)
		return nil
	case *nodes.GetAttribute:
		base, err := s.evalDefined(t.Node)
		if err != nil {
			return err
		}
		m, ok := base.(map[string]any)
		if !ok {
			return fmt.Errorf("cannot assign attribute on %s", typeName(base))
		}
		m[t.Attribute] = v
		return nil
	case *nodes.GetItem:
		base, err := s.evalDefined(t.Node)
		if err != nil {
			return err
		}
		key, err := s.evalDefined(t.Arg)
		if err != nil {
			return err
		}
		m, ok := base.(map[string]any)
		if !ok {
			return fmt.Errorf("cannot assign item on %s", typeName(base))
		}
		m[toStr(key)] = v
		return nil
	}
	return fmt.Errorf("unsupported set target")
}

// macro is a {% macro %} definition bound as a template-local value.
type macro struct{ node *nodes.Macro }

func (s *state) callMacro(m *macro, args []any, kw map[string]any) (any, error) {
	if s.depth >= maxDepth {
		return nil, fmt.Errorf("macro %s: recursion too deep", m.node.Name)
	}
	if err := s.canceled(); err != nil {
		return nil, err
	}
	scope := map[string]any{}
	for i, p := range m.node.Kwargs {
		name := ""
		if str, ok := p.Key.(*nodes.String); ok {
			name = str.Val
		}
		switch {
		case i < len(args):
			scope[name] = s.seal(args[i])
		case kw[name] != nil:
			scope[name] = s.seal(kw[name])
		default:
			v, err := s.evalDefined(p.Value)
			if err != nil {
				return nil, err
			}
			scope[name] = v
		}
	}
	if m.node.VarArgsName != "" && len(args) > len(m.node.Kwargs) {
		scope[m.node.VarArgsName] = args[len(m.node.Kwargs):]
	}
	s.depth++
	s.scopes = append(s.scopes, scope)
	var b strings.Builder
	err := s.renderNodes(&b, m.node.Wrapper.Nodes)
	s.scopes = s.scopes[:len(s.scopes)-1]
	s.depth--
	return b.String(), err
}

// lookupName finds a variable: template locals first, then vars (rendered
// lazily when they hold a template), then Jinja2's lowercase constants.
func (s *state) lookupName(name string) (any, error) {
	if v, ok := s.lookupLocal(name); ok {
		return s.unmark(v), nil
	}
	raw, ok := s.vars[name]
	if !ok {
		switch name {
		case "none":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return &undefined{name: name}, nil
	}
	switch x := raw.(type) {
	case string:
		if !IsTemplate(x) {
			return x, nil
		}
	case Unsafe:
		s.tainted = true
		return string(x), nil
	default:
		return normalize(raw), nil
	}
	if v, ok := s.memo[name]; ok {
		return v, nil
	}
	if s.active[name] {
		return nil, fmt.Errorf("recursive loop detected in template for variable '%s'", name)
	}
	if s.active == nil {
		s.active = map[string]bool{}
	}
	s.active[name] = true
	v, err := s.renderNested(raw.(string))
	delete(s.active, name)
	if err != nil {
		return nil, err
	}
	if s.memo == nil {
		s.memo = map[string]any{}
	}
	s.memo[name] = v
	return v, nil
}

// renderNested renders a template found inside a variable's value, with the
// same vars and no template locals (like Ansible's lazy templating).
func (s *state) renderNested(src string) (any, error) {
	if s.depth >= maxDepth {
		return nil, fmt.Errorf("recursive loop detected in template %q", truncate(src, 100))
	}
	c, err := s.e.compile(src)
	if err != nil {
		return nil, err
	}
	savedScopes, savedSrc := s.scopes, s.src
	s.scopes, s.src = nil, src
	s.depth++
	v, err := s.run(c, true)
	s.depth--
	s.scopes, s.src = savedScopes, savedSrc
	return s.seal(v), err
}

// resolveLazy renders v if it is a string holding a template (a value from
// vars reached through a container).
func (s *state) resolveLazy(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if IsTemplate(x) {
			return s.renderNested(x)
		}
		return x, nil
	case Unsafe:
		s.tainted = true
		return string(x), nil
	}
	return normalize(v), nil
}

// deepResolve renders every template string inside v and normalizes types.
// Containers are copied only when something changed.
func (s *state) deepResolve(v any, depth int) (any, error) {
	r, _, err := s.deepResolveC(v, depth)
	return r, err
}

func (s *state) deepResolveC(v any, depth int) (any, bool, error) {
	if depth > maxNesting {
		return nil, false, fmt.Errorf("data structure nested more than %d levels deep", maxNesting)
	}
	switch x := v.(type) {
	case string:
		// Only strings inside containers come from vars unrendered; a
		// top-level string is a finished value (a literal, a filter or
		// lookup result) and must not be templated again.
		if depth == 0 || !IsTemplate(x) {
			return x, false, nil
		}
		r, err := s.renderNested(x)
		if err != nil {
			return nil, false, err
		}
		return r, true, nil
	case Unsafe:
		s.tainted = true
		return string(x), true, nil
	case int, float64, bool, nil:
		return v, false, nil
	case []any:
		var out []any
		for i, item := range x {
			r, changed, err := s.deepResolveC(item, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = r
			}
		}
		if out != nil {
			return out, true, nil
		}
		return x, false, nil
	case map[string]any:
		var out map[string]any
		for k, item := range x {
			r, changed, err := s.deepResolveC(item, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, v2 := range x {
					out[k2] = v2
				}
			}
			if out != nil {
				out[k] = r
			}
		}
		if out != nil {
			return out, true, nil
		}
		return x, false, nil
	case *undefined:
		return nil, false, x.err("")
	}
	n := normalize(v)
	switch n.(type) {
	case []any, map[string]any, string:
		r, _, err := s.deepResolveC(n, depth+1)
		return r, true, err
	}
	return n, true, nil
}

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
		out := make(map[string]any, len(n.Pairs))
		for _, p := range n.Pairs {
			k, err := s.evalDefined(p.Key)
			if err != nil {
				return nil, err
			}
			v, err := s.evalDefined(p.Value)
			if err != nil {
				return nil, err
			}
			out[toStr(k)] = v
		}
		return s.sealShallow(out), nil
	case *nodes.Name:
		return s.lookupName(n.Name.Val)
	case *nodes.GetAttribute:
		base, err := s.eval(n.Node)
		if err != nil {
			return nil, err
		}
		if n.Attribute == "" {
			return s.getItem(n.Node, base, n.Index)
		}
		return s.getAttr(n.Node, base, n.Attribute)
	case *nodes.GetItem:
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
	case *nodes.BinaryExpression:
		return s.evalBinary(n)
	case *nodes.FilteredExpression:
		v, err := s.eval(n.Expression)
		if err != nil {
			return nil, err
		}
		for _, f := range n.Filters {
			if v, err = s.applyFilterCall(f, v); err != nil {
				return nil, err
			}
		}
		return v, nil
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
	case *loopInfo:
		if v, ok := b.attr(attr); ok {
			return v, nil
		}
	}
	return &undefined{name: exprName(baseNode) + "." + attr,
		hint: fmt.Sprintf("'%s object' has no attribute '%s'", typeName(base), attr)}, nil
}

func (s *state) getItem(baseNode nodes.Node, base any, key any) (any, error) {
	switch b := base.(type) {
	case *undefined:
		return &undefined{name: b.name + "[" + toStr(key) + "]", hint: b.hint}, nil
	case map[string]any:
		k := toStr(key)
		if v, ok := b[k]; ok {
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
	return s.seal(v), err
}

// arith implements Python's arithmetic operators.
func arith(op string, left, right any) (any, error) {
	bad := func() (any, error) {
		return nil, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(left), typeName(right))
	}
	if op == "+" {
		switch l := left.(type) {
		case string:
			if r, ok := right.(string); ok {
				return l + r, nil
			}
			return bad()
		case []any:
			if r, ok := right.([]any); ok {
				out := make([]any, 0, len(l)+len(r))
				return append(append(out, l...), r...), nil
			}
			return bad()
		}
	}
	if op == "*" {
		if _, ok := left.(int); ok {
			switch right.(type) {
			case string, []any:
				left, right = right, left
			}
		}
		if l, ok := left.(string); ok {
			if r, ok := right.(int); ok {
				if tooLong(len(l), r) {
					return nil, fmt.Errorf("repeated string too long (MemoryError): more than %d characters", maxRepeat)
				}
				return strings.Repeat(l, max(r, 0)), nil
			}
		}
		if l, ok := left.([]any); ok {
			if r, ok := right.(int); ok {
				if tooLong(len(l), r) {
					return nil, fmt.Errorf("repeated list too long (MemoryError): more than %d items", maxRepeat)
				}
				var out []any
				for i := 0; i < r && len(l) > 0; i++ {
					out = append(out, l...)
				}
				if out == nil {
					out = []any{}
				}
				return out, nil
			}
		}
	}
	if op == "%" {
		if l, ok := left.(string); ok {
			return pyFormat(l, right)
		}
	}
	if v, handled, err := intArith(op, left, right); handled {
		return v, err
	}
	lf, ok1 := toNumber(left)
	rf, ok2 := toNumber(right)
	if !ok1 || !ok2 {
		return bad()
	}
	_, lFloat := left.(float64)
	_, rFloat := right.(float64)
	isInt := !lFloat && !rFloat
	li, ri := int(lf), int(rf)
	switch op {
	case "+":
		if isInt {
			return li + ri, nil
		}
		return lf + rf, nil
	case "-":
		if isInt {
			return li - ri, nil
		}
		return lf - rf, nil
	case "*":
		if isInt {
			return li * ri, nil
		}
		return lf * rf, nil
	case "/":
		if rf == 0 {
			return nil, fmt.Errorf("division by zero")
		}
		return lf / rf, nil
	case "//":
		if rf == 0 {
			return nil, fmt.Errorf("integer division or modulo by zero")
		}
		if isInt {
			q := li / ri
			if (li%ri != 0) && ((li < 0) != (ri < 0)) {
				q--
			}
			return q, nil
		}
		return math.Floor(lf / rf), nil
	case "%":
		if rf == 0 {
			return nil, fmt.Errorf("integer division or modulo by zero")
		}
		if isInt {
			m := li % ri
			if m != 0 && ((m < 0) != (ri < 0)) {
				m += ri
			}
			return m, nil
		}
		m := math.Mod(lf, rf)
		if m != 0 && ((m < 0) != (rf < 0)) {
			m += rf
		}
		return m, nil
	case "**":
		if isInt && ri >= 0 && ri <= 62 {
			out := 1
			for i := 0; i < ri; i++ {
				out *= li
			}
			return out, nil
		}
		return math.Pow(lf, rf), nil
	}
	return nil, fmt.Errorf("unsupported operator %q", op)
}

// pyFormat implements the common cases of Python's "fmt" % args.
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
		switch verb {
		case 's':
			fmt.Fprintf(&b, "%"+flags+"s", toStr(a))
		case 'r':
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

func (s *state) evalArgs(args []nodes.Expression, kwargs map[string]nodes.Expression) ([]any, map[string]any, error) {
	var out []any
	if len(args) > 0 {
		out = make([]any, len(args))
		for i, a := range args {
			v, err := s.evalDefined(a)
			if err != nil {
				return nil, nil, err
			}
			if out[i], err = s.deepResolve(v, 0); err != nil {
				return nil, nil, err
			}
		}
	}
	var kw map[string]any
	if len(kwargs) > 0 {
		kw = make(map[string]any, len(kwargs))
		for k, a := range kwargs {
			v, err := s.evalDefined(a)
			if err != nil {
				return nil, nil, err
			}
			if kw[k], err = s.deepResolve(v, 0); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, kw, nil
}

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
		}
		v, err := s.callGlobal(name, args, kw)
		return s.seal(v), err
	case *nodes.GetAttribute:
		base, err := s.evalDefined(f.Node)
		if err != nil {
			return nil, err
		}
		if base, err = s.deepResolve(base, 0); err != nil {
			return nil, err
		}
		v, err := callMethod(base, f.Attribute, args, kw)
		return s.seal(v), err
	}
	return nil, fmt.Errorf("%s is not callable", exprName(n.Func))
}

func (s *state) callGlobal(name string, args []any, kw map[string]any) (any, error) {
	switch name {
	case "lookup":
		return s.lookup(args, kw, false)
	case "query", "q":
		return s.lookup(args, kw, true)
	case "range":
		return pyRange(args)
	case "dict":
		out := map[string]any{}
		if len(args) > 0 {
			d, err := filterDict(s, args[0], nil, nil)
			if err != nil {
				return nil, err
			}
			for k, v := range d.(map[string]any) {
				out[k] = v
			}
		}
		for k, v := range kw {
			out[k] = v
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

// callMethod implements the Python str/list/dict methods templates use.
func callMethod(base any, name string, args []any, kw map[string]any) (any, error) {
	arg := func(i int) string {
		if i < len(args) {
			return toStr(args[i])
		}
		return ""
	}
	switch b := base.(type) {
	case string:
		switch name {
		case "startswith":
			if l, ok := firstArg(args).([]any); ok {
				for _, p := range l {
					if strings.HasPrefix(b, toStr(p)) {
						return true, nil
					}
				}
				return false, nil
			}
			return strings.HasPrefix(b, arg(0)), nil
		case "endswith":
			if l, ok := firstArg(args).([]any); ok {
				for _, p := range l {
					if strings.HasSuffix(b, toStr(p)) {
						return true, nil
					}
				}
				return false, nil
			}
			return strings.HasSuffix(b, arg(0)), nil
		case "split":
			return filterSplit(nil, b, args, kw)
		case "rsplit":
			if len(args) == 0 {
				return filterSplit(nil, b, nil, nil)
			}
			n := -1
			if len(args) > 1 {
				n = toInt(args[1], -1, 10)
			}
			parts := strings.Split(b, arg(0))
			if n >= 0 && len(parts) > n+1 {
				head := strings.Join(parts[:len(parts)-n], arg(0))
				parts = append([]string{head}, parts[len(parts)-n:]...)
			}
			return strsToList(parts), nil
		case "splitlines":
			return strsToList(splitLines(b)), nil
		case "strip", "lstrip", "rstrip":
			cut := " \t\n\r\v\f"
			if len(args) > 0 && args[0] != nil {
				cut = arg(0)
			}
			switch name {
			case "lstrip":
				return strings.TrimLeft(b, cut), nil
			case "rstrip":
				return strings.TrimRight(b, cut), nil
			}
			return strings.Trim(b, cut), nil
		case "lower":
			return strings.ToLower(b), nil
		case "upper":
			return strings.ToUpper(b), nil
		case "title":
			return filterTitle(nil, b, nil, nil)
		case "capitalize":
			return filterCapitalize(nil, b, nil, nil)
		case "replace":
			n := -1
			if len(args) > 2 {
				n = toInt(args[2], -1, 10)
			}
			return strings.Replace(b, arg(0), arg(1), n), nil
		case "find":
			return strings.Index(b, arg(0)), nil
		case "index":
			i := strings.Index(b, arg(0))
			if i < 0 {
				return nil, fmt.Errorf("substring not found")
			}
			return i, nil
		case "count":
			return strings.Count(b, arg(0)), nil
		case "join":
			l, ok := firstArg(args).([]any)
			if !ok {
				return nil, fmt.Errorf("join() argument must be a list")
			}
			parts := make([]string, len(l))
			for i, e := range l {
				parts[i] = toStr(e)
			}
			return strings.Join(parts, b), nil
		case "format":
			return strFormat(b, args, kw)
		case "isdigit":
			return b != "" && strings.Trim(b, "0123456789") == "", nil
		case "isalpha":
			if b == "" {
				return false, nil
			}
			for _, r := range b {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					return false, nil
				}
			}
			return true, nil
		case "zfill":
			w := toInt(firstArg(args), 0, 10)
			if w > maxRepeat {
				return nil, fmt.Errorf("zfill width too large")
			}
			if len(b) < w {
				b = strings.Repeat("0", w-len(b)) + b
			}
			return b, nil
		}
	case []any:
		switch name {
		case "index":
			for i, e := range b {
				if equal(e, firstArg(args)) {
					return i, nil
				}
			}
			return nil, fmt.Errorf("%s is not in list", repr(firstArg(args)))
		case "count":
			n := 0
			for _, e := range b {
				if equal(e, firstArg(args)) {
					n++
				}
			}
			return n, nil
		}
	case map[string]any:
		switch name {
		case "items":
			out := make([]any, 0, len(b))
			for _, k := range sortedKeys(b) {
				out = append(out, []any{k, b[k]})
			}
			return out, nil
		case "keys":
			out := make([]any, 0, len(b))
			for _, k := range sortedKeys(b) {
				out = append(out, k)
			}
			return out, nil
		case "values":
			out := make([]any, 0, len(b))
			for _, k := range sortedKeys(b) {
				out = append(out, b[k])
			}
			return out, nil
		case "get":
			if v, ok := b[arg(0)]; ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		}
	}
	return nil, fmt.Errorf("'%s object' has no attribute '%s'", typeName(base), name)
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

func strsToList(parts []string) []any {
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// strFormat implements "{} {name}".format(...) for plain fields.
func strFormat(f string, args []any, kw map[string]any) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '{' && i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		if c == '}' && i+1 < len(f) && f[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("single '{' encountered in format string")
		}
		field, _, _ := strings.Cut(f[i+1:i+end], ":")
		var v any
		switch {
		case field == "":
			if auto >= len(args) {
				return nil, fmt.Errorf("format: not enough arguments")
			}
			v = args[auto]
			auto++
		default:
			if n, err := strconv.Atoi(field); err == nil {
				if n >= len(args) {
					return nil, fmt.Errorf("format: index %d out of range", n)
				}
				v = args[n]
			} else {
				var ok bool
				if v, ok = kw[field]; !ok {
					return nil, fmt.Errorf("format: missing key %q", field)
				}
			}
		}
		b.WriteString(toStr(v))
		i += end
	}
	return b.String(), nil
}
