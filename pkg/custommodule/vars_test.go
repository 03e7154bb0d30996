package custommodule

import (
	"testing"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/template"
)

type engineTemplar struct {
	e    *template.Engine
	vars map[string]any
}

func (t engineTemplar) Render(s string) (string, error)    { return t.e.RenderString(s, t.vars) }
func (t engineTemplar) Eval(expr string) (any, error)      { return t.e.Eval(expr, t.vars) }
func (t engineTemplar) Condition(expr string) (any, error) { return t.e.EvalCondition(expr, t.vars) }
func (t engineTemplar) Value(expr string) (any, error)     { return t.e.EvalValue(expr, t.vars) }
func (t engineTemplar) RenderWith(s string, extra map[string]any) (string, error) {
	return t.e.RenderFile(s, extra)
}

// TestVarStringKeepsHostData: the interpreter variable is rendered when it
// holds a template, but host data (a registered or gathered value) is text
// and never rendered.
func TestVarStringKeepsHostData(t *testing.T) {
	vars := map[string]any{
		"py":                         "/usr/bin/python3",
		"ansible_python_interpreter": "{{ py }}",
		"ansible_perl_interpreter":   template.Unsafe("{{ py }}"),
	}
	h := &module.Host{Vars: vars, Templar: engineTemplar{e: template.New(template.Options{}), vars: vars}}
	m := &Module{}
	if got := m.varString(h, "ansible_python_interpreter"); got != "/usr/bin/python3" {
		t.Errorf("templated variable: got %q", got)
	}
	if got := m.varString(h, "ansible_perl_interpreter"); got != "{{ py }}" {
		t.Errorf("host data: got %q, want it as written", got)
	}
	if got := m.varString(h, "ansible_ruby_interpreter"); got != "" {
		t.Errorf("missing variable: got %q", got)
	}
}
