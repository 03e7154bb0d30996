package modules

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"gopkg.in/yaml.v3"
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

// TestNetworkSpecs checks every module of the group: its Examples parse
// and validate (so the docs are right), and bad arguments give clear
// errors before any host is contacted.
func TestNetworkSpecs(t *testing.T) {
	reg := module.NewRegistry(networkModules()...)
	for _, m := range networkModules() {
		spec := m.Spec()
		t.Run(spec.Name, func(t *testing.T) {
			if spec.Short == "" || len(spec.Description) < 100 || spec.Examples == "" {
				t.Errorf("%s: documentation missing", spec.Name)
			}
			for _, a := range spec.Args {
				if a.Doc == "" {
					t.Errorf("argument %s has no doc", a.Name)
				}
			}
			var tasks []map[string]any
			if err := yaml.Unmarshal([]byte(spec.Examples), &tasks); err != nil {
				t.Fatalf("examples: %v", err)
			}
			for _, task := range tasks {
				found := false
				for k, v := range task {
					mod, ok := reg.Lookup(k)
					if !ok {
						continue
					}
					found = true
					raw := map[string]any{}
					switch x := v.(type) {
					case map[string]any:
						raw = x
					case string:
						raw[mod.Spec().FreeForm] = x
					}
					if extra, ok := task["args"].(map[string]any); ok {
						for ak, av := range extra {
							raw[ak] = av
						}
					}
					if _, err := mod.Spec().Validate(raw, true); err != nil {
						t.Errorf("example %q: %v", task["name"], err)
					}
				}
				if !found {
					t.Errorf("example %q names no %s module", task["name"], spec.Name)
				}
			}
			if _, err := spec.Validate(map[string]any{"no_such_arg": 1}, false); err == nil || !strings.Contains(err.Error(), `unsupported argument "no_such_arg"`) {
				t.Errorf("unknown argument: %v", err)
			}
		})
	}
	bad := []struct {
		mod  module.Module
		raw  map[string]any
		want string
	}{
		{PostgresqlDB{}, map[string]any{"name": "d", "state": "backup"}, `value "backup" is not one of`},
		{PostgresqlUser{}, map[string]any{}, `missing required argument "name"`},
		{PostgresqlPrivs{}, map[string]any{"database": "d", "privs": "ALL", "roles": "r", "type": "function"}, `"type"`},
		{PostgresqlQuery{}, map[string]any{"query": "x", "positional_args": []any{1}, "named_args": map[string]any{"a": 1}}, "mutually exclusive"},
		{PostgresqlQuery{}, map[string]any{"query": "x", "port": "five"}, "expected an integer"},
		{WaitFor{}, map[string]any{"port": 1, "path": "/x"}, "mutually exclusive"},
		{URI{}, map[string]any{"url": "http://x", "body_format": "xml"}, `"body_format"`},
		{GetURL{}, map[string]any{"url": "http://x"}, `missing required argument "dest"`},
		{Unarchive{}, map[string]any{"src": "a", "dest": "b", "remote_src": true, "copy": false}, "mutually exclusive"},
	}
	for _, b := range bad {
		_, err := b.mod.Spec().Validate(b.raw, false)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s %v: error %v, want %q", b.mod.Spec().Name, b.raw, err, b.want)
		}
	}
}
