// Package facts_test compares the facts tend gathers with those Ansible's
// setup module gathers on the same Debian 12 host, field by field.
package facts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/facts"
)

// exceptions are top-level facts one side has and the other lacks, on
// purpose. None by name today. One kind of fact is left out of the
// comparison (see foreign in compareFacts): interfaces of other network
// namespaces. A testbed host's /sys/class/net is the machine's (sysfs is
// not mounted per namespace there), so it lists the bridges and veths of
// every bed on the machine, which other tests create and remove while
// this one runs. Ansible reports every entry of /sys/class/net; tend
// reports the interfaces of the host's own namespace (/proc/net/dev),
// which is the same list on any host whose sysfs belongs to its own
// namespace, and costs one sysfs read per attribute of a real interface
// instead of hundreds here.
var exceptions = map[string]string{}

// volatile facts change between two gatherings a few seconds apart: only
// their structure (keys and types) is compared.
var volatile = map[string]bool{
	"date_time": true, "uptime_seconds": true, "memfree_mb": true, "memory_mb": true, "loadavg": true,
	"swapfree_mb": true,
}

// envStable are the environment variables that do not depend on how the
// command was started (Ansible runs its module with a TTY and LANG set,
// tend without).
var envStable = []string{"HOME", "LOGNAME", "PATH", "SHELL", "USER"}

// mountVolatile are the usage figures of a mount, which other processes
// change between the two gatherings.
var mountVolatile = map[string]bool{"block_available": true, "block_used": true, "inode_available": true, "inode_used": true, "size_available": true}

// TestFactParity gathers facts with Ansible's setup module and with tend
// on one fresh host with python3 and compares them: the same top-level
// facts (but for exceptions), the same structure everywhere and equal
// values for all but volatile facts. Interfaces of the machine's other
// network namespaces are left out (see exceptions).
func TestFactParity(t *testing.T) {
	ansible, err := exec.LookPath("ansible")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ansible not found: %v", err)
		}
		t.Skipf("ansible not found: %v", err)
	}
	bed := testbed.Start(t, testbed.HostSpec{Name: "f1", Python: true})
	host := bed.Hosts[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, ansible, "-i", bed.InventoryINI, host.Name, "-m", "setup", "--tree", filepath.Join(dir, "tree"))
	cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_KEY_CHECKING=1", "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, ".ansible-tmp"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible -m setup: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "tree", host.Name))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Facts map[string]any `json:"ansible_facts"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for k, v := range res.Facts {
		want[strings.TrimPrefix(k, "ansible_")] = v
	}

	got := normalize(t, gather(ctx, t, host))
	own := ownInterfaces(ctx, t, bed, host.Name)
	compareFacts(t, want, got, own)

	t.Run("setup task", func(t *testing.T) { setupTask(ctx, t, bed, dir) })
}

// setupPlay runs setup as a task in check mode with a subset and a
// filter; the message shows which facts it set.
const setupPlay = `- hosts: all
  gather_facts: false
  tasks:
    - setup:
        gather_subset: ["!all", "network"]
        filter: ["ansible_default_ipv4", "ansible_hostname", "ansible_distribution*"]
      register: r
    - debug:
        msg: "{{ ansible_hostname }} {{ ansible_default_ipv4.address }} {{ ansible_facts.distribution_version }} {{ r.ansible_facts.keys() | sort | join(',') }} {{ ansible_memtotal_mb | default('no-mem') }}"
