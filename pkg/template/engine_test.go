package template

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsTemplate(t *testing.T) {
	cases := map[string]bool{
		"":              false,
		"plain":         false,
		"{ a }":         false,
		"a {":           false,
		"{{ a }}":       true,
		"x {% if %}":    true,
		"{# comment #}": true,
		"{":             false,
		"{{":            true,
	}
	for in, want := range cases {
		if got := IsTemplate(in); got != want {
			t.Errorf("IsTemplate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRenderCore(t *testing.T) {
	runCases(t, []renderCase{
		{"plain string unchanged", "no template here", "no template here"},
		{"native int", "{{ a }}", 1},
		{"int with text around is text", "  {{ a }}\n", "  1\n"},
		{"string keeps surrounding whitespace", " {{ b }} ", " x "},
		{"native list", "{{ l }}", []any{1, 2, 3}},
		{"native map", "{{ m.n }}", map[string]any{"z": 1}},
		{"native bool", "{{ a == 1 }}", true},
		{"native none", "{{ n }}", nil},
		{"native float", "{{ fl }}", 2.5},
		{"mixed is string", "a={{ a }}", "a=1"},
		{"list printed python style", "x {{ sl }}", "x ['b', 'a', 'c']"},
		{"map printed python style", "x {{ m }}", "x {'k': 'v', 'n': {'z': 1}}"},
		{"bool printed python style", "{{ t }} {{ f }} {{ n }}", "True False "}, // None prints as nothing (Ansible's finalize)
		{"float printing", "{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }}", "1.0 0.30000000000000004 1e+20"},
		{"dot access on map", "{{ m.k }}", "v"},
		{"item access on map", "{{ m['k'] }}", "v"},
		{"hostvars access", "{{ hostvars[inventory_hostname].ansible_host }}", "10.0.0.1"},
		{"list index", "{{ l[0] }} {{ l[-1] }} {{ l.1 }}", "1 3 2"},
		{"slice", "{{ l[1:] }}", []any{2, 3}},
		{"string slice reverse", "{{ 'abc'[::-1] }}", "cba"},
		{"length of string list map", "{{ s | length }} {{ l | length }} {{ m | length }}", "11 3 2"},
		{"in list", "{{ 2 in l }}", true},
		{"in binds looser than a filter", "{{ 2 in l | map('int') | list }}", true},
		{"not in binds looser than a filter", "{{ 5 not in l | list }}", true},
		{"in binds looser than arithmetic", "{{ 4 in l + [4] }}", true},
		{"in a for header keeps its operand", "{% for i in l | reverse %}{{ i }}{% endfor %}", "321"},
		{"line break after and", "{{ t and\n 2 in l }}", true},
		{"line break after or in brackets", "{{ (f or\n t) }}", true},
		{"operator before a bracket", "{{ t and(f) }}", false},
		{"keyword as attribute", "{{ {'and': 1}.and }}", 1},
		{"not in list", "{{ 5 not in l }}", true},
		{"in string", "{{ 'World' in s }}", true},
		{"in map", "{{ 'k' in m }}", true},
		{"concat", "{{ a ~ b ~ n }}", "1xNone"},
		{"inline if", "{{ 'yes' if t else 'no' }}", "yes"},
		{"inline if false no else", "[{{ 'yes' if f }}]", []any{}},
		{"arithmetic", "{{ 7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 3 * 'ab' }}", "3 3.5 2 1024 ababab"},
		{"list concat", "{{ l + [4] }}", []any{1, 2, 3, 4}},
		// Python's integers do not overflow; Jinja2's ** is left-associative.
		{"power tower is exact", "x{{ 10**10**10 }}", "x1" + strings.Repeat("0", 100)},
		{"big power", "x{{ 2**100 }}", "x1267650600228229401496703205376"},
		{"big product", "x{{ 1000000000000000 * 1000000000000000 }}", "x1000000000000000000000000000000"},
		{"int overflow", "x{{ 9223372036854775807 + 1 }}", "x9223372036854775808"},
		{"big comparisons", "{{ 2**100 > 5 }} {{ 2**100 == 2**100 + 1 }} {{ (2**100) | int + 1 - 2**100 }}", "True False 1"},
		{"negative power is a float", "{{ 2**-1 }}", 0.5},
		{"big floor division", "{{ -(2**100) // 3 }} {{ -(2**100) % 3 }}", "-422550200076076467165567735126 2"},
		{"and or return operands", "{{ '' or 'fallback' }} {{ 'a' and 'b' }}", "fallback b"},
		{"comparison chain", "{{ a < 2 and b == 'x' }}", true},
		{"equality int float", "{{ 1 == 1.0 }}", true},
		{"dict literal", "{{ {'a': 1, 'b': [1, 2]} }}", map[string]any{"a": 1, "b": []any{1, 2}}},
		{"method calls", "{{ 'a,b'.split(',') }} {{ s.startswith('Hell') }} {{ m.get('zz', 'd') }}", "['a', 'b'] True d"},
		{"dict items method", "{{ m.items() | list | length }}", 2},
		{"lowercase constants", "{{ none is none }} {{ true }}", "True True"},
		{"string format operator", "{{ '%s-%03d' % ('a', 7) }}", "a-007"},
		{"str format method", "{{ '{}:{}'.format(b, a) }}", "x:1"},
		{"range", "{{ range(3) | list }}", []any{0, 1, 2}},
		{"unsafe is not rendered", "{{ unsafe }}", "{{ not_rendered }}"},
		{"comment removed", "a{# hidden #}b", "ab"},
		{"raw block", "{% raw %}{{ a }}{% endraw %}", "{{ a }}"},
		{"ansible.builtin prefix", "{{ l | ansible.builtin.length }}", 3},
	})
}

func TestStatements(t *testing.T) {
	runCases(t, []renderCase{
		{"for with loop vars", "{% for i in l %}{{ loop.index }}/{{ loop.length }}:{{ i }}{% if not loop.last %},{% endif %}{% endfor %}", "1/3:1,2/3:2,3/3:3"},
		{"for index0 revindex first", "{% for i in sl %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }} {% endfor %}", "03True 12False 21False "},
		{"for over dict items", "{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}", "k=v;n={'z': 1};"},
		{"for over dict keys", "{% for k in m %}{{ k }}{% endfor %}", "kn"},
		{"for else", "{% for i in empty %}x{% else %}none{% endfor %}", "none"},
		{"for with filter", "{% for i in l if i > 1 %}{{ i }}{% endfor %}", "23"},
		{"for over users attr", "{% for u in users %}{{ u.name }} {% endfor %}", "alice bob "},
		{"nested loops", "{% for u in users %}{% for g in u.groups %}{{ u.name }}:{{ g }} {% endfor %}{% endfor %}", "alice:wheel alice:dev bob:dev "},
		{"break continue", "{% for i in l %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "1"},
		{"if elif else", "{% if a == 2 %}two{% elif a == 1 %}one{% else %}other{% endif %}", "one"},
		{"set", "{% set x = a + 1 %}{{ x }}", "2"},
		{"set inline if", "{% set x = 'y' if t else 'n' %}{{ x }}", "y"},
		{"block set", "{% set x %}hello {{ b }}{% endset %}{{ x | upper }}", "HELLO X"},
		{"set in loop does not leak", "{% set x = 1 %}{% for i in l %}{% set x = i %}{% endfor %}{{ x }}", "1"},
		{"namespace", "{% set ns = namespace(total=0) %}{% for i in l %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}", "6"},
		{"macro", "{% macro greet(who, greeting='hi') %}{{ greeting }} {{ who }}{% endmacro %}{{ greet('bob') }}, {{ greet('al', greeting='yo') }}", "hi bob, yo al"},
		{"trim_blocks default", "a\n{% if t %}\nb\n{% endif %}\nc\n", "a\nb\nc\n"},
		{"whitespace control minus", "a  {%- if t -%}  b  {%- endif -%}  c", "abc"},
		{"output whitespace control", "a {{- b -}} c", "axc"},
		{"trailing newline kept", "{{ b }}\n", "x\n"},
		{"loop previtem", "{% for i in l %}{{ loop.previtem | default('-') }}{% endfor %}", "-12"},
	})
}

func TestLazyVariables(t *testing.T) {
	runCases(t, []renderCase{
		{"lazy string", "{{ lazy }}", "X"},
		{"lazy chain", "{{ lazy2 }}", "X-2"},
		{"lazy number is text", "{{ lazynative }}", "3"},
		{"lazy list elements", "{{ lazylist }}", []any{1, "x"}},
		{"lazy list element access", "{{ lazylist[1] | upper }}", "X"},
		{"lazy map value", "{{ lazymap.x }}", "hello world"},
		{"lazy map whole", "{{ lazymap }}", map[string]any{"x": "hello world"}},
		{"lazy in loop", "{% for i in lazylist %}{{ i }}{% endfor %}", "1x"},
		{"lazy through filter", "{{ lazylist | join('-') }}", "1-x"},
	})
}

func TestRecursiveVariable(t *testing.T) {
	e := New(Options{})
	vars := map[string]any{"a": "{{ a }}", "b": "{{ c }}", "c": "{{ b }}", "d": map[string]any{"x": "{{ d.x }}"}}
	for _, src := range []string{"{{ a }}", "{{ b }}", "x {{ d.x }}"} {
		_, err := e.Render(src, vars)
		if err == nil || !strings.Contains(err.Error(), "recursive loop detected in template") {
			t.Errorf("Render(%q) error = %v, want recursive loop", src, err)
		}
	}
	_, err := e.Render("{{ a }}", vars)
	if !strings.Contains(err.Error(), "recursive loop detected in template for variable 'a'") {
		t.Errorf("error %q does not name variable a", err)
	}
}

func TestUndefined(t *testing.T) {
	e := New(Options{})
	cases := []struct {
		src  string
		name string
		msg  string
	}{
		{"{{ nope }}", "nope", "'nope' is undefined"},
		{"x {{ nope }} y", "nope", "'nope' is undefined"},
		{"{{ m.missing }}", "m.missing", "'dict object' has no attribute 'missing'"},
		{"{{ m['missing'] }}", "m['missing']", "'dict object' has no attribute 'missing'"},
		{"{{ nope.attr }}", "nope.attr", "'nope.attr' is undefined"},
		{"{{ nope | upper }}", "nope", "'nope' is undefined"},
		{"{{ nope + 1 }}", "nope", "'nope' is undefined"},
		{"{% if nope %}x{% endif %}", "nope", "'nope' is undefined"},
		{"{% for i in nope %}{% endfor %}", "nope", "'nope' is undefined"},
		{"{{ l[10] }}", "l[10]", "list object has no element 10"},
		{"{{ nope | mandatory }}", "nope", "Mandatory variable 'nope' not defined."},
		{"{{ nope | mandatory('set nope!') }}", "nope", "set nope!"},
		{"{{ lookup('vars', 'nope') }}", "nope", "No variable found with this name: nope"},
		{"{{ nope | default(m.missing) }}", "m.missing", "'dict object' has no attribute 'missing'"},
		{"{{ nope | default(m.missing) | upper }}", "m.missing", "'dict object' has no attribute 'missing'"},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			_, err := e.Render(tc.src, commonVars())
			var ue *UndefinedError
			if !errors.As(err, &ue) {
				t.Fatalf("Render(%q) error = %v, want *UndefinedError", tc.src, err)
			}
			if ue.Name != tc.name {
				t.Errorf("Name = %q, want %q", ue.Name, tc.name)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Error() = %q, want it to contain %q", err.Error(), tc.msg)
			}
		})
	}
	// Guards that make undefined fine.
	runCases(t, []renderCase{
		{"default", "{{ nope | default('d') }}", "d"},
		{"d alias", "{{ nope | d(5) }}", 5},
		{"default on missing attr", "{{ m.missing | default('d') }}", "d"},
		{"default on chain", "{{ nope.a.b | default('d') }}", "d"},
		{"undefined default value, defaulted again", "{{ m.g | default(m.missing) | default('root') }}", "root"},
		{"undefined default value not used", "{{ a | default(m.missing) }}", 1},
		{"default falsy", "{{ '' | default('d', true) }}", "d"},
		{"default keeps falsy", "{{ '' | default('d') }}", ""},
		{"is defined", "{{ nope is defined }} {{ a is defined }}", "False True"},
		{"is undefined", "{{ nope is undefined }}", true},
		{"attr is defined", "{{ m.missing is defined }} {{ m.k is defined }}", "False True"},
		{"short circuit and", "{{ nope is defined and nope > 1 }}", false},
		{"short circuit or", "{{ t or nope }}", true},
		{"inline if guard", "{{ nope if nope is defined else 'd' }}", "d"},
		{"if guard", "{% if nope is defined %}{{ nope }}{% else %}d{% endif %}", "d"},
	})
}

func TestSyntaxErrors(t *testing.T) {
	e := New(Options{})
	cases := []struct{ src, want string }{
		{"{{ a }", `template error: unexpected delimiter "}" at line 1`},
		{"a\nb\n{{ a }\n", `at line 3`},
		{"{% if a %}x", `template error:`},
		{"{% for %}", `template error:`},
		{"{{ a | }}", `template error:`},
		{"{% frobnicate %}", `frobnicate`},
	}
	for _, tc := range cases {
		_, err := e.Render(tc.src, nil)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Render(%q) error = %v, want *SyntaxError", tc.src, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q) error = %q, want it to contain %q", tc.src, err, tc.want)
		}
	}
}

