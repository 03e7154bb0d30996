package template

import (
	"strings"
	"testing"
)

// TestJinjaOverrides: a "#jinja2:" first line sets options for that
// template and is not part of the output (results as ansible-playbook
// renders them; oracle case a54 compares with Ansible itself).
func TestJinjaOverrides(t *testing.T) {
	e := New(Options{})
	for _, c := range []struct{ src, want, err string }{
		{"#jinja2: trim_blocks:True, lstrip_blocks:True\n# h\n  {% if x %}\n  y\n  {% endif %}\nz", "# h\n  y\nz", ""},
		{"#jinja2:lstrip_blocks: False\n  {% if x %}y{% endif %}", "  y", ""},
		{"#jinja2:trim_blocks: False\n{% if x %}\ny\n{% endif %}", "\ny\n", ""},
		{"#jinja2: variable_start_string: '[[', variable_end_string: \"]]\"\n[[ x ]] {{ x }}", "True {{ x }}", ""},
		{"#jinja2: variable_start_string: [[\n{{ x }}", "", "write a quoted string"},
		{"#jinja2: autoescape: True\n{{ x }}", "", "not supported by tend"},
		// ansible-core's template target: a colon as line statement prefix.
		{"#jinja2: line_statement_prefix:\":\"\n: if x\nfoo\n  : endif\n{{ x }}", "foo\nTrue", ""},
		{"#jinja2: line_comment_prefix: '##'\na ## gone\n{{ x }} ##\nb", "a \nTrue \nb", ""},
		{"#jinja2: trim_blocks True\n{{ x }}", "", "failed to parse jinja2 override 'trim_blocks True'"},
	} {
		got, err := e.Render(c.src, map[string]any{"x": true})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one with %q", c.src, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.src, got, err, c.want)
		}
	}
}

// TestRenderTextOverrides: the template module renders a file without
// markup too, and drops its "#jinja2:" line as Ansible's do_template does.
func TestRenderTextOverrides(t *testing.T) {
	if got := RenderText("#jinja2: trim_blocks: True\nplain\n"); got != "plain\n" {
		t.Errorf("RenderText: got %q, want %q", got, "plain\n")
	}
}
