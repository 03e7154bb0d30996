package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/cli"
)

// scalePlaybook is the scale benchmark's playbook: gather facts, a template
// that reads them, a directory and a service check, on every host.
const scalePlaybook = `- name: scale benchmark
  hosts: all
  gather_facts: true
  tasks:
    - name: motd from the facts
      template:
        src: motd.j2
        dest: /etc/tend-bench-motd
        mode: "0644"
    - name: state directory
      file:
        path: /srv/tend-bench
        state: directory
        mode: "0755"
    - name: sshd is running
      service:
        name: ssh
        state: started
`

const scaleTemplate = `{{ ansible_hostname }}: {{ ansible_distribution }} {{ ansible_distribution_version }}
kernel {{ ansible_kernel }}, {{ ansible_processor_vcpus }} vCPUs, {{ ansible_memtotal_mb }} MB
address {{ ansible_default_ipv4.address | default('none') }}
`

// maxBedHosts is how many hosts one testbed bed holds (its /24).
const maxBedHosts = 240

// scaleSizes reads TEND_BENCH_SIZES (default 50,200,500).
func scaleSizes(t *testing.T) []int {
	spec := os.Getenv("TEND_BENCH_SIZES")
	if spec == "" {
		spec = "50,200,500"
	}
	var sizes []int
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("TEND_BENCH_SIZES=%q: want increasing host counts such as 50,200,500", spec)
		}
		if len(sizes) > 0 && n <= sizes[len(sizes)-1] {
			t.Fatalf("TEND_BENCH_SIZES=%q: host counts must increase", spec)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// scaleFleet is the set of beds booted so far and the inventory that lists
// their hosts; hosts are named s1, s2, ... across beds.
type scaleFleet struct {
	t        *testing.T
	prefix   string
	beds     []*testbed.Bed
	hosts    []string // inventory lines, one per host, in boot order
	inv      string   // inventory file with the first n hosts, rewritten by growTo
	dir      string
	bootTime []time.Duration
}

// perHostReserve is the memory a booted host is expected to take (PSS of
// its processes and the page cache of its overlay), and memReserve what
// must stay available for everything else on the machine.
const (
	perHostReserve = 40 << 20
	memReserve     = 4 << 30
)

// growTo boots beds until n hosts run, at most maxBedHosts per bed. It
// returns an error instead of booting when the machine's available memory
// would fall below memReserve.
func (f *scaleFleet) growTo(n int) error {
	t := f.t
	for len(f.hosts) < n {
		count := min(n-len(f.hosts), maxBedHosts)
		if avail := memAvailable(); avail < int64(count)*perHostReserve+memReserve {
			return fmt.Errorf("booting %d more hosts (%d running) needs ~%s plus %s kept free, but only %s is available (%s)",
				count, len(f.hosts), mb(int64(count)*perHostReserve), mb(memReserve), mb(avail), freeMem())
		}
		specs := make([]testbed.HostSpec, count)
		for i := range specs {
			specs[i] = testbed.HostSpec{Name: fmt.Sprintf("s%d", len(f.hosts)+i+1), Python: true}
		}
		name := fmt.Sprintf("%s-%d", f.prefix, len(f.beds)+1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		start := time.Now()
		bed, err := testbed.Up(ctx, testbed.Options{Name: name, BootTimeout: 10 * time.Minute}, specs...)
		cancel()
		if err != nil {
			t.Fatalf("boot %d hosts in bed %s (with %d running): %v", count, name, len(f.hosts), err)
		}
		d := time.Since(start)
		f.bootTime = append(f.bootTime, d)
		t.Logf("bed %s: %d hosts booted in %s (%d in all); %s", name, count, d.Round(time.Millisecond), len(f.hosts)+count, freeMem())
		t.Cleanup(func() {
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer dcancel()
			if err := bed.Down(dctx); err != nil {
				t.Errorf("down bed %s: %v", bed.Name, err)
			}
		})
		f.beds = append(f.beds, bed)
		ini, err := os.ReadFile(bed.InventoryINI)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(ini), "\n") {
			if strings.HasPrefix(line, "s") {
				f.hosts = append(f.hosts, line)
			}
		}
	}
	f.inv = filepath.Join(f.dir, fmt.Sprintf("hosts-%d.ini", n))
	if err := os.WriteFile(f.inv, []byte(strings.Join(f.hosts[:n], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return nil
}

// memAvailable returns MemAvailable from /proc/meminfo in bytes.
func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemAvailable:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// useInventory takes the hosts of an INI inventory written by an earlier
// growTo (or concatenated from beds' inventory.ini files).
func (f *scaleFleet) useInventory(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "[") {
			f.hosts = append(f.hosts, line)
		}
	}
	f.inv = path
}

// freeMem returns the "Mem:" line of free -m.
func freeMem() string {
	out, err := exec.Command("free", "-m").Output()
	if err != nil {
		return "free: " + err.Error()
	}
	for l := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(l, "Mem:") {
			return "free -m " + strings.Join(strings.Fields(l), " ")
		}
	}
	return ""
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// measured is one timed run.
type measured struct {
	wall      time.Duration
	cgroupMax int64         // peak of the run's memory cgroup (v1 max_usage_in_bytes: RSS + page cache it charged)
	rssMax    int64         // peak of the cgroup's total_rss, sampled every 20 ms (all processes of the run)
	mainRSS   int64         // maximum resident set of the command's own process (getrusage), file pages included
	cpu       time.Duration // user + system CPU of the command and the children it waited for
	load      string
	recap     recap
}

// memCgroup is a cgroup v1 memory group for one run, or nil where there is
// none (then only wall time is measured).
const memCgroupRoot = "/sys/fs/cgroup/memory"

// measure runs a command in a fresh memory cgroup and returns its wall
// time, its peak memory and its recap; a failed host fails the test.
func measure(t *testing.T, env []string, name string, args ...string) measured {
	t.Helper()
	cg := filepath.Join(memCgroupRoot, fmt.Sprintf("tend-bench-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatalf("memory cgroup: %v (the scale benchmark needs cgroup v1's memory controller at %s)", err, memCgroupRoot)
	}
	defer func() { _ = os.Remove(cg) }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	// The shell enters the cgroup, then becomes the command: every process
	// the run starts (Ansible's forks, ssh) is counted.
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg, name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var m measured
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss := cgroupStat(cg, "total_rss"); rss > 0 {
				mu.Lock()
				m.rssMax = max(m.rssMax, rss)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	err := cmd.Run()
	m.wall = time.Since(start)
	close(stop)
	wg.Wait()
	m.load = loadAvg()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.mainRSS = ru.Maxrss << 10
	}
	m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if b, rerr := os.ReadFile(filepath.Join(cg, "memory.max_usage_in_bytes")); rerr == nil {
		m.cgroupMax, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	m.recap = parseRecap(out.String())
	if m.recap.unreachable > 0 && m.recap.failed == 0 && cmd.ProcessState.ExitCode() == 4 {
		// Unreachable hosts are a result at this scale, not a broken
		// benchmark: counted in the table, the first reasons logged.
		var reasons []string
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.Contains(l, "UNREACHABLE") && len(reasons) < 5 {
				reasons = append(reasons, l)
			}
		}
		t.Logf("%s: %d hosts unreachable:\n%s", name, m.recap.unreachable, strings.Join(reasons, "\n"))
		return m
	}
	if err != nil || m.recap.failed > 0 || m.recap.unreachable > 0 || m.recap.hosts == 0 {
		tail := out.String()
		if len(tail) > 8000 {
			tail = "...\n" + tail[len(tail)-8000:]
		}
		t.Fatalf("%s %s: %v, recap %+v\n%s", name, strings.Join(args, " "), err, m.recap, tail)
	}
	return m
}

// cgroupStat reads one counter of a cgroup's memory.stat.
func cgroupStat(cg, key string) int64 {
	f, err := os.Open(filepath.Join(cg, "memory.stat"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }

// TestScale is the scale benchmark: a 4-task playbook (gather facts, a
// template, a file, a service check) on 50, 200 and 500 testbed hosts, tend
// against ansible-playbook -f 50, wall time and the controller's peak
// memory. It only runs with TEND_BENCH=1:
//
//	TEND_BENCH=1 go test ./integration/bench -run TestScale -v -timeout 3h
//
// TEND_BENCH_SIZES (default 50,200,500) lists the host counts; hosts are
// booted once and added to for each size, 240 per bed.
// TEND_BENCH_INVENTORY=FILE uses hosts already booted instead (one size). TEND_BENCH_SKIP_ANSIBLE=1
// times tend only; TEND_BENCH_CPUPROFILE=FILE writes a CPU profile of an
// in-process converged run at the largest size.
func TestScale(t *testing.T) {
	if os.Getenv("TEND_BENCH") != "1" {
		t.Skip("benchmark: set TEND_BENCH=1 to boot up to 500 hosts and time tend against ansible-playbook")
	}
	if err := testbed.CheckPrerequisites(); err != nil {
		t.Skipf("benchmark: testbed hosts unavailable: %v", err)
	}
	skipAnsible := os.Getenv("TEND_BENCH_SKIP_ANSIBLE") == "1"
	ansible, lookErr := exec.LookPath("ansible-playbook")
	if lookErr != nil {
		skipAnsible = true
		t.Logf("ansible-playbook not found (%v): only tend is measured", lookErr)
	}
	sizes := scaleSizes(t)
	tend := buildTend(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "scale.yml"), []byte(scalePlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "motd.j2"), []byte(scaleTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	pb := filepath.Join(dir, "scale.yml")
	prefix := os.Getenv("TEND_BENCH_BED")
	if prefix == "" {
		prefix = "bench-scale"
	}
	fleet := &scaleFleet{t: t, prefix: prefix, dir: dir}
	if inv := os.Getenv("TEND_BENCH_INVENTORY"); inv != "" {
		// Hosts booted earlier (testbed up): one size, their count.
		fleet.useInventory(inv)
		sizes = []int{len(fleet.hosts)}
	}
	// Ansible as Debian ships it, 50 forks; its own temp and control dirs.
	ansibleEnv := []string{
		"ANSIBLE_FORKS=50",
		"ANSIBLE_LOCAL_TEMP=" + filepath.Join(dir, "ansible-tmp"),
		"ANSIBLE_SSH_CONTROL_PATH_DIR=" + filepath.Join(dir, "cp"),
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"NO_COLOR=1",
	}
	tendEnv := []string{"NO_COLOR=1", "TEND_LOCK_DIR=" + filepath.Join(dir, "lock")}
	type row struct {
		hosts int
		tool  string
		run   string
		m     measured
	}
	var rows []row
	for _, n := range sizes {
		if err := fleet.growTo(n); err != nil {
			t.Errorf("stopped before %d hosts: %v", n, err)
			break
		}
		t.Logf("%d hosts up; %s; load %s", n, freeMem(), loadAvg())
		first := measure(t, tendEnv, tend, "play", "-i", fleet.inv, "--forks", strconv.Itoa(n), pb)
		rows = append(rows, row{n, "tend", "first (changes)", first})
		second := measure(t, tendEnv, tend, "play", "-i", fleet.inv, "--forks", strconv.Itoa(n), pb)
		if second.recap.changed != 0 {
			t.Errorf("tend's second run on %d hosts changed %d tasks, want 0", n, second.recap.changed)
		}
		rows = append(rows, row{n, "tend", "converged", second})
		forks50 := measure(t, tendEnv, tend, "play", "-i", fleet.inv, "--forks", "50", pb)
		rows = append(rows, row{n, "tend --forks 50", "converged", forks50})
		if !skipAnsible {
			a := measure(t, ansibleEnv, ansible, "-i", fleet.inv, "-f", "50", pb)
			if a.recap.changed != 0 {
				t.Errorf("ansible-playbook on %d hosts tend converged changed %d tasks, want 0", n, a.recap.changed)
			}
			rows = append(rows, row{n, "ansible-playbook -f 50", "converged", a})
		}
		for _, r := range rows {
			if r.hosts == n {
				t.Logf("RESULT hosts=%d tool=%q run=%q unreachable=%d wall=%.2fs cpu=%.2fs main_rss=%s rss_peak=%s cgroup_peak=%s load=%q", r.hosts, r.tool, r.run,
					r.m.recap.unreachable, r.m.wall.Seconds(), r.m.cpu.Seconds(), mb(r.m.mainRSS), mb(r.m.rssMax), mb(r.m.cgroupMax), r.m.load)
			}
		}
	}
	if path := os.Getenv("TEND_BENCH_CPUPROFILE"); path != "" {
		profileScale(t, path, fleet.inv, pb, dir, sizes[len(sizes)-1])
	}
	var s strings.Builder
	fmt.Fprintf(&s, "\n| hosts | tool | run | unreachable | wall | controller CPU | max RSS, main process | peak anon RSS, all processes | cgroup peak (RSS + cache) | load avg after |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&s, "| %d | %s | %s | %d | %.2f s | %.2f s | %s | %s | %s | %s |\n", r.hosts, r.tool, r.run, r.m.recap.unreachable, r.m.wall.Seconds(), r.m.cpu.Seconds(), mb(r.m.mainRSS), mb(r.m.rssMax), mb(r.m.cgroupMax), r.m.load)
	}
	for i, d := range fleet.bootTime {
		fmt.Fprintf(&s, "\nbed %d booted in %s", i+1, d.Round(time.Millisecond))
	}
	t.Log(s.String())
}

// profileScale runs tend in this process on the fleet with a CPU profile.
func profileScale(t *testing.T, path, inv, pb, dir string, n int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	t.Setenv("TEND_LOCK_DIR", filepath.Join(dir, "lock"))
	code := cli.Main(context.Background(), []string{"tend", "play", "-i", inv, "--forks", strconv.Itoa(n), pb}, strings.NewReader(""), &out, &out)
	pprof.StopCPUProfile()
	t.Logf("in-process run with CPU profile: exit %d in %s; go tool pprof %s", code, time.Since(start).Round(time.Millisecond), path)
	if code != 0 {
		t.Errorf("in-process run: exit %d\n%s", code, out.String())
	}
}
