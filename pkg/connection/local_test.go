package connection

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalRun(t *testing.T) {
	ctx := context.Background()
	res, err := Local{}.Run(ctx, Command{Cmd: `printf '%s|%s' "$GREETING" "$(pwd)"; echo oops >&2; exit 3`, Env: map[string]string{"GREETING": "it's $(x)"}, Dir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "it's $(x)|/tmp" || strings.TrimSpace(string(res.Stderr)) != "oops" || res.ExitCode != 3 {
		t.Fatalf("got %+v", res)
	}
	if _, err := (Local{}).Run(ctx, Command{Cmd: "sleep 5", Timeout: 100 * time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: want deadline exceeded, got %v", err)
	}
}

// A become password must reach sudo only when sudo asks for it: here
// sudo (run by root) does not ask, and the command must read exactly its
// own standard input, never the password.
func TestLocalBecomePasswordNotLeaked(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: sudo as root does not prompt")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("sudo not installed")
	}
	res, err := Local{}.Run(context.Background(), Command{
		Cmd:    "cat; id -un",
		Stdin:  strings.NewReader("payload\n"),
		Become: &Become{User: "root", Password: "s3cret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "payload\nroot\n" {
		t.Fatalf("stdout %q: the command must see only its input", got)
	}
	if bytes.Contains(res.Stdout, []byte("s3cret")) || bytes.Contains(res.Stderr, []byte("s3cret")) {
		t.Fatal("password leaked into output")
	}
}

func TestLocalPutIsAtomicAndSetsMode(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "it's a file")
	if err := (Local{}).Put(context.Background(), strings.NewReader("content"), dst, PutOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dst)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v %v", st, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	var buf bytes.Buffer
	if err := (Local{}).Get(context.Background(), dst, &buf, GetOptions{}); err != nil || buf.String() != "content" {
		t.Fatalf("get: %q %v", buf.String(), err)
	}
	// A reader that fails mid-way must leave the old file untouched.
	if err := (Local{}).Put(context.Background(), &failingReader{}, dst, PutOptions{}); err == nil {
		t.Fatal("want an error from a failing source")
	}
	if b, _ := os.ReadFile(dst); string(b) != "content" {
		t.Fatalf("dst changed by a failed Put: %q", b)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		return 0, errors.New("connection dropped")
	}
	f.n++
	return copy(p, "partial"), nil
}

func TestLocalRunRefusesUnsafeCommands(t *testing.T) {
	for _, c := range []Command{
		{Cmd: "echo a\x00b"},
		{Cmd: "true", Env: map[string]string{"X=1; echo pwned; Y": "v"}},
		{Cmd: "true", Env: map[string]string{"OK": "a\x00b"}},
		{Cmd: "pwd", Dir: "/\x00"},
		{Cmd: "id", Become: &Become{Method: "su", User: "-"}},
	} {
		res, err := Local{}.Run(context.Background(), c)
		if err == nil || errors.Is(err, ErrUnreachable) {
			t.Errorf("Run(%q, env %q, dir %q) = %+v, %v; want a command error", c.Cmd, c.Env, c.Dir, res, err)
		}
	}
}
