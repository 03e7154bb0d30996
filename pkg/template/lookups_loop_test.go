package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/odict"
)

// TestLoopLookup checks with_<lookup> against what ansible-playbook 2.14
// gives for the same with_ value (the raw value is the rendered one).
func TestLoopLookup(t *testing.T) {
	cases := []struct {
		kind string
		raw  any
		want []any
	}{
		{"items", []any{1, []any{2, []any{3}}}, []any{1, 2, []any{3}}},
		{"items", nil, []any{nil}},
		{"list", "a", []any{"a"}},
		{"flattened", []any{1, []any{2, []any{3}}}, []any{1, 2, 3}},
		{"indexed_items", []any{"a", "b"}, []any{[]any{0, "a"}, []any{1, "b"}}},
		{"indexed_items", []any{[]any{1, 2}, 3}, []any{[]any{0, 1}, []any{1, 2}, []any{2, 3}}},
		{"dict", map[string]any{"b": 2, "a": 1}, []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{"together", []any{[]any{1, 2}, []any{"a"}}, []any{[]any{1, "a"}, []any{2, nil}}},
		{"together", []any{[]any{1, []any{2, 3}}, []any{4}}, []any{[]any{1, 4}, []any{2, 3, nil}}},
		{"nested", []any{[]any{1, 2}, []any{"a", "b"}}, []any{[]any{1, "a"}, []any{1, "b"}, []any{2, "a"}, []any{2, "b"}}},
		{"nested", []any{[]any{1, []any{2, 3}}, []any{4}}, []any{[]any{1, 4}, []any{2, 3, 4}}},
		// The mapping in each pair no longer holds the list it was paired from.
		{"subelements", []any{[]any{map[string]any{"n": 1, "l": []any{"x", "y"}}}, "l"},
			[]any{[]any{map[string]any{"n": 1}, "x"}, []any{map[string]any{"n": 1}, "y"}}},
		{"subelements", []any{map[string]any{"a": map[string]any{"id": 1, "l": []any{1, 2}}}, "l"},
			[]any{[]any{map[string]any{"id": 1}, 1}, []any{map[string]any{"id": 1}, 2}}},
		{"subelements", []any{[]any{map[string]any{"id": 1, "s": map[string]any{"l": []any{"q"}, "o": 2}}}, "s.l"},
			[]any{[]any{map[string]any{"id": 1, "s": map[string]any{"o": 2}}, "q"}}},
		{"subelements", []any{[]any{map[string]any{"id": 1}, map[string]any{"id": 2, "l": []any{"q"}}}, "l", map[string]any{"skip_missing": true}},
			[]any{[]any{map[string]any{"id": 2}, "q"}}},
		{"sequence", "start=0 end=3", []any{"0", "1", "2", "3"}},
		{"sequence", "start=3 end=0 stride=-1", []any{"3", "2", "1", "0"}},
		{"sequence", "2-6/2", []any{"2", "4", "6"}},
		{"sequence", "7-8:host%02d", []any{"host07", "host08"}},
		{"sequence", "count=0", []any{}},
		{"sequence", "start=0x0f00 count=2 format=%04x", []any{"0f00", "0f01"}},
		{"random_choice", []any{"only"}, []any{"only"}},
		{"random_choice", []any{}, []any{}},
	}
	for _, c := range cases {
		got, err := New(Options{}).LoopLookup(c.kind, c.raw, nil)
		if err != nil {
			t.Errorf("%s %v: %v", c.kind, c.raw, err)
			continue
		}
		if diff := cmp.Diff(c.want, odict.Plain(got)); diff != "" {
			t.Errorf("%s %v (-want +got):\n%s", c.kind, c.raw, diff)
		}
	}
}

// TestLoopLookupErrors checks Ansible's messages, which its own tests
// assert on.
func TestLoopLookupErrors(t *testing.T) {
	cases := []struct {
		kind string
		raw  any
		want string
	}{
		{"dict", []any{1, 2}, "with_dict expects a dict"},
		{"list", map[string]any{"k": "v"}, "with_list expects a list"},
		{"indexed_items", map[string]any{"a": 1}, "with_indexed_items expects a list"},
		{"together", []any{}, "with_together requires at least one element in each list"},
		{"nested", []any{}, "with_nested requires at least one element in the nested list"},
		{"subelements", []any{[]any{}}, "subelements lookup expects a list of two or three items, "},
		{"subelements", []any{[]any{"x"}, "k"}, "subelements lookup expects a dictionary, got 'x'"},
		{"subelements", []any{[]any{map[string]any{"k": 1}}, "k"}, "the key k should point to a list, got '1'"},
		{"sequence", "start=0 junk=3", "unrecognized arguments to with_sequence: ['junk']"},
		{"sequence", "start=A end=3", "can't parse start=A as integer"},
		{"sequence", "A-4/2", "can't parse start=A as integer"},
		{"sequence", "1-B/2", "can't parse end=B as integer"},
		{"sequence", "1-4/C", "can't parse stride=C as integer"},
		{"sequence", "start=1", "must specify count or end in with_sequence"},
		{"sequence", "start=1 end=4 count=2", "can't specify both count and end in with_sequence"},
		{"sequence", "start=4 end=1 stride=2", "to count backwards make stride negative"},
		{"sequence", "start=1 end=4 stride=-2", "to count forward don't make stride negative"},
		{"sequence", "start=1 end=4 format=d", "bad formatting string: d"},
		{"sequence", "start=010 end=12", "can't parse start=010 as integer"},
	}
	for _, c := range cases {
		_, err := New(Options{}).LoopLookup(c.kind, c.raw, nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s %v: error %v, want %q", c.kind, c.raw, err, c.want)
		}
	}
}
