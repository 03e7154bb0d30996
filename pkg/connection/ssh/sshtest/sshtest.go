// Package sshtest starts real OpenSSH servers and creates throwaway login
// users for tests of code that talks SSH. Servers listen on 127.0.0.1 on a
// free port, with their own sshd_config, host key and authorized_keys in a
// temporary directory, and are killed (with every process they forked) when
// the test ends. Users are created with useradd and removed at the end;
// users left behind by a crashed run are removed the next time.
//
// Everything here needs root (sshd's privilege separation, useradd) and
// /usr/sbin/sshd; call Require first, which skips the test otherwise.
package sshtest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHD is the OpenSSH server binary the helpers run.
const SSHD = "/usr/sbin/sshd"

// Require skips t unless it runs as root with OpenSSH's sshd and
// ssh-keygen installed (apt-get install openssh-server openssh-client).
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sshtest: needs root to run sshd and create users; skipping")
	}
	if _, err := os.Stat(SSHD); err != nil {
		t.Skip("sshtest: " + SSHD + " not found (apt-get install openssh-server); skipping")
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("sshtest: ssh-keygen not found (apt-get install openssh-client); skipping")
	}
}

// Dir returns a new directory that login users can traverse (mode 0755),
// removed when the test ends. t.TempDir's directories are private to root,
// but sshd reads authorized_keys with the user's privileges.
func Dir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "tendsshd-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Key is a key pair written by ssh-keygen.
type Key struct {
	Path       string // private key file; Path+".pub" holds the public key
	Public     ssh.PublicKey
	Passphrase string
}

// AuthorizedLine is the key as an authorized_keys line.
func (k *Key) AuthorizedLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.Public)))
}

// GenerateKey writes a new key pair of keyType (ed25519, ecdsa, rsa) in
// dir, encrypted with passphrase if it is not empty.
func GenerateKey(t testing.TB, dir, keyType, passphrase string) *Key {
	t.Helper()
	p := filepath.Join(dir, "id_"+keyType+"_"+randomHex(3))
	args := []string{"-q", "-t", keyType, "-N", passphrase, "-C", "tend-test", "-f", p}
	if keyType == "rsa" {
		args = append(args, "-b", "2048")
	}
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v: %s", keyType, err, out)
	}
	b, err := os.ReadFile(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatalf("parse %s.pub: %v", p, err)
	}
	return &Key{Path: p, Public: pub, Passphrase: passphrase}
}

// ServerOptions configure StartServer. The zero value is a server with a
// fresh ed25519 host key on a free port.
type ServerOptions struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// HostKeyFile reuses an existing private host key (to restart a server
	// with the same identity); empty generates a new key.
	HostKeyFile string
	// HostKeyType is the type of a generated host key; default ed25519.
	HostKeyType string
	// ExtraConfig is put at the top of sshd_config, so its settings win
	// over the defaults (sshd keeps the first value of a keyword). Match
	// blocks are not supported.
	ExtraConfig string
	// HostCA, if set, signs the host key (ssh-keygen -s -h) and sshd
	// presents the certificate to clients that ask for certificate host
	// key algorithms.
	HostCA *Key
	// HostCertPrincipals are the certificate's principals; default
	// 127.0.0.1, the address the server listens on.
	HostCertPrincipals []string
	// HostCertValidity is ssh-keygen's -V interval (e.g. "-2d:-1d" for an
	// expired certificate); empty means valid forever.
	HostCertValidity string
}

// Server is a running sshd.
type Server struct {
	Host        string // 127.0.0.1
	Port        int
	Dir         string // holds sshd_config, the host key, authorized_keys/
	HostKeyFile string
	HostKey     ssh.PublicKey
	// HostCert is the host certificate sshd presents; nil without
	// ServerOptions.HostCA.
	HostCert *ssh.Certificate

	t    testing.TB
	cmd  *exec.Cmd
	logs *syncBuffer
	mu   sync.Mutex
	dead bool
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// KnownHostsLine is the server's key as a known_hosts line.
func (s *Server) KnownHostsLine() string {
	return "[" + s.Host + "]:" + strconv.Itoa(s.Port) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey)))
}

