package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// HostSpec asks for one host of a bed.
type HostSpec struct {
	// Name is the host's name and hostname: lowercase letters, digits and
	// inner dashes.
	Name string
	// Role, if set, puts the host into an inventory group of that name.
	Role string
	// Python builds the host from the image variant with python3, for
	// reference Ansible runs (tend itself needs no Python on a target).
	Python bool
	// NetAdmin gives the host CAP_NET_ADMIN in its own network namespace,
	// for firewall tests (ufw, iptables); the bed's network is unaffected.
	NetAdmin bool
	// Binds are folders of this machine mounted at the same path in the
	// host (read-write), for tests that, like ansible-test's local runs,
	// need the controller's files and the host's to be the same.
	Binds []string
}

// Host is one booted host of a bed, as a client reaches it.
type Host struct {
	Name           string
	Role           string   `json:",omitempty"`
	Python         bool     `json:",omitempty"`
	NetAdmin       bool     `json:",omitempty"`
	Binds          []string `json:",omitempty"`
	Addr           string   // IPv4 address on the bed's bridge
	Port           int      // SSH port
	User           string   // login user (root)
	KeyFile        string   // private key the host accepts
	KnownHostsFile string   // known_hosts with the keys of every bed host
	NetnsName      string   // network namespace under /run/netns
	Veth           string   // controller-side end of the host's veth pair

	// Dir holds the host's overlay (upper, work, merged) and console log.
	Dir string
	// Rootfs is the image the overlay is built on.
	Rootfs string
	// PID is the systemd-nspawn process; 0 while the host is powered off.
	PID int `json:",omitempty"`
}

func (h *Host) merged() string { return filepath.Join(h.Dir, "merged") }

// mountOverlay mounts the host's root filesystem: the image read-only
// below, the host's own changes above.
func (h *Host) mountOverlay() error {
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(h.Dir, d), 0o755); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", h.Rootfs, filepath.Join(h.Dir, "upper"), filepath.Join(h.Dir, "work"))
	if err := syscall.Mount("overlay", h.merged(), "overlay", 0, opts); err != nil {
		return fmt.Errorf("host %s: mount overlay: %w", h.Name, err)
	}
	return nil
}

// personalize writes what makes the host itself on first boot: hostname,
// /etc/hosts with every bed host, machine id, fresh SSH host keys, the
// bed's key for root and the apt proxy.
func (h *Host) personalize(ctx context.Context, all []*Host, pubKey []byte, proxy string) error {
	root := h.merged()
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, o := range all {
		fmt.Fprintf(&hosts, "%s\t%s\n", o.Addr, o.Name)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("host %s: machine id: %w", h.Name, err)
	}
	files := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{"etc/hostname", h.Name + "\n", 0o644},
		{"etc/hosts", hosts.String(), 0o644},
		{"etc/machine-id", hex.EncodeToString(id) + "\n", 0o444},
		// Hosts reach nothing but the bed: an empty resolv.conf makes name
		// lookups fail at once instead of timing out.
		{"etc/resolv.conf", "# testbed host: no DNS; names of bed hosts are in /etc/hosts\n", 0o644},
		{"etc/apt/apt.conf.d/01testbed-proxy", fmt.Sprintf("Acquire::http::Proxy %q;\nAcquire::https::Proxy %q;\n", proxy, proxy), 0o644},
		{"root/.ssh/authorized_keys", string(pubKey), 0o600},
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		_ = os.Remove(p) // replace symlinks (resolv.conf) rather than follow them
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	// ed25519 and ECDSA keys only: RSA generation would dominate boot time.
	for _, t := range []string{"ed25519", "ecdsa"} {
		key := filepath.Join(root, "etc/ssh/ssh_host_"+t+"_key")
		_ = os.Remove(key)
		_ = os.Remove(key + ".pub")
		if _, err := run(ctx, "ssh-keygen", "-q", "-t", t, "-N", "", "-C", "root@"+h.Name, "-f", key); err != nil {
			return fmt.Errorf("host %s: host key: %w", h.Name, err)
		}
	}
	return nil
}

// hostKeys returns the host's public host keys as "type base64" lines.
func (h *Host) hostKeys() ([]string, error) {
	pubs, _ := filepath.Glob(filepath.Join(h.merged(), "etc/ssh/ssh_host_*_key.pub"))
	var keys []string
	for _, p := range pubs {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Name, err)
		}
		f := strings.Fields(string(data))
		if len(f) < 2 {
			return nil, fmt.Errorf("host %s: malformed host key %s", h.Name, p)
		}
		keys = append(keys, f[0]+" "+f[1])
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("host %s: no host keys", h.Name)
	}
	return keys, nil
}

// boot starts systemd-nspawn for the host in its own session so it
// outlives the calling process (the testbed command exits after up).
func (h *Host) boot() error {
	log, err := os.OpenFile(filepath.Join(h.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	defer log.Close()
	// --register=no --keep-unit: this machine does not run systemd, so there
	// is no machined and no unit to create.
	args := []string{"-q", "-b",
		"-D", h.merged(),
		"--network-namespace-path=/run/netns/" + h.NetnsName,
		"--machine=" + h.Name,
		"--register=no", "--keep-unit",
		"--bind=/dev/fuse",
		"--resolv-conf=off", "--timezone=off", "--link-journal=no",
		"--console=read-only",
	}
	if h.NetAdmin {
		args = append(args, "--capability=CAP_NET_ADMIN")
	}
	for _, dir := range h.Binds {
		args = append(args, "--bind="+dir)
	}
	cmd := exec.Command("systemd-nspawn", args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("host %s: start systemd-nspawn: %w", h.Name, err)
	}
	h.PID = cmd.Process.Pid
	go func() { _ = cmd.Wait() }() // reap it if it ends while we run
	return nil
}

// stop kills the host's container: systemd-nspawn and everything in the
// host's network namespace, then waits for them to be gone.
func (h *Host) stop(ctx context.Context) error {
	pids := []int{}
	if h.PID > 0 {
		if err := killVerified(h.PID, h.merged()); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		pids = append(pids, h.PID)
	}
	if err := killNetns(ctx, h.NetnsName); err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	if err := waitGone(pids, 10*time.Second); err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	h.PID = 0
	return nil
}

// killNetns kills every process in network namespace ns and waits for
// them to end. A missing namespace has no processes.
func killNetns(ctx context.Context, ns string) error {
	if _, err := os.Stat("/run/netns/" + ns); err != nil {
		return nil
	}
	var all []int
	for i := 0; i < 5; i++ { // processes may fork while we kill
		pids, err := netnsPids(ctx, ns)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		all = append(all, pids...)
		time.Sleep(20 * time.Millisecond)
	}
	return waitGone(all, 10*time.Second)
}

// waitReady waits until the host accepts SSH connections and systemd
// reports the boot finished (running or degraded).
func (b *Bed) waitReady(ctx context.Context, h *Host) error {
	addr := net.JoinHostPort(h.Addr, fmt.Sprint(h.Port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if !processAlive(h.PID) {
			return fmt.Errorf("host %s: systemd-nspawn exited during boot: %s", h.Name, tail(filepath.Join(h.Dir, "console.log")))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("host %s: waiting for ssh on %s: %w", h.Name, addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for {
		out, err := b.SSH(ctx, h.Name, "systemctl is-system-running --wait")
		state := strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("host %s: waiting for boot (state %q): %w (last error: %v)", h.Name, state, ctx.Err(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(string(data), 10)
}
