package template

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newlineCases hold template sources and the bytes ansible-playbook 2.14's
// template module writes for them (recorded, and re-checked against
// ansible-playbook by TestNewlinesAnsibleOracle when it is installed).
var newlineCases = []struct{ name, src, want string }{
	{"one", "a\n", "a\n"},
	{"two", "a\n\n", "a\n\n"},
	{"none", "a", "a"},
	{"crlf", "a\r\n", "a\n"},
	{"cr", "a\rb\r", "a\nb"},
	{"expr", "{{ x }}\n", "1\n"},
	{"text ending in newline", "{{ t }}\n", "line\n"},
	{"empty expr", "a\n{{ \"\" }}\n", "a\n"},
	{"block at end", "{% if true %}\nx\n{% endif %}\n", "x\n"},
	{"block without newline", "{% if true %}x{% endif %}", "x"},
	{"comment", "{# c #}\n", "\n"},
	{"minus", "a\n{%- if true %}\nb\n{%- endif %}\n", "ab\n"},
	{"for", "{% for i in [1,2] %}\n{{ i }}\n{% endfor %}\n\n", "1\n2\n\n"},
	{"indented block", "  {% if true %}\nx\n  {% endif %}\n", "  x\n  \n"},
	{"macro", "{% macro m() %}\nM\n{% endmacro %}\n{{ m() }}\n", "M\n"},
	{"multi", "x {{ 1 }}\n\n\n", "x 1\n\n\n"},
}

var newlineVars = map[string]any{"x": 1, "t": "line\n"}

func renderFile(t *testing.T, src string) string {
	if !IsTemplate(src) {
		return RenderText(src)
	}
	out, err := New(Options{}).RenderString(src, newlineVars)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTemplateNewlines(t *testing.T) {
	for _, c := range newlineCases {
		t.Run(c.name, func(t *testing.T) {
			if got := renderFile(t, c.src); got != c.want {
				t.Errorf("render %q = %q, ansible-playbook writes %q", c.src, got, c.want)
			}
		})
	}
}

// TestNewlinesAnsibleOracle writes every case with ansible-playbook's
// template module and compares the files byte for byte.
func TestNewlinesAnsibleOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the comparison with ansible-playbook")
	}
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	dir := t.TempDir()
	var tasks strings.Builder
	for i, c := range newlineCases {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.j2", i)), []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&tasks, "    - template: {src: '%[1]s/%[2]d.j2', dest: '%[1]s/%[2]d.out'}\n", dir, i)
	}
	pb := "- hosts: localhost\n  gather_facts: false\n  vars: {x: 1, t: \"line\\n\"}\n  tasks:\n" + tasks.String()
	if err := os.WriteFile(filepath.Join(dir, "p.yml"), []byte(pb), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ap, "-i", "localhost,", "-c", "local", filepath.Join(dir, "p.yml"))
	cmd.Env = append(os.Environ(), "ANSIBLE_LOCALHOST_WARNING=0", "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	for i, c := range newlineCases {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.out", i)))
		if err != nil {
			t.Fatal(err)
		}
		if got := renderFile(t, c.src); got != string(b) {
			t.Errorf("%s: tend renders %q, ansible-playbook writes %q", c.name, got, b)
		}
	}
}

// TestRenderFileEscapes: a template file (the template module) is rendered
// as Ansible renders it, without doubling backslashes, so string literals
// have Python's escapes; a template string in a task keeps "\n" as a
// backslash and an n (devsec.os_hardening's securetty.j2 joins with "\n").
func TestRenderFileEscapes(t *testing.T) {
	e := New(Options{})
	src := `{{ "\n".join(["a", "b"]) }}|{{ "x\d" }}`
	got, err := e.RenderFile(src, nil)
	if want := "a\nb|x\\d"; err != nil || got != want {
		t.Errorf("RenderFile = %q, %v; want %q", got, err, want)
	}
	got, err = e.RenderString(src, nil)
	if want := "a\\nb|x\\d"; err != nil || got != want {
		t.Errorf("RenderString = %q, %v; want %q", got, err, want)
	}
}