// Logs returns what sshd logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// StartServer starts sshd and stops it when the test ends. It accepts
// public-key and password logins of any user whose key was added with
// Authorize, and has SFTP (internal-sftp) and TCP forwarding enabled.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	Require(t)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation directory
		t.Fatalf("sshtest: %v", err)
	}
	dir := Dir(t)
	if err := os.Mkdir(filepath.Join(dir, "authorized_keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, t: t}
	s.HostKeyFile = filepath.Join(dir, "host_key")
	if opts.HostKeyFile != "" {
		b, err := os.ReadFile(opts.HostKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.HostKeyFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		pb, err := os.ReadFile(opts.HostKeyFile + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.HostKeyFile+".pub", pb, 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		kt := opts.HostKeyType
		if kt == "" {
			kt = "ed25519"
		}
		if out, err := exec.Command("ssh-keygen", "-q", "-t", kt, "-N", "", "-f", s.HostKeyFile).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen host key: %v: %s", err, out)
		}
	}
	pb, err := os.ReadFile(s.HostKeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if s.HostKey, _, _, _, err = ssh.ParseAuthorizedKey(pb); err != nil {
		t.Fatal(err)
	}
	certCfg := ""
	if opts.HostCA != nil {
		s.HostCert = signHostKey(t, s.HostKeyFile, opts)
		certCfg = "HostCertificate " + s.HostKeyFile + "-cert.pub\n"
	}
	opts.ExtraConfig += "\n" + certCfg

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := opts.Port
		if port == 0 {
			port = freePort(t)
		}
		s.Port = port
		if lastErr = s.start(opts); lastErr == nil {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("sshd %s log:\n%s", s.Addr(), s.Logs())
				}
				s.Kill()
			})
			return s
		}
		if opts.Port != 0 {
			// A fixed port may still be held by a server being torn down.
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Fatalf("sshtest: start sshd: %v", lastErr)
	return nil
}

func (s *Server) start(opts ServerOptions) error {
	// sshd keeps the first value it reads for each keyword, so the extra
	// configuration goes first and wins over the defaults below.
	cfg := fmt.Sprintf(`%s
Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile none
AuthorizedKeysFile %s/authorized_keys/%%u
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxSessions 10
MaxStartups 100:30:200
Subsystem sftp internal-sftp
LogLevel VERBOSE
`, opts.ExtraConfig, s.Port, s.HostKeyFile, s.Dir)
	cfgFile := filepath.Join(s.Dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return err
	}
	s.logs = &syncBuffer{}
	cmd := exec.Command(SSHD, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited: %s", s.logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				s.cmd = cmd
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	killTree(cmd.Process.Pid)
	<-exited
	return fmt.Errorf("sshd did not answer on %s: %s", s.Addr(), s.logs.String())
}

// Kill stops sshd abruptly together with every process it forked
// (per-connection servers and the commands they run), so established
// connections drop as if the host had died. Safe to call more than once.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || s.cmd == nil {
		return
	}
	s.dead = true
	killTree(s.cmd.Process.Pid)
	// cmd.Wait runs in start's goroutine; give the kernel a moment to
	// release the port for a restart on it.
	for i := 0; i < 100 && syscall.Kill(s.cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

// signHostKey certifies the public half of hostKeyFile with opts.HostCA,
// writing hostKeyFile-cert.pub as ssh-keygen does.
func signHostKey(t testing.TB, hostKeyFile string, opts ServerOptions) *ssh.Certificate {
	t.Helper()
	principals := opts.HostCertPrincipals
	if len(principals) == 0 {
		principals = []string{"127.0.0.1"}
	}
	args := []string{"-q", "-s", opts.HostCA.Path, "-I", "tend-test-host", "-h", "-n", strings.Join(principals, ",")}
	if opts.HostCertValidity != "" {
		args = append(args, "-V", opts.HostCertValidity)
	}
	if out, err := exec.Command("ssh-keygen", append(args, hostKeyFile+".pub")...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v: %s", err, out)
	}
	b, err := os.ReadFile(hostKeyFile + "-cert.pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatalf("parse host certificate: %v", err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		t.Fatalf("%s-cert.pub holds a %T, not a certificate", hostKeyFile, pub)
	}
	return cert
}

// Authorize lets user log in with key.
func (s *Server) Authorize(t testing.TB, user string, key *Key) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys", user), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(key.AuthorizedLine() + "\n"); err != nil {
		t.Fatal(err)
	}
}

// killTree SIGKILLs pid and all its descendants, found through /proc.
// sshd puts each connection in its own session, so a process-group kill
// would miss them.
func killTree(pid int) {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], p)
	}
	var all []int
	var walk func(int)
	walk = func(p int) {
		all = append(all, p)
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	for _, p := range all {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on Linux; the clock is unique enough.
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return hex.EncodeToString(b)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitABit() { time.Sleep(10 * time.Millisecond) }
