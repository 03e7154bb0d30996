package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// engineTasks is the number of tasks in the engine benchmark's playbook.
const engineTasks = 200

// enginePlaybook returns a play of n controller-side tasks cycling
// through set_fact, debug, assert and a looped debug, each with templated
// strings, so the benchmark measures the engine (variable resolution,
// templating, conditionals, loops, reporting) and no transport.
func enginePlaybook(n int) string {
	var s strings.Builder
	s.WriteString(`- name: engine benchmark
  hosts: all
  gather_facts: false
  vars:
    base: tend
    items3: [a, b, c]
  tasks:
`)
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&s, `    - name: set fact %d
      set_fact:
        f%d: "{{ inventory_hostname }}-%d-{{ base | upper }}"
`, i, i, i)
		case 1:
			fmt.Fprintf(&s, `    - name: debug %d
      debug:
        msg: "{{ f%d }} on {{ inventory_hostname }} ({{ groups['all'] | length }} hosts)"
`, i, i-1)
		case 2:
			fmt.Fprintf(&s, `    - name: assert %d
      assert:
        that:
          - f%d is defined
          - f%d.startswith(inventory_hostname)
          - base == 'tend'
        quiet: true
`, i, i-2, i-2)
		case 3:
			fmt.Fprintf(&s, `    - name: loop %d
      debug:
        msg: "{{ item }}-{{ f%d }}"
      loop: "{{ items3 }}"
      when: item != 'z'
`, i, i-3)
		}
	}
	return s.String()
}

// localConnector hands every host the local connection; the benchmark's
// tasks never use it, but the engine may open one per host.
type localConnector struct{}

func (localConnector) Get(context.Context, string, map[string]any) (connection.Connection, error) {
	return connection.Local{}, nil
}

// countingReporter counts task-host results (not loop items) and items on
// the way to the wrapped reporter.
type countingReporter struct {
	report.Reporter
	results, items, failed atomic.Int64
}

func (c *countingReporter) HostResult(r report.HostResult) {
	if r.IsItem {
		c.items.Add(1)
	} else {
		c.results.Add(1)
	}
	if r.Status == report.Failed || r.Status == report.Unreachable {
		c.failed.Add(1)
	}
	c.Reporter.HostResult(r)
}

// writeEngineFixture writes the playbook and an inventory of hosts
// local connections into dir and returns their paths.
func writeEngineFixture(tb testing.TB, dir string, hosts int) (pbPath, invPath string) {
	tb.Helper()
	pbPath = filepath.Join(dir, "engine.yml")
	if err := os.WriteFile(pbPath, []byte(enginePlaybook(engineTasks)), 0o644); err != nil {
		tb.Fatal(err)
	}
	var inv strings.Builder
	inv.WriteString("[bench]\n")
	for i := range hosts {
		fmt.Fprintf(&inv, "h%04d ansible_connection=local\n", i)
	}
	invPath = filepath.Join(dir, fmt.Sprintf("hosts-%d.ini", hosts))
	if err := os.WriteFile(invPath, []byte(inv.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return pbPath, invPath
}

// runEngine loads and runs the playbook once and returns the reporter's
// counts. Loading is part of the run, as on the command line.
func runEngine(tb testing.TB, pbPath, invPath string) *countingReporter {
	tb.Helper()
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	pb, err := loader.LoadPlaybook(pbPath)
	if err != nil {
		tb.Fatalf("load %s: %v", pbPath, err)
	}
	inv, err := inventory.Load([]string{invPath})
	if err != nil {
		tb.Fatalf("inventory %s: %v", invPath, err)
	}
	rep := &countingReporter{Reporter: report.NewHuman(io.Discard, report.Options{})}
	sum, err := executor.Run(context.Background(), pb, executor.Options{
		Inventory: inv, Registry: reg, Loader: loader, Connector: localConnector{}, Reporter: rep,
	})
	if err != nil {
		tb.Fatalf("run %s: %v", pbPath, err)
	}
	if err := rep.Close(); err != nil {
		tb.Fatal(err)
	}
	if sum.Failed() || rep.failed.Load() > 0 {
		tb.Fatalf("run %s: %d failed results", pbPath, rep.failed.Load())
	}
	return rep
}

// TestEnginePlaybook checks the benchmark's playbook runs clean and yields
// one result per task and host, so the benchmark measures what it claims.
func TestEnginePlaybook(t *testing.T) {
	pbPath, invPath := writeEngineFixture(t, t.TempDir(), 3)
	rep := runEngine(t, pbPath, invPath)
	if got, want := rep.results.Load(), int64(engineTasks*3); got != want {
		t.Errorf("task-host results = %d, want %d", got, want)
	}
	if got, want := rep.items.Load(), int64(engineTasks/4*3*3); got != want {
		t.Errorf("loop item results = %d, want %d", got, want)
	}
}

// BenchmarkEngine runs the 200-task controller-side playbook on 10, 50 and
// 200 hosts and reports task-host results per second (loop items not
// counted separately). Target: above 20,000/s with -cpu 1, flat across
// host counts (time linear in hosts).
//
//	go test ./integration/bench -run '^$' -bench Engine -cpu 1 -benchtime 3x
func BenchmarkEngine(b *testing.B) {
	for _, hosts := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			pbPath, invPath := writeEngineFixture(b, b.TempDir(), hosts)
			b.ReportAllocs()
			b.ResetTimer()
			var results int64
			for b.Loop() {
				results += runEngine(b, pbPath, invPath).results.Load()
			}
			b.ReportMetric(float64(results)/b.Elapsed().Seconds(), "results/s")
		})
	}
}