func TestRuntimeErrors(t *testing.T) {
	e := New(Options{})
	cases := []struct{ src, want string }{
		{"x\n{{ 'a' + 1 }}", "line 2"},
		{"{{ 1 / 0 }}", "division by zero"},
		{"{{ 10**(10**10) }}", "integer result too large"},
		{"{% for i in range(100) %}{{ 'x' * 1000000 }}{% endfor %}", "rendered text longer than"},
		// Loops with an empty body build nothing, but would run for hours.
		{"{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}", "too much work"},
		{"{% for i in range(1000) %}{{ range(1000000) | length }}{% endfor %}", "too much work"},
		{"{% for i in range(1000) %}{{ ([0] * 10000000) | length }}{% endfor %}", "too much work"},
		{"{% for i in range(10000) %}{{ ('x' * 16000000) | length }}{% endfor %}", "too much work"},
		{"{% macro m(n) %}{% for i in range(4) %}{{ m(n) }}{% endfor %}{% endmacro %}{{ m(1) }}", "recursion too deep"},
		{"{% macro m() %}{% endmacro %}{% for i in range(1000) %}{% for j in range(1000) %}{{ m() }}{% endfor %}{% endfor %}", "too much work"},
		{"{{ (2**600000) * (2**600000) }}", "integer result too large"},
		{"{{ l | nosuchfilter }}", "no filter named 'nosuchfilter'"},
		{"{{ a is nosuchtest }}", "no test named 'nosuchtest'"},
		{"{% break %}", "break outside of a loop"},
		{"{{ nosuchfunc() }}", "'nosuchfunc' is undefined"},
	}
	for _, tc := range cases {
		_, err := e.Render(tc.src, commonVars())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q) error = %v, want it to contain %q", tc.src, err, tc.want)
		}
	}
}

