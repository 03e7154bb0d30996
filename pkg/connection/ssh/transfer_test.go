package ssh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
)

func removeLocal(p string) { os.Remove(p) }

// checkFile checks a file on the "remote" host, which is this machine.
func checkFile(t *testing.T, p, content string, mode fs.FileMode, uid, gid int) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content {
		t.Errorf("%s holds %q, want %q", p, b, content)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != mode {
		t.Errorf("%s mode %o, want %o", p, st.Mode().Perm(), mode)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if int(sys.Uid) != uid || int(sys.Gid) != gid {
		t.Errorf("%s owned by %d:%d, want %d:%d", p, sys.Uid, sys.Gid, uid, gid)
	}
}

// noTempFiles fails if dir holds a leftover temporary file of tend.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".tend-tmp-*"))
	if len(m) > 0 {
		t.Errorf("temporary files left in %s: %q", dir, m)
	}
}

// privateRootDir returns a directory of its own under /root for a test
// that writes as root: tests run in parallel, and each checks that no
// temporary file is left where it wrote, which another test's upload in
// progress in /root itself would fail.
func privateRootDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/root", "tend-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestPutGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	home := f.user.Home
	t.Run("nasty names and contents", func(t *testing.T) {
		for _, s := range nasty {
			dst := filepath.Join(home, "f "+strings.ReplaceAll(s, "/", "_"))
			content := "content: " + s + "\n"
			if err := c.Put(ctxT(t), strings.NewReader(content), dst, connection.PutOptions{}); err != nil {
				t.Fatalf("put %q: %v", dst, err)
			}
			checkFile(t, dst, content, 0o644, f.user.UID, f.user.GID)
			var buf bytes.Buffer
			if err := c.Get(ctxT(t), dst, &buf, connection.GetOptions{}); err != nil {
				t.Fatalf("get %q: %v", dst, err)
			}
			if buf.String() != content {
				t.Errorf("get %q: %q", dst, buf.String())
			}
		}
		if _, err := os.Stat("/tmp/tend-pwned"); err == nil {
			t.Error("a file name was executed by a shell")
		}
		noTempFiles(t, home)
	})
	t.Run("modes and replacing", func(t *testing.T) {
		dst := filepath.Join(home, "modes")
		for _, m := range []fs.FileMode{0o600, 0o755, 0o640, 0o444} {
			want := "mode " + m.String()
			if err := c.Put(ctxT(t), strings.NewReader(want), dst, connection.PutOptions{Mode: m}); err != nil {
				t.Fatal(err)
			}
			checkFile(t, dst, want, m, f.user.UID, f.user.GID)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		dst := filepath.Join(home, "empty")
		if err := c.Put(ctxT(t), strings.NewReader(""), dst, connection.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		checkFile(t, dst, "", 0o644, f.user.UID, f.user.GID)
	})
	t.Run("errors", func(t *testing.T) {
		err := c.Put(ctxT(t), strings.NewReader("x"), "/root/denied", connection.PutOptions{})
		if err == nil || errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), "/root/denied") {
			t.Errorf("put into /root without become: %v", err)
		}
		err = c.Put(ctxT(t), strings.NewReader("x"), home+"/no/such/dir/f", connection.PutOptions{})
		if err == nil || errors.Is(err, connection.ErrUnreachable) {
			t.Errorf("put into missing dir: %v", err)
		}
		err = c.Get(ctxT(t), home+"/missing", io.Discard, connection.GetOptions{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("get missing file: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("100 MB", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short")
		}
		const size = 100 << 20
		dst := filepath.Join(home, "big")
		src := io.LimitReader(rand.NewChaCha8([32]byte{1}), size)
		h := sha256.New()
		if err := c.Put(ctxT(t), io.TeeReader(src, h), dst, connection.PutOptions{Mode: 0o600}); err != nil {
			t.Fatal(err)
		}
		want := h.Sum(nil)
		h.Reset()
		if err := c.Get(ctxT(t), dst, h, connection.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h.Sum(nil), want) {
			t.Error("downloaded 100 MB differ from uploaded")
		}
		h.Reset()
		if err := c.Get(ctxT(t), dst, h, connection.GetOptions{Become: &connection.Become{}}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h.Sum(nil), want) {
			t.Error("downloaded 100 MB under become differ from uploaded")
		}
		st, err := os.Stat(dst)
		if err != nil || st.Size() != size {
			t.Errorf("remote size: %v %v", st, err)
		}
		os.Remove(dst)
	})
	t.Run("put under become as root with owner", func(t *testing.T) {
		dst := "/etc/tend-test-" + f.user.Name
		t.Cleanup(func() { removeLocal(dst) })
		err := c.Put(ctxT(t), strings.NewReader("root file"), dst, connection.PutOptions{Mode: 0o600, Become: &connection.Become{}})
		if err != nil {
			t.Fatal(err)
		}
		checkFile(t, dst, "root file", 0o600, 0, 0)
		noTempFiles(t, home)
		noTempFiles(t, "/etc")
	})
}

// slowReader yields n bytes slowly, then blocks until the test ends.
type slowReader struct {
	n    int
	read chan struct{} // closed once half was read
	half bool
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		time.Sleep(time.Hour)
	}
	time.Sleep(time.Millisecond)
	if len(p) > 32<<10 {
		p = p[:32<<10]
	}
	if len(p) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = 'x'
	}
	r.n -= len(p)
	if r.n < 1<<20 && !r.half {
		r.half = true
		close(r.read)
	}
	return len(p), nil
}

func TestServerKilledMidRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	p := f.pool(t)
	c, err := p.Get(ctxT(t), "target", f.vars())
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(f.user.Home, "victim.conf")
	if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(dst, f.user.UID, f.user.GID)

	src := &slowReader{n: 2 << 20, read: make(chan struct{})}
	putErr := make(chan error, 1)
	go func() { putErr <- c.Put(context.Background(), src, dst, connection.PutOptions{}) }()
	runErr := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), connection.Command{Cmd: "sleep 30"})
		runErr <- err
	}()
	select {
	case <-src.read:
	case <-time.After(30 * time.Second):
		t.Fatal("upload did not start")
	}
	f.srv.Kill()
	for name, ch := range map[string]chan error{"put": putErr, "run": runErr} {
		select {
		case err := <-ch:
			if !errors.Is(err, connection.ErrUnreachable) {
				t.Errorf("%s: err = %v, want ErrUnreachable", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not notice the dead server", name)
		}
	}
	if b, _ := os.ReadFile(dst); string(b) != "old" {
		t.Errorf("dst was changed to %d bytes; want the old content intact", len(b))
	}
	// The pool reports the host unreachable from now on.
	if _, err := p.Get(ctxT(t), "target", f.vars()); !errors.Is(err, connection.ErrUnreachable) {
		t.Errorf("Get after the server died: %v, want ErrUnreachable", err)
	}
}
