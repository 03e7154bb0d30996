package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFirstFoundNames checks the names first_found tries against what
// Ansible 2.14's lookup/first_found.py _process_terms produces.
func TestFirstFoundNames(t *testing.T) {
	for _, c := range []struct {
		name  string
		terms []any
		kw    map[string]any
		want  []string
		skip  bool
	}{
		{name: "strings stay whole", terms: []any{"a.yml,b.yml", "c.yml"}, want: []string{"a.yml,b.yml", "c.yml"}},
		{name: "paths times files", terms: []any{map[string]any{"files": []any{"a.yml", "b.yml"}, "paths": []any{"vars", "/etc/x"}}},
			want: []string{"vars/a.yml", "vars/b.yml", "/etc/x/a.yml", "/etc/x/b.yml"}},
		{name: "split on separators", terms: []any{map[string]any{"files": "a.yml, b.yml;c.yml", "paths": "p:q"}},
			want: []string{"p/a.yml", "p/b.yml", "p/c.yml", "q/a.yml", "q/b.yml", "q/c.yml"}},
		{name: "absolute file ignores path", terms: []any{map[string]any{"files": []any{"/abs.yml"}, "paths": []any{"p"}}}, want: []string{"/abs.yml"}},
		{name: "files without paths replace earlier names", terms: []any{"first.yml", map[string]any{"files": []any{"x.yml"}}}, want: []string{"x.yml"}},
		{name: "nested list", terms: []any{[]any{"a.yml", "b.yml"}, "c.yml"}, want: []string{"a.yml", "b.yml", "c.yml"}},
		{name: "skip from the last term", terms: []any{map[string]any{"files": []any{"x"}, "paths": []any{"p"}, "skip": true}}, want: []string{"p/x"}, skip: true},
		{name: "names rendered from facts (unsafe) are text", terms: []any{Unsafe("Debian-12.yml"), map[string]any{"files": []any{Unsafe("Debian.yml")}, "paths": []any{Unsafe("vars")}}},
			want: []string{"Debian-12.yml", "vars/Debian.yml"}},
		{name: "unsafe string term", terms: []any{Unsafe("Debian-12.yml"), Unsafe("Debian.yml")}, want: []string{"Debian-12.yml", "Debian.yml"}},
		{name: "keyword files apply to string terms", terms: []any{"ignored"}, kw: map[string]any{"files": []any{"k.yml"}, "paths": []any{"d"}}, want: []string{"d/k.yml"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, skip, err := FirstFoundNames(c.terms, c.kw)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got, dictAsMap); d != "" || skip != c.skip {
				t.Errorf("names (-want +got):\n%s skip=%v want %v", d, skip, c.skip)
			}
		})
	}
	if _, _, err := FirstFoundNames([]any{42}, nil); err == nil {
		t.Error("a number term is accepted; Ansible rejects it")
	}
}
