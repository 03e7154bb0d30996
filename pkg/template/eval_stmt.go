// Statements: rendering the node tree to text, and the control structures
// (if, for with its loop variable, set, macro, include, break, continue,
// do).

package template

import (
	"errors"
	"fmt"
	"strings"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/tend-dev/tend/pkg/odict"
)

// renderNodes renders a list of nodes into b, stopping once the output
// exceeds maxRendered.
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

// renderNode renders one node: literal text, an {{ output }} or a
// statement.
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
		// Ansible's finalize prints None as nothing ("x{{ None }}y" is
		// "xy"), in templates and template files alike.
		out := ""
		if v != nil {
			out = toStr(v)
		}
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

// execStructure runs a {% statement %}.
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
	case *importNode:
		return s.execImport(n)
	case *withNode:
		return s.execWith(b, n)
	case *filterNode:
		return s.execFilterBlock(b, n)
	case *callNode:
		return s.execCallBlock(b, n)
	case *blockNode:
		return s.execBlock(b, n)
	case *extendsNode:
		// Reached only below the top level, where Jinja2 also refuses it.
		return fmt.Errorf("extends must be a top-level statement")
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

// attr is loop.index, loop.first, loop.previtem... in a template for loop.
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
	items, err := s.forItems(n)
	if err != nil {
		return err
	}
	if n.IfCondition != nil {
		if items, err = s.forFilter(n, items); err != nil {
			return err
		}
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
	for i, it := range items {
		if err := s.canceled(); err != nil {
			return err
		}
		if err := s.spend(1); err != nil {
			return err
		}
		if b.Len() > maxRendered {
			return errTooLong
		}
		li := &loopInfo{index: i, length: len(items), depth: depth}
		if i > 0 {
			li.prev, li.hasPrev = items[i-1].loopValue(n), true
		}
		if i < len(items)-1 {
			li.next, li.hasNext = items[i+1].loopValue(n), true
		}
		scope := map[string]any{"loop": li}
		it.bind(n, scope)
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

// forBinding is what one iteration of a for loop binds: the loop variable,
// or both variables of "for k, v in ...".
type forBinding struct{ key, value any }

// bind sets the loop variables of one iteration in scope.
func (it forBinding) bind(n *controlStructures.ForControlStructure, scope map[string]any) {
	scope[n.Key] = it.key
	if n.Value != "" {
		scope[n.Value] = it.value
	}
}

// loopValue is the item as loop.previtem and loop.nextitem show it.
func (it forBinding) loopValue(n *controlStructures.ForControlStructure) any {
	if n.Value != "" {
		return []any{it.key, it.value}
	}
	return it.key
}

// forItems evaluates what a for loop iterates over: a dict's keys
// and values for "for k, v in dict", else the items of a sequence, each
// unpacked into two variables when the loop names two.
func (s *state) forItems(n *controlStructures.ForControlStructure) ([]forBinding, error) {
	obj, err := s.evalDefined(n.ObjectEvaluator)
	if err != nil {
		return nil, err
	}
	var items []forBinding
	if keys, m, ok := odict.As(obj); ok && n.Value != "" {
		for _, k := range keys {
			v, err := s.resolveLazy(m[k])
			if err != nil {
				return nil, err
			}
			items = append(items, forBinding{k, v})
		}
		return items, nil
	}
	list, err := iterate(obj)
	if err != nil {
		return nil, err
	}
	for _, item := range list {
		item, err := s.resolveLazy(item)
		if err != nil {
			return nil, err
		}
		if n.Value == "" {
			items = append(items, forBinding{key: item})
			continue
		}
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("cannot unpack %s into %s, %s", repr(item), n.Key, n.Value)
		}
		items = append(items, forBinding{s.unmark(pair[0]), s.unmark(pair[1])})
	}
	return items, nil
}

// forFilter keeps the items for which the loop's "if" condition holds;
// loop.length and loop.index count only those, as in Jinja2.
func (s *state) forFilter(n *controlStructures.ForControlStructure, items []forBinding) ([]forBinding, error) {
	kept := items[:0:0]
	for _, it := range items {
		scope := map[string]any{}
		it.bind(n, scope)
		s.scopes = append(s.scopes, scope)
		v, err := s.evalDefined(n.IfCondition)
		s.scopes = s.scopes[:len(s.scopes)-1]
		if err != nil {
			return nil, err
		}
		if ok, err := truthy(v); err != nil {
			return nil, err
		} else if ok {
			kept = append(kept, it)
		}
	}
	return kept, nil
}

// setLocal sets a template-local variable in the innermost scope.
func (s *state) setLocal(name string, v any) {
	if len(s.scopes) == 0 {
		s.scopes = append(s.scopes, map[string]any{})
	}
	s.scopes[len(s.scopes)-1][name] = v
}

// lookupLocal finds a template-local variable, innermost scope first.
func (s *state) lookupLocal(name string) (any, bool) {
	for i := len(s.scopes) - 1; i >= 0; i-- {
		if v, ok := s.scopes[i][name]; ok {
			return v, true
		}
	}
	return nil, false
}

// execSet runs {% set target = expr %} and {% set target %}body{% endset %};
// the target is a name, or an attribute or item of a dict (a namespace()).
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
		if d, ok := base.(*odict.Dict); ok {
			d.Set(t.Attribute, v)
			return nil
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
		if d, ok := base.(*odict.Dict); ok {
			d.Set(toStr(key), v)
			return nil
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
// macro is a {% macro %}; module holds the macros of the template it was
// imported from (it may call them), nil for the template's own.
type macro struct {
	node   *nodes.Macro
	module map[string]any
}

// callMacro calls a macro with its arguments bound in a scope of their own,
// defaults filled in; the call depth counts towards maxDepth.
func (s *state) callMacro(m *macro, args []any, kw map[string]any) (any, error) {
	if s.depth >= maxDepth {
		return nil, fmt.Errorf("macro %s: recursion too deep", m.node.Name)
	}
	if err := s.canceled(); err != nil {
		return nil, err
	}
	if err := s.spend(1); err != nil {
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
	// Jinja2 binds the positional and keyword arguments the parameters
	// do not take to varargs and kwargs, and a {% call %} body to caller.
	extra := []any{}
	if len(args) > len(m.node.Kwargs) {
		extra = args[len(m.node.Kwargs):]
	}
	if m.node.VarArgsName != "" {
		scope[m.node.VarArgsName] = extra
	} else {
		scope["varargs"] = extra
	}
	extraKw := map[string]any{}
	for k, v := range kw {
		if _, isParam := scope[k]; !isParam && k != "caller" {
			extraKw[k] = s.seal(v)
		}
	}
	scope["kwargs"] = extraKw
	if c, ok := kw["caller"]; ok {
		scope["caller"] = c
	}
	s.depth++
	saved := len(s.scopes)
	if m.module != nil {
		s.scopes = append(s.scopes, m.module)
	}
	s.scopes = append(s.scopes, scope)
	var b strings.Builder
	err := s.renderNodes(&b, m.node.Wrapper.Nodes)
	s.scopes = s.scopes[:saved]
	s.depth--
	return b.String(), err
}
