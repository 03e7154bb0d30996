package template

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzRender checks that no input makes the engine panic; errors are fine.
func FuzzRender(f *testing.F) {
	seeds := []string{
		"{{ a }}", "{{ a }", "{% if a %}x{% endif %}", "{% for i in l %}{{ loop.index }}{% endfor %}",
		"{{ l | map('string') | join(',') }}", "{{ x is version('1', '<', strict=true) }}", "{{ m['k'][0:1] }}",
		"{% set x %}{% endset %}", "{{ (1, 2) }}", "{{ 'a' * 3 }}", "{% raw %}{{{% endraw %}", "{{ -'a' }}",
		"{% macro m(a) %}{{ m(a) }}{% endmacro %}{{ m(1) }}", "{{ lookup() }}", "{{ a is not }}", "{{ a.0.1[2:] }}",
		"{{ {'a': [1, {'b': none}]} | to_nice_yaml }}", "{# #}", "{%- -%}", "{{ '%s' % }}", "{{ range(10) | sum }}",
		// Inputs that used to hang or crash: recursion, nesting, huge values.
		"{{ lookup('template', 'recursive/self.j2') }}", "{{ lookup('template', 'recursive/a.j2') }}",
		strings.Repeat("(", 2000) + strings.Repeat(")", 2000), "{{ " + strings.Repeat("[", 1001) + " }}",
		"{{ ([] * 10**12) | length }}", "{{ 'ab' * 2**62 }}", "{{ range(10**12) }}", "{{ range(99) | product(range(99), range(99)) | length }}",
		"{% for i in range(99) %}{% for j in range(99) %}{{ i }}{% endfor %}{% endfor %}",
		"{% for i in range(999) %}{% for j in range(999) %}{% for k in range(999) %}{% endfor %}{% endfor %}{% endfor %}",
		"{% with a = 1, b = a %}{{ b }}{% endwith %}", "{% filter upper | replace('A', 'b') %}a{% endfilter %}",
		"{% macro m() %}{{ caller(1) }}{{ varargs }}{{ kwargs }}{% endmacro %}{% call(x) m(*l, **m) %}{{ x }}{% endcall %}",
		"{% extends 'recursive/self.j2' %}{% block a %}{{ super() }}{% endblock %}", "{{ a and\n b or(c) }}", "{{ a in l | map('x') if a else b }}",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := New(Options{BaseDir: "testdata"})
	e.noCommands = true
	// A smaller work budget keeps each input well inside the watchdog on
	// a loaded machine (coverage instrumentation makes steps slower); the
	// budget itself is tested in TestRuntimeErrors.
	e.workLimit = maxWork / 10
	f.Fuzz(func(t *testing.T, src string) {
		// A hang would stall the fuzzer silently; crashing saves the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("rendering %q took more than 10 s", src)) })
		defer watchdog.Stop()
		vars := commonVars()
		vars["rec"] = "{{ rec }}"
		_, _ = e.Render(src, vars)
		_, _ = e.Eval(src, vars)
		_, _ = e.Truthy(src, vars)
	})
}
