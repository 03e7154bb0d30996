package template

import "testing"

// FuzzRender checks that no input makes the engine panic; errors are fine.
func FuzzRender(f *testing.F) {
	seeds := []string{
		"{{ a }}", "{{ a }", "{% if a %}x{% endif %}", "{% for i in l %}{{ loop.index }}{% endfor %}",
		"{{ l | map('string') | join(',') }}", "{{ x is version('1', '<', strict=true) }}", "{{ m['k'][0:1] }}",
		"{% set x %}{% endset %}", "{{ (1, 2) }}", "{{ 'a' * 3 }}", "{% raw %}{{{% endraw %}", "{{ -'a' }}",
		"{% macro m(a) %}{{ m(a) }}{% endmacro %}{{ m(1) }}", "{{ lookup() }}", "{{ a is not }}", "{{ a.0.1[2:] }}",
		"{{ {'a': [1, {'b': none}]} | to_nice_yaml }}", "{# #}", "{%- -%}", "{{ '%s' % }}", "{{ range(10) | sum }}",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := New(Options{BaseDir: "testdata"})
	e.noCommands = true
	f.Fuzz(func(t *testing.T, src string) {
		vars := commonVars()
		vars["rec"] = "{{ rec }}"
		_, _ = e.Render(src, vars)
		_, _ = e.Eval(src, vars)
		_, _ = e.Truthy(src, vars)
	})
}
