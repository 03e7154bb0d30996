package modules

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

var testMtime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

type testMember struct {
	name, body, link string
	dir              bool
}

var testMembers = []testMember{
	{name: "app/", dir: true},
	{name: "app/bin/", dir: true},
	{name: "app/bin/run.sh", body: "#!/bin/sh\necho hi\n"},
	{name: "app/with space ü.txt", body: "unicode\n"},
	{name: "app/-dash", body: "dash\n"},
	{name: "app/current", link: "bin/run.sh"},
}

func makeTarGz(t *testing.T, members []testMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, ModTime: testMtime, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(m.body))}
		switch {
		case m.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case m.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, m.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func makeZip(t *testing.T, members []testMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		fh := &zip.FileHeader{Name: m.name, Modified: testMtime, Method: zip.Deflate}
		switch {
		case m.dir:
			fh.SetMode(0o755 | os.ModeDir)
		case m.link != "":
			fh.SetMode(0o777 | os.ModeSymlink)
		default:
			fh.SetMode(0o644)
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		if m.link != "" {
			w.Write([]byte(m.link))
		} else {
			w.Write([]byte(m.body))
		}
	}
	zw.Close()
	return buf.Bytes()
}

func TestSafeMemberName(t *testing.T) {
	for in, want := range map[string]string{"./a/b": "a/b", "a/./b/../c": "a/c", "./": "", "a/": "a"} {
		if got, err := safeMemberName(in); err != nil || got != want {
			t.Errorf("safeMemberName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"/etc/passwd", "../x", "a/../../x", ".."} {
		if _, err := safeMemberName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestUnarchiveDiffers(t *testing.T) {
	mt := testMtime.Unix()
	entries := []archiveEntry{
		{Name: "d", Type: tar.TypeDir},
		{Name: "d/f", Type: tar.TypeReg, Size: 3, Mtime: mt},
		{Name: "l", Type: tar.TypeSymlink},
	}
	same := map[string]destState{
		"d":   {Type: "directory", Mode: 0o755, Owner: "root", UID: 0},
		"d/f": {Type: "regular file", Size: 3, Mtime: mt, Mode: 0o644, Owner: "root", UID: 0},
		"l":   {Type: "symbolic link"},
	}
	tests := []struct {
		name      string
		edit      func(map[string]destState)
		owner     string
		mode      any
		keepNewer bool
		want      string
	}{
		{"same", nil, "", nil, false, ""},
		{"missing", func(m map[string]destState) { delete(m, "d/f") }, "", nil, false, "d/f: missing"},
		{"size", func(m map[string]destState) { s := m["d/f"]; s.Size = 4; m["d/f"] = s }, "", nil, false, "d/f: size differs"},
		{"mtime", func(m map[string]destState) { s := m["d/f"]; s.Mtime++; m["d/f"] = s }, "", nil, false, "d/f: modification time differs"},
		{"newer kept", func(m map[string]destState) { s := m["d/f"]; s.Mtime++; s.Size = 9; m["d/f"] = s }, "", nil, true, ""},
		{"type", func(m map[string]destState) { m["l"] = destState{Type: "regular file"} }, "", nil, false, "l: not a symbolic link"},
		{"owner by id", nil, "0", nil, false, ""},
		{"owner", nil, "www-data", nil, false, "d: owner differs,d/f: owner differs"},
		{"mode", nil, "", "0644", false, "d: mode differs"},
		{"symbolic mode", nil, "", "u=rwX,go=rX", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have := map[string]destState{}
			for k, v := range same {
				have[k] = v
			}
			if tt.edit != nil {
				tt.edit(have)
			}
			mode, err := parseMode(tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			got, err := unarchiveDiffers(entries, have, tt.owner, "", mode, tt.keepNewer)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("differs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnarchive(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.tar.gz"), makeTarGz(t, testMembers), 0o644)
	os.WriteFile(filepath.Join(src, "a.zip"), makeZip(t, testMembers), 0o644)
	os.WriteFile(filepath.Join(src, "evil.tar.gz"), makeTarGz(t, []testMember{{name: "../evil", body: "x"}}), 0o644)
	formats := []string{"a.tar.gz", "a.zip"}
	if _, err := exec.LookPath("xz"); err == nil {
		xz := exec.Command("sh", "-c", "gzip -dc a.tar.gz | xz > a.tar.xz")
		xz.Dir = src
		if out, err := xz.CombinedOutput(); err != nil {
			t.Fatalf("making a.tar.xz: %v %s", err, out)
		}
		formats = append(formats, "a.tar.xz")
	}
	h := &module.Host{Name: "localhost", Conn: connection.Local{}}
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			dest := t.TempDir()
			args := map[string]any{"src": filepath.Join(src, f), "dest": dest, "list_files": true}
			if r, _ := netRun(t, h, Unarchive{}, args, true); r["changed"] != true || netFailed(r) {
				t.Fatalf("check mode: %v", r)
			}
			if ents, _ := os.ReadDir(dest); len(ents) != 0 {
				t.Fatal("check mode unpacked")
			}
			r, _ := netRun(t, h, Unarchive{}, args, false)
			if r["changed"] != true || netFailed(r) {
				t.Fatalf("first run: %v", r)
			}
			files := r["files"].([]string)
			sort.Strings(files)
			if strings.Join(files, "|") != "app|app/-dash|app/bin|app/bin/run.sh|app/current|app/with space ü.txt" {
				t.Errorf("files = %q", files)
			}
			if b, _ := os.ReadFile(filepath.Join(dest, "app/with space ü.txt")); string(b) != "unicode\n" {
				t.Errorf("content = %q", b)
			}
			if l, _ := os.Readlink(filepath.Join(dest, "app/current")); l != "bin/run.sh" {
				t.Errorf("link = %q", l)
			}
			if fi, _ := os.Stat(filepath.Join(dest, "app/-dash")); !fi.ModTime().Equal(testMtime) {
				t.Errorf("mtime = %v", fi.ModTime())
			}
			if r, _ := netRun(t, h, Unarchive{}, args, false); r["changed"] != false || netFailed(r) {
				t.Fatalf("second run: %v", r)
			}
			os.WriteFile(filepath.Join(dest, "app/-dash"), []byte("changed\n"), 0o644)
			r, p := netRun(t, h, Unarchive{}, args, false)
			if r["changed"] != true || !strings.Contains(p.Diff[0].After, "app/-dash") {
				t.Fatalf("edited file not detected: %v", r)
			}
			if b, _ := os.ReadFile(filepath.Join(dest, "app/-dash")); string(b) != "dash\n" {
				t.Errorf("not restored: %q", b)
			}
			args["mode"] = "u=rwX,g=rX,o="
			if r, _ := netRun(t, h, Unarchive{}, args, false); r["changed"] != true {
				t.Fatalf("mode: %v", r)
			}
			if fi, _ := os.Stat(filepath.Join(dest, "app/bin")); fi.Mode().Perm() != 0o750 {
				t.Errorf("dir mode = %v", fi.Mode())
			}
			if r, _ := netRun(t, h, Unarchive{}, args, false); r["changed"] != false {
				t.Fatalf("mode second run: %v", r)
			}
		})
	}
	dest := t.TempDir()
	// remote_src: the archive is on the host; creates skips.
	remote := map[string]any{"src": filepath.Join(src, "a.zip"), "dest": dest, "remote_src": true, "creates": filepath.Join(dest, "app/bin/run.sh")}
	if r, _ := netRun(t, h, Unarchive{}, remote, false); r["changed"] != true || netFailed(r) {
		t.Fatalf("remote_src: %v", r)
	}
	if r, _ := netRun(t, h, Unarchive{}, remote, false); r["changed"] != false || !strings.Contains(r["msg"].(string), "exists") {
		t.Fatalf("creates: %v", r)
	}
	if r, _ := netRun(t, h, Unarchive{}, map[string]any{"src": filepath.Join(src, "evil.tar.gz"), "dest": dest}, false); !netFailed(r) || !strings.Contains(r["msg"].(string), "escapes") {
		t.Fatalf("evil archive: %v", r)
	}
	if r, _ := netRun(t, h, Unarchive{}, map[string]any{"src": filepath.Join(src, "a.zip"), "dest": filepath.Join(dest, "nope")}, false); !netFailed(r) || !strings.Contains(r["msg"].(string), "existing dir") {
		t.Fatalf("missing dest: %v", r)
	}
}

func TestUnarchiveDiffTextAndTarCommand(t *testing.T) {
	if got := unarchiveDiffText([]string{"b: missing", "a: size differs"}); got != "a: size differs\nb: missing\n" {
		t.Errorf("unarchiveDiffText = %q", got)
	}
	many := make([]string, 60)
	for i := range many {
		many[i] = fmt.Sprintf("f%02d: missing", i)
	}
	lines := strings.Split(strings.TrimSuffix(unarchiveDiffText(many), "\n"), "\n")
	if len(lines) != 51 || lines[49] != "f49: missing" || lines[50] != "... and 10 more" {
		t.Errorf("unarchiveDiffText of 60 entries: %d lines, ending %q", len(lines), lines[len(lines)-1])
	}
	got := unarchiveTarCommand("/d/.tmp x", "/d", true, []string{"--strip-components=1", "a b"})
	want := "tar -x -f '/d/.tmp x' -C /d --keep-newer-files --strip-components=1 'a b'"
	if got != want {
		t.Errorf("unarchiveTarCommand = %q, want %q", got, want)
	}
}
