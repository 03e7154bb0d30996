package template

import (
	"strconv"
	"testing"
)

func benchVars() map[string]any {
	vars := commonVars()
	for i := 0; i < 100; i++ {
		vars["var"+strconv.Itoa(i)] = "value " + strconv.Itoa(i)
	}
	return vars
}

func BenchmarkRenderPlain(b *testing.B) {
	e := New(Options{})
	vars := benchVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render("just a plain string with no markup", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderSimple(b *testing.B) {
	e := New(Options{})
	vars := benchVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render("{{ a }} {{ b | upper }}", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderNative(b *testing.B) {
	e := New(Options{})
	vars := benchVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render("{{ hostvars[inventory_hostname].ansible_host }}", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTruthy(b *testing.B) {
	e := New(Options{})
	vars := benchVars()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Truthy("res_changed is changed and a | int > 0", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderLoop(b *testing.B) {
	e := New(Options{})
	vars := benchVars()
	src := "{% for u in users %}{{ u.name }}:{{ u.groups | join(',') }}\n{% endfor %}"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render(src, vars); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderDict builds, combines and walks dicts: the work whose cost
// keeping key order adds to.
func BenchmarkRenderDict(b *testing.B) {
	e := New(Options{})
	vars := benchVars()
	src := "{% set d = {'zeta': 1, 'alpha': 2, 'mid': 3, 'beta': 4} | combine({'omega': 5, 'alpha': 6}) %}" +
		"{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}{{ d | dict2items | items2dict | to_json }}"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render(src, vars); err != nil {
			b.Fatal(err)
		}
	}
}
