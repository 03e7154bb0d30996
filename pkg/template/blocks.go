// Statements that wrap a body: {% with %}, {% filter %}, {% call %}, and
// template inheritance with {% extends %} and {% block %}. gonja has
// parsers for some of them but keeps their fields private, so they are
// parsed here, as set, raw and include are in structures.go.

package template

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// withNode is {% with a = 1, b = x %}body{% endwith %}: the names are
// local to the body.
type withNode struct {
	loc   *tokens.Token
	names []string
	exprs []nodes.Expression
	body  *nodes.Wrapper
}

func (n *withNode) Position() *tokens.Token { return n.loc }
func (n *withNode) String() string          { return fmt.Sprintf("with(line %d)", n.loc.Line) }

func parseWith(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &withNode{loc: p.Current()}
	for !args.End() {
		name := args.Match(tokens.Name)
		if name == nil || args.Match(tokens.Assign) == nil {
			return nil, args.Error("expected name = expression in with", args.Current())
		}
		expr, err := args.ParseExpression()
		if err != nil {
			return nil, err
		}
		n.names, n.exprs = append(n.names, name.Val), append(n.exprs, expr)
		if args.Match(tokens.Comma) == nil && !args.End() {
			return nil, args.Error("expected ',' or end of tag in with", args.Current())
		}
	}
	body, err := wrapBody(p, "endwith")
	if err != nil {
		return nil, err
	}
	n.body = body
	return n, nil
}

// wrapBody parses a statement's body up to its end tag, which takes no
// arguments.
func wrapBody(p *parser.Parser, endTag string) (*nodes.Wrapper, error) {
	body, end, err := p.WrapUntil(endTag)
	if err != nil {
		return nil, err
	}
	if !end.End() {
		return nil, end.Error(endTag+" takes no arguments", end.Current())
	}
	return body, nil
}

// execWith evaluates the assignments in order, each seeing the ones
// before it, as Jinja2 does, then renders the body in that scope.
func (s *state) execWith(b *strings.Builder, n *withNode) error {
	scope := map[string]any{}
	s.scopes = append(s.scopes, scope)
	defer func() { s.scopes = s.scopes[:len(s.scopes)-1] }()
	for i, name := range n.names {
		v, err := s.evalDefined(n.exprs[i])
		if err != nil {
			return err
		}
		scope[name] = v
	}
	return s.renderNodes(b, n.body.Nodes)
}

// filterBody is the name the body of {% filter %} is bound to while its
// filter chain is evaluated.
const filterBody = "__tend_filter_body__"

// filterNode is {% filter name(args) | other %}body{% endfilter %}.
type filterNode struct {
	loc   *tokens.Token
	chain nodes.Expression // the filters applied to the name filterBody
	body  *nodes.Wrapper
}

func (n *filterNode) Position() *tokens.Token { return n.loc }
func (n *filterNode) String() string          { return fmt.Sprintf("filter(line %d)", n.loc.Line) }

func parseFilterBlock(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &filterNode{loc: p.Current()}
	// The tag holds "name(args) | other": parse it as the filters of an
	// expression "body | name(args) | other".
	if args.Current(tokens.Name) == nil {
		return nil, args.Error("expected a filter name in filter", args.Current())
	}
	base := &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: filterBody, Line: n.loc.Line, Col: n.loc.Col}}
	pipe := &tokens.Token{Type: tokens.Pipe, Val: "|"}
	chain, err := parseFilterChain(args, base, pipe)
	if err != nil {
		return nil, err
	}
	body, err := wrapBody(p, "endfilter")
	if err != nil {
		return nil, err
	}
	n.chain, n.body = chain, body
	return n, nil
}

// parseFilterChain parses "f(args) | g" after base as if a pipe preceded
// it: gonja's filter-expression parser starts at a pipe.
func parseFilterChain(args *parser.Parser, base nodes.Expression, pipe *tokens.Token) (nodes.Expression, error) {
	var toks []*tokens.Token
	toks = append(toks, pipe)
	for tok := args.Current(); tok != nil && tok.Type != tokens.EOF; tok = args.Current() {
		toks = append(toks, args.Next())
	}
	toks = append(toks, &tokens.Token{Type: tokens.EOF})
	sub := parser.NewParser("filter", tokens.NewStream(toks), args.Config, nil, nil)
	chain, err := sub.ParseFilterExpression(base)
	if err != nil {
		return nil, err
	}
	if !sub.End() {
		return nil, sub.Error("unexpected token in filter", sub.Current())
	}
	return chain, nil
}

