package modules_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/module"
)

// netModule runs a module and returns its result, failures included.
func netModule(t *testing.T, h *module.Host, name string, raw map[string]any, check bool) module.Result {
	t.Helper()
	res, _ := runModule(t, h, name, raw, check)
	return res
}

// mustNet runs a module that must not fail and must report changed as want.
func mustNet(t *testing.T, h *module.Host, name string, raw map[string]any, check, want bool) module.Result {
	t.Helper()
	r := netModule(t, h, name, raw, check)
	if r["failed"] == true {
		t.Fatalf("%s %v failed: %v", name, raw, r["msg"])
	}
	if r["changed"] != want {
		t.Fatalf("%s %v (check=%v): changed=%v, want %v: %v", name, raw, check, r["changed"], want, r)
	}
	return r
}

// TestNetworkModules runs get_url, unarchive, uri, wait_for, script and raw
// against a minimal Debian testbed host (no curl, wget or unzip there),
// with an HTTP server on the controller's bridge address.
func TestNetworkModules(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "n1"})
	host := bed.Hosts[0]
	root := rootShell(t, bed, host.Name)
	if out := root("command -v curl wget unzip python3 || echo none"); out != "none" {
		t.Logf("host has: %s", out)
	}

	payload := []byte("release 1.0\n")
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	for _, name := range []string{"bundle/", "bundle/README", "bundle/bin/tool"} {
		fh := &zip.FileHeader{Name: name, Modified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
		if strings.HasSuffix(name, "/") {
			fh.SetMode(0o755 | os.ModeDir)
		} else {
			fh.SetMode(0o755)
		}
		w, _ := zw.CreateHeader(fh)
		if !strings.HasSuffix(name, "/") {
			fmt.Fprintf(w, "content of %s\n", name)
		}
	}
	zw.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/release.txt", func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
	mux.HandleFunc("/bundle.zip", func(w http.ResponseWriter, r *http.Request) { w.Write(zipBuf.Bytes()) })
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status": "ok", "from": %q}`, r.RemoteAddr)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/health", http.StatusMovedPermanently)
	})
	// Listen on the bridge: testbed hosts reach the controller there.
	ln, err := net.Listen("tcp", net.JoinHostPort(bed.Gateway, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()

	h := &module.Host{Name: host.Name, Conn: bedConn(t, host, ""), Warn: func(string) {}}
	sum := sha256.Sum256(payload)

	t.Run("get_url", func(t *testing.T) {
		args := map[string]any{"url": base + "/release.txt", "dest": "/opt/release.txt", "checksum": "sha256:" + hex.EncodeToString(sum[:]), "mode": "0640", "owner": "nobody"}
		mustNet(t, h, "get_url", args, true, true)
		if root("test -e /opt/release.txt && echo yes || echo no") != "no" {
			t.Fatal("check mode wrote the file")
		}
		mustNet(t, h, "get_url", args, false, true)
		if got := root("stat -c '%U %a' /opt/release.txt; cat /opt/release.txt"); got != "nobody 640\nrelease 1.0" {
			t.Errorf("dest: %q", got)
		}
		mustNet(t, h, "get_url", args, false, false)
		args["checksum"] = "sha256:" + strings.Repeat("1", 64)
		args["dest"] = "/opt/bad.txt"
		if r := netModule(t, h, "get_url", args, false); r["failed"] != true {
			t.Errorf("bad checksum accepted: %v", r)
		}
	})
	t.Run("unarchive zip without unzip", func(t *testing.T) {
		root("mkdir -p /srv/unz")
		args := map[string]any{"src": base + "/bundle.zip", "dest": "/srv/unz", "owner": "nobody"}
		mustNet(t, h, "unarchive", args, true, true)
		mustNet(t, h, "unarchive", args, false, true)
		if got := root("stat -c '%U %a' /srv/unz/bundle/bin/tool; cat /srv/unz/bundle/README"); got != "nobody 755\ncontent of bundle/README" {
			t.Errorf("unpacked: %q", got)
		}
		mustNet(t, h, "unarchive", args, false, false)
		root("rm /srv/unz/bundle/README")
		mustNet(t, h, "unarchive", args, true, true)
		// remote_src: the zip on the host itself.
		root("mkdir -p /srv/unz2 && cp /srv/unz/bundle/bin/tool /srv/unz2/ && true")
		mustNet(t, h, "get_url", map[string]any{"url": base + "/bundle.zip", "dest": "/tmp/bundle.zip"}, false, true)
		mustNet(t, h, "unarchive", map[string]any{"src": "/tmp/bundle.zip", "dest": "/srv/unz2", "remote_src": true}, false, true)
		mustNet(t, h, "unarchive", map[string]any{"src": "/tmp/bundle.zip", "dest": "/srv/unz2", "remote_src": true}, false, false)
	})
	t.Run("uri without curl", func(t *testing.T) {
		r := mustNet(t, h, "uri", map[string]any{"url": base + "/health", "return_content": true}, false, false)
		js, _ := r["json"].(map[string]any)
		if r["status"] != 200 || js["status"] != "ok" || !strings.HasPrefix(fmt.Sprint(js["from"]), host.Addr+":") {
			t.Errorf("uri: %v", r)
		}
		r = mustNet(t, h, "uri", map[string]any{"url": base + "/old"}, false, false)
		if r["redirected"] != true || r["url"] != base+"/health" {
			t.Errorf("redirect: %v", r)
		}
		if r := netModule(t, h, "uri", map[string]any{"url": base + "/nope", "status_code": []any{200, 201}}, false); r["failed"] != true || r["status"] != 404 {
			t.Errorf("404: %v", r)
		}
	})
	t.Run("wait_for", func(t *testing.T) {
		start := time.Now()
		mustNet(t, h, "wait_for", map[string]any{"port": 22, "timeout": 10}, false, false)
		mustNet(t, h, "wait_for", map[string]any{"port": 2, "state": "stopped", "timeout": 10}, false, false)
		mustNet(t, h, "wait_for", map[string]any{"host": bed.Gateway, "port": ln.Addr().(*net.TCPAddr).Port, "timeout": 10}, false, false)
		mustNet(t, h, "wait_for", map[string]any{"path": "/etc/os-release", "search_regex": `VERSION_ID="(\d+)"`, "timeout": 10}, false, false)
		r := netModule(t, h, "wait_for", map[string]any{"port": 2, "timeout": 2}, false)
		if r["failed"] != true || !strings.Contains(fmt.Sprint(r["msg"]), "Timeout when waiting for 127.0.0.1:2") {
			t.Errorf("timeout: %v", r)
		}
		// Neither port nor path: sleep delay, then timeout, and succeed.
		r = mustNet(t, h, "wait_for", map[string]any{"timeout": 1, "delay": 1}, false, false)
		if e, _ := r["elapsed"].(int); e < 2 {
			t.Errorf("wait_for timeout=1 delay=1: elapsed %v, want at least 2 (delay then timeout)", r["elapsed"])
		}
		t.Logf("wait_for: 6 waits in %v", time.Since(start).Round(time.Millisecond))
	})
	t.Run("script and raw", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "files"), 0o755)
		os.WriteFile(filepath.Join(dir, "files", "setup.sh"), []byte("#!/bin/sh\nset -e\necho \"$1\" > /etc/tend-script-ran\nid -un\n"), 0o644)
		hs := *h
		hs.Files = finder(dir)
		args := map[string]any{"cmd": "setup.sh 'x y'", "creates": "/etc/tend-script-ran"}
		mustNet(t, &hs, "script", args, true, true)
		r := mustNet(t, &hs, "script", args, false, true)
		if r["stdout"] != "root" || root("cat /etc/tend-script-ran") != "x y" {
			t.Errorf("script: %v", r)
		}
		mustNet(t, &hs, "script", args, false, false)
		if left := root("ls -d /tmp/tend-script-* 2>/dev/null | wc -l"); left != "0" {
			t.Errorf("%s temporary directories left", left)
		}
		r = mustNet(t, h, "raw", map[string]any{"free_form": "echo $((6*7)) | tee /dev/stderr"}, false, true)
		if r["stdout"] != "42" || r["stderr"] != "42" {
			t.Errorf("raw: %v", r)
		}
	})
}

// finder finds controller files under dir/KIND/.
type finder string

func (d finder) Find(kind, name string) (string, error) {
	p := filepath.Join(string(d), kind, name)
	_, err := os.Stat(p)
	return p, err
}
