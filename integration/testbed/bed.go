package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultStateRoot holds the directory of each bed unless Options.Dir says
// otherwise.
const DefaultStateRoot = "/run/tend-testbed"

// Options configure a bed.
type Options struct {
	// Name identifies the bed; it must be unique among beds running at the
	// same time on this machine (different test packages use different
	// names). Default "tend". Booting a bed removes leftovers of an earlier
	// run with the same name.
	Name string
	// Dir is the state directory: keys, known_hosts, inventories, host
	// overlays, logs. Default DefaultStateRoot/NAME.
	Dir string
	// Subnet is the bed's IPv4 /24; empty picks a free 10.231.X.0/24.
	Subnet string
	// ImageCache holds base images between runs; default DefaultImageCache.
	ImageCache string
	// Mirror is the Debian mirror; default DefaultMirror.
	Mirror string
	// BootTimeout bounds the boot of each host; default 120s.
	BootTimeout time.Duration
	// Log receives progress lines (image builds, boot times); nil discards.
	Log io.Writer
}

// Bed is a set of booted hosts. Its exported fields are saved as JSON in
// Dir/bed.json, from where Load restores it in another process. Methods are
// safe for concurrent use.
type Bed struct {
	Name           string
	Dir            string
	Subnet         string
	Bridge         string
	Gateway        string // the bridge's address, where the apt proxy listens
	ProxyPID       int    `json:",omitempty"`
	KeyFile        string // the bed's private key, accepted by every host
	KnownHostsFile string
	InventoryINI   string
	InventoryYAML  string
	Hosts          []*Host

	mu     sync.Mutex
	log    io.Writer
	unlock func() // releases the name lock taken by Up; nil after Load
}

const stateFile = "bed.json"

// Up boots hosts in parallel and returns once every one answers SSH and
// systemd inside reports the boot finished. It builds the base image first
// if it is not cached. On error everything created is removed again.
func Up(ctx context.Context, opts Options, hosts ...HostSpec) (*Bed, error) {
	if opts.Name == "" {
		opts.Name = "tend"
	}
	if err := checkName("bed", opts.Name); err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("bed %s: no hosts requested", opts.Name)
	}
	if len(hosts) > 240 {
		return nil, fmt.Errorf("bed %s: %d hosts requested, a bed holds at most 240", opts.Name, len(hosts))
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if err := checkName("host", h.Name); err != nil {
			return nil, fmt.Errorf("bed %s: %w", opts.Name, err)
		}
		if seen[h.Name] {
			return nil, fmt.Errorf("bed %s: host %s requested twice", opts.Name, h.Name)
		}
		seen[h.Name] = true
		if h.Role != "" && !validGroup(h.Role) {
			return nil, fmt.Errorf("bed %s: host %s: invalid role %q: use letters, digits and underscores", opts.Name, h.Name, h.Role)
		}
	}
	if err := CheckPrerequisites(); err != nil {
		return nil, fmt.Errorf("bed %s: %w", opts.Name, err)
	}
	if opts.Dir == "" {
		opts.Dir = filepath.Join(DefaultStateRoot, opts.Name)
	}
	if opts.BootTimeout == 0 {
		opts.BootTimeout = 120 * time.Second
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}

	if err := raiseInotifyLimit(len(hosts), log); err != nil {
		return nil, fmt.Errorf("bed %s: %w", opts.Name, err)
	}

	// Images first: a build takes a minute and needs no network objects.
	images := map[bool]string{}
	for _, h := range hosts {
		if _, ok := images[h.Python]; ok {
			continue
		}
		rootfs, err := EnsureImage(ctx, opts.ImageCache, opts.Mirror, h.Python, log)
		if err != nil {
			return nil, fmt.Errorf("bed %s: %w", opts.Name, err)
		}
		images[h.Python] = rootfs
	}

	// One live bed per name: its leftovers may be removed only when no
	// process holds the name.
	unlock, err := lockName(opts.Name)
	if err != nil {
		return nil, err
	}
	if err := Cleanup(ctx, opts.Name, opts.Dir); err != nil {
		unlock()
		return nil, fmt.Errorf("bed %s: remove leftovers of an earlier run: %w", opts.Name, err)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "hosts"), 0o700); err != nil {
		unlock()
		return nil, fmt.Errorf("bed %s: %w", opts.Name, err)
	}
	n := namesFor(opts.Name)
	b := &Bed{
		Name:           opts.Name,
		Dir:            opts.Dir,
		Bridge:         n.bridge(),
		KeyFile:        filepath.Join(opts.Dir, "id_ed25519"),
		KnownHostsFile: filepath.Join(opts.Dir, "known_hosts"),
		InventoryINI:   filepath.Join(opts.Dir, "inventory.ini"),
		InventoryYAML:  filepath.Join(opts.Dir, "inventory.yml"),
		log:            log,
		unlock:         unlock,
	}
	if err := b.up(ctx, opts, images, hosts); err != nil {
		// Tear down with a fresh context: ctx may be what failed.
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if derr := b.Down(dctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("tear down after failed boot: %w", derr))
		}
		return nil, err
	}
	return b, nil
}

