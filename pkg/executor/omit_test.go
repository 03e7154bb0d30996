package executor

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/template"
)

// TestRemoveOmit: arguments set to omit vanish, in nested mappings too,
// directly or in lists, as Ansible's remove_omit does; a list element
// that is omit itself stays, as there.
func TestRemoveOmit(t *testing.T) {
	const omit = "__omit_place_holder__x"
	args := map[string]any{
		"path":   "/x",
		"mode":   omit,
		"unsafe": template.Unsafe(omit),
		"nested": map[string]any{"keep": 1, "drop": omit, "deeper": map[string]any{"drop": omit}},
		"list":   []any{omit, map[string]any{"a": omit, "b": 2}, []any{map[string]any{"c": omit}}},
	}
	want := map[string]any{
		"path":   "/x",
		"nested": map[string]any{"keep": 1, "deeper": map[string]any{}},
		"list":   []any{omit, map[string]any{"b": 2}, []any{map[string]any{"c": omit}}},
	}
	if d := cmp.Diff(want, removeOmit(args, omit)); d != "" {
		t.Errorf("removeOmit (-want +got):\n%s", d)
	}
}
