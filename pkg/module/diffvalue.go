package module

import (
	"github.com/tend-dev/tend/pkg/pyfmt"
)

// DiffsOf reads a diff in the shape Ansible modules return it (a dict
// with before and after, and optionally before_header and after_header,
// or a list of such dicts) as Diffs, for display. A before or after that
// is a dict is shown as Ansible's callback serialises it (JSON, keys
// sorted, indented by 4); None is empty.
func DiffsOf(v any) []Diff {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil
	}
	var out []Diff
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		b, hasB := m["before"]
		a, hasA := m["after"]
		if !hasB || !hasA {
			continue
		}
		d := Diff{Before: diffText(b), After: diffText(a)}
		if h, ok := m["before_header"]; ok {
			d.BeforeHeader = pyfmt.Str(h)
		}
		if h, ok := m["after_header"]; ok {
			d.AfterHeader = pyfmt.Str(h)
		}
		out = append(out, d)
	}
	return out
}

func diffText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any:
		s, err := pyfmt.JSON(x, pyfmt.JSONOptions{Indent: 4, ItemSep: ",", KeySep: ": "})
		if err != nil {
			return pyfmt.Str(x)
		}
		return s + "\n"
	}
	return pyfmt.Str(v)
}
