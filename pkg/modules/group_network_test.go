package modules

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// netRun runs a module the way the engine does: Validate, Plan and, unless
// check is set or nothing changes, Apply. It returns the reported result
// with "changed" filled in, and the plan.
func netRun(t *testing.T, h *module.Host, m module.Module, raw map[string]any, check bool) (module.Result, *module.Plan) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args, err := m.Spec().Validate(raw, false)
	if err != nil {
		t.Fatalf("%s: validate %v: %v", m.Spec().Name, raw, err)
	}
	h.Check = check
	p, err := m.Plan(ctx, h, args)
	if err != nil {
		t.Fatalf("%s: plan: %v", m.Spec().Name, err)
	}
	r := module.Result{}
	for k, v := range p.Result {
		r[k] = v
	}
	if p.Changed && !check && p.Apply != nil {
		ar, err := p.Apply(ctx)
		if err != nil {
			t.Fatalf("%s: apply: %v", m.Spec().Name, err)
		}
		r = module.Result{}
		for k, v := range ar {
			r[k] = v
		}
	}
	if _, ok := r["changed"]; !ok {
		r["changed"] = p.Changed
	}
	return r, p
}

// netFailed reports whether a result is a failure.
func netFailed(r module.Result) bool { b, _ := r["failed"].(bool); return b }

// localPostgres returns a host reaching the controller's own PostgreSQL
// as become_user postgres, or skips the test.
func localPostgres(t *testing.T) *module.Host {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is not installed on this machine")
	}
	out, err := exec.Command("sudo", "-n", "-u", "postgres", "psql", "-XAtqc", "SELECT 1").CombinedOutput()
	if err != nil {
		t.Skipf("no local PostgreSQL server reachable as postgres via sudo (start one with pg_ctlcluster): %v: %s", err, out)
	}
	return &module.Host{Name: "localhost", Conn: connection.Local{}, Become: &connection.Become{User: "postgres"}}
}
