package template

import (
	"strings"
	"testing"
)

func TestBlockStatements(t *testing.T) {
	e := New(Options{BaseDir: "testdata/oracle"})
	vars := map[string]any{"l": []any{"p", "q"}, "d": map[string]any{"a": 1, "b": 2},
		"users": []any{map[string]any{"name": "alice", "uid": 1001}, map[string]any{"name": "bob", "uid": 1000}}}
	cases := []struct{ src, want string }{
		{"{% with y = 2, z = y + 1 %}{{ y }}{{ z }}{% endwith %}{{ y is defined }}", "23False"},
		{"{% filter upper %}ab{{ l[0] }}{% endfilter %}", "ABP"},
		{"{% filter replace('a', 'b') | upper %}abc{% endfilter %}", "BBC"},
		{"{% macro m(a) %}[{{ caller() }}{{ a }}]{% endmacro %}{% call m(1) %}body{% endcall %}", "[body1]"},
		{"{% macro m() %}{% for i in [1, 2] %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) m() %}<{{ x }}>{% endcall %}", "<1><2>"},
		{"{% macro m(a, b) %}{{ a }}{{ b }}{% endmacro %}{{ m(*l) }} {{ m(**d) }} {{ m('x', *['y']) }}", "pq 12 xy"},
		{"{% macro m(a) %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}", "[2, 3]{'k': 4}"},
		{"{{ lookup('list', *l) }}", "p,q"},
		{"{{ 2 * 3 }} {{ [1] * 2 }} {{ 2 ** 3 }}", "6 [1, 1] 8"},
		{"{% block a %}plain{% endblock %}", "plain"},
		{"{{ lookup('template', 'child.j2') }}", "head alice\n<b>hello from base and child</b>- alice\n- bob\ntail\n"}, // as ansible-playbook renders it (oracle case c52)
	}
	for _, tc := range cases {
		got, err := e.Render(tc.src, vars)
		if err != nil || got != tc.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tc.src, got, err, tc.want)
		}
	}
	bad := []struct{ src, want string }{
		{"{% call nosuch() %}x{% endcall %}", "'nosuch' is not a macro"},
		{"{% macro m() %}{% endmacro %}{{ m(**l) }}", "argument after ** must be a mapping"},
		{"{% macro m() %}{% endmacro %}{{ m(*1) }}", "argument after * must be an iterable"},
		{"{% extends 'nosuch.j2' %}", "extends"},
		{"{% extends 'extends_self.j2' %}", "extends_self.j2 extends itself"},
		{"{% block a %}{{ super() }}{% endblock %}", "no parent block a"},
		{"{% block a %}x{% endblock b %}", "does not close block a"},
	}
	for _, tc := range bad {
		_, err := e.Render(tc.src, vars)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q) error = %v, want it to contain %q", tc.src, err, tc.want)
		}
	}
}
