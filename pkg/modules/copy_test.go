package modules

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// countingConn is the real local connection with its calls counted: each
// Run, Put or Get is one round trip on a remote host.
type countingConn struct {
	connection.Local
	trips atomic.Int64
}

func (c *countingConn) Run(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	c.trips.Add(1)
	return c.Local.Run(ctx, cmd)
}

func (c *countingConn) Put(ctx context.Context, src io.Reader, dst string, o connection.PutOptions) error {
	c.trips.Add(1)
	return c.Local.Put(ctx, src, dst, o)
}

func (c *countingConn) Get(ctx context.Context, src string, w io.Writer, o connection.GetOptions) error {
	c.trips.Add(1)
	return c.Local.Get(ctx, src, w, o)
}

// convergedTasks sets up a controller and host directory where each task
// is already converged.
func convergedTasks(tb testing.TB) (ctrl string, tasks []struct {
	mod  string
	args map[string]any
}) {
	root := tb.TempDir()
	ctrl, host := filepath.Join(root, "ctrl"), filepath.Join(root, "host")
	os.MkdirAll(filepath.Join(ctrl, "files"), 0o755)
	os.MkdirAll(filepath.Join(ctrl, "templates"), 0o755)
	os.MkdirAll(filepath.Join(host, "dir"), 0o750)
	os.WriteFile(filepath.Join(ctrl, "files", "motd"), []byte("welcome\n"), 0o644)
	os.WriteFile(filepath.Join(ctrl, "templates", "app.j2"), []byte("port={{ port }}\n"), 0o644)
	os.WriteFile(filepath.Join(host, "motd"), []byte("welcome\n"), 0o644)
	os.WriteFile(filepath.Join(host, "app.conf"), []byte("port=8080\n"), 0o600)
	os.WriteFile(filepath.Join(host, "sshd"), []byte("# x\nPermitRootLogin no\n"), 0o644)
	os.WriteFile(filepath.Join(host, "x.ini"), []byte("[s]\na = 1\n"), 0o644)
	tasks = []struct {
		mod  string
		args map[string]any
	}{
		{"copy", map[string]any{"src": "motd", "dest": host + "/motd", "mode": "0644"}},
		{"template", map[string]any{"src": "app.j2", "dest": host + "/app.conf", "mode": "0600"}},
		{"lineinfile", map[string]any{"path": host + "/sshd", "regexp": "^PermitRootLogin", "line": "PermitRootLogin no"}},
		{"file", map[string]any{"path": host + "/dir", "state": "directory", "mode": "0750"}},
		{"ini_file", map[string]any{"path": host + "/x.ini", "section": "s", "option": "a", "value": "1"}},
		{"stat", map[string]any{"path": host + "/motd"}},
		{"blockinfile", map[string]any{"path": host + "/sshd", "block": "", "state": "absent"}},
	}
	return ctrl, tasks
}

// TestConvergedIsOneRoundTrip is the performance contract: confirming a
// converged file task costs exactly one round trip.
func TestConvergedIsOneRoundTrip(t *testing.T) {
	ctrl, tasks := convergedTasks(t)
	for _, task := range tasks {
		t.Run(task.mod, func(t *testing.T) {
			conn := &countingConn{}
			h := testHost(ctrl, conn)
			m, _ := fileRegistry().Lookup(task.mod)
			args, err := m.Spec().Validate(task.args, false)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := m.Plan(context.Background(), h, args)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Changed || plan.Result["failed"] == true {
				t.Fatalf("not converged: %v", plan.Result)
			}
			if n := conn.trips.Load(); n != 1 {
				t.Errorf("%s took %d round trips, want 1", task.mod, n)
			}
		})
	}
}

// BenchmarkConvergedPlan measures Plan of converged tasks against the real
// local connection and reports round trips per task.
func BenchmarkConvergedPlan(b *testing.B) {
	ctrl, tasks := convergedTasks(b)
	for _, task := range tasks[:4] {
		b.Run(task.mod, func(b *testing.B) {
			conn := &countingConn{}
			h := testHost(ctrl, conn)
			m, _ := fileRegistry().Lookup(task.mod)
			args, err := m.Spec().Validate(task.args, false)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				plan, err := m.Plan(context.Background(), h, args)
				if err != nil || plan.Changed {
					b.Fatalf("not converged: %v %v", err, plan)
				}
			}
			b.ReportMetric(float64(conn.trips.Load())/float64(b.N), "roundtrips/op")
		})
	}
}

var _ module.Templater = testTemplar{}
