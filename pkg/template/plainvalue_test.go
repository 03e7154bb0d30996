package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// typedDiff stands for a module's typed result value (module.Diff).
type typedDiff struct {
	Header string `json:"before_header,omitempty"`
	Before string `json:"before"`
	Lines  int    `json:"lines"`
}

// TestTypedValues: typed slices, maps and structs a module puts in a
// registered result behave as the lists and dicts Ansible registers
// (lineinfile's integration target: "result1.diff | length > 0").
func TestTypedValues(t *testing.T) {
	e := New(Options{})
	vars := map[string]any{
		"r": map[string]any{
			"diff":  []typedDiff{{Header: "a (content)", Before: "x\n", Lines: 2}, {Before: ""}},
			"ports": []int{22, 80},
			"env":   map[string][]string{"PATH": {"/bin"}},
			"one":   &typedDiff{Before: "y"},
		},
	}
	for _, c := range []struct {
		src  string
		want any
	}{
		{"{{ r.diff | length }}", "2"},
		{"{{ r.diff[0].before_header }} {{ r.diff[0].lines + 1 }}", "a (content) 3"},
		{"{{ r.diff[1].before_header is defined }}", false},
		{"{{ r.diff | map(attribute='before') | list }}", []any{"x\n", ""}},
		{"{{ r.ports | sum }} {{ 80 in r.ports }}", "102 True"},
		{"{{ r.env.PATH | first }}", "/bin"},
		{"{{ r.one.before }}", "y"},
	} {
		got, err := e.Render(c.src, vars)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.src, d)
		}
	}
}

// TestPyLiteral: text joined from several parts that is a Python literal
// becomes a list, dict or boolean, as Ansible's ansible_eval_concat does
// (ansible-core's templating target); anything else stays text, and the
// text is never evaluated as an expression.
func TestPyLiteral(t *testing.T) {
	e := New(Options{})
	vars := map[string]any{"a": 1, "b": "x", "n": "lookup('pipe', 'id')", "u": Unsafe("{{ b }}")}
	for _, c := range []struct {
		src  string
		want any
	}{
		{`{{ "" }}{"null": null, "true": true, "false": false}`, map[string]any{"null": nil, "true": true, "false": false}},
		{"[{{ a }}, '{{ b }}', -1.5, None, (1, 2)]", []any{1, "x", -1.5, nil, []any{1, 2}}},
		{"{% if a %}True{% else %}False{% endif %}", true},
		{"[{{ n }}]", "[lookup('pipe', 'id')]"},
		{"[{{ a }}, b]", "[1, b]"},
		{"[ {{ a }} = 1 ]", "[ 1 = 1 ]"},
		{"{{ {'a': a} | to_json }}", `{"a": 1}`},
		// Limit: text holding template markup stays text (Ansible: a list).
		{"['{{ u }}']", "['{{ b }}']"},
	} {
		got, err := e.Render(c.src, vars)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.src, d)
		}
	}
}

// TestNoneInText: None prints as nothing in text, as Ansible's finalize
// makes it ("x{{ None }}y" is "xy").
func TestNoneInText(t *testing.T) {
	e := New(Options{})
	got, err := e.Render("x{{ None }}y{{ n }}z", map[string]any{"n": nil})
	if err != nil || got != "xyz" {
		t.Errorf("got %q, %v; want xyz", got, err)
	}
}
