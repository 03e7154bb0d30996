package ssh

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
)

// cutProxy forwards TCP connections to an sshd and drops each one, as a
// failing network would, once cutAfter bytes went from the client to the
// server: both sides see the connection end, and sshd lets the session's
// processes read EOF on their standard input.
type cutProxy struct {
	addr     string
	cutAfter int64
	cut      chan struct{} // closed at the first cut
	once     sync.Once
}

func startCutProxy(t *testing.T, target string, cutAfter int64) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &cutProxy{addr: l.Addr().String(), cutAfter: cutAfter, cut: make(chan struct{})}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	return p
}

func (p *cutProxy) serve(client net.Conn, target string) {
	server, err := net.Dial("tcp", target)
	if err != nil {
		client.Close()
		return
	}
	var sent atomic.Int64
	closeBoth := func() { client.Close(); server.Close() }
	go func() { io.Copy(client, server); closeBoth() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if sent.Add(int64(n)) > p.cutAfter {
				p.once.Do(func() { close(p.cut) })
				closeBoth()
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeBoth()
}

// waitRemoteWriters waits until no process on this machine (the "remote"
// host) runs a write script, so that whatever a dropped upload would do to
// the destination has been done before the test looks at it.
func waitRemoteWriters(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		busy := false
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == strconv.Itoa(os.Getpid()) {
				continue
			}
			b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if bytes.Contains(b, []byte(connection.TempPrefix)) {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("write scripts still running 20s after the connection dropped")
}

// TestPutConnectionDropped cuts the connection halfway through the upload
// of a large file, for each way of writing (SFTP, sudo to root, sudo to
// another user), and checks that the destination keeps its old content
// (or stays absent), and that the next run's write to the same place
// leaves no temporary file there or in the users' homes.
func TestPutConnectionDropped(t *testing.T) {
	t.Parallel()
	rootDir := privateRootDir(t)
	sf := newSudoFixture(t, "cut")
	const size = 32 << 20
	big := make([]byte, size)
	rand.NewChaCha8([32]byte{9}).Read(big)

	dir := t.TempDir()
	key := sshtest.GenerateKey(t, dir, "ed25519", "")
	srv := sshtest.StartServer(t, sshtest.ServerOptions{ExtraConfig: "LogLevel ERROR"})
	for _, u := range []*sshtest.User{sf.nopw, sf.pw} {
		srv.Authorize(t, u.Name, key)
	}

	tests := []struct {
		name    string
		login   *sshtest.User
		become  *connection.Become
		dstDir  string
		owner   int // uid that owns the old destination
		existed bool
	}{
		{name: "no become", login: sf.nopw, dstDir: sf.nopw.Home, owner: sf.nopw.UID, existed: true},
		{name: "no become new file", login: sf.nopw, dstDir: sf.nopw.Home},
		{name: "sudo to root", login: sf.nopw, become: &connection.Become{}, dstDir: rootDir, existed: true},
		{name: "sudo to root new file", login: sf.nopw, become: &connection.Become{}, dstDir: rootDir},
		{name: "sudo to another user", login: sf.nopw, become: &connection.Become{User: sf.other.Name}, dstDir: sf.other.Home, owner: sf.other.UID, existed: true},
		{name: "sudo to another user new file", login: sf.nopw, become: &connection.Become{User: sf.other.Name}, dstDir: sf.other.Home},
		{name: "sudo with password to another user", login: sf.pw, become: &connection.Become{User: sf.other.Name, Password: sf.pw.Password},
			dstDir: sf.other.Home, owner: sf.other.UID, existed: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(tt.dstDir, "victim-"+strconv.Itoa(i)+".bin")
			t.Cleanup(func() { os.Remove(dst) })
			if tt.existed {
				if err := os.WriteFile(dst, []byte("old content\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				os.Chown(dst, tt.owner, tt.owner)
			}
			vars := map[string]any{"ansible_user": tt.login.Name, "ansible_ssh_private_key_file": key.Path}
			connect := func(addr, run string) connection.Connection {
				host, port, _ := net.SplitHostPort(addr)
				p := NewPool(Options{SSHConfigFile: "none", KnownHostsFile: filepath.Join(dir, "known_hosts"), RunID: run, KeepAlive: time.Second})
				t.Cleanup(func() { p.Close() })
				c, err := p.Get(ctxT(t), "target", with(vars, "ansible_host", host, "ansible_port", port))
				if err != nil {
					t.Fatal(err)
				}
				return c
			}

			proxy := startCutProxy(t, srv.Addr(), size/2)
			c := connect(proxy.addr, "run1")
			err := c.Put(ctxT(t), bytes.NewReader(big), dst, connection.PutOptions{Mode: 0o644, Become: tt.become})
			if err == nil {
				t.Fatal("Put succeeded through a connection cut halfway")
			}
			select {
			case <-proxy.cut:
			default:
				t.Fatalf("Put failed before the cut: %v", err)
			}
			waitRemoteWriters(t)
			b, rerr := os.ReadFile(dst)
			switch {
			case tt.existed && string(b) != "old content\n":
				t.Errorf("destination holds %d bytes after the dropped upload, want the old content", len(b))
			case !tt.existed && !errors.Is(rerr, os.ErrNotExist):
				t.Errorf("destination was created (%d bytes, %v) by a dropped upload", len(b), rerr)
			}

			// The next run writes the same file through a sound connection.
			c2 := connect(srv.Addr(), "run2")
			if err := c2.Put(ctxT(t), strings.NewReader("new content\n"), dst, connection.PutOptions{Mode: 0o644, Become: tt.become}); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "new content\n" {
				t.Errorf("next run wrote %q", b)
			}
			for _, d := range []string{tt.dstDir, tt.login.Home, sf.other.Home, rootDir} {
				noTempFiles(t, d)
			}
		})
	}
}

// cancelAfter yields r and cancels the transfer's context once n bytes
// were read, as SIGINT of tend does mid-upload.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestPutInterrupted cancels uploads halfway, for each way of writing: the
// destination keeps its old content and no temporary file stays behind,
// without waiting for a later run.
func TestPutInterrupted(t *testing.T) {
	t.Parallel()
	rootDir := privateRootDir(t)
	sf := newSudoFixture(t, "int")
	const size = 32 << 20
	big := make([]byte, size)
	rand.NewChaCha8([32]byte{5}).Read(big)
	tests := []struct {
		name   string
		c      connection.Connection
		become *connection.Become
		dstDir string
		owner  int
	}{
		{name: "no become", c: sf.cNopw, dstDir: sf.nopw.Home, owner: sf.nopw.UID},
		{name: "sudo to root", c: sf.cNopw, become: &connection.Become{}, dstDir: rootDir},
		{name: "sudo to another user", c: sf.cNopw, become: &connection.Become{User: sf.other.Name}, dstDir: sf.other.Home, owner: sf.other.UID},
		{name: "sudo with password to another user", c: sf.cPw, become: &connection.Become{User: sf.other.Name, Password: sf.pw.Password},
			dstDir: sf.other.Home, owner: sf.other.UID},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(tt.dstDir, "interrupted-"+strconv.Itoa(i))
			t.Cleanup(func() { os.Remove(dst) })
			if err := os.WriteFile(dst, []byte("old content\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chown(dst, tt.owner, tt.owner)
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			src := &cancelAfter{r: bytes.NewReader(big), n: size / 2, cancel: cancel}
			err := tt.c.Put(ctx, src, dst, connection.PutOptions{Become: tt.become})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put = %v, want context.Canceled", err)
			}
			waitRemoteWriters(t)
			if b, _ := os.ReadFile(dst); string(b) != "old content\n" {
				t.Errorf("destination holds %d bytes after the interrupted upload, want the old content", len(b))
			}
			for _, d := range []string{tt.dstDir, sf.nopw.Home, sf.pw.Home, rootDir} {
				noTempFiles(t, d)
			}
		})
	}
}

// corruptingWrapper is an sshd ForceCommand that flips a byte value in the
// standard input of every command that writes a file (a same-length
// corruption only a checksum can see) and runs the rest unchanged.
const corruptingWrapper = `#!/bin/sh
case "$SSH_ORIGINAL_COMMAND" in
sftp|internal-sftp) exec /usr/lib/openssh/sftp-server ;;
*mktemp*) tr 'A' 'B' | /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
*) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
`

// TestPutCorrupted sends content through a command wrapper that alters it
// on the way: the write fails with a checksum error and the destination
// keeps its old content.
func TestPutCorrupted(t *testing.T) {
	t.Parallel()
	sshtest.Require(t)
	if _, err := os.Stat("/usr/lib/openssh/sftp-server"); err != nil {
		t.Skip("no /usr/lib/openssh/sftp-server")
	}
	login := sshtest.CreateUser(t, "corl", sshtest.UserOptions{Sudo: sshtest.SudoNoPasswd})
	other := sshtest.CreateUser(t, "coro", sshtest.UserOptions{})
	dir := sshtest.Dir(t)
	wrapper := filepath.Join(dir, "wrapper")
	if err := os.WriteFile(wrapper, []byte(corruptingWrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	key := sshtest.GenerateKey(t, t.TempDir(), "ed25519", "")
	srv := sshtest.StartServer(t, sshtest.ServerOptions{ExtraConfig: "ForceCommand " + wrapper})
	srv.Authorize(t, login.Name, key)
	p := NewPool(Options{SSHConfigFile: "none", KnownHostsFile: filepath.Join(t.TempDir(), "known_hosts")})
	t.Cleanup(func() { p.Close() })
	c, err := p.Get(ctxT(t), "target", map[string]any{"ansible_host": srv.Host, "ansible_port": srv.Port,
		"ansible_user": login.Name, "ansible_ssh_private_key_file": key.Path})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(other.Home, "corrupted")
	if err := os.WriteFile(dst, []byte("old content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = c.Put(ctxT(t), strings.NewReader(strings.Repeat("ABC\n", 1000)), dst,
		connection.PutOptions{Become: &connection.Become{User: other.Name}})
	if err == nil || !strings.Contains(err.Error(), "cksum") || !strings.Contains(err.Error(), "left unchanged") {
		t.Fatalf("Put through a corrupting wrapper: %v, want a checksum error", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "old content\n" {
		t.Errorf("destination holds %q", b)
	}
	noTempFiles(t, other.Home)
	t.Log(err)
}

// killAfter yields r and calls kill once n bytes were read.
type killAfter struct {
	r    io.Reader
	n    int64
	kill func()
	once sync.Once
}

func (k *killAfter) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if k.n -= int64(n); k.n <= 0 {
		k.once.Do(k.kill)
	}
	return n, err
}

// TestPutHostKilled kills sshd with every process it started (kill -9, as
// when the host's sshd or tend's session dies without a chance to clean
// up) halfway through an upload: the destination keeps its old content,
// and the next run's write to the same place removes what was left.
func TestPutHostKilled(t *testing.T) {
	t.Parallel()
	rootDir := privateRootDir(t)
	sf := newSudoFixture(t, "kill")
	const size = 32 << 20
	big := make([]byte, size)
	rand.NewChaCha8([32]byte{7}).Read(big)
	dir := t.TempDir()
	key := sshtest.GenerateKey(t, dir, "ed25519", "")
	tests := []struct {
		name   string
		login  *sshtest.User
		become *connection.Become
		dstDir string
		owner  int
	}{
		{name: "no become", login: sf.nopw, dstDir: sf.nopw.Home, owner: sf.nopw.UID},
		{name: "sudo to root", login: sf.nopw, become: &connection.Become{}, dstDir: rootDir},
		{name: "sudo to another user", login: sf.nopw, become: &connection.Become{User: sf.other.Name}, dstDir: sf.other.Home, owner: sf.other.UID},
		{name: "sudo with password to another user", login: sf.pw, become: &connection.Become{User: sf.other.Name, Password: sf.pw.Password},
			dstDir: sf.other.Home, owner: sf.other.UID},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(tt.dstDir, "killed-"+strconv.Itoa(i))
			t.Cleanup(func() { os.Remove(dst) })
			if err := os.WriteFile(dst, []byte("old content\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chown(dst, tt.owner, tt.owner)
			connect := func(run string) (connection.Connection, *sshtest.Server) {
				srv := sshtest.StartServer(t, sshtest.ServerOptions{ExtraConfig: "LogLevel ERROR"})
				srv.Authorize(t, tt.login.Name, key)
				p := NewPool(Options{SSHConfigFile: "none", KnownHostsFile: filepath.Join(dir, "known_hosts"), RunID: run, KeepAlive: time.Second})
				t.Cleanup(func() { p.Close() })
				c, err := p.Get(ctxT(t), "target", map[string]any{"ansible_host": srv.Host, "ansible_port": srv.Port,
					"ansible_user": tt.login.Name, "ansible_ssh_private_key_file": key.Path})
				if err != nil {
					t.Fatal(err)
				}
				return c, srv
			}
			c, srv := connect("run1")
			src := &killAfter{r: bytes.NewReader(big), n: size / 2, kill: srv.Kill}
			if err := c.Put(ctxT(t), src, dst, connection.PutOptions{Become: tt.become}); err == nil {
				t.Fatal("Put succeeded although sshd was killed halfway")
			}
			waitRemoteWriters(t)
			if b, _ := os.ReadFile(dst); string(b) != "old content\n" {
				t.Errorf("destination holds %d bytes after sshd was killed, want the old content", len(b))
			}

			c2, _ := connect("run2")
			if err := c2.Put(ctxT(t), strings.NewReader("new content\n"), dst, connection.PutOptions{Become: tt.become}); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "new content\n" {
				t.Errorf("next run wrote %q", b)
			}
			for _, d := range []string{tt.dstDir, tt.login.Home, sf.other.Home, rootDir} {
				noTempFiles(t, d)
			}
		})
	}
}
