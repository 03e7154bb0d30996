// The evaluator's core: one state per Render call, running a compiled
// template, wrapping errors with their position, and resolving variables
// (lazily rendered, with recursion detection). Statements are in
// eval_stmt.go, expressions in eval_expr.go, Python methods in pymethods.go.

package template

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
	"github.com/tend-dev/tend/pkg/odict"
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
	work   *workBudget
	// blocks are the {% block %} definitions of the templates extending
	// the one being rendered, most derived first.
	blocks map[string][]*blockNode
	// tainted is set once the render read an Unsafe value: its result is
	// then host data too (see seal and RenderMarked).
	tainted bool
	// finalize makes a single expression whose value is None render as
	// '', as Ansible's finalize does, unless the template is just
	// "{{ name }}" of a defined variable (Render, not Eval).
	finalize bool
}

// newState starts one render of src with vars; a state is never shared
// between goroutines.
func (e *Engine) newState(vars map[string]any, src string) *state {
	return &state{e: e, vars: vars, src: src}
}

// run executes a compiled template. Without native the result is text.
// With native it has the type Ansible 2.14's default templating
// (jinja2_native off) gives it (see ansibleTyped).
func (s *state) run(c *compiled, native bool) (any, error) {
	v, err := s.runTemplate(c, native)
	if err != nil || !native {
		return v, err
	}
	return s.ansibleTyped(c, v), nil
}

// ansibleTyped gives a template's value the type Ansible's Templar gives
// it: the text of the value (ansible_eval_concat's to_text), which becomes
// a list, dict or boolean again when it reads as a Python literal one, so
// "{{ 1 + 2 }}" and "{{ port }}" of a port rendered from a template are
// the string "3" and "8080", and JSON text a command printed is a dict.
// Two exceptions keep a value: "{{ name }}" of a variable holding a number
// or boolean (Templar's SINGLE_VAR shortcut), and a value made by a filter
// whose text Ansible keeps (NativeJinjaText: to_json, string...).
func (s *state) ansibleTyped(c *compiled, v any) any {
	switch x := v.(type) {
	case string:
		if c.keepsText && len(c.root.Nodes) == 1 {
			return x
		}
		if lv, ok := s.e.pyLiteral(x); ok {
			return lv
		}
		return x
	case pyStrer:
		// A datetime is its text, as Jinja2 prints it.
		return x.PyStr()
	case []any, map[string]any, *odict.Dict:
		// A container holding one is its repr, which is no literal.
		if holdsPyObject(v, 0) {
			return toStr(v)
		}
	case int, *big.Int, float64:
		if c.bareVar != "" && isNumberOrBool(s.vars[c.bareVar]) {
			return v
		}
		return toStr(v)
	}
	return v
}

// isNumberOrBool reports whether a variable's raw value is one of the
// types Templar returns untemplated (NON_TEMPLATED_TYPES).
func isNumberOrBool(raw any) bool {
	switch normalize(raw).(type) {
	case int, *big.Int, float64, bool:
		return true
	}
	return false
}

// keepsText reports whether an expression's value is text Ansible keeps
// as text (NativeJinjaText): the result of one of its STRING_TYPE_FILTERS
// applied last, or of the template lookup with convert_data=False.
func keepsText(x nodes.Expression) bool {
	switch n := x.(type) {
	case *nodes.FilteredExpression:
		if len(n.Filters) == 0 {
			return false
		}
		switch strings.TrimPrefix(n.Filters[len(n.Filters)-1].Name, "ansible.builtin.") {
		case "string", "to_json", "to_nice_json", "to_yaml", "to_nice_yaml", "ppretty", "json":
			return true
		}
	case *nodes.Call:
		name, ok := n.Func.(*nodes.Name)
		if !ok || (name.Name.Val != "lookup" && name.Name.Val != "query" && name.Name.Val != "q") || len(n.Args) == 0 {
			return false
		}
		if term, ok := n.Args[0].(*nodes.String); !ok || strings.TrimPrefix(term.Val, "ansible.builtin.") != "template" {
			return false
		}
		if b, ok := n.Kwargs["convert_data"].(*nodes.Bool); ok && !b.Val {
			return true
		}
	}
	return false
}

// runTemplate is run without the conversion of a native result.
func (s *state) runTemplate(c *compiled, native bool) (v any, err error) {
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
		if v == nil && s.finalize {
			if _, isVar := s.vars[c.bareVar]; !isVar || c.bareVar == "" {
				v = ""
			}
		}
		if len(c.root.Nodes) == 1 {
			return v, nil
		}
		// Text around the expression: the value is printed into it.
		var b strings.Builder
		for _, n := range c.root.Nodes {
			if n == nodes.Node(c.single) {
				if v != nil {
					b.WriteString(toStr(v))
				}
			} else if err := s.renderNode(&b, n); err != nil {
				return nil, err
			}
		}
		return b.String(), nil
	}
	var b strings.Builder
	if err := s.renderTemplate(&b, c.root.Nodes); err != nil {
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
	// Variables are templated with the default delimiters whatever the
	// template being rendered uses, as in Ansible.
	c, err := s.e.WithDelims(Delims{}).compile(src)
	if err != nil {
		return nil, err
	}
	// A variable's value is rendered as Ansible's lazy templating does,
	// its None finalized to '' (see state.finalize), whatever the
	// outer render.
	savedScopes, savedSrc, savedFinalize := s.scopes, s.src, s.finalize
	s.scopes, s.src, s.finalize = nil, src, true
	s.depth++
	v, err := s.run(c, true)
	s.depth--
	s.scopes, s.src, s.finalize = savedScopes, savedSrc, savedFinalize
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

// deepResolveC is deepResolve that also reports whether v changed, so
// that unchanged containers are returned as they are, not copied.
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
	case Held:
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
	case *odict.Dict:
		return x.Update(func(item any) (any, bool, error) { return s.deepResolveC(item, depth+1) })
	case *undefined:
		return nil, false, x.err("")
	}
	n := normalize(v)
	switch n.(type) {
	case []any, map[string]any, *odict.Dict, string:
		r, _, err := s.deepResolveC(n, depth+1)
		return r, true, err
	}
	return n, true, nil
}
