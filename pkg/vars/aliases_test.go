package vars

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/odict"
	"gopkg.in/yaml.v3"
)

// aliasBomb returns a document of levels anchors, each a list of nine
// aliases to the previous one: 9^levels values once expanded.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// deepAlias returns an anchor nested n levels deep, used inside another
// n levels deep: each fits the parser's limit, the expansion does not.
func deepAlias(n int) string {
	return "a: &a " + strings.Repeat("[", n) + "x" + strings.Repeat("]", n) + "\n" +
		"b: " + strings.Repeat("[", n) + "*a" + strings.Repeat("]", n) + "\n"
}

func TestAliasLimits(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // error text, with file:line:col; "" for no error
	}{
		{"merge key into itself", "a: &a {x: 1, <<: *a}\n", "t.yml:1:18: alias *a refers to the value that contains it"},
		{"list holding itself", "a: &a [1, *a]\n", "t.yml:1:11: alias *a refers to the value that contains it"},
		{"cycle through another anchor", "a: &a\n  b: &b\n    c: [*a]\nd: *b\n", "t.yml:3:9: alias *a refers"},
		{"merge list cycle", "a: &a\n  b: &b\n    <<: [{x: 1}, *a]\n", "t.yml:3:18: alias *a"},
		{"billion laughs", aliasBomb(9), "t.yml:7:"},
		{"nesting through an alias", deepAlias(6000), "t.yml:2:6004: alias *a expands to values nested more than 10000 levels deep"},
		{"merge keys as in group_vars", "base: &base {user: app, port: 80}\nweb:\n  <<: *base\n  port: 8080\ndb: {<<: [*base], user: db}\n", ""},
		{"an alias used many times", "l: &l [" + strings.TrimSuffix(strings.Repeat("x, ", 1000), ", ") + "]\nm: [" + strings.TrimSuffix(strings.Repeat("*l, ", 1000), ", ") + "]\n", ""},
		{"the same anchor name twice", "a: &a [1]\nb: *a\nc: &a [2]\nd: *a\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				n, err := ParseYAML("t.yml", []byte(tt.src))
				if err == nil {
					_, err = Decode("t.yml", n)
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("no result after 10 s")
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var pe *PosError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a positioned error containing %q", err, tt.want)
			}
		})
	}
}

// TestResolveAliases checks that parsed documents hold no aliases or merge
// keys any more, with PyYAML's merge order: explicit keys win, then the
// first merged mapping.
func TestResolveAliases(t *testing.T) {
	src := "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nm: {<<: [*a, *b], y: 3}\nn: {y: 4, <<: *b}\nl: &l [1, 2]\nk: *l\n"
	n, err := ParseYAML("t.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode || isMergeKey(n) {
			t.Fatalf("line %d: %v left in the parsed document", n.Line, n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	got, err := Decode("t.yml", n)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": map[string]any{"x": 1, "y": 1}, "b": map[string]any{"x": 2, "z": 2},
		"m": map[string]any{"x": 1, "y": 3, "z": 2}, "n": map[string]any{"x": 2, "y": 4, "z": 2},
		"l": []any{1, 2}, "k": []any{1, 2},
	}
	if d := cmp.Diff(want, odict.Plain(got)); d != "" {
		t.Fatalf("decode mismatch (-want +got):\n%s", d)
	}
	if _, err := ParseYAML("t.yml", []byte("a: {<<: [1]}\n")); err == nil || !strings.Contains(err.Error(), "t.yml:1:10: merge key << needs a mapping") {
		t.Fatalf("merging a scalar: %v", err)
	}
}
