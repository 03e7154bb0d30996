package module

import (
	"context"
	"testing"
)

// planned is a module whose Plan returns a fixed plan.
type planned struct{ plan *Plan }

func (planned) Spec() *Spec { return &Spec{Name: "planned"} }
func (m planned) Plan(context.Context, *Host, Args) (*Plan, error) {
	return m.plan, nil
}

// TestExecuteHousekeeping: housekeeping runs outside check mode only, is
// not a change by itself, comes before Apply, and a failure it returns is
// the task's result.
func TestExecuteHousekeeping(t *testing.T) {
	for _, tt := range []struct {
		name        string
		check       bool
		changed     bool
		fail        bool
		wantRuns    string
		wantChanged bool
		wantFailed  bool
	}{
		{name: "check mode runs nothing", check: true, wantRuns: ""},
		{name: "housekeeping alone is no change", wantRuns: "h"},
		{name: "before apply", changed: true, wantRuns: "ha", wantChanged: true},
		{name: "check mode with a change", check: true, changed: true, wantRuns: "", wantChanged: true},
		{name: "a failure stops there", changed: true, fail: true, wantRuns: "h", wantFailed: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			runs := ""
			p := &Plan{Changed: tt.changed, Result: Result{}}
			p.Housekeeping = func(context.Context) (Result, error) {
				runs += "h"
				if tt.fail {
					return Result{"failed": true, "msg": "daemon-reload failed"}, nil
				}
				return nil, nil
			}
			p.Apply = func(context.Context) (Result, error) {
				runs += "a"
				return nil, nil
			}
			res, _, err := Execute(context.Background(), planned{p}, &Host{}, Args{}, tt.check)
			if err != nil {
				t.Fatal(err)
			}
			if runs != tt.wantRuns || res["changed"] != tt.wantChanged || (res["failed"] == true) != tt.wantFailed {
				t.Errorf("runs %q, result %v; want runs %q, changed %v, failed %v", runs, res, tt.wantRuns, tt.wantChanged, tt.wantFailed)
			}
		})
	}
}
