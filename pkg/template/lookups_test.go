package template

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

func TestLookups(t *testing.T) {
	t.Setenv("TEND_TEMPLATE_TEST", "envvalue")
	abs, err := filepath.Abs("testdata/plain.txt")
	if err != nil {
		t.Fatal(err)
	}
	confs, err := filepath.Abs("testdata/confs")
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, []renderCase{
		{"file strips trailing newlines", "{{ lookup('file', 'hello.txt') }}", "hello world"},
		{"file in base dir", "{{ lookup('file', 'plain.txt') }}", "top level"},
		{"file absolute", "{{ lookup('file', '" + abs + "') }}", "top level"},
		{"file fqcn", "{{ lookup('ansible.builtin.file', 'plain.txt') }}", "top level"},
		{"file several joined", "{{ lookup('file', 'plain.txt', 'hello.txt') }}", "top level,hello world"},
		{"query file", "{{ query('file', 'plain.txt') }}", []any{"top level"}},
		{"file errors ignore", "{{ lookup('file', 'missing.txt', errors='ignore') }}", ""}, // None, finalized
		{"env", "{{ lookup('env', 'TEND_TEMPLATE_TEST') }}", "envvalue"},
		{"env unset", "{{ lookup('env', 'TEND_TEMPLATE_UNSET_VAR') }}", ""},
		{"env default", "{{ lookup('env', 'TEND_TEMPLATE_UNSET_VAR', default='d') }}", "d"},
		{"pipe", "{{ lookup('pipe', 'printf \"a\\nb\\n\"') }}", "a\nb"},
		{"pipe runs in base dir", "{{ lookup('pipe', 'cat plain.txt') }}", "top level"},
		{"lines", "{{ query('lines', 'printf \"a\\nb\\n\"') }}", []any{"a", "b"}},
		{"vars", "{{ lookup('vars', 'b') }}", "x"},
		{"vars lazy", "{{ lookup('vars', 'lazy') }}", "X"},
		{"vars native", "{{ lookup('vars', 'l') }}", []any{1, 2, 3}},
		{"vars dynamic name", "{{ lookup('vars', 'res_' ~ 'changed').rc }}", 0},
		{"vars default", "{{ lookup('vars', 'nope', default='d') }}", "d"},
		{"varnames exact", "{{ query('varnames', '^b$') }}", []any{"b"}},
		{"varnames search, sorted", "{{ query('varnames', '^lazy') }}", []any{"lazy", "lazy2", "lazylist", "lazymap", "lazynative"}},
		{"varnames several terms", "{{ query('varnames', '^b$', '^fl$') }}", []any{"b", "fl"}},
		{"varnames none is falsy", "{{ not lookup('varnames', '^nope$') }}", true},
		{"varnames found is truthy", "{{ not lookup('varnames', '^' + 'b' + '$') }}", false},
		{"items", "{{ query('items', [1, [2]], 3) }}", []any{1, []any{2}, 3}},
		{"list", "{{ query('list', [1, 2]) }}", []any{1, 2}},
		{"items lookup joined", "{{ lookup('items', ['a', 'b']) }}", "a,b"},
		{"q alias", "{{ q('items', 'a') }}", []any{"a"}},
		{"wantlist", "{{ lookup('items', 'a', wantlist=true) }}", []any{"a"}},
		{"indexed_items", "{{ query('indexed_items', ['a', 'b']) }}", []any{[]any{0, "a"}, []any{1, "b"}}},
		{"dict lookup", "{{ query('dict', {'a': 1}) }}", []any{map[string]any{"key": "a", "value": 1}}},
		{"sequence", "{{ query('sequence', 'start=1 end=3 format=web%02d') }}", []any{"web01", "web02", "web03"}},
		{"sequence shortcut", "{{ query('sequence', '4') }}", []any{"1", "2", "3", "4"}},
		{"sequence count stride", "{{ query('sequence', start=0, count=3, stride=2) }}", []any{"0", "2", "4"}},
		{"first_found list", "{{ lookup('first_found', ['missing.txt', 'plain.txt']) }}", mustAbs(t, "testdata/plain.txt")},
		{"first_found files dir", "{{ lookup('first_found', ['hello.txt']) }}", mustAbs(t, "testdata/files/hello.txt")},
		{"first_found dict", "{{ lookup('first_found', {'files': ['a.conf', 'b.conf'], 'paths': ['confs']}) }}", filepath.Join(confs, "b.conf")},
		{"first_found skip", "{{ query('first_found', {'files': ['zz.conf'], 'paths': ['confs'], 'skip': true}) }}", []any{}},
		{"fileglob", "{{ query('fileglob', 'confs/*.conf') }}", []any{mustAbs(t, "testdata/confs/b.conf")}},
	})
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestLookupErrors(t *testing.T) {
	e := New(Options{BaseDir: "testdata"})
	cases := []struct{ src, want string }{
		{"{{ lookup('file', 'missing.txt') }}", `could not find or access "missing.txt"`},
		{"{{ lookup('pipe', 'exit 3') }}", "exit status 3"},
		{"{{ lookup('first_found', ['x', 'y']) }}", "no file was found when using first_found"},
		{"{{ lookup('nosuchplugin', 'x') }}", "lookup plugin 'nosuchplugin' not found"},
		{"{{ lookup('varnames', '(') }}", `Unable to use "(" as a search parameter`},
		{"{{ lookup('varnames', 1) }}", `"1" is not a string`},
	}
	for _, tc := range cases {
		_, err := e.Render(tc.src, commonVars())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q) error = %v, want it to contain %q", tc.src, err, tc.want)
		}
	}
}

func TestLookupSearchPath(t *testing.T) {
	base := New(Options{BaseDir: "testdata"})
	role := base.WithSearchPath(mustAbs(t, "testdata/role"))
	got, err := role.Render("{{ lookup('file', 'hello.txt') }}", nil)
	if err != nil || got != "from role" {
		t.Errorf("role lookup = %v, %v; want the role's file first", got, err)
	}
	got, err = base.Render("{{ lookup('file', 'hello.txt') }}", nil)
	if err != nil || got != "hello world" {
		t.Errorf("base lookup = %v, %v; want the playbook's file", got, err)
	}
	got, err = role.Render("{{ lookup('template', 'r.j2') }}", map[string]any{"b": "B"})
	if err != nil || got != "role template B\n" {
		t.Errorf("role template lookup = %q, %v", got, err)
	}
}

// TestTemplateLookupGolden renders testdata/templates/*.j2 through
// lookup('template') and compares with testdata/golden (go test -update).
func TestTemplateLookupGolden(t *testing.T) {
	e := New(Options{BaseDir: "testdata"})
	files, err := filepath.Glob("testdata/templates/*.j2")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			got, err := e.RenderString("{{ lookup('template', '"+name+"') }}", commonVars())
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata/golden", strings.TrimSuffix(name, ".j2")+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got, dictAsMap); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}

func TestLookupName(t *testing.T) {
	for in, want := range map[string]string{
		"ansible.builtin.file":        "file",
		"ansible.legacy.items":        "items",
		"community.general.flattened": "flattened",
		"community.general.cartesian": "nested",
		"cartesian":                   "nested",
		"env":                         "env",
		"community.general.dig":       "community.general.dig",
	} {
		if got := LookupName(in); got != want {
			t.Errorf("LookupName(%q) = %q, want %q", in, got, want)
		}
	}
}
