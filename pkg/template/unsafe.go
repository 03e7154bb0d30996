package template

import (
	"reflect"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
)

// Data from managed hosts (registered results, facts) and lookup results
// are Unsafe: text that must never be rendered as a template, even when it
// holds "{{". Like Ansible's AnsibleUnsafe, the mark spreads: a render that
// reads an Unsafe value is tainted, and its result comes back marked from
// RenderMarked and RenderValueMarked, so storing it (set_fact, loop items)
// never turns host data into a template. Inside a render, values computed
// from tainted input are sealed: their nested strings become Unsafe, so the
// lazy rendering of strings found inside containers (meant for variables
// holding templates) never evaluates them.

// PyRepr prints an Unsafe string as Python prints a str.
func (u Unsafe) PyRepr() string { return pyfmt.Quote(string(u)) }

// MarkUnsafe returns v with every string in it, keys aside, turned into
// Unsafe, as Ansible's wrap_var does. Containers are copied. Every string
// is marked, not only those holding markup, so that text pieced together
// from several of them is still known to be host data.
func MarkUnsafe(v any) any {
	return mapStrings(v, func(s string) any { return Unsafe(s) })
}

// mapStrings returns v with f applied to every string (and Held) in it,
// keys aside; containers are copied, Unsafe strings left as they are.
func mapStrings(v any, f func(string) any) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case Held:
		return f(string(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = mapStrings(e, f)
		}
		return out
	case *odict.Dict:
		return x.MapValues(func(e any) any { return mapStrings(e, f) })
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapStrings(e, f)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = f(e)
		}
		return out
	case nil, bool, int, float64, Unsafe:
		return v
	}
	// Named map types such as a module's Result hold host data too.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Map && rv.Type().ConvertibleTo(mapType) {
		return mapStrings(rv.Convert(mapType).Interface(), f)
	}
	return v
}

var mapType = reflect.TypeFor[map[string]any]()

// RenderMarked is Render for a value that will be stored as a variable (a
// loop's items): when the template read Unsafe data, every string in the
// result is Unsafe.
func (e *Engine) RenderMarked(s string, vars map[string]any) (any, error) {
	v, tainted, err := e.render(s, vars)
	if err != nil || !tainted {
		return v, err
	}
	return MarkUnsafe(v), nil
}

// RenderValueMarked is RenderValue for values that will be stored as
// variables (set_fact): each string is rendered on its own and its result
// marked Unsafe when it read Unsafe data. Unsafe input stays as it is.
func (e *Engine) RenderValueMarked(v any, vars map[string]any) (any, error) {
	return e.renderWalk(v, vars, e.RenderMarked, true)
}

// unmark reads an Unsafe value as the string it holds and taints the
// render; other values pass through.
func (s *state) unmark(v any) any {
	if u, ok := v.(Unsafe); ok {
		s.tainted = true
		return string(u)
	}
	return v
}

// seal marks the strings nested in a value computed during a tainted render
// (a filter's, method's or operator's result), so they are never taken for
// variables holding templates. Top-level strings are finished values
// already. Untainted renders are left alone: nothing in them came from
// Unsafe data.
func (s *state) seal(v any) any {
	if !s.tainted {
		return v
	}
	switch v.(type) {
	case []any, map[string]any, *odict.Dict:
		r, _ := sealNested(v)
		return r
	}
	return v
}

// sealShallow marks the strings directly inside a list or dict literal: its
// elements are finished values, but a container element may be a variable
// whose templates are still to be rendered.
func (s *state) sealShallow(v any) any {
	if !s.tainted {
		return v
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if str, ok := e.(string); ok && IsTemplate(str) {
				x[i] = Unsafe(str)
			}
		}
	case map[string]any:
		for k, e := range x {
			if str, ok := e.(string); ok && IsTemplate(str) {
				x[k] = Unsafe(str)
			}
		}
	case *odict.Dict:
		for k, e := range x.All() {
			if str, ok := e.(string); ok && IsTemplate(str) {
				x.Set(k, Unsafe(str))
			}
		}
	}
	return v
}

// sealNested turns strings holding template markup inside containers into
// Unsafe, copying only the containers that change.
func sealNested(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		if IsTemplate(x) {
			return Unsafe(x), true
		}
	case []any:
		var out []any
		for i, e := range x {
			r, changed := sealNested(e)
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x)
			}
			if out != nil {
				out[i] = r
			}
		}
		if out != nil {
			return out, true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			r, changed := sealNested(e)
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = r
			}
		}
		if out != nil {
			return out, true
		}
	case *odict.Dict:
		out, changed, _ := x.Update(func(e any) (any, bool, error) {
			r, changed := sealNested(e)
			return r, changed, nil
		})
		return out, changed
	}
	return v, false
}

// Unmark returns v with Unsafe strings turned back into plain strings, for
// output that prints values rather than rendering them.
func Unmark(v any) any {
	switch x := v.(type) {
	case Unsafe:
		return string(x)
	case Held:
		return string(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Unmark(e)
		}
		return out
	case *odict.Dict:
		return x.MapValues(Unmark)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Unmark(e)
		}
		return out
	}
	return v
}
