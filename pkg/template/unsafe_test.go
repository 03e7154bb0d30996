package template

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// unsafeVars holds host data (Unsafe) that would print LEAKED if it were
// ever rendered, and controller variables that refer to it.
func unsafeVars() map[string]any {
	const payload = "{{ secret }}"
	return map[string]any{
		"secret":  "LEAKED",
		"u":       Unsafe(payload),
		"lines":   []any{Unsafe(payload), Unsafe("plain")},
		"reg":     map[string]any{"stdout": Unsafe(payload), "files": []any{map[string]any{"path": Unsafe("/d/" + payload)}}},
		"wrapped": "{{ [u] }}",
		"inDict":  "{{ {'k': u | trim} }}",
		"safe":    "{{ secret }}",
	}
}

// TestUnsafeTaint: values computed from Unsafe data inside a template are
// never rendered again, whatever builds them.
func TestUnsafeTaint(t *testing.T) {
	e := New(Options{})
	for _, c := range []renderCase{
		{"list literal", "{{ [u] }}", []any{"{{ secret }}"}},
		{"dict literal", "{{ {'k': u}['k'] }}", "{{ secret }}"},
		{"concatenation in a list", "{{ [u ~ '!'] }}", []any{"{{ secret }}!"}},
		{"plus in a list", "{{ [u + '!'] }}", []any{"{{ secret }}!"}},
		{"filter result in a list", "{{ [u | trim] }}", []any{"{{ secret }}"}},
		{"filter over a list", "{{ lines | map('trim') | list }}", []any{"{{ secret }}", "plain"}},
		{"list concatenation", "{{ (lines + ['x'])[0] }}", "{{ secret }}"},
		{"method result", "{{ u.split('s') }}", []any{"{{ ", "ecret }}"}},
		{"attribute map", "{{ reg.files | map(attribute='path') | map('basename') | list }}", []any{"{{ secret }}"}},
		{"slice", "{{ lines[0:1] }}", []any{"{{ secret }}"}},
		{"for loop over items", "{% for k, v in {'a': u}.items() %}{{ [v] }}{% endfor %}", "['{{ secret }}']"},
		{"set then list", "{% set x = u | trim %}{{ [x][0] }}", "{{ secret }}"},
		{"variable holding a template over host data", "{{ wrapped[0] }}", "{{ secret }}"},
		{"variable holding a dict over host data", "{{ inDict.k }}", "{{ secret }}"},
		{"b64decode in a list", "{{ [u | b64encode | b64decode] }}", []any{"{{ secret }}"}},
		// A term computed by the template (not a literal) is not rendered
		// before the lookup, and what the lookup returns is data.
		{"lookup results are unsafe", "{{ query('items', '{' ~ '{ secret }}') }}", []any{"{{ secret }}"}},
		// Ansible renders a lookup's terms: a literal holding a template.
		{"literal lookup terms render", "{{ query('items', '{{ safe }}') }}", []any{"LEAKED"}},
		{"controller templates still render", "{{ [safe] }}", []any{"LEAKED"}},
		{"unsafe acts as a string", "{{ u == '{{ secret }}' and 'secret' in u and u | length == 12 and u.startswith('{{') }}", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.Render(c.src, unsafeVars())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got, dictAsMap); d != "" {
				t.Errorf("Render(%q) (-want +got):\n%s", c.src, d)
			}
		})
	}
}

// TestRenderMarked: a result that read Unsafe data comes back Unsafe, so
// storing it never makes it a template; lookups are Unsafe unless
// allow_unsafe=True.
func TestRenderMarked(t *testing.T) {
	e := New(Options{})
	for _, c := range []renderCase{
		{"host value", "{{ u }}", Unsafe("{{ secret }}")},
		{"derived string", "{{ 'x' ~ (lines | join(',')) }}", Unsafe("x{{ secret }},plain")},
		{"nested", "{{ {'a': [u, 'lit']} }}", map[string]any{"a": []any{Unsafe("{{ secret }}"), Unsafe("lit")}}},
		{"number from host data", "{{ u | length }}", Unsafe("12")},
		{"controller value", "{{ safe }}", "LEAKED"},
		{"lookup", "{{ lookup('items', 'a') }}", Unsafe("a")},
		{"lookup allow_unsafe", "{{ lookup('items', 'a', allow_unsafe=True) }}", "a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.RenderMarked(c.src, unsafeVars())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got, dictAsMap); d != "" {
				t.Errorf("RenderMarked(%q) (-want +got):\n%s", c.src, d)
			}
		})
	}
	got, err := e.RenderValueMarked(map[string]any{"x": "{{ u }}", "y": "{{ safe }}", "z": Unsafe("{{ secret }}")}, unsafeVars())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"x": Unsafe("{{ secret }}"), "y": "LEAKED", "z": Unsafe("{{ secret }}")}
	if d := cmp.Diff(want, got, dictAsMap); d != "" {
		t.Errorf("RenderValueMarked (-want +got):\n%s", d)
	}
}

// TestUnsafeCondition: host text is never evaluated as a condition.
func TestUnsafeCondition(t *testing.T) {
	e := New(Options{})
	vars := unsafeVars()
	vars["cond"] = Unsafe("secret == 'LEAKED'")
	for _, cond := range []any{"{{ cond }}", Unsafe("secret == 'LEAKED'")} {
		if _, err := e.Truthy(cond, vars); err == nil {
			t.Errorf("Truthy(%#v) evaluated host text as a condition", cond)
		}
	}
	if ok, err := e.Truthy("u is search('secret')", vars); err != nil || !ok {
		t.Errorf("a condition reading host data: %v, %v", ok, err)
	}
}

// TestMarkUnsafe: every string is marked, nested ones and those in named
// map types (a module's Result) too; keys and other values stay as they are.
func TestMarkUnsafe(t *testing.T) {
	type result map[string]any
	in := result{"stdout": "{{ x }}", "rc": 0, "lines": []string{"a"}, "nested": result{"k": []any{"b", true}}}
	got := MarkUnsafe(in)
	want := map[string]any{"stdout": Unsafe("{{ x }}"), "rc": 0, "lines": []any{Unsafe("a")},
		"nested": map[string]any{"k": []any{Unsafe("b"), true}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MarkUnsafe = %#v\nwant %#v", got, want)
	}
	if in["stdout"] != "{{ x }}" {
		t.Error("MarkUnsafe changed its input")
	}
}