func (b *Bed) up(ctx context.Context, opts Options, images map[bool]string, specs []HostSpec) error {
	start := time.Now()
	n := namesFor(b.Name)
	if _, err := run(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tend-testbed-"+b.Name, "-f", b.KeyFile); err != nil {
		return fmt.Errorf("bed %s: client key: %w", b.Name, err)
	}
	pub, err := os.ReadFile(b.KeyFile + ".pub")
	if err != nil {
		return fmt.Errorf("bed %s: %w", b.Name, err)
	}
	// Record the state before the first kernel object exists, so Down in
	// another process finds everything even if we crash half way.
	if err := b.save(); err != nil {
		return err
	}
	subnet, gw, err := createBridge(ctx, b.Bridge, opts.Subnet, b.Name)
	if err != nil {
		return fmt.Errorf("bed %s: %w", b.Name, err)
	}
	b.Subnet, b.Gateway = subnet, gw
	prefix := gw[:strings.LastIndexByte(gw, '.')+1]
	for i, s := range specs {
		b.Hosts = append(b.Hosts, &Host{
			Name: s.Name, Role: s.Role, Python: s.Python, NetAdmin: s.NetAdmin, Binds: s.Binds,
			Addr: fmt.Sprintf("%s%d", prefix, 10+i), Port: 22, User: "root",
			KeyFile: b.KeyFile, KnownHostsFile: b.KnownHostsFile,
			NetnsName: n.netns(s.Name), Veth: n.veth(i),
			Dir: filepath.Join(b.Dir, "hosts", s.Name), Rootfs: images[s.Python],
		})
	}
	if err := b.save(); err != nil {
		return err
	}
	pid, err := startProxy(ctx, b.Dir, gw, subnet)
	if err != nil {
		return fmt.Errorf("bed %s: %w", b.Name, err)
	}
	b.ProxyPID = pid
	if err := b.save(); err != nil {
		return err
	}
	proxy := fmt.Sprintf("http://%s:%d", gw, proxyPort)

	// Prepare and boot every host in parallel; the known_hosts file is
	// written once all keys exist, before anyone connects.
	err = b.each(func(h *Host) error {
		if err := plugHost(ctx, h.NetnsName, h.Veth, b.Bridge, h.Addr, gw); err != nil {
			return err
		}
		if err := h.mountOverlay(); err != nil {
			return err
		}
		if err := h.personalize(ctx, b.Hosts, pub, proxy); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bed %s: %w", b.Name, err)
	}
	if err := b.writeKnownHosts(); err != nil {
		return err
	}
	if err := b.writeInventories(); err != nil {
		return err
	}
	prepared := time.Since(start)
	err = b.each(func(h *Host) error {
		b.mu.Lock()
		err := h.boot()
		b.mu.Unlock()
		if err != nil {
			return err
		}
		return nil
	})
	if serr := b.save(); serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("bed %s: %w", b.Name, err)
	}
	bctx, cancel := context.WithTimeout(ctx, opts.BootTimeout)
	defer cancel()
	if err := b.each(func(h *Host) error { return b.waitReady(bctx, h) }); err != nil {
		return fmt.Errorf("bed %s: %w", b.Name, err)
	}
	fmt.Fprintf(b.log, "testbed: bed %s: %d hosts up in %s (prepare %s) on %s\n", b.Name, len(b.Hosts),
		time.Since(start).Round(10*time.Millisecond), prepared.Round(10*time.Millisecond), b.Subnet)
	return nil
}

// each runs f for every host in parallel and joins the errors.
func (b *Bed) each(f func(h *Host) error) error {
	errs := make([]error, len(b.Hosts))
	var wg sync.WaitGroup
	for i, h := range b.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(h)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Host returns the bed's host called name, or nil.
func (b *Bed) Host(name string) *Host {
	for _, h := range b.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

func (b *Bed) host(name string) (*Host, error) {
	if h := b.Host(name); h != nil {
		return h, nil
	}
	return nil, fmt.Errorf("bed %s: no host %q", b.Name, name)
}

// save writes the bed's state file. Callers must not hold b.mu.
func (b *Bed) save() error {
	b.mu.Lock()
	data, err := json.MarshalIndent(b, "", "  ")
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("bed %s: state: %w", b.Name, err)
	}
	tmp := filepath.Join(b.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("bed %s: state: %w", b.Name, err)
	}
	if err := os.Rename(tmp, filepath.Join(b.Dir, stateFile)); err != nil {
		return fmt.Errorf("bed %s: state: %w", b.Name, err)
	}
	return nil
}

// Load restores a bed booted by another process from its state directory
// (DefaultStateRoot/NAME unless booted with Options.Dir).
func Load(dir string) (*Bed, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("load bed: %w", err)
	}
	b := &Bed{log: io.Discard}
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("load bed %s: %w", dir, err)
	}
	return b, nil
}