// execFilterBlock renders the body, then applies the filters to the text.
func (s *state) execFilterBlock(b *strings.Builder, n *filterNode) error {
	var body strings.Builder
	if err := s.renderNodes(&body, n.body.Nodes); err != nil {
		return err
	}
	s.scopes = append(s.scopes, map[string]any{filterBody: body.String()})
	v, err := s.evalDefined(n.chain)
	s.scopes = s.scopes[:len(s.scopes)-1]
	if err != nil {
		return err
	}
	if v, err = s.deepResolve(v, 0); err != nil {
		return err
	}
	b.WriteString(toStr(v))
	return nil
}

// callNode is {% call [(params)] macro(args) %}body{% endcall %}: the
// macro is called with caller, a macro whose body is the call's body.
type callNode struct {
	loc    *tokens.Token
	caller *nodes.Macro
	call   *nodes.Call
}

func (n *callNode) Position() *tokens.Token { return n.loc }
func (n *callNode) String() string          { return fmt.Sprintf("call(line %d)", n.loc.Line) }

func parseCallBlock(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	loc := p.Current()
	caller := &nodes.Macro{Location: loc, Name: "caller"}
	if args.Match(tokens.LeftParenthesis) != nil {
		for args.Match(tokens.RightParenthesis) == nil {
			name := args.Match(tokens.Name)
			if name == nil {
				return nil, args.Error("expected a parameter name in call", args.Current())
			}
			param := &nodes.Pair{Key: &nodes.String{Location: name, Val: name.Val}, Value: &nodes.None{Location: name}}
			if args.Match(tokens.Assign) != nil {
				def, err := args.ParseExpression()
				if err != nil {
					return nil, err
				}
				param.Value = def
			}
			caller.Kwargs = append(caller.Kwargs, param)
			if args.Match(tokens.Comma) == nil && args.Current(tokens.RightParenthesis) == nil {
				return nil, args.Error("expected ',' or ')' in call parameters", args.Current())
			}
		}
	}
	expr, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	call, ok := expr.(*nodes.Call)
	if !ok || !args.End() {
		return nil, args.Error("expected a macro call in call", args.Current())
	}
	body, err := wrapBody(p, "endcall")
	if err != nil {
		return nil, err
	}
	caller.Wrapper = body
	return &callNode{loc: loc, caller: caller, call: call}, nil
}

func (s *state) execCallBlock(b *strings.Builder, n *callNode) error {
	name, ok := n.call.Func.(*nodes.Name)
	if !ok {
		return fmt.Errorf("call: %s is not a macro", exprName(n.call.Func))
	}
	v, _ := s.lookupLocal(name.Name.Val)
	m, ok := v.(*macro)
	if !ok {
		return fmt.Errorf("call: '%s' is not a macro", name.Name.Val)
	}
	args, kw, err := s.evalArgs(n.call.Args, n.call.Kwargs)
	if err != nil {
		return err
	}
	if kw == nil {
		kw = map[string]any{}
	}
	kw["caller"] = &macro{node: n.caller}
	out, err := s.callMacro(m, args, kw)
	if err != nil {
		return err
	}
	b.WriteString(toStr(out))
	return nil
}

// blockNode is {% block name %}body{% endblock [name] %}.
type blockNode struct {
	loc  *tokens.Token
	name string
	body *nodes.Wrapper
}

func (n *blockNode) Position() *tokens.Token { return n.loc }
func (n *blockNode) String() string          { return fmt.Sprintf("block %s(line %d)", n.name, n.loc.Line) }

func parseBlock(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &blockNode{loc: p.Current()}
	name := args.Match(tokens.Name)
	if name == nil {
		return nil, args.Error("expected a block name", args.Current())
	}
	args.MatchName("scoped")
	args.MatchName("required")
	if !args.End() {
		return nil, args.Error("unexpected token in block", args.Current())
	}
	body, end, err := p.WrapUntil("endblock")
	if err != nil {
		return nil, err
	}
	if tok := end.Match(tokens.Name); tok != nil && tok.Val != name.Val {
		return nil, end.Error(fmt.Sprintf("endblock %s does not close block %s", tok.Val, name.Val), tok)
	}
	n.name, n.body = name.Val, body
	return n, nil
}

// extendsNode is {% extends "parent.j2" %}.
type extendsNode struct {
	loc  *tokens.Token
	name nodes.Expression
}

