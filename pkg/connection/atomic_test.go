package connection

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runScript runs a WriteScript with /bin/sh, as a host would, feeding
// stdin; path, if set, replaces PATH.
func runScript(t *testing.T, w WriteScript, stdin []byte, path string) (string, error) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", w.String())
	cmd.Stdin = bytes.NewReader(stdin)
	if path != "" {
		cmd.Env = []string{"PATH=" + path}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}

// posixPath is a PATH directory holding only the utilities a write script
// may use: POSIX ones, and mktemp.
func posixPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"mktemp", "cat", "cksum", "chmod", "chown", "mv", "rm", "find", "id"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s not installed", name)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func digestOf(b []byte) *Digest {
	d := NewDigester()
	d.Write(b)
	dg := d.Digest()
	return &dg
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWriteScript runs the script every write path uses against what a
// transfer can do to the content: arrive whole, cut short, corrupted, on
// a host with POSIX utilities only.
func TestWriteScript(t *testing.T) {
	content := bytes.Repeat([]byte("line of content 'with' $(quotes) and \\ backslashes\n"), 5000)
	corrupt := bytes.Clone(content)
	corrupt[len(corrupt)/2] ^= 0x20
	posixOnly := posixPath(t)
	tests := []struct {
		name    string
		stdin   []byte
		path    string
		wantErr string // empty: must install content
	}{
		{name: "whole", stdin: content},
		{name: "whole, POSIX utilities only", stdin: content, path: posixOnly},
		{name: "empty", stdin: nil},
		{name: "cut short", stdin: content[:len(content)/3], wantErr: "bytes"},
		{name: "corrupted", stdin: corrupt, wantErr: "cksum of the temporary file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "dst $(touch pwned) 'q' \"d\"")
			if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			want := content
			if tt.name == "empty" {
				want = nil
			}
			stderr, err := runScript(t, WriteScript{Dst: dst, Mode: 0o640, Digest: digestOf(want)}, tt.stdin, tt.path)
			got, _ := os.ReadFile(dst)
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("err %v (%s); dst holds %d bytes, want %d", err, stderr, len(got), len(want))
				}
				if st, _ := os.Stat(dst); st.Mode().Perm() != 0o640 {
					t.Errorf("mode %o", st.Mode().Perm())
				}
			} else {
				if err == nil || !strings.Contains(stderr, tt.wantErr) || !strings.Contains(stderr, "left unchanged") {
					t.Errorf("err %v, stderr %q; want a failure saying %q", err, stderr, tt.wantErr)
				}
				if string(got) != "old" {
					t.Errorf("destination changed to %d bytes", len(got))
				}
			}
			if m := tempFiles(t, dir); len(m) > 0 {
				t.Errorf("temporary files left: %q", m)
			}
			if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
				t.Error("the destination's name was run as a command")
			}
		})
	}

	t.Run("copy from a missing host file", func(t *testing.T) {
		dir := t.TempDir()
		dst := filepath.Join(dir, "dst")
		os.WriteFile(dst, []byte("old"), 0o600)
		stderr, err := runScript(t, WriteScript{Dst: dst, Mode: 0o644, From: filepath.Join(dir, "missing")}, nil, "")
		if got, _ := os.ReadFile(dst); err == nil || string(got) != "old" {
			t.Errorf("err %v (%s), dst %q: a failed copy must leave the destination alone", err, stderr, got)
		}
		if m := tempFiles(t, dir); len(m) > 0 {
			t.Errorf("temporary files left: %q", m)
		}
	})

	t.Run("sweep removes other runs' leftovers only", func(t *testing.T) {
		dir := t.TempDir()
		old := filepath.Join(dir, TempPrefix+"0ldrun00-abc")
		mine := filepath.Join(dir, TempPrefix+"thisrun1-abc")
		other := filepath.Join(dir, "unrelated")
		for _, p := range []string{old, mine, other} {
			os.WriteFile(p, []byte("x"), 0o600)
		}
		w := WriteScript{Dst: filepath.Join(dir, "dst"), Mode: 0o644, Digest: digestOf([]byte("y")), Sweep: true, Run: "thisrun1"}
		if stderr, err := runScript(t, w, []byte("y"), ""); err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		for p, keep := range map[string]bool{old: false, mine: true, other: true} {
			if _, err := os.Stat(p); (err == nil) != keep {
				t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, keep)
			}
		}
	})

	t.Run("terminated mid-stream", func(t *testing.T) {
		dir := t.TempDir()
		dst := filepath.Join(dir, "dst")
		os.WriteFile(dst, []byte("old"), 0o600)
		cmd := exec.Command("/bin/sh", "-c", WriteScript{Dst: dst, Mode: 0o644, Digest: digestOf(content)}.String())
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		in, _ := cmd.StdinPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		in.Write(content[:1000])
		for i := 0; i < 200 && len(tempFiles(t, dir)) == 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		in.Close()
		cmd.Wait()
		if got, _ := os.ReadFile(dst); string(got) != "old" {
			t.Errorf("dst changed to %d bytes", len(got))
		}
		if m := tempFiles(t, dir); len(m) > 0 {
			t.Errorf("temporary files left: %q", m)
		}
	})
}

// TestLocalPutSweeps checks that the local connection's writes, plain and
// under become, install the whole content and remove what a killed
// earlier run left next to the destination.
func TestLocalPutSweeps(t *testing.T) {
	for _, tt := range []struct {
		name   string
		become *Become
	}{
		{name: "plain"},
		{name: "sudo", become: &Become{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.become != nil {
				if _, err := exec.LookPath("sudo"); err != nil || os.Geteuid() != 0 {
					t.Skip("needs root and sudo")
				}
			}
			dir := t.TempDir()
			left := filepath.Join(dir, TempPrefix+"0ldrun00-abc")
			os.WriteFile(left, []byte("partial"), 0o600)
			dst := filepath.Join(dir, "dst")
			want := strings.Repeat("content\n", 10000)
			// Not seekable: under become it is spooled to learn its digest.
			src := io.MultiReader(strings.NewReader(want))
			if err := (Local{}).Put(context.Background(), src, dst, PutOptions{Mode: 0o640, Become: tt.become}); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(dst); string(got) != want {
				t.Errorf("dst holds %d bytes, want %d", len(got), len(want))
			}
			if st, _ := os.Stat(dst); st.Mode().Perm() != 0o640 {
				t.Errorf("mode %o", st.Mode().Perm())
			}
			if m := tempFiles(t, dir); len(m) > 0 {
				t.Errorf("temporary files left: %q", m)
			}
		})
	}
}

// TestSpool checks that content which cannot be rewound is kept on the
// controller and read back whole.
func TestSpool(t *testing.T) {
	want := bytes.Repeat([]byte("abc"), 100000)
	for name, src := range map[string]io.Reader{
		"seeker":     bytes.NewReader(want),
		"not seeker": io.MultiReader(bytes.NewReader(want)),
	} {
		t.Run(name, func(t *testing.T) {
			r, dg, done, err := Spool(src)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			got, _ := io.ReadAll(r)
			if !bytes.Equal(got, want) || *digestOf(want) != dg {
				t.Errorf("read back %d bytes, digest %+v", len(got), dg)
			}
		})
	}
}