`

// setupTask runs setupPlay with ansible-playbook and with tend, both with
// --check, and requires the same message.
func setupTask(ctx context.Context, t *testing.T, bed *testbed.Bed, dir string) {
	pb := filepath.Join(dir, "setup.yml")
	if err := os.WriteFile(pb, []byte(setupPlay), 0o644); err != nil {
		t.Fatal(err)
	}
	tend := filepath.Join(dir, "tend")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", tend, "../../cmd/tend").CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}
	msg := func(name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_KEY_CHECKING=1", "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, ".ansible-tmp"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, `"msg":`) {
				return strings.TrimSpace(l)
			}
		}
		t.Fatalf("%s: no msg in\n%s", name, out)
		return ""
	}
	want := msg("ansible-playbook", "-i", bed.InventoryINI, "--check", pb)
	got := msg(tend, "play", "-i", bed.InventoryINI, "--check", pb)
	if got != want {
		t.Errorf("setup task:\nansible-playbook: %s\ntend:             %s", want, got)
	}
}

// gather runs tend's gathering over SSH, as a play does.
func gather(ctx context.Context, t *testing.T, host *testbed.Host) map[string]any {
	t.Helper()
	conn := dial(ctx, t, host)
	f, err := facts.Gather(ctx, conn, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func dial(ctx context.Context, t testing.TB, host *testbed.Host) connection.Connection {
	t.Helper()
	pool := ssh.NewPool(ssh.Options{KnownHostsFile: host.KnownHostsFile})
	t.Cleanup(func() { pool.Close() })
	conn, err := pool.Get(ctx, host.Name, map[string]any{
		"ansible_host": host.Addr, "ansible_port": host.Port, "ansible_user": "root",
		"ansible_ssh_private_key_file": host.KeyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// normalize gives tend's facts the types JSON gives Ansible's.
func normalize(t *testing.T, f map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// ownInterfaces lists the interfaces of the host's network namespace.
func ownInterfaces(ctx context.Context, t *testing.T, bed *testbed.Bed, host string) map[string]bool {
	t.Helper()
	out, err := bed.SSH(ctx, host, "ls /sys/class/net/ >/dev/null; ip -o link show | cut -d: -f2")
	if err != nil {
		t.Fatalf("ip link: %v\n%s", err, out)
	}
	own := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if n, _, _ := strings.Cut(strings.TrimSpace(l), "@"); n != "" {
			own[n] = true
		}
	}
	return own
}

func compareFacts(t *testing.T, want, got map[string]any, own map[string]bool) {
	t.Helper()
	foreign := map[string]bool{} // fact names of other namespaces' interfaces
	for _, side := range []map[string]any{want, got} {
		list, _ := side["interfaces"].([]any)
		for _, n := range list {
			if s, _ := n.(string); !own[s] {
				foreign[strings.ReplaceAll(s, "-", "_")] = true
			}
		}
	}
	var missing, extra []string
	for k := range want {
		if _, ok := got[k]; !ok && exceptions[k] == "" && !foreign[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && exceptions[k] == "" && !foreign[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("%d of Ansible's %d facts missing from tend's %d: %s", len(missing), len(want), len(got), strings.Join(missing, " "))
	}
	if len(extra) > 0 {
		t.Errorf("facts only tend gathers: %s", strings.Join(extra, " "))
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			continue
		}
		w := want[k]
		switch {
		case k == "interfaces":
			w, g = ownOnly(w, own), ownOnly(g, own)
		case k == "virtualization_tech_guest" || k == "virtualization_tech_host":
			w, g = sorted(w), sorted(g)
		case k == "env":
			w, g = pick(w, envStable), pick(g, envStable)
			if err := sameShape(want[k], got[k], true); err != "" {
				t.Errorf("env: %s", err)
			}
		case k == "mounts":
			w, g = byMount(w), byMount(g)
		default:
			// A bridge's ports: Ansible lists them in directory order.
			w, g = sortPorts(w), sortPorts(g)
		}
		if volatile[k] || foreign[k] {
			if err := sameShape(w, g, false); err != "" {
				t.Errorf("%s: %s", k, err)
			}
			continue
		}
		if !reflect.DeepEqual(w, g) {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			t.Errorf("%s differs:\nansible: %s\ntend:    %s", k, wj, gj)
		}
	}
}

// sameShape reports how b's structure differs from a's: map keys (unless
// valuesOnly, for maps whose keys vary, such as env) and types.
func sameShape(a, b any, valuesOnly bool) string {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return fmt.Sprintf("type %T, want %T", b, a)
	}
	if am, ok := a.(map[string]any); ok {
		bm := b.(map[string]any)
		for k, v := range am {
			bv, ok := bm[k]
			if !ok {
				if !valuesOnly {
					return fmt.Sprintf("key %q missing", k)
				}
				continue
			}
			if err := sameShape(v, bv, valuesOnly); err != "" {
				return k + ": " + err
			}
		}
		if !valuesOnly && len(am) != len(bm) {
			return fmt.Sprintf("%d keys, want %d", len(bm), len(am))
		}
	}
	return ""
}

func sortPorts(v any) any {
	m, ok := v.(map[string]any)
	if !ok || m["type"] != "bridge" {
		return v
	}
	c := map[string]any{}
	for k, x := range m {
		c[k] = x
	}
	c["interfaces"] = sorted(m["interfaces"])
	return c
}

func ownOnly(v any, own map[string]bool) any {
	var out []string
	list, _ := v.([]any)
	for _, n := range list {
		if s, _ := n.(string); own[s] {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func sorted(v any) any {
	var out []string
	list, _ := v.([]any)
	for _, n := range list {
		out = append(out, fmt.Sprint(n))
	}
	sort.Strings(out)
	return out
}

func pick(v any, keys []string) any {
	m, _ := v.(map[string]any)
	out := map[string]any{}
	for _, k := range keys {
		if x, ok := m[k]; ok {
			out[k] = x
		}
	}
	return out
}

// byMount keys mounts by mount point (Ansible lists them in the order its
// threads finish), without the usage figures.
func byMount(v any) any {
	out := map[string]any{}
	list, _ := v.([]any)
	for _, m := range list {
		mm, _ := m.(map[string]any)
		c := map[string]any{}
		for k, x := range mm {
			if !mountVolatile[k] {
				c[k] = x
			}
		}
		out[fmt.Sprint(mm["mount"])] = c
	}
	return out
}

// BenchmarkGather times tend's fact gathering (all subsets) over SSH on a
// bed host, the connection already open:
//
//	go test ./integration/facts -run '^$' -bench Gather -benchtime 20x
func BenchmarkGather(b *testing.B) {
	bed := testbed.Start(b, testbed.HostSpec{Name: "f1"})
	ctx := context.Background()
	conn := dial(ctx, b, bed.Hosts[0])
	if _, err := conn.Run(ctx, connection.Command{Cmd: "true"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := facts.Gather(ctx, conn, nil, ""); err != nil {
			b.Fatal(err)
		}
	}
}
