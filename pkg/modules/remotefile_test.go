package modules

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func localHost() *module.Host {
	return &module.Host{Name: "localhost", Conn: connection.Local{}}
}

func TestInspectRemote(t *testing.T) {
	ctx := context.Background()
	h := localHost()
	dir := t.TempDir()
	file := filepath.Join(dir, "a file")
	content := []byte("line 1\nline 2\n")
	if err := os.WriteFile(file, content, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("a file", link); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(content)

	t.Run("regular file with checksum and content", func(t *testing.T) {
		st, err := inspectRemote(ctx, h, file, statOptions{Checksum: true, Content: true})
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsReg() || st.Mode != 0o640 || st.Size != int64(len(content)) || st.UID != os.Getuid() {
			t.Errorf("stat = %+v", st)
		}
		if st.SHA1 != hex.EncodeToString(sum[:]) {
			t.Errorf("sha1 = %q", st.SHA1)
		}
		if !st.HasContent || string(st.Content) != string(content) {
			t.Errorf("content = %q (has %v)", st.Content, st.HasContent)
		}
		if !st.Readable || !st.Writeable || st.Executable {
			t.Errorf("access = r%v w%v x%v", st.Readable, st.Writeable, st.Executable)
		}
	})
	t.Run("link not followed", func(t *testing.T) {
		st, err := inspectRemote(ctx, h, link, statOptions{Checksum: true, Content: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.Type != "link" || st.LinkTarget != "a file" || st.RealPath != file || st.SHA1 != "" || st.HasContent {
			t.Errorf("stat = %+v", st)
		}
	})
	t.Run("link followed", func(t *testing.T) {
		st, err := inspectRemote(ctx, h, link, statOptions{Follow: true, Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.Type != "file" || st.SHA1 == "" || st.RealPath != file {
			t.Errorf("stat = %+v", st)
		}
	})
	t.Run("missing", func(t *testing.T) {
		st, err := statRemote(ctx, h, filepath.Join(dir, "nope"), true)
		if err != nil {
			t.Fatal(err)
		}
		if st.Exists || st.Umask == 0 && st.Home == "" {
			t.Errorf("stat = %+v", st)
		}
	})
	t.Run("home expansion", func(t *testing.T) {
		st, err := statRemote(ctx, h, "~", false)
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsDir() || st.Path != os.Getenv("HOME") {
			t.Errorf("stat ~ = %+v", st)
		}
	})
}

func TestWriteRemoteAndBackup(t *testing.T) {
	ctx := context.Background()
	h := localHost()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := writeRemote(ctx, h, p, []byte("one\n"), writeOptions{Mode: 0o2750}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModePerm != 0o750 || fi.Mode()&os.ModeSetgid == 0 {
		t.Errorf("mode = %v, want setgid 0750", fi.Mode())
	}
	b, err := backupRemote(ctx, h, p)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(p) + `\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$`).MatchString(b) {
		t.Errorf("backup name %q does not follow Ansible's pattern", b)
	}
	if got, _ := os.ReadFile(b); string(got) != "one\n" {
		t.Errorf("backup content = %q", got)
	}
	got, err := readRemote(ctx, h, p)
	if err != nil || string(got) != "one\n" {
		t.Errorf("readRemote = %q, %v", got, err)
	}
}

// TestInspectRemoteSubsecondTimes: times are floats with their fraction
// of a second, as Python's os.stat (a change within a second shows).
func TestInspectRemoteSubsecondTimes(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1600000000, 250000000)
	mt := time.Unix(1600000000, 750000000)
	if err := os.Chtimes(f, at, mt); err != nil {
		t.Fatal(err)
	}
	st, err := inspectRemote(context.Background(), localHost(), f, statOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Mtime != 1600000000.75 || st.Atime != 1600000000.25 {
		t.Errorf("mtime %v atime %v", st.Mtime, st.Atime)
	}
}