// Down stops every host and removes everything the bed created: containers,
// overlay mounts, network namespaces, veth pairs, the bridge, the apt
// proxy and the state directory. It is idempotent, and also removes
// objects of the bed that its state does not list (a crash while booting).
func (b *Bed) Down(ctx context.Context) error {
	var errs []error
	for _, err := range []error{
		b.each(func(h *Host) error { return h.stop(ctx) }),
		killVerified(b.ProxyPID, filepath.Join(b.Dir, "tinyproxy.conf")),
		Cleanup(ctx, b.Name, b.Dir),
	} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("bed %s: down: %w", b.Name, errors.Join(errs...))
	}
	b.mu.Lock()
	if b.unlock != nil {
		b.unlock()
		b.unlock = nil
	}
	b.mu.Unlock()
	return nil
}

// lockName takes the bed name for this process, failing at once when
// another live process holds it. The lock ends with the process, so a
// crashed run never blocks the next one.
func lockName(name string) (func(), error) {
	if err := os.MkdirAll(DefaultStateRoot, 0o755); err != nil {
		return nil, fmt.Errorf("bed %s: %w", name, err)
	}
	path := filepath.Join(DefaultStateRoot, "."+name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bed %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("bed %s is in use by another process (lock %s)", name, path)
		}
		return nil, fmt.Errorf("bed %s: lock %s: %w", name, path, err)
	}
	return func() { f.Close() }, nil
}

// Cleanup removes every trace of the bed called name with state directory
// dir, whether or not it is running and whether or not its state file
// exists: processes in its network namespaces, systemd-nspawn and
// tinyproxy processes started from dir, mounts below dir, network
// namespaces and interfaces named after the bed, and dir itself.
func Cleanup(ctx context.Context, name, dir string) error {
	n := namesFor(name)
	var errs []error
	if b, err := Load(dir); err == nil {
		for _, h := range b.Hosts {
			_ = killVerified(h.PID, h.merged())
		}
		_ = killVerified(b.ProxyPID, filepath.Join(dir, "tinyproxy.conf"))
	}
	// Processes whose command line names the bed directory (systemd-nspawn,
	// tinyproxy) even when the state file missed them.
	pids, err := pidsMentioning(dir + "/")
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range pids {
		_ = killVerified(p, dir+"/")
	}
	nss, err := listNetns(n.netnsPrefix())
	if err != nil {
		errs = append(errs, err)
	}
	for _, ns := range nss {
		if err := killNetns(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := waitGone(pids, 10*time.Second); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	for _, ns := range nss {
		if _, err := run(ctx, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	links, err := listLinks(n.linkPrefix())
	if err != nil {
		errs = append(errs, err)
	}
	// veths first, the bridge last.
	sort.Slice(links, func(i, j int) bool { return len(links[i]) > len(links[j]) })
	for _, l := range links {
		if _, err := run(ctx, "ip", "link", "del", l); err != nil {
			// Deleting a namespace takes its veth peer along, sometimes
			// just after we listed it.
			if still, _ := listLinks(l); len(still) > 0 {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		if err := removeTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pidsMentioning lists processes whose command line contains s.
func pidsMentioning(s string) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	self := os.Getpid()
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), s) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Prerequisites are the programs a bed needs, with the Debian package
// that provides each.
var prerequisites = [][2]string{
	{"debootstrap", "debootstrap"},
	{"systemd-nspawn", "systemd-container"},
	{"ssh", "openssh-client"},
	{"ssh-keygen", "openssh-client"},
	{"tinyproxy", "tinyproxy"},
	{"ip", "iproute2"},
	{"tc", "iproute2"},
}

// CheckPrerequisites reports whether this process can boot beds: it runs
// as root and finds every program it needs. The error names the missing
// Debian packages.
func CheckPrerequisites() error {
	if os.Geteuid() != 0 {
		return errors.New("testbed needs root (network namespaces, mounts, systemd-nspawn)")
	}
	var missing []string
	seen := map[string]bool{}
	for _, p := range prerequisites {
		if _, err := exec.LookPath(p[0]); err != nil && !seen[p[1]] {
			missing = append(missing, p[1])
			seen[p[1]] = true
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("testbed needs Debian packages: apt-get install -y %s", strings.Join(missing, " "))
	}
	return nil
}

// inotifyInstancesPerHost is a generous count of the inotify instances a
// booted host holds (systemd, journald, logind, dbus, sshd...).
const inotifyInstancesPerHost = 40

// raiseInotifyLimit makes room for n more hosts' inotify instances. The
// hosts' processes run as root like everything else on the machine, so
// they share root's limit (128 by default: about 8 hosts); systemd in a
// host fails to boot without one. The limit is only ever raised.
func raiseInotifyLimit(n int, log io.Writer) error {
	const path = "/proc/sys/fs/inotify/max_user_instances"
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("inotify limit: %w", err)
	}
	cur, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("inotify limit: %s: %w", path, err)
	}
	want := 8192
	if need := 1024 + n*inotifyInstancesPerHost; need > want {
		want = need
	}
	if cur >= want {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(want)), 0o644); err != nil {
		return fmt.Errorf("inotify limit: raise %s from %d to %d: %w", path, cur, want, err)
	}
	fmt.Fprintf(log, "testbed: raised fs.inotify.max_user_instances from %d to %d (hosts share root's inotify limit)\n", cur, want)
	return nil
}
