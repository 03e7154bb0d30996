package testbed

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/facts"
	"gopkg.in/yaml.v3"
)

// TestBed boots three hosts once and checks what tests rely on: SSH with
// host-key checking, distinct identities, names, apt through the proxy,
// FUSE, the inventories, and the fault kit.
func TestBed(t *testing.T) {
	b := Start(t,
		HostSpec{Name: "node1", Role: "web"},
		HostSpec{Name: "node2", Role: "web"},
		HostSpec{Name: "node3", Role: "db"},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	t.Run("ssh and identities", func(t *testing.T) {
		hostnames := map[string]string{}
		keys := map[string]string{}
		ids := map[string]string{}
		for _, h := range b.Hosts {
			// is-system-running exits 1 when degraded, which the state
			// check below accepts (as Start does).
			out, err := b.SSH(ctx, h.Name, "hostname; cat /etc/ssh/ssh_host_ed25519_key.pub; cat /etc/machine-id; systemctl is-system-running || true")
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Split(strings.TrimSpace(out), "\n")
			if len(f) != 4 {
				t.Fatalf("%s: unexpected output %q", h.Name, out)
			}
			if f[0] != h.Name {
				t.Errorf("%s: hostname is %q", h.Name, f[0])
			}
			if f[3] != "running" && f[3] != "degraded" {
				t.Errorf("%s: system state %q", h.Name, f[3])
			}
			if f[3] == "degraded" {
				failed, _ := b.SSH(ctx, h.Name, "systemctl --failed --no-legend")
				t.Logf("%s is degraded (accepted, as by Start); failed units: %s", h.Name, strings.TrimSpace(failed))
			}
			key := strings.Join(strings.Fields(f[1])[:2], " ")
			for other, k := range keys {
				if k == key {
					t.Errorf("%s and %s share the host key %s", h.Name, other, key)
				}
			}
			for other, id := range ids {
				if id == f[2] {
					t.Errorf("%s and %s share the machine id %s", h.Name, other, id)
				}
			}
			kh, _ := os.ReadFile(b.KnownHostsFile)
			if !strings.Contains(string(kh), h.Addr+","+h.Name+" "+key+"\n") {
				t.Errorf("%s: known_hosts lacks its key %s", h.Name, key)
			}
			hostnames[h.Name], keys[h.Name], ids[h.Name] = f[0], key, f[2]
		}
	})

	t.Run("host key checking stays on", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		args, err := b.SSHArgs("node1")
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range args {
			if strings.HasPrefix(a, "UserKnownHostsFile=") {
				args[i] = "UserKnownHostsFile=" + empty
			}
		}
		out, err := exec.CommandContext(ctx, "ssh", append(args, "true")...).CombinedOutput()
		if err == nil {
			t.Fatalf("ssh with an empty known_hosts file succeeded: %s", out)
		}
		if !strings.Contains(string(out), "Host key verification failed") {
			t.Errorf("ssh failed for another reason than the host key: %s", out)
		}
	})

	t.Run("hosts reach each other by name", func(t *testing.T) {
		out, err := b.SSH(ctx, "node1", "getent hosts node3 && timeout 5 bash -c 'exec 3<>/dev/tcp/node3/22 && head -c 7 <&3'")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, b.Host("node3").Addr) || !strings.Contains(out, "SSH-2.0") {
			t.Errorf("node1 -> node3: %q", out)
		}
	})

	t.Run("apt through the proxy", func(t *testing.T) {
		out, err := b.SSH(ctx, "node2", "apt-get update -q 2>&1 && apt-cache policy sshfs")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "Candidate:") || strings.Contains(out, "Candidate: (none)") {
			t.Errorf("apt-get update did not fetch package lists:\n%s", out)
		}
	})

	t.Run("fuse device", func(t *testing.T) {
		if _, err := b.SSH(ctx, "node1", "test -c /dev/fuse"); err != nil {
			t.Error(err)
		}
	})

	t.Run("inventories", func(t *testing.T) {
		ini, err := os.ReadFile(b.InventoryINI)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range b.Hosts {
			want := h.Name + " ansible_host=" + h.Addr + " ansible_port=22 ansible_user=root ansible_ssh_private_key_file=" + b.KeyFile +
				" ansible_ssh_common_args='-o UserKnownHostsFile=" + b.KnownHostsFile + "'\n"
			if !strings.Contains(string(ini), want) {
				t.Errorf("INI inventory lacks %q:\n%s", want, ini)
			}
		}
		if !strings.Contains(string(ini), "[web]\nnode1\nnode2\n") || !strings.Contains(string(ini), "[db]\nnode3\n") {
			t.Errorf("INI inventory lacks the role groups:\n%s", ini)
		}
		data, err := os.ReadFile(b.InventoryYAML)
		if err != nil {
			t.Fatal(err)
		}
		var inv struct {
			All struct {
				Hosts    map[string]map[string]any
				Children map[string]struct{ Hosts map[string]any }
			}
		}
		if err := yaml.Unmarshal(data, &inv); err != nil {
			t.Fatalf("YAML inventory: %v\n%s", err, data)
		}
		for _, h := range b.Hosts {
			v := inv.All.Hosts[h.Name]
			if v["ansible_host"] != h.Addr || v["ansible_user"] != "root" || v["ansible_ssh_private_key_file"] != b.KeyFile {
				t.Errorf("YAML inventory: host %s has %v", h.Name, v)
			}
			if _, ok := inv.All.Children[h.Role].Hosts[h.Name]; !ok {
				t.Errorf("YAML inventory: %s not in group %s", h.Name, h.Role)
			}
		}
	})

	t.Run("facts over openssh", func(t *testing.T) {
		out, err := b.SSH(ctx, "node1", facts.Script(nil))
		if err != nil {
			t.Fatal(err)
		}
		f, err := facts.Parse([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		def, _ := f["default_ipv4"].(map[string]any)
		got := []any{f["hostname"], f["distribution"], f["distribution_major_version"], f["os_family"], f["pkg_mgr"],
			f["service_mgr"], def["address"], def["gateway"], f["virtualization_type"]}
		want := []any{"node1", "Debian", "12", "Debian", "apt", "systemd", b.Host("node1").Addr, b.Gateway, "container"} // Ansible reports systemd-nspawn in virtualization_tech_guest
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("facts of node1 (-want +got):\n%s", d)
		}
	})

	t.Run("link down and up", func(t *testing.T) {
		if err := b.LinkDown(ctx, "node3"); err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := b.SSH(sctx, "node3", "true")
		scancel()
		if err == nil {
			t.Error("ssh to node3 worked with its link down")
		}
		if err := b.LinkUp(ctx, "node3"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.SSH(ctx, "node3", "true"); err != nil {
			t.Errorf("ssh after link up: %v", err)
		}
	})

	t.Run("slow and unslow", func(t *testing.T) {
		veth := b.Host("node3").Veth
		err := b.Slow(ctx, "node3", 100*time.Millisecond, 0)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			t.Logf("delay not tested: %v", err)
		case err != nil:
			t.Fatal(err)
		default:
			out, _ := run(ctx, "tc", "qdisc", "show", "dev", veth)
			if !strings.Contains(out, "netem") {
				t.Errorf("no netem on node3's veth: %s", out)
			}
			// Each round trip now takes at least 200ms: a TCP handshake alone.
			start := time.Now()
			c, err := net.DialTimeout("tcp", net.JoinHostPort(b.Host("node3").Addr, "22"), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			if d := time.Since(start); d < 200*time.Millisecond {
				t.Errorf("TCP handshake with node3 took %s despite 2x100ms delay", d)
			}
		}
		if err := b.Slow(ctx, "node3", 0, 100); err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = b.SSH(sctx, "node3", "true")
		scancel()
		if err == nil {
			t.Error("ssh to node3 worked with 100% packet loss")
		}
		if err := b.Unslow(ctx, "node3"); err != nil {
			t.Fatal(err)
		}
		if err := b.Unslow(ctx, "node3"); err != nil {
			t.Errorf("second Unslow: %v", err)
		}
		if _, err := b.SSH(ctx, "node3", "true"); err != nil {
			t.Errorf("ssh after Unslow: %v", err)
		}
	})

	t.Run("power off and on", func(t *testing.T) {
		before, err := b.SSH(ctx, "node2", "echo kept > /root/mark && sync && cat /proc/sys/kernel/random/boot_id")
		if err != nil {
			t.Fatal(err)
		}
		pid := b.Host("node2").PID
		if err := b.PowerOff(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		if processAlive(pid) {
			t.Errorf("systemd-nspawn %d still runs after power off", pid)
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(b.Host("node2").Addr, "22"), time.Second); err == nil {
			c.Close()
			t.Error("node2 answers on port 22 while powered off")
		}
		if err := b.PowerOn(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		after, err := b.SSH(ctx, "node2", "cat /root/mark /proc/sys/kernel/random/boot_id")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(after, "kept\n") {
			t.Errorf("file written before power off is gone: %q", after)
		}
		if strings.TrimPrefix(after, "kept\n") == before {
			t.Errorf("node2 did not reboot: same boot id %s", before)
		}
	})
}

// TestDownLeavesNothing boots a bed, simulates a crashed run by dropping
// it without Down, checks that the next Up with the same name cleans up,
// then checks that Down leaves no process, mount, namespace or interface.
func TestDownLeavesNothing(t *testing.T) {
	if err := CheckPrerequisites(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("testbed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := bedName(t)
	first, err := Up(ctx, Options{Name: name}, HostSpec{Name: "a"}, HostSpec{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Down(context.Background()) })
	oldPids := []int{first.ProxyPID}
	for _, h := range first.Hosts {
		oldPids = append(oldPids, h.PID)
	}
	first.unlock() // as if the process had crashed

	b, err := Up(ctx, Options{Name: name}, HostSpec{Name: "a"}, HostSpec{Name: "c"})
	if err != nil {
		t.Fatalf("Up over the leftovers of a crashed run: %v", err)
	}
	t.Cleanup(func() { _ = b.Down(context.Background()) })
	for _, p := range oldPids {
		if processAlive(p) {
			t.Errorf("process %d of the crashed run survived the next Up", p)
		}
	}
	if _, err := Up(ctx, Options{Name: name}, HostSpec{Name: "x"}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Up of a live bed: got %v, want an in-use error", err)
	}
	pids := []int{b.ProxyPID}
	for _, h := range b.Hosts {
		pids = append(pids, h.PID)
	}
	if err := b.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Down(ctx); err != nil {
		t.Errorf("second Down: %v", err)
	}
	checkNothingLeft(t, name, b.Dir, pids)
}

// checkNothingLeft fails the test if anything of the bed remains.
func checkNothingLeft(t *testing.T, name, dir string, pids []int) {
	t.Helper()
	n := namesFor(name)
	mounts, _ := os.ReadFile("/proc/mounts")
	if strings.Contains(string(mounts), dir+"/") {
		t.Errorf("mounts left under %s:\n%s", dir, mounts)
	}
	ns, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(ns), n.netnsPrefix()) {
		t.Errorf("network namespaces left:\n%s", ns)
	}
	links, _ := exec.Command("ip", "-o", "link").Output()
	if strings.Contains(string(links), n.linkPrefix()) {
		t.Errorf("interfaces left:\n%s", links)
	}
	ps, _ := exec.Command("ps", "-eo", "pid,stat,args").Output()
	for _, line := range strings.Split(string(ps), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && !strings.HasPrefix(f[1], "Z") && strings.Contains(line, dir+"/") {
			t.Errorf("process left: %s", line)
		}
	}
	for _, p := range pids {
		if processAlive(p) {
			t.Errorf("process %d left", p)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory %s left (%v)", dir, err)
	}
}
