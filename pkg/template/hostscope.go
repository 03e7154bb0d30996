package template

import (
	"sync"

	"github.com/tend-dev/tend/pkg/odict"
)

// Held is text rendered in another scope: a host's variable read through
// hostvars, rendered with that host's variables. The render that reads it
// never renders it again; stored as a variable it is a plain string, so a
// later read renders whatever was left in it, as Ansible's lazy templating
// does.
type Held string

// HostScope returns a host's variables as hostvars shows them, the way
// Ansible's HostVarsVars does: a value holding a template is rendered, when
// first read, with that host's variables (vars), not those of the task
// reading it, and a template naming something the host lacks (a play or
// role variable) is left as written. Values without templates are shared.
func (e *Engine) HostScope(vars map[string]any) map[string]any {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		if !holdsTemplate(v, 0) {
			out[k] = v
			continue
		}
		out[k] = Lazy(sync.OnceValue(func() any { return e.renderInScope(v, vars) }))
	}
	return out
}

// holdsTemplate reports whether v has a string holding template markup.
func holdsTemplate(v any, depth int) bool {
	if depth > maxNesting {
		return false
	}
	switch x := v.(type) {
	case string:
		return IsTemplate(x)
	case []any:
		for _, e := range x {
			if holdsTemplate(e, depth+1) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holdsTemplate(e, depth+1) {
				return true
			}
		}
	case *odict.Dict:
		for _, e := range x.All() {
			if holdsTemplate(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// renderInScope renders each string of v with vars; a string whose
// template fails there (an undefined name) stays as written. Every string
// of the result is Held, or Unsafe when it came from host data.
func (e *Engine) renderInScope(v any, vars map[string]any) any {
	r, err := e.renderWalk(v, vars, func(s string, vars map[string]any) (any, error) {
		r, err := e.RenderMarked(s, vars)
		if err != nil {
			return Held(s), nil
		}
		return r, nil
	}, true)
	if err != nil {
		return v
	}
	return hold(r)
}

// hold turns the plain strings in v into Held, copying containers.
func hold(v any) any {
	return mapStrings(v, func(s string) any { return Held(s) })
}