func (n *extendsNode) Position() *tokens.Token { return n.loc }
func (n *extendsNode) String() string          { return fmt.Sprintf("extends(line %d)", n.loc.Line) }

func parseExtends(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &extendsNode{loc: p.Current()}
	var err error
	if n.name, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if !args.End() {
		return nil, args.Error("unexpected token in extends", args.Current())
	}
	return n, nil
}

// superBlock is super() inside a block: the next definition of the block
// up the inheritance chain.
type superBlock struct {
	chain []*blockNode
	next  int
}

// execBlock renders a block: the most derived definition of its name, with
// super() rendering the one it overrides.
func (s *state) execBlock(b *strings.Builder, n *blockNode) error {
	chain := append(append([]*blockNode(nil), s.blocks[n.name]...), n)
	return s.renderBlockAt(b, chain, 0)
}

func (s *state) renderBlockAt(b *strings.Builder, chain []*blockNode, i int) error {
	scope := map[string]any{"super": &superBlock{chain: chain, next: i + 1}}
	s.scopes = append(s.scopes, scope)
	defer func() { s.scopes = s.scopes[:len(s.scopes)-1] }()
	return s.renderNodes(b, chain[i].body.Nodes)
}

// callSuper renders the overridden block for super().
func (s *state) callSuper(sb *superBlock) (any, error) {
	if sb.next >= len(sb.chain) {
		return nil, fmt.Errorf("super(): no parent block %s", sb.chain[0].name)
	}
	var b strings.Builder
	err := s.renderBlockAt(&b, sb.chain, sb.next)
	return b.String(), err
}

// execExtends renders the parent template in place of this one. The blocks
// this template defines override the parent's (those of a template
// extending this one come first); this template's own text outside blocks
// is not output, as in Jinja2, but its set and macro statements run.
func (s *state) execExtends(b *strings.Builder, n *extendsNode, root []nodes.Node) error {
	v, err := s.evalDefined(n.name)
	if err != nil {
		return err
	}
	name := toStr(v)
	p, err := s.findFile(name, "templates")
	if err != nil {
		return fmt.Errorf("extends: %w", err)
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("extends: %w", err)
	}
	if s.blocks == nil {
		s.blocks = map[string][]*blockNode{}
	}
	collectBlocks(root, s.blocks)
	for _, node := range root {
		if c, ok := node.(*nodes.ControlStructureBlock); ok {
			switch c.ControlStructure.(type) {
			case *setNode, *controlStructures.MacroControlStructure:
				if err := s.execStructure(&strings.Builder{}, c.ControlStructure); err != nil {
					return err
				}
			}
		}
	}
	if err := s.canEnter(p, "extends"); err != nil {
		return fmt.Errorf("extends: %w", err)
	}
	c, err := s.e.compile(string(src))
	if err != nil {
		return fmt.Errorf("extends %s: %w", p, err)
	}
	s.files = append(s.files, p)
	defer func() { s.files = s.files[:len(s.files)-1] }()
	saved := s.e
	s.e = s.e.WithSearchPath(filepath.Dir(p))
	defer func() { s.e = saved }()
	return s.renderTemplate(b, c.root.Nodes)
}

// collectBlocks adds the blocks defined in list, nested ones included, to
// blocks, after the definitions already there (which override them).
func collectBlocks(list []nodes.Node, blocks map[string][]*blockNode) {
	for _, node := range list {
		switch n := node.(type) {
		case *nodes.ControlStructureBlock:
			if bn, ok := n.ControlStructure.(*blockNode); ok {
				blocks[bn.name] = append(blocks[bn.name], bn)
				collectBlocks(bn.body.Nodes, blocks)
			}
		case *nodes.Wrapper:
			collectBlocks(n.Nodes, blocks)
		}
	}
}

// renderTemplate renders a template's top-level nodes; an {% extends %}
// among them hands the rendering over to the parent template.
func (s *state) renderTemplate(b *strings.Builder, list []nodes.Node) error {
	for i, node := range list {
		c, ok := node.(*nodes.ControlStructureBlock)
		if !ok {
			continue
		}
		if ext, ok := c.ControlStructure.(*extendsNode); ok {
			// Text before the extends tag is output, as in Jinja2.
			if err := s.renderNodes(b, list[:i]); err != nil {
				return err
			}
			if err := s.execExtends(b, ext, list[i+1:]); err != nil {
				return s.wrap(err, c.Location)
			}
			return nil
		}
	}
	return s.renderNodes(b, list)
}
