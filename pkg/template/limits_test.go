package template

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nikolalohinski/gonja/v2/config"
)

// renderWithin renders src and fails the test if that takes longer than
// limit: the inputs here used to hang or crash.
func renderWithin(t *testing.T, e *Engine, src string, limit time.Duration) (any, error) {
	t.Helper()
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := e.Render(src, map[string]any{})
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(limit):
		t.Fatalf("Render(%q) still running after %v", truncate(src, 80), limit)
		return nil, nil
	}
}

func nested(open, close string, n int) string {
	return "{{ " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + " }}"
}

// TestTemplateLimits checks that templates asking for huge values or
// nesting fail fast with an error saying what was too large.
func TestTemplateLimits(t *testing.T) {
	abs, err := filepath.Abs("testdata/recursive")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src string
		want      string // error text; "" for success
	}{
		{"huge range", "{{ range(10**12) | length }}", "range too large (MemoryError): 1000000000000 items"},
		{"huge negative range", "{{ range(0, -10**15, -1) | length }}", "range too large (MemoryError)"},
		{"range at the limit", "{{ range(1000000) | length }}", ""},
		{"huge string", "{{ ('x' * 10**12) | length }}", "repeated string too long (MemoryError)"},
		{"string repeat overflowing int", "{{ ('ab' * 2**62) | length }}", "repeated string too long (MemoryError)"},
		{"huge list", "{{ ([0] * 10**12) | length }}", "repeated list too long (MemoryError)"},
		{"empty list many times", "{{ ([] * 10**12) | length }}", ""},
		{"huge product", "{{ range(1000) | product(range(1000), range(1000)) | length }}", "product too large (MemoryError)"},
		{"parentheses at the limit", nested("(", ")", maxNesting), ""},
		{"parentheses too deep", nested("(", ")", 10000), "expression nested more than 1000 levels deep at line 1, column 1004"},
		{"lists nested 500 deep", nested("[", "]", 500), ""},
		{"lists too deep", nested("[", "]", 10000), "expression nested more than 1000 levels deep at line 1, column 1004"},
		{"dicts too deep", nested("{'a':", "}", 10000), "expression nested more than 1000 levels deep"},
		{"filter arguments too deep", nested("x|default(", ")", 10000), "expression nested more than 1000 levels deep"},
		{"not too deep", "{{ " + strings.Repeat("not ", 100000) + "x }}", "expression nested more than 1000 levels deep"},
		{"template looking itself up", "{{ lookup('template', '" + abs + "/self.j2') }}", "template " + abs + "/self.j2 includes itself (through " + abs + "/self.j2 -> " + abs + "/self.j2)"},
		{"templates looking each other up", "{{ lookup('template', '" + abs + "/a.j2') }}", "includes itself (through " + abs + "/a.j2 -> " + abs + "/b.j2 -> " + abs + "/a.j2)"},
		{"a template looked up twice", "{{ lookup('template', '" + abs + "/twice.j2') }}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderWithin(t, New(Options{}), tt.src, 10*time.Second)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRenderCancelled checks that a render that would run for hours stops
// soon after its context is cancelled.
func TestRenderCancelled(t *testing.T) {
	tests := []struct{ name, src string }{
		{"nested loops", "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}"},
		{"a long filter chain", "{% for i in range(1000) %}{{ range(1000000) | map('string') | map('regex_replace', '(.*)', '\\\\1\\\\1') | select('match', '1') | list | length }}{% endfor %}"},
		{"one long filter chain", "{{ range(1000000) | map('string') | map('regex_replace', '(.*)', '\\\\1\\\\1') | map('regex_replace', '(.*)', '\\\\1\\\\1') | map('regex_replace', '(.*)', '\\\\1\\\\1') | map('regex_replace', '(.*)', '\\\\1\\\\1') | select('match', '1') | list | length }}"},
		{"recursive macro with loops", "{% macro m(n) %}{% for i in range(1000000) %}{{ m(n+1) if n < 50 }}{% endfor %}{% endmacro %}{{ m(0) }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			e := New(Options{}).WithContext(ctx)
			e.workLimit = math.MaxInt
			_, err := renderWithin(t, e, tt.src, 5*time.Second)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want one wrapping context.Canceled", err)
			}
		})
	}
}

func deepTokens(n int) string {
	return "{{ " + strings.Repeat("(", n) + "x if y else z" + strings.Repeat(")", n) + " }}"
}

// BenchmarkDeepParentheses times compiling "{{ ((...(x if y else z)...)) }}".
// Rewriting the inline ifs used to rescan every bracket's content once per
// enclosing bracket; the time per bracket should stay the same from 1000 to
// 40000 (a timed test of that ratio failed on a loaded machine).
func BenchmarkDeepParentheses(b *testing.B) {
	for _, n := range []int{100, 1000, 5000, 40000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			cfg := config.New()
			src := deepTokens(n)
			for b.Loop() {
				rewriteInlineIf(lexAll(src, cfg))
			}
		})
	}
}

// TestInclude checks {% include %}: the included template sees the
// including one's variables, and including itself is an error.
func TestInclude(t *testing.T) {
	abs, err := filepath.Abs("testdata/recursive")
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{BaseDir: "testdata/recursive"})
	vars := map[string]any{"b": "x"}
	tests := []struct{ name, src, want, wantErr string }{
		{"include", "<{% include 'leaf.j2' %}>", "<leaf>", ""},
		{"loop variables are seen", "{% for item in [1, 2] %}{% include 'item.j2' %};{% endfor %}", "1-x;2-x;", ""},
		{"without context", "{% include 'nocontext.j2' without context %}", "none", ""},
		{"ignore missing", "a{% include 'missing.j2' ignore missing %}b", "ab", ""},
		{"missing", "{% include 'missing.j2' %}", "", `include: could not find or access "missing.j2"`},
		{"including itself", "{% include 'self_include.j2' %}", "", "template " + abs + "/self_include.j2 includes itself (through " + abs + "/self_include.j2 -> " + abs + "/self_include.j2)"},
		{"including each other", "{% include 'inc_a.j2' %}", "", "includes itself (through " + abs + "/inc_a.j2 -> " + abs + "/inc_b.j2 -> " + abs + "/inc_a.j2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got string
			go func() {
				got, err = e.RenderString(tt.src, vars)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("still rendering after 10 s")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
