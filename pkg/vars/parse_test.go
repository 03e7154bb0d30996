package vars

import (
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/template"
	"testing"

	"github.com/tend-dev/tend/pkg/odict"
)

// TestParseYAMLLocatesEveryError: the YAML parser reports some errors
// without a position; each must still name its line.
func TestParseYAMLLocatesEveryError(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"NUL byte", "a: 1\nb: \"x\x00\"\n", "f.yml:2:"},
		{"bell character", "a: 1\n\nb: x\x07\n", "f.yml:3:5:"},
		{"Latin-1 byte", "a: 1\nb: caf\xe9\n", "f.yml:2:7:"},
		{"unknown anchor", "a: 1\nb: [1, *nope]\n", "f.yml:2:8:"},
		{"vault tag on a mapping", "a: 1\nb: !vault {c: 1}\n", "f.yml:2:4: !vault tags a mapping"},
		{"second document", "a: 1\n---\nb: 2\n", "f.yml:2:1: a second YAML document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseYAML("f.yml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseYAML error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestDuplicateKeysKeepTheLast: as in Ansible, a key given twice keeps its
// last value, with a warning naming where.
func TestDuplicateKeysKeepTheLast(t *testing.T) {
	var warnings []string
	l := Loader{Warn: func(m string) { warnings = append(warnings, m) }}
	n, err := l.ParseYAML("f.yml", []byte("a: 1\nb:\n  c: x\n  c: y\na: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode("f.yml", n)
	if err != nil {
		t.Fatal(err)
	}
	m := odict.Plain(v).(map[string]any)
	if m["a"] != 2 || m["b"].(map[string]any)["c"] != "y" || len(m) != 2 {
		t.Errorf("decoded %v, want a=2 and b.c=y", m)
	}
	want := []string{
		`f.yml:5:1: found a duplicate key "a" (also at line 1); using the last value only`,
		`f.yml:4:3: found a duplicate key "c" (also at line 3); using the last value only`,
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
}

// TestSlashEscape: "\/" in a double-quoted scalar is "/", as PyYAML reads
// it (ansible-core's unarchive target writes a regex so); elsewhere the
// backslash stays, and other unknown escapes are still errors.
func TestSlashEscape(t *testing.T) {
	src := "a: \"[^A-Za-z](\\/usr\\/bin:?)\"\nb: 'x\\/y'\nc: |\n  p\\/q\nd:\n  - \"e\\\\/\\\"\\/\"\n  - \"multi\n    line \\/ end\"\n"
	n, err := ParseYAML("f.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("f.yml", n)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "[^A-Za-z](/usr/bin:?)", "b": `x\/y`, "c": "p\\/q\n", "d": []any{`e\/"/`, "multi line / end"}}
	if d := cmp.Diff(any(want), odict.Plain(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := ParseYAML("f.yml", []byte("a: \"\\q\"\n")); err == nil || !strings.Contains(err.Error(), "unknown escape") {
		t.Errorf("\\q: error %v, want unknown escape", err)
	}
}

// TestUnsafeTag: a !unsafe scalar, quoted or not, is text never rendered
// as a template (ansible-core's templating target compares command output
// with !unsafe '{{ foo }}').
func TestUnsafeTag(t *testing.T) {
	n, err := ParseYAML("f.yml", []byte("a: !unsafe '{{ foo }}'\nb: !unsafe x{{y}}\nc: '{{ foo }}'\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("f.yml", n)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": template.Unsafe("{{ foo }}"), "b": template.Unsafe("x{{y}}"), "c": "{{ foo }}"}
	if d := cmp.Diff(any(want), odict.Plain(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
