package modules

import (
	"context"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// runLocal runs a module against the controller like the engine does:
// Validate, Plan, and Apply unless check is set. It returns the reported
// result with "changed" set and the plan.
func runLocal(t *testing.T, m module.Module, raw map[string]any, check bool) (module.Result, *module.Plan) {
	t.Helper()
	args, err := m.Spec().Validate(raw, false)
	if err != nil {
		t.Fatalf("validate %v: %v", raw, err)
	}
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Diff: true, Vars: map[string]any{}}
	p, err := m.Plan(context.Background(), h, args)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	res := module.Result{}
	for k, v := range p.Result {
		res[k] = v
	}
	if p.Changed && !check && p.Apply != nil {
		r, err := p.Apply(context.Background())
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		res = module.Result{}
		for k, v := range r {
			res[k] = v
		}
	}
	if _, ok := res["changed"]; !ok {
		res["changed"] = p.Changed
	}
	return res, p
}

func TestProbeSections(t *testing.T) {
	out, err := connection.Local{}.Run(context.Background(), connection.Command{
		Cmd: probeScript("echo one", "printf 'two\\nlines'", catIfExists("/nonexistent/file"), "false"),
	})
	if err != nil {
		t.Fatal(err)
	}
	secs, err := splitSections(string(out.Stdout), 4)
	if err != nil {
		t.Fatal(err)
	}
	if secs[0] != "one\n" || secs[1] != "two\nlines" || secs[2] != "N\n" || secs[3] != "" {
		t.Errorf("sections = %q", secs)
	}
	if _, err := splitSections(string(out.Stdout), 3); err == nil {
		t.Error("splitSections with the wrong count succeeded")
	}
}

func TestParseOctalMode(t *testing.T) {
	tests := []struct {
		in   any
		want uint32
		err  bool
	}{
		{nil, 0o644, false}, {"0600", 0o600, false}, {"755", 0o755, false}, {644, 0o1204, false},
		{"0o640", 0o640, false}, {"u+x", 0o744, false}, {"99", 0, true}, {"0o17777", 0, true},
	}
	for _, tt := range tests {
		got, err := parseOctalMode(tt.in, 0o644)
		if (err != nil) != tt.err || !tt.err && uint32(got) != tt.want {
			t.Errorf("parseOctalMode(%v) = %o, %v", tt.in, got, err)
		}
	}
}

func TestSystemModulesRegistered(t *testing.T) {
	want := []string{"apt", "apt_repository", "deb822_repository", "dnf", "yum", "package", "systemd", "systemd_service",
		"service", "user", "group", "mount", "sysctl", "cron", "hostname", "authorized_key", "timezone"}
	have := map[string]module.Module{}
	for _, m := range systemModules() {
		s := m.Spec()
		have[s.Name] = m
		if s.Short == "" || s.Description == "" || s.Examples == "" {
			t.Errorf("%s: spec lacks Short, Description or Examples", s.Name)
		}
		for _, a := range s.Args {
			if a.Doc == "" {
				t.Errorf("%s: argument %s has no doc", s.Name, a.Name)
			}
		}
	}
	for _, n := range want {
		if _, ok := have[n]; !ok {
			t.Errorf("module %s not registered", n)
		}
	}
}
