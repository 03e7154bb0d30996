package executor

import (
	"testing"

	"github.com/tend-dev/tend/pkg/report"
)

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
