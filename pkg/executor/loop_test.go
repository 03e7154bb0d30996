package executor

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/report"
)

func TestLoopKinds(t *testing.T) {
	cases := []struct {
		kind string
		raw  any
		want []any
	}{
		{"loop", []any{1, 2}, []any{1, 2}},
		{"items", []any{1, []any{2, []any{3}}}, []any{1, 2, []any{3}}},
		{"list", "a", []any{"a"}},
		{"flattened", []any{1, []any{2, []any{3}}}, []any{1, 2, 3}},
		{"indexed_items", []any{"a", "b"}, []any{[]any{0, "a"}, []any{1, "b"}}},
		{"dict", map[string]any{"b": 2, "a": 1}, []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{"together", []any{[]any{1, 2}, []any{"a"}}, []any{[]any{1, "a"}, []any{2, nil}}},
		{"nested", []any{[]any{1, 2}, []any{"a", "b"}}, []any{[]any{1, "a"}, []any{1, "b"}, []any{2, "a"}, []any{2, "b"}}},
		{"subelements", []any{[]any{map[string]any{"n": 1, "l": []any{"x", "y"}}}, "l"},
			[]any{[]any{map[string]any{"n": 1, "l": []any{"x", "y"}}, "x"}, []any{map[string]any{"n": 1, "l": []any{"x", "y"}}, "y"}}},
		{"random_choice", []any{"only"}, []any{"only"}},
		{"random_choice", []any{}, nil},
	}
	for _, c := range cases {
		got, err := loopKinds[c.kind](c.raw)
		if err != nil {
			t.Errorf("%s: %v", c.kind, err)
			continue
		}
		if diff := cmp.Diff(c.want, odict.Plain(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.kind, diff)
		}
	}
}

func TestLoopKindErrors(t *testing.T) {
	cases := []struct {
		kind string
		raw  any
		want string
	}{
		{"loop", nil, "loop value is empty (null); expected a list"},
		{"dict", []any{}, "with_dict expects a dict, got []interface {}"},
		{"subelements", []any{[]any{}}, "with_subelements expects [list, subkey]"},
		{"subelements", []any{[]any{"x"}, "k"}, "with_subelements: element x is not a mapping"},
	}
	for _, c := range cases {
		_, err := loopKinds[c.kind](c.raw)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.kind, err, c.want)
		}
	}
}

func TestLoopAggregate(t *testing.T) {
	cases := []struct {
		name     string
		statuses []report.Status
		want     report.Status
		msg      string
		skipped  bool
	}{
		{"no items", nil, report.Skipped, "All items completed", true},
		{"all ok", []report.Status{report.OK, report.OK}, report.OK, "All items completed", false},
		{"one changed", []report.Status{report.OK, report.Changed}, report.Changed, "All items completed", false},
		{"failed wins over changed", []report.Status{report.Changed, report.Failed}, report.Failed, "One or more items failed", false},
		{"all skipped", []report.Status{report.Skipped, report.Skipped}, report.Skipped, "All items skipped", true},
		{"some skipped", []report.Status{report.Skipped, report.OK}, report.OK, "All items completed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := loopAggregate{allSkipped: true}
			for _, s := range c.statuses {
				a.add(s)
				a.results = append(a.results, map[string]any{})
			}
			status, r := a.outcome(len(c.statuses))
			if status != c.want || r["msg"] != c.msg || r["skipped"] != c.skipped {
				t.Errorf("status %v msg %v skipped %v, want %v %q %v", status, r["msg"], r["skipped"], c.want, c.msg, c.skipped)
			}
			if l, ok := r["results"].([]any); !ok || len(l) != len(c.statuses) {
				t.Errorf("results = %#v, want a list of %d", r["results"], len(c.statuses))
			}
			if _, failed := r["failed"]; failed != (c.want == report.Failed) {
				t.Errorf("failed key present = %v, want %v", failed, c.want == report.Failed)
			}
		})
	}
}