func TestRenderString(t *testing.T) {
	e := New(Options{})
	got, err := e.RenderString("{{ l }}", commonVars())
	if err != nil || got != "[1, 2, 3]" {
		t.Errorf("RenderString = %q, %v", got, err)
	}
}

func TestRenderValue(t *testing.T) {
	e := New(Options{})
	in := map[string]any{
		"name":        "{{ b }}",
		"list":        []any{"{{ a }}", "plain", 3},
		"{{ b }}_key": map[string]any{"deep": "{{ l }}"},
	}
	got, err := e.RenderValue(in, commonVars())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name":  "x",
		"list":  []any{1, "plain", 3},
		"x_key": map[string]any{"deep": []any{1, 2, 3}},
	}
	if diff := cmp.Diff(want, got, dictAsMap); diff != "" {
		t.Errorf("RenderValue mismatch (-want +got):\n%s", diff)
	}
	if in["name"] != "{{ b }}" {
		t.Errorf("RenderValue mutated its input")
	}
}

func TestRenderDoesNotAliasVars(t *testing.T) {
	e := New(Options{})
	vars := commonVars()
	got, err := e.Render("{{ l }}", vars)
	if err != nil {
		t.Fatal(err)
	}
	got.([]any)[0] = 99
	if vars["l"].([]any)[0] != 1 {
		t.Errorf("mutating Render's result changed the vars")
	}
}

