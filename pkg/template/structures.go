package template

import (
	"fmt"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// csGetter chooses the {% %} statements the parser accepts. gonja's own
// parsers are reused where their nodes expose their fields; set and raw are
// parsed here because gonja keeps their fields private.
type csGetter map[string]parser.ControlStructureParser

func (g csGetter) Get(name string) (parser.ControlStructureParser, bool) {
	p, ok := g[name]
	return p, ok
}

func newControlStructures() csGetter {
	g := csGetter{"set": parseSet, "raw": parseRaw}
	for _, name := range []string{"for", "if", "macro", "break", "continue", "do"} {
		if p, ok := controlStructures.All.Get(name); ok {
			g[name] = p
		}
	}
	return g
}

// setNode is {% set target = expr %} or {% set target %}body{% endset %}.
type setNode struct {
	loc         *tokens.Token
	target      nodes.Expression
	expr        nodes.Expression
	condition   nodes.Expression
	alternative nodes.Expression
	body        *nodes.Wrapper
}

func (s *setNode) Position() *tokens.Token { return s.loc }
func (s *setNode) String() string          { return fmt.Sprintf("set(line %d)", s.loc.Line) }

func parseSet(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	cs := &setNode{loc: p.Current()}
	target, err := args.ParseVariableOrLiteral()
	if err != nil {
		return nil, err
	}
	switch target.(type) {
	case *nodes.Name, *nodes.GetAttribute, *nodes.GetItem:
		cs.target = target
	default:
		return nil, args.Error("unexpected set target", args.Current())
	}
	if args.Match(tokens.Assign) == nil {
		if !args.End() {
			return nil, args.Error("expected '=' or end of tag in set", args.Current())
		}
		wrapper, endargs, err := p.WrapUntil("endset")
		if err != nil {
			return nil, err
		}
		if !endargs.End() {
			return nil, endargs.Error("endset takes no arguments", endargs.Current())
		}
		cs.body = wrapper
		return cs, nil
	}
	if cs.expr, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if cs.expr == nil {
		return nil, args.Error("expected an expression in set", args.Current())
	}
	if cs.condition, cs.alternative, err = args.ParseCondition(); err != nil {
		return nil, err
	}
	if !args.End() {
		return nil, args.Error("unexpected token in set", args.Current())
	}
	return cs, nil
}

// rawNode is {% raw %}...{% endraw %}.
type rawNode struct {
	loc  *tokens.Token
	text string
}

func (r *rawNode) Position() *tokens.Token { return r.loc }
func (r *rawNode) String() string          { return "raw" }

func parseRaw(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	loc := p.Current()
	wrapper, _, err := p.WrapUntil("endraw")
	if err != nil {
		return nil, err
	}
	if !args.End() {
		return nil, args.Error("raw takes no arguments", args.Current())
	}
	n := &rawNode{loc: loc}
	for _, node := range wrapper.Nodes {
		d, ok := node.(*nodes.Data)
		if !ok {
			return nil, p.Error("raw block can only contain text", loc)
		}
		n.text += d.Data.Val
	}
	return n, nil
}
