package vars

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/odict"
)

func TestDecodeYAML11(t *testing.T) {
	src := `
a: yes
b: off
c: 0644
d: 0o755
e: 0x1F
f: 1_000
g: 1.5
h: ~
i: "yes"
j: '0644'
k: [1, two, on]
l: {x: 1}
m: 1e3
n: -12
o: 1.2.3
base: &b {p: 1, q: 2}
merged:
  <<: *b
  q: 3
`
	n, err := ParseYAML("t.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("t.yml", n)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": true, "b": false, "c": 420, "d": 493, "e": 31, "f": 1000, "g": 1.5, "h": nil,
		"i": "yes", "j": "0644", "k": []any{1, "two", true}, "l": map[string]any{"x": 1},
		"m": 1000.0, "n": -12, "o": "1.2.3",
		"base": map[string]any{"p": 1, "q": 2}, "merged": map[string]any{"p": 1, "q": 3},
	}
	if d := cmp.Diff(want, odict.Plain(got)); d != "" {
		t.Fatalf("decode mismatch (-want +got):\n%s", d)
	}
}

func TestParseYAMLErrorHasLine(t *testing.T) {
	_, err := ParseYAML("bad.yml", []byte("a: 1\nb: [1, 2\nc: 3\n"))
	if err == nil {
		t.Fatal("expected an error")
	}
	pe, ok := err.(*PosError)
	if !ok || pe.Line == 0 || pe.File != "bad.yml" {
		t.Fatalf("want a positioned error, got %#v", err)
	}
}

func TestMergeLaterWins(t *testing.T) {
	got := Merge(map[string]any{"a": 1, "d": map[string]any{"x": 1}}, map[string]any{"a": 2, "d": map[string]any{"y": 2}})
	want := map[string]any{"a": 2, "d": map[string]any{"y": 2}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatal(d)
	}
}

func TestDecodeKeepsKeyOrder(t *testing.T) {
	n, err := ParseYAML("t.yml", []byte("zeta: 1\nalpha: {y: 1, x: 2}\nmid: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("t.yml", n)
	if err != nil {
		t.Fatal(err)
	}
	d := got.(*odict.Dict)
	inner, _ := d.Get("alpha")
	if k, ik := strings.Join(d.Keys(), ","), strings.Join(inner.(*odict.Dict).Keys(), ","); k != "zeta,alpha,mid" || ik != "y,x" {
		t.Fatalf("keys %s and %s, want zeta,alpha,mid and y,x (as written)", k, ik)
	}
}
