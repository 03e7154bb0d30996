package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/module"
)

func TestPySplitLines(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\nb\n", []string{"a\n", "b\n"}},
		{"a\r\nb\rc\n\nd", []string{"a\r\n", "b\r", "c\n", "\n", "d"}},
		{"a\vb\fc\u2028d\u0085e", []string{"a\v", "b\f", "c\u2028", "d\u0085", "e"}},
	}
	for _, tt := range tests {
		if got := pySplitLines(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("pySplitLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Expected output is Python's difflib.unified_diff as Ansible calls it.
func TestRenderDiffs(t *testing.T) {
	tests := []struct {
		name string
		d    module.Diff
		want string
	}{
		{"identical", module.Diff{Before: "a\n", After: "a\n"}, ""},
		{"both empty", module.Diff{}, ""},
		{"delete all", module.Diff{BeforeHeader: "/f", AfterHeader: "/f", Before: "a\nb\n"},
			"--- before: /f\n+++ after: /f\n@@ -1,2 +0,0 @@\n-a\n-b\n\n"},
		{"one line", module.Diff{Before: "a\n", After: "b\n"}, "--- before\n+++ after\n@@ -1 +1 @@\n-a\n+b\n\n"},
		{"no final newline", module.Diff{Before: "a\nb", After: "a\nb\n"},
			"--- before\n+++ after\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderDiffs(painter{}, []module.Diff{tt.d}); got != tt.want {
				t.Errorf("renderDiffs:\n%s", cmp.Diff(tt.want, got))
			}
		})
	}
}
