package template

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// csGetter chooses the {% %} statements the parser accepts. gonja's own
// parsers are reused where their nodes expose their fields; set and raw are
// parsed here because gonja keeps their fields private, and so is include,
// which gonja resolves with its own loader.
type csGetter map[string]parser.ControlStructureParser

func (g csGetter) Get(name string) (parser.ControlStructureParser, bool) {
	p, ok := g[name]
	return p, ok
}

func newControlStructures() csGetter {
	g := csGetter{"set": parseSet, "raw": parseRaw, "include": parseInclude, "with": parseWith, "filter": parseFilterBlock,
		"call": parseCallBlock, "block": parseBlock, "extends": parseExtends, "import": parseImport, "from": parseFromImport}
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
		wrapper, err := wrapBody(p, "endset")
		if err != nil {
			return nil, err
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

// includeNode is {% include name [ignore missing] [with context|without context] %}.
type includeNode struct {
	loc           *tokens.Token
	name          nodes.Expression
	ignoreMissing bool
	noContext     bool
}

func (n *includeNode) Position() *tokens.Token { return n.loc }
func (n *includeNode) String() string          { return fmt.Sprintf("include(line %d)", n.loc.Line) }

func parseInclude(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &includeNode{loc: p.Current()}
	var err error
	if n.name, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if args.MatchName("ignore") != nil {
		if args.MatchName("missing") == nil {
			return nil, args.Error("expected 'missing' after 'ignore' in include", args.Current())
		}
		n.ignoreMissing = true
	}
	if tok := args.MatchName("with", "without"); tok != nil {
		if args.MatchName("context") == nil {
			return nil, args.Error("expected 'context' after '"+tok.Val+"' in include", args.Current())
		}
		n.noContext = tok.Val == "without"
	}
	if !args.End() {
		return nil, args.Error("unexpected token in include", args.Current())
	}
	return n, nil
}

// execInclude renders an included template file in place. Like Jinja2,
// the included template sees the variables of the including one, its
// template-local ones ({% set %}, loop variables) included, unless
// "without context" is given. A template including itself, directly or
// through others, is an error naming the files.
func (s *state) execInclude(b *strings.Builder, n *includeNode) error {
	v, err := s.evalDefined(n.name)
	if err != nil {
		return err
	}
	name := toStr(v)
	p, err := s.findFile(name, "templates")
	if err != nil {
		if n.ignoreMissing {
			return nil
		}
		return fmt.Errorf("include: %w", err)
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("include: %w", err)
	}
	vars := s.vars
	if n.noContext {
		vars = map[string]any{}
	} else if len(s.scopes) > 0 {
		vars = maps.Clone(s.vars)
		for _, sc := range s.scopes {
			maps.Copy(vars, sc)
		}
	}
	out, err := s.e.WithSearchPath(filepath.Dir(p)).renderFile(s, p, string(src), vars, false)
	if err != nil {
		return fmt.Errorf("include %s: %w", p, err)
	}
	b.WriteString(out)
	return nil
}
