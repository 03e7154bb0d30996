package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"

	playrecap "github.com/tend-dev/tend/integration/recap"
)

// driftKinds are the modules of the drift playbook, 10 tasks each.
var driftKinds = []string{"file", "copy", "lineinfile", "template", "command"}

// writeDriftPlaybook writes a 50-task playbook (10 each of file, copy,
// lineinfile, template and command with changed_when: false) with its
// files/ and templates/ into dir and returns the playbook's path. Every
// task is idempotent: a second run has nothing to change.
func writeDriftPlaybook(tb testing.TB, dir string) string {
	tb.Helper()
	for _, d := range []string{"files", "templates"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	var s strings.Builder
	s.WriteString(`- name: drift benchmark
  hosts: all
  gather_facts: false
  vars:
    root: /srv/tend-bench
    owner_name: root
  tasks:
`)
	for i := range 10 {
		fmt.Fprintf(&s, `    - name: file %d
      file:
        path: "{{ root }}/dir%d"
        state: directory
        owner: "{{ owner_name }}"
        mode: "0755"
`, i, i)
	}
	for i := range 10 {
		name := fmt.Sprintf("copy%d.conf", i)
		content := strings.Repeat(fmt.Sprintf("setting_%d = value %d\n", i, i), 20+i)
		if err := os.WriteFile(filepath.Join(dir, "files", name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&s, `    - name: copy %d
      copy:
        src: %s
        dest: "{{ root }}/dir%d/%s"
        mode: "0644"
`, i, name, i, name)
	}
	for i := range 10 {
		fmt.Fprintf(&s, `    - name: lineinfile %d
      lineinfile:
        path: "{{ root }}/lines.conf"
        regexp: '^key%d\s*='
        line: "key%d = {{ inventory_hostname }}-%d"
        create: true
        mode: "0644"
`, i, i, i, i)
	}
	for i := range 10 {
		name := fmt.Sprintf("tpl%d.j2", i)
		tpl := fmt.Sprintf("# template %d\nhost = {{ inventory_hostname }}\n{%% for n in range(%d) %%}\nline{{ n }} = {{ n * %d }}\n{%% endfor %%}\n", i, 5+i, i)
		if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(tpl), 0o644); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&s, `    - name: template %d
      template:
        src: %s
        dest: "{{ root }}/dir%d/tpl%d.conf"
        mode: "0640"
`, i, name, i, i)
	}
	for i := range 10 {
		fmt.Fprintf(&s, `    - name: command %d
      command: cat {{ root }}/dir%d/copy%d.conf
      changed_when: false
`, i, i, i)
	}
	path := filepath.Join(dir, "drift.yml")
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// recap sums the recap's counters over hosts.
type recap struct{ ok, changed, unreachable, failed, hosts int }

func parseRecap(out string) recap {
	c, hosts := playrecap.Sum(out)
	return recap{ok: c.OK, changed: c.Changed, unreachable: c.Unreachable, failed: c.Failed, hosts: hosts}
}

// timedRun runs a command and returns its wall time and recap.
func timedRun(tb testing.TB, env []string, name string, args ...string) (time.Duration, recap, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	r := parseRecap(out.String())
	if err != nil || r.failed > 0 || r.unreachable > 0 || r.hosts == 0 {
		tb.Fatalf("%s %s: %v, recap %+v\n%s", name, strings.Join(args, " "), err, r, out.String())
	}
	return d, r, out.String()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestDriftRun is the drift-run benchmark: a converged 50-task playbook on
// two testbed hosts (with python3, for Ansible) run again with nothing to
// change, tend against ansible-playbook on the same hosts and inventory.
// It only runs with TEND_BENCH=1 (it boots hosts and takes minutes):
//
//	TEND_BENCH=1 go test ./integration/bench -run TestDriftRun -v -timeout 30m
//
// TEND_BENCH_REPS (default 10) sets tend's repetitions,
// TEND_BENCH_ANSIBLE_REPS (default 3) Ansible's. Without ansible-playbook
// (or with TEND_BENCH_SKIP_ANSIBLE=1) only tend is measured.
// TEND_BENCH_CPUPROFILE=FILE writes a CPU profile of the in-process
// converged run (go tool pprof FILE).
func TestDriftRun(t *testing.T) {
	if os.Getenv("TEND_BENCH") != "1" {
		t.Skip("benchmark: set TEND_BENCH=1 to boot two hosts and time tend against ansible-playbook")
	}
	// A benchmark never fails the suite for a missing prerequisite, not
	// even in CI (testbed.Start would fail there).
	if err := testbed.CheckPrerequisites(); err != nil {
		t.Skipf("benchmark: testbed hosts unavailable: %v", err)
	}
	ansible, lookErr := exec.LookPath("ansible-playbook")
	if lookErr != nil {
		t.Logf("ansible-playbook not found (%v): only tend is measured", lookErr)
	}
	tend := buildTend(t)
	bed := testbed.Start(t, testbed.HostSpec{Name: "b1", Python: true}, testbed.HostSpec{Name: "b2", Python: true})
	dir := t.TempDir()
	pb := writeDriftPlaybook(t, dir)
	inv := bed.InventoryINI
	tendReps := envInt("TEND_BENCH_REPS", 10)
	ansibleReps := envInt("TEND_BENCH_ANSIBLE_REPS", 3)
	// Ansible as Debian ships it (default config: ssh with ControlPersist,
	// no pipelining), without colour or retry files.
	ansibleEnv := []string{"ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_HOST_KEY_CHECKING=1",
		"ANSIBLE_LOCAL_TEMP=" + filepath.Join(dir, ".ansible-tmp")}
	tendEnv := []string{"NO_COLOR=1"}

	d, r, out := timedRun(t, tendEnv, tend, "play", "-i", inv, pb)
	t.Logf("tend first run (converge): %v, %+v", d.Round(time.Millisecond), r)
	if r.changed == 0 {
		t.Fatalf("first run changed nothing: the hosts were not fresh\n%s", out)
	}
	var rows [][]string
	add := func(what string, ds []time.Duration, r recap) {
		rows = append(rows, []string{what, strconv.Itoa(len(ds)), fmtDur(median(ds)), fmtDur(slices.Min(ds)), fmtDur(slices.Max(ds)),
			fmt.Sprintf("ok=%d changed=%d", r.ok, r.changed)})
	}
	measure := func(env []string, reps int, name string, args ...string) ([]time.Duration, recap) {
		var ds []time.Duration
		var last recap
		for range reps {
			d, r, out := timedRun(t, env, name, args...)
			if r.changed != 0 {
				t.Errorf("%s %s: a converged run reported changes: %+v\n%s", filepath.Base(name), strings.Join(args, " "), r, out)
			}
			ds, last = append(ds, d), r
		}
		return ds, last
	}
	withAnsible := lookErr == nil && os.Getenv("TEND_BENCH_SKIP_ANSIBLE") != "1"
	if withAnsible {
		// Ansible's first run on tend's result is itself a compatibility
		// check: it must find nothing to change either.
		d, r, out := timedRun(t, ansibleEnv, ansible, "-i", inv, pb)
		t.Logf("ansible-playbook first run on tend's result: %v, %+v", d.Round(time.Millisecond), r)
		if r.changed != 0 {
			t.Errorf("ansible-playbook changed %d things tend had converged:\n%s", r.changed, out)
		}
	} else {
		ansibleReps = 0
	}
	// Interleave tend and Ansible so both see the same machine load: a
	// share of tend's runs before each Ansible run.
	var tendDs, ansDs []time.Duration
	var tendR, ansR recap
	for i := range max(ansibleReps, 1) {
		n := tendReps / max(ansibleReps, 1)
		if i == max(ansibleReps, 1)-1 {
			n = tendReps - len(tendDs)
		}
		ds, r := measure(tendEnv, n, tend, "play", "-i", inv, pb)
		tendDs, tendR = append(tendDs, ds...), r
		if i < ansibleReps {
			ds, r := measure(ansibleEnv, 1, ansible, "-i", inv, pb)
			ansDs, ansR = append(ansDs, ds...), r
		}
	}
	add("tend play (converged)", tendDs, tendR)
	tendCheck, tendCheckR := measure(tendEnv, 1, tend, "play", "-i", inv, "--check", pb)
	add("tend play --check", tendCheck, tendCheckR)
	if withAnsible {
		add("ansible-playbook (converged)", ansDs, ansR)
		ansCheck, ansCheckR := measure(ansibleEnv, 1, ansible, "-i", inv, "--check", pb)
		add("ansible-playbook --check", ansCheck, ansCheckR)
		pipe, pipeR := measure(append(ansibleEnv, "ANSIBLE_PIPELINING=1"), 1, ansible, "-i", inv, pb)
		add("ansible-playbook, ANSIBLE_PIPELINING=1", pipe, pipeR)
	}

	var tab strings.Builder
	tw := tabwriter.NewWriter(&tab, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\treps\tmedian\tmin\tmax\trecap (2 hosts)")
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	t.Logf("50 tasks x 2 hosts, second run:\n%s", tab.String())
	if len(ansDs) > 0 {
		t.Logf("ratio median ansible / median tend = %.1fx (target >= 60x; tend target < 500ms)",
			float64(median(ansDs))/float64(median(tendDs)))
	}

	trips := countRoundTrips(t, bed, pb)
	t.Logf("tend round trips per task and host on a converged run (in process, same engine as the CLI):\n%s", trips)
}

func startCPUProfile(t *testing.T, path string) func() {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
}

func fmtDur(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// buildTend compiles the tend binary for the test.
func buildTend(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tend")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/tend")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}
	return bin
}

// opCounter counts the operations a task makes on every host's
// connection: the executor runs the linear strategy, so every operation
// between two TaskStart events belongs to the task in between.
type opCounter struct {
	report.Reporter
	mu        sync.Mutex
	task      string
	taskStart time.Time
	order     []string
	ops       map[string]map[string]*ops // task -> host -> counts
	wall      map[string]time.Duration   // task -> TaskStart to next TaskStart
}

type ops struct {
	run, put, get int
	inOps         time.Duration // wall time inside Run/Put/Get
	firstCmd      string        // the first command line run
}

func (c *opCounter) TaskStart(t report.Task) {
	c.mu.Lock()
	now := time.Now()
	if c.task != "" {
		c.wall[c.task] = now.Sub(c.taskStart)
	}
	c.task, c.taskStart = t.Name, now
	c.order = append(c.order, t.Name)
	c.mu.Unlock()
	c.Reporter.TaskStart(t)
}

// Recap closes the last task's wall time.
func (c *opCounter) Recap(hosts []string, stats map[string]*report.Stats, elapsed time.Duration) {
	c.mu.Lock()
	if c.task != "" {
		c.wall[c.task] = time.Since(c.taskStart)
	}
	c.mu.Unlock()
	c.Reporter.Recap(hosts, stats, elapsed)
}

func (c *opCounter) count(host string, f func(*ops)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byHost, ok := c.ops[c.task]
	if !ok {
		byHost = map[string]*ops{}
		c.ops[c.task] = byHost
	}
	o, ok := byHost[host]
	if !ok {
		o = &ops{}
		byHost[host] = o
	}
	f(o)
}

// countingConn counts Run, Put and Get: each is one SSH round trip or
// more (a Put opens an SFTP transfer).
type countingConn struct {
	connection.Connection
	host string
	c    *opCounter
}

func (cc countingConn) Run(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	start := time.Now()
	res, err := cc.Connection.Run(ctx, cmd)
	cc.c.count(cc.host, func(o *ops) {
		o.run++
		o.inOps += time.Since(start)
		if o.firstCmd == "" {
			o.firstCmd = cmd.Cmd
		}
	})
	return res, err
}

func (cc countingConn) Put(ctx context.Context, src io.Reader, dst string, opts connection.PutOptions) error {
	start := time.Now()
	err := cc.Connection.Put(ctx, src, dst, opts)
	cc.c.count(cc.host, func(o *ops) { o.put++; o.inOps += time.Since(start) })
	return err
}

func (cc countingConn) Get(ctx context.Context, src string, w io.Writer, opts connection.GetOptions) error {
	start := time.Now()
	err := cc.Connection.Get(ctx, src, w, opts)
	cc.c.count(cc.host, func(o *ops) { o.get++; o.inOps += time.Since(start) })
	return err
}

type countingConnector struct {
	pool *ssh.Pool
	c    *opCounter
}

func (cc countingConnector) Get(ctx context.Context, host string, vars map[string]any) (connection.Connection, error) {
	conn, err := cc.pool.Get(ctx, host, vars)
	if err != nil {
		return nil, err
	}
	return countingConn{Connection: conn, host: host, c: cc.c}, nil
}

// countRoundTrips runs the converged playbook in process with counting
// connections and returns a table of operations per module.
func countRoundTrips(t *testing.T, bed *testbed.Bed, pbPath string) string {
	t.Helper()
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	pb, err := loader.LoadPlaybook(pbPath)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load([]string{bed.InventoryINI})
	if err != nil {
		t.Fatal(err)
	}
	pool := ssh.NewPool(ssh.Options{SSHConfigFile: "none", KnownHostsFile: bed.KnownHostsFile, HostKeyPolicy: ssh.PolicyStrict})
	defer pool.Close()
	// Run twice on the same pool: the first run includes the SSH
	// handshakes, the second is the steady state the table shows.
	var counter *opCounter
	var sum *executor.Summary
	var elapsed [2]time.Duration
	for i := range elapsed {
		if i == 1 {
			if path := os.Getenv("TEND_BENCH_CPUPROFILE"); path != "" {
				stop := startCPUProfile(t, path)
				defer stop()
			}
		}
		counter = &opCounter{Reporter: report.NewHuman(io.Discard, report.Options{}), ops: map[string]map[string]*ops{}, wall: map[string]time.Duration{}}
		start := time.Now()
		var err error
		sum, err = executor.Run(context.Background(), pb, executor.Options{
			Inventory: inv, Registry: reg, Loader: loader, Connector: countingConnector{pool: pool, c: counter},
			Reporter: counter, Templates: template.New(template.Options{BaseDir: pb.Dir}),
		})
		elapsed[i] = time.Since(start)
		if err != nil || sum.Failed() || sum.Unreachable() || sum.Changed() {
			t.Fatalf("in-process converged run: err %v, stats %+v", err, sum)
		}
	}
	// Sum per module kind (task names are "KIND N").
	type agg struct {
		tasks, run, put, get, max int
		inOps, wall               time.Duration
	}
	byKind := map[string]*agg{}
	for _, task := range counter.order {
		kind, _, _ := strings.Cut(task, " ")
		a, ok := byKind[kind]
		if !ok {
			a = &agg{}
			byKind[kind] = a
		}
		a.wall += counter.wall[task]
		for _, o := range counter.ops[task] {
			a.inOps += o.inOps
			a.tasks++
			a.run += o.run
			a.put += o.put
			a.get += o.get
			a.max = max(a.max, o.run+o.put+o.get)
		}
	}
	var tab strings.Builder
	tw := tabwriter.NewWriter(&tab, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "module\ttask-hosts\tRun/task\tPut/task\tGet/task\tmax ops/task\ttask wall (both hosts)\ttime in ops/task-host")
	total := 0
	for _, kind := range driftKinds {
		a := byKind[kind]
		if a == nil || a.tasks == 0 {
			continue
		}
		n := float64(a.tasks)
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%d\t%v\t%v\n", kind, a.tasks, float64(a.run)/n, float64(a.put)/n, float64(a.get)/n, a.max,
			(a.wall / time.Duration(a.tasks/len(sum.Hosts))).Round(10*time.Microsecond), (a.inOps / time.Duration(a.tasks)).Round(10*time.Microsecond))
		total += a.run + a.put + a.get
	}
	tw.Flush()
	if os.Getenv("TEND_BENCH_SHOW_CMDS") == "1" {
		for _, kind := range driftKinds {
			for _, o := range counter.ops[kind+" 0"] {
				fmt.Fprintf(&tab, "--- %s 0, first command:\n%s\n", kind, o.firstCmd)
				break
			}
		}
	}
	tab.WriteString(probeCommands(t, pool, inv, bed.Hosts[0].Name, counter))
	fmt.Fprintf(&tab, "total operations: %d for %d task-hosts; in-process run %v with SSH connection setup, %v on open connections\n",
		total, 50*len(sum.Hosts), elapsed[0].Round(time.Millisecond), elapsed[1].Round(time.Millisecond))
	return tab.String()
}

// probeCommands times single commands on one host's open connection: the
// modules' own idempotence checks (as captured) against hand-written
// checks that fetch the same facts with fewer processes, to show where a
// converged task's time goes: SSH session setup or process creation on
// the target.
func probeCommands(t *testing.T, pool *ssh.Pool, inv *inventory.Inventory, host string, counter *opCounter) string {
	t.Helper()
	ctx := context.Background()
	h, ok := inv.Host(host)
	if !ok {
		t.Fatalf("host %s not in inventory", host)
	}
	conn, err := pool.Get(ctx, host, h.Vars)
	if err != nil {
		t.Fatal(err)
	}
	first := func(task string) string {
		for _, o := range counter.ops[task] {
			return o.firstCmd
		}
		return "true"
	}
	const statFmt = "'%f %u %g %s %Y %X %Z %i %h %d %U %G'"
	probes := []struct{ name, cmd string }{
		{"true (no process)", "true"},
		{"cat FILE (1 exec)", "cat /srv/tend-bench/dir0/copy0.conf"},
		{"file module check", first("file 0")},
		{"hand check for file: umask; id -u; stat (2 execs, no subshells)", "umask; id -u; stat -c " + statFmt + " -- /srv/tend-bench/dir0"},
		{"copy module check", first("copy 0")},
		{"hand check for copy: umask; stat 2 paths; sha1sum (2 execs)", "umask; stat -c " + statFmt + " -- /srv/tend-bench/dir0/copy0.conf /srv/tend-bench/dir0; sha1sum -- /srv/tend-bench/dir0/copy0.conf"},
		{"lineinfile module check", first("lineinfile 0")},
		{"template module check", first("template 0")},
		{"10 forks: $(umask) x10", "for i in 1 2 3 4 5 6 7 8 9 10; do x=$(umask); done"},
		{"10 fork+exec: id -u x10", "for i in 1 2 3 4 5 6 7 8 9 10; do id -u >/dev/null; done"},
	}
	const n = 20
	var tab strings.Builder
	tw := tabwriter.NewWriter(&tab, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "command on %s (open connection, median of %d)\tsession\tshared shell\tprocesses\n", host, n)
	for _, p := range probes {
		// The last PID of the host's PID namespace (/proc/loadavg, read
		// with the shell's builtin read) before and after tells how many
		// processes the command started; the idle host starts none.
		res, err := conn.Run(ctx, connection.Command{Cmd: "read a </proc/loadavg; { " + p.cmd + "\n} >/dev/null; read b </proc/loadavg; echo \"$a|$b\""})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("probe %q: %v, exit %d: %s", p.name, err, res.ExitCode, res.Stderr)
		}
		procs := "n/a (ends in exec)"
		if before, after, ok := strings.Cut(strings.TrimSpace(string(res.Stdout)), "|"); ok {
			pid := func(l string) int {
				f := strings.Fields(l)
				if len(f) < 5 {
					return -1
				}
				v, _ := strconv.Atoi(f[4])
				return v
			}
			if a, b := pid(before), pid(after); a >= 0 && b >= a {
				procs = strconv.Itoa(b - a)
			}
		}
		// A session of its own (what Apply's commands get) and the
		// connection's shared shell (what a module's Plan gets).
		var times [2]time.Duration
		for i, runCtx := range []context.Context{ctx, connection.ReadOnly(ctx)} {
			var ds []time.Duration
			for range n {
				start := time.Now()
				res, err := conn.Run(runCtx, connection.Command{Cmd: p.cmd})
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("probe %q: %v, exit %d: %s", p.name, err, res.ExitCode, res.Stderr)
				}
				ds = append(ds, time.Since(start))
			}
			times[i] = median(ds)
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%s\n", p.name, times[0].Round(10*time.Microsecond), times[1].Round(10*time.Microsecond), procs)
	}
	tw.Flush()
	return tab.String()
}
