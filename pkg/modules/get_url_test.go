package modules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestParseChecksum(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		in   string
		algo string
		url  string
		fail string
	}{
		{"", "", "", ""},
		{"sha256:" + strings.ToUpper(sum), "sha256", "", ""},
		{"SHA1:" + strings.Repeat("0", 40), "sha1", "", ""},
		{"sha256:https://x/sums.txt", "sha256", "https://x/sums.txt", ""},
		{"sha256:abc", "", "", "64 hex digits"},
		{"crc32:abcd", "", "", "not one of"},
		{sum, "", "", "ALGORITHM:CHECKSUM"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cs, err := parseChecksum(tt.in)
			if tt.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fail) {
					t.Fatalf("err = %v, want %q", err, tt.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.in == "" {
				if cs != nil {
					t.Fatal("empty checksum parsed")
				}
				return
			}
			if cs.Algo != tt.algo || cs.URL != tt.url || (tt.url == "" && cs.Hex != sum && cs.Hex != strings.Repeat("0", 40)) {
				t.Errorf("parsed %+v", cs)
			}
		})
	}
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	file := "# sums\n" + a + "  tool-1.0.tar.gz\n" + b + " *./other.zip\n"
	for name, want := range map[string]string{"tool-1.0.tar.gz": a, "other.zip": b, "missing": ""} {
		got, err := checksumFromFile(file, name, 32)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("checksumFromFile(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if got, _ := checksumFromFile(a+"\n", "anything", 32); got != a {
		t.Errorf("bare checksum file: %q", got)
	}
}

func TestGetURL(t *testing.T) {
	content := []byte("payload v1\n")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/file.txt":
			w.Write(content)
		case "/dl":
			w.Header().Set("Content-Disposition", `attachment; filename="named.bin"`)
			w.Write(content)
		case "/file.txt.sha256":
			s := sha256.Sum256(content)
			fmt.Fprintf(w, "%s  file.txt\n", hex.EncodeToString(s[:]))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	dest := filepath.Join(dir, "out.txt")
	h := &module.Host{Name: "localhost", Conn: connection.Local{}}
	s := sha256.Sum256(content)
	sum := hex.EncodeToString(s[:])
	args := map[string]any{"url": srv.URL + "/file.txt", "dest": dest, "checksum": "sha256:" + sum, "mode": "0640"}

	if r, _ := netRun(t, h, GetURL{}, args, true); r["changed"] != true || netFailed(r) {
		t.Fatalf("check mode: %v", r)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("check mode wrote dest")
	}
	if r, _ := netRun(t, h, GetURL{}, args, false); r["changed"] != true || netFailed(r) || r["msg"] != "OK (11 bytes)" {
		t.Fatalf("first run: %v", r)
	}
	if b, _ := os.ReadFile(dest); string(b) != string(content) {
		t.Fatalf("dest = %q", b)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v", fi.Mode())
	}
	before := hits.Load()
	if r, _ := netRun(t, h, GetURL{}, args, false); r["changed"] != false || netFailed(r) {
		t.Fatalf("second run: %v", r)
	}
	if hits.Load() != before {
		t.Errorf("converged run downloaded %d times", hits.Load()-before)
	}
	args["mode"] = "0600"
	if r, _ := netRun(t, h, GetURL{}, args, false); r["changed"] != true || r["mode"] != "0600" {
		t.Fatalf("mode change: %v", r)
	}
	if hits.Load() != before {
		t.Errorf("mode change downloaded")
	}
	// Checksum from a published file.
	args["checksum"] = "sha256:" + srv.URL + "/file.txt.sha256"
	if r, _ := netRun(t, h, GetURL{}, args, false); r["changed"] != false || netFailed(r) {
		t.Fatalf("checksum URL: %v", r)
	}
	// A wrong checksum fails before writing.
	other := filepath.Join(dir, "other.txt")
	bad := map[string]any{"url": srv.URL + "/file.txt", "dest": other, "checksum": "sha256:" + strings.Repeat("0", 64)}
	if r, _ := netRun(t, h, GetURL{}, bad, false); !netFailed(r) || !strings.Contains(r["msg"].(string), "did not match") {
		t.Fatalf("bad checksum: %v", r)
	}
	if _, err := os.Stat(other); err == nil {
		t.Fatal("file written despite a bad checksum")
	}
	// Without checksum or force an existing file is kept; with force it
	// is replaced when the content differs.
	os.WriteFile(other, []byte("old"), 0o644)
	plain := map[string]any{"url": srv.URL + "/file.txt", "dest": other}
	if r, _ := netRun(t, h, GetURL{}, plain, false); r["changed"] != false {
		t.Fatalf("existing file replaced without force: %v", r)
	}
	plain["force"] = true
	plain["backup"] = true
	r, _ := netRun(t, h, GetURL{}, plain, false)
	if r["changed"] != true || r["backup_file"] == nil {
		t.Fatalf("force: %v", r)
	}
	if b, _ := os.ReadFile(r["backup_file"].(string)); string(b) != "old" {
		t.Errorf("backup holds %q", b)
	}
	if r, _ := netRun(t, h, GetURL{}, plain, false); r["changed"] != false {
		t.Fatalf("force, same content: %v", r)
	}
	// dest a directory: the name comes from Content-Disposition.
	sub := t.TempDir()
	d := map[string]any{"url": srv.URL + "/dl", "dest": sub}
	if r, _ := netRun(t, h, GetURL{}, d, false); r["changed"] != true || r["dest"] != filepath.Join(sub, "named.bin") {
		t.Fatalf("dir dest: %v", r)
	}
	if r, _ := netRun(t, h, GetURL{}, d, false); r["changed"] != false {
		t.Fatalf("dir dest second run: %v", r)
	}
	if r, _ := netRun(t, h, GetURL{}, map[string]any{"url": srv.URL + "/404", "dest": filepath.Join(dir, "x")}, false); !netFailed(r) || !strings.Contains(r["msg"].(string), "404") {
		t.Fatalf("404: %v", r)
	}
	if r, _ := netRun(t, h, GetURL{}, map[string]any{"url": srv.URL + "/file.txt", "dest": filepath.Join(dir, "no/such/dir/x")}, false); !netFailed(r) {
		t.Fatalf("missing parent: %v", r)
	}
}

func TestGetURLNeedsContent(t *testing.T) {
	sum := func(s string) *string { return &s }
	cs := &checksumSpec{Algo: "sha256", Hex: "aa"}
	tests := []struct {
		name    string
		exists  bool
		cs      *checksumSpec
		destSum string
		srcSum  *string
		want    bool
	}{
		{name: "missing dest", exists: false, want: true},
		{name: "checksum matches", exists: true, cs: cs, destSum: "aa", want: false},
		{name: "checksum differs", exists: true, cs: cs, destSum: "bb", want: true},
		{name: "checksum wins over the download", exists: true, cs: cs, destSum: "aa", srcSum: sum("cc"), want: false},
		{name: "download differs", exists: true, destSum: "aa", srcSum: sum("cc"), want: true},
		{name: "download same", exists: true, destSum: "aa", srcSum: sum("aa"), want: false},
		{name: "existing dest kept", exists: true, destSum: "aa", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := getURLNeedsContent(tt.exists, tt.cs, tt.destSum, tt.srcSum); got != tt.want {
				t.Errorf("getURLNeedsContent = %v, want %v", got, tt.want)
			}
		})
	}
}
