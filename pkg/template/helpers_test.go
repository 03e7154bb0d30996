package template

import (
	"math/big"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/odict"
)

// renderCase is one template and the value Render must return.
type renderCase struct {
	name string
	src  string
	want any
}

// commonVars is the variable set the table tests render against.
func commonVars() map[string]any {
	return map[string]any{
		"a":     1,
		"b":     "x",
		"s":     "Hello World",
		"n":     nil,
		"t":     true,
		"f":     false,
		"fl":    2.5,
		"l":     []any{1, 2, 3},
		"sl":    []any{"b", "a", "c"},
		"empty": []any{},
		"m":     map[string]any{"k": "v", "n": map[string]any{"z": 1}},
		"users": []any{
			map[string]any{"name": "alice", "uid": 1001, "admin": true, "groups": []any{"wheel", "dev"}},
			map[string]any{"name": "bob", "uid": 1000, "admin": false, "groups": []any{"dev"}},
		},
		"res_changed": map[string]any{"changed": true, "failed": false, "rc": 0, "stdout": "ok"},
		"res_failed":  map[string]any{"changed": false, "failed": true, "rc": 1},
		"res_skipped": map[string]any{"changed": false, "skipped": true},
		"res_loop":    map[string]any{"changed": false, "results": []any{map[string]any{"changed": false}, map[string]any{"changed": true}}},
		"lazy":        "{{ b | upper }}",
		"lazy2":       "{{ lazy }}-{{ a + 1 }}",
		"lazylist":    []any{"{{ a }}", "{{ b }}"},
		"lazymap":     map[string]any{"x": "{{ s | lower }}"},
		"lazynative":  "{{ l | length }}",
		"hostvars": map[string]any{
			"web1": map[string]any{"ansible_host": "10.0.0.1"},
		},
		"inventory_hostname": "web1",
		"unsafe":             Unsafe("{{ not_rendered }}"),
	}
}

// runCases renders each case's template. A case that wants a number checks
// the native value of its one expression with Eval: Render gives numbers
// as text, as Ansible does (TestAnsibleTyping).
func runCases(t *testing.T, cases []renderCase) {
	t.Helper()
	e := New(Options{BaseDir: "testdata"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			render := e.Render
			switch tc.want.(type) {
			case int, float64, *big.Int:
				if expr, ok := singleExpr(tc.src); ok {
					render = func(string, map[string]any) (any, error) { return e.Eval(expr, commonVars()) }
				}
			}
			got, err := render(tc.src, commonVars())
			if err != nil {
				t.Fatalf("Render(%q): %v", tc.src, err)
			}
			if diff := cmp.Diff(tc.want, got, dictAsMap); diff != "" {
				t.Errorf("Render(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

// singleExpr returns the expression of a template that is one "{{ expr }}".
func singleExpr(src string) (string, bool) {
	inner, ok := strings.CutPrefix(src, "{{")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, "}}")
	if !ok || strings.Contains(inner, "}}") || strings.Contains(inner, "{{") {
		return "", false
	}
	return strings.TrimSpace(inner), true
}

func lookPath(name string) (string, error) { return exec.LookPath(name) }

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return strings.TrimSpace(string(out)), err
}

// dictAsMap lets tests compare dicts by content: an ordered dict equals the
// map with the same entries.
var dictAsMap = cmp.FilterValues(func(a, b any) bool {
	_, da := a.(*odict.Dict)
	_, db := b.(*odict.Dict)
	return da || db
}, cmp.Transformer("dict", odict.Plain))