func TestEval(t *testing.T) {
	e := New(Options{})
	cases := []struct {
		expr string
		want any
	}{
		{"a is defined and a | int > 0", true},
		{"'web1' in hostvars", true},
		{"res_changed is changed", true},
		{"l | sum", 6},
		{"'yes' if t else 'no'", "yes"},
		{"m", map[string]any{"k": "v", "n": map[string]any{"z": 1}}},
	}
	for _, tc := range cases {
		got, err := e.Eval(tc.expr, commonVars())
		if err != nil {
			t.Errorf("Eval(%q): %v", tc.expr, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, dictAsMap); diff != "" {
			t.Errorf("Eval(%q) mismatch (-want +got):\n%s", tc.expr, diff)
		}
	}
	if _, err := e.Eval("a +", nil); err == nil {
		t.Errorf("Eval of a broken expression succeeded")
	}
}

func TestTruthy(t *testing.T) {
	e := New(Options{})
	cases := []struct {
		cond any
		want bool
	}{
		{true, true},
		{false, false},
		{nil, true},
		{"", true},
		{1, true},
		{0, false},
		{0.0, false},
		{"a == 1", true},
		{"a == 2", false},
		{"res_changed is changed", true},
		{"res_failed is succeeded", false},
		{"res_loop is changed", true},
		{"res_skipped is skipped", true},
		{"{{ a == 1 }}", true},
		{"{{ f }}", false},
		{"t", true},
		{"empty", false},
		{"l", true},
		{"nope is not defined", true},
		{[]any{"a == 1", "t"}, true},
		{[]any{"a == 1", "f"}, false},
		{"'false'", true}, // {% if 'false' %}: a non-empty string
		{"'yes'", true},
		{"b", true},
	}
	for _, tc := range cases {
		got, err := e.Truthy(tc.cond, commonVars())
		if err != nil {
			t.Errorf("Truthy(%#v): %v", tc.cond, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Truthy(%#v) = %v, want %v", tc.cond, got, tc.want)
		}
	}
	if _, err := e.Truthy("nope == 1", commonVars()); err == nil {
		t.Errorf("Truthy on an undefined variable succeeded")
	}
	// A rendered condition is evaluated as an expression, as Ansible does:
	// omit's placeholder or a bare word is an undefined variable, not a
	// true string.
	vars := commonVars()
	vars["omit"] = "__omit_place_holder__0123"
	vars["word"] = "enabled"
	for _, cond := range []string{"{{ omit }}", "{{ word }}"} {
		if got, err := e.Truthy(cond, vars); err == nil {
			t.Errorf("Truthy(%q) = %v, want an undefined-variable error", cond, got)
		}
	}
}

func TestWithSearchPathSharesCache(t *testing.T) {
	e := New(Options{BaseDir: "/nonexistent"})
	sub := e.WithSearchPath("testdata/role")
	if sub.shared != e.shared {
		t.Errorf("WithSearchPath copy does not share the cache")
	}
	if len(e.search) != 0 || len(sub.search) != 1 {
		t.Errorf("WithSearchPath changed the original engine: %v / %v", e.search, sub.search)
	}
}

func TestConcurrentRender(t *testing.T) {
	e := New(Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				got, err := e.Render("{{ lazy }} {{ l | map('string') | join(',') }}", commonVars())
				if err != nil {
					errs <- err
					return
				}
				if got != "X 1,2,3" {
					errs <- errors.New("bad result: " + got.(string))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
