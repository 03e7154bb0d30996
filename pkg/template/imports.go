package template

import (
	"fmt"
	"os"
	"strings"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// importNode is {% import "file" as name %} or
// {% from "file" import a, b as c %}, with or without context.
type importNode struct {
	loc  *tokens.Token
	file nodes.Expression
	// alias is the name of {% import ... as alias %}; names are the
	// macros of {% from ... import %}, each with the name it is bound to.
	alias string
	names [][2]string
}

func (n *importNode) Position() *tokens.Token { return n.loc }
func (n *importNode) String() string          { return fmt.Sprintf("import(line %d)", n.loc.Line) }

// templateModule is an imported template: its macros and top-level
// {% set %} variables by name.
type templateModule struct {
	file   string
	macros map[string]any
}

func parseImport(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &importNode{loc: p.Current()}
	var err error
	if n.file, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if args.MatchName("as") == nil {
		return nil, args.Error("expected 'as' in import", args.Current())
	}
	name := args.Match(tokens.Name)
	if name == nil {
		return nil, args.Error("expected a name after 'as' in import", args.Current())
	}
	n.alias = name.Val
	return n, endImport(args, "import")
}

func parseFromImport(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	n := &importNode{loc: p.Current()}
	var err error
	if n.file, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if args.MatchName("import") == nil {
		return nil, args.Error("expected 'import' in from", args.Current())
	}
	for {
		if c := args.Current(); c != nil && c.Type == tokens.Name && (c.Val == "with" || c.Val == "without") {
			break
		}
		name := args.Match(tokens.Name)
		if name == nil {
			return nil, args.Error("expected a macro name in from ... import", args.Current())
		}
		as := name.Val
		if args.MatchName("as") != nil {
			alias := args.Match(tokens.Name)
			if alias == nil {
				return nil, args.Error("expected a name after 'as'", args.Current())
			}
			as = alias.Val
		}
		n.names = append(n.names, [2]string{name.Val, as})
		if args.Match(tokens.Comma) == nil {
			break
		}
	}
	return n, endImport(args, "from")
}

// endImport reads an optional "with context"/"without context". Macros
// always see the importing template's variables in tend (Jinja2 gives
// them only with context).
func endImport(args *parser.Parser, stmt string) error {
	if tok := args.MatchName("with", "without"); tok != nil {
		if args.MatchName("context") == nil {
			return args.Error("expected 'context' after '"+tok.Val+"' in "+stmt, args.Current())
		}
	}
	if !args.End() {
		return args.Error("unexpected token in "+stmt, args.Current())
	}
	return nil
}

// execImport binds an imported template's macros: the module under its
// alias, or the named macros.
func (s *state) execImport(n *importNode) error {
	v, err := s.evalDefined(n.file)
	if err != nil {
		return err
	}
	name := toStr(v)
	p, err := s.findFile(name, "templates")
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	c, err := s.e.compile(string(src))
	if err != nil {
		return fmt.Errorf("import %s: %w", p, err)
	}
	mod := &templateModule{file: name, macros: map[string]any{}}
	for _, node := range c.root.Nodes {
		cs, ok := node.(*nodes.ControlStructureBlock)
		if !ok {
			continue
		}
		switch x := cs.ControlStructure.(type) {
		case *controlStructures.MacroControlStructure:
			mod.macros[x.Name] = &macro{node: x.Macro, module: mod.macros}
		case *setNode:
			// A top-level {% set %} is exported too, evaluated with the
			// importing template's variables.
			s.scopes = append(s.scopes, map[string]any{})
			err := s.execSet(x)
			top := s.scopes[len(s.scopes)-1]
			s.scopes = s.scopes[:len(s.scopes)-1]
			if err != nil {
				return fmt.Errorf("import %s: %w", p, err)
			}
			for k, v := range top {
				mod.macros[k] = v
			}
		}
	}
	if n.alias != "" {
		s.setLocal(n.alias, mod)
		return nil
	}
	for _, nm := range n.names {
		m, ok := mod.macros[nm[0]]
		if !ok {
			return fmt.Errorf("the template %s (imported on line %d) does not export the requested name %s", name, n.loc.Line, nm[0])
		}
		s.setLocal(nm[1], m)
	}
	return nil
}

// callModuleMacro calls name of an imported template.
func (s *state) callModuleMacro(mod *templateModule, name string, args []any, kw map[string]any) (any, error) {
	m, ok := mod.macros[name].(*macro)
	if !ok {
		return nil, fmt.Errorf("the template %s has no macro %s (it has %s)", mod.file, name, strings.Join(sortedKeys(mod.macros), ", "))
	}
	return s.callMacro(m, args, kw)
}
