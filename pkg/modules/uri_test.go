package modules

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestURIBuildRequest(t *testing.T) {
	spec := URI{}.Spec()
	tests := []struct {
		name string
		raw  map[string]any
		body string
		ct   string
		fail string
	}{
		{"json dict", map[string]any{"url": "http://h/x", "method": "POST", "body_format": "json", "body": map[string]any{"a": 1}}, `{"a":1}`, "application/json", ""},
		{"json string kept", map[string]any{"url": "http://h/x", "body_format": "json", "body": `[1]`, "headers": map[string]any{"content-type": "text/x"}}, `[1]`, "text/x", ""},
		{"form", map[string]any{"url": "http://h/x", "body_format": "form-urlencoded", "body": map[string]any{"a b": "c&d"}}, `a+b=c%26d`, "application/x-www-form-urlencoded", ""},
		{"raw dict refused", map[string]any{"url": "http://h/x", "body": map[string]any{"a": 1}}, "", "", "body_format raw"},
		{"bad method", map[string]any{"url": "http://h/x", "method": "get"}, "", "", "upper-case"},
		{"bad url", map[string]any{"url": "ftp://h/x"}, "", "", "not an http"},
		{"header injection", map[string]any{"url": "http://h/", "headers": map[string]any{"X": "a\r\nEvil: 1"}}, "", "", "newlines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := spec.Validate(tt.raw, false)
			if err != nil {
				t.Fatal(err)
			}
			r, err := uriBuildRequest(args)
			if tt.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fail) {
					t.Fatalf("err = %v, want %q", err, tt.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != tt.body {
				t.Errorf("body = %q, want %q", r.Body, tt.body)
			}
			ct := ""
			for _, h := range r.Headers {
				if strings.EqualFold(h[0], "content-type") {
					ct = h[1]
				}
			}
			if ct != tt.ct {
				t.Errorf("content-type = %q, want %q", ct, tt.ct)
			}
		})
	}
	args, _ := spec.Validate(map[string]any{"url": "http://h/", "url_password": "s3cr\"et", "url_username": "u", "body": "@/etc/passwd"}, false)
	r, _ := uriBuildRequest(args)
	cfg := r.curlConfig()
	if !strings.Contains(cfg, `user = "u:s3cr\"et"`) || !strings.Contains(cfg, `data-raw = "@/etc/passwd"`) {
		t.Errorf("curl config:\n%s", cfg)
	}
}

func TestParseCurlOutput(t *testing.T) {
	out := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /b\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nHTTP/1.1 looks like a header\n" + curlMarker + "200 1 http://h/b"
	r, err := parseCurlOutput([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || r.Redirects != 1 || r.URL != "http://h/b" || r.Header.Get("X-A") != "1" || string(r.Body) != "HTTP/1.1 looks like a header\n" {
		t.Errorf("parsed %+v body %q", r, r.Body)
	}
}

// noCurlPath is a PATH holding what the bash fallback needs, but no curl.
func noCurlPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"bash", "timeout", "head", "cat"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not found", tool)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestURI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok": true, "n": 3}`)
		case "/redirect":
			http.Redirect(w, r, "/health", http.StatusFound)
		case "/chunked":
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "part%d;", i)
				w.(http.Flusher).Flush()
			}
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			u, p, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "body": string(b), "ct": r.Header.Get("Content-Type"), "auth": u + ":" + p, "x": r.Header.Get("X-Test")})
		default:
			http.Error(w, "nope", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	hosts := map[string]*module.Host{
		"curl": {Name: "localhost", Conn: connection.Local{}},
		"bash": {Name: "localhost", Conn: connection.Local{}, Env: map[string]string{"PATH": noCurlPath(t)}},
	}
	if _, err := exec.LookPath("curl"); err != nil {
		delete(hosts, "curl")
	}
	for tool, h := range hosts {
		t.Run(tool, func(t *testing.T) {
			r, _ := netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/health"}, false)
			if r["status"] != 200 || netFailed(r) || r["changed"] != false || fmt.Sprint(r["json"]) != "map[n:3 ok:true]" || r["content"] != nil {
				t.Errorf("health: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/redirect", "return_content": true}, false)
			if r["status"] != 200 || r["redirected"] != true || r["url"] != srv.URL+"/health" || !strings.Contains(fmt.Sprint(r["content"]), `"ok"`) {
				t.Errorf("redirect: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/redirect", "follow_redirects": "none", "status_code": "302"}, false)
			if r["status"] != 302 || netFailed(r) || r["location"] != srv.URL+"/health" {
				t.Errorf("no follow: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/chunked", "return_content": true}, false)
			if r["content"] != "part0;part1;part2;" {
				t.Errorf("chunked: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/echo", "method": "PUT", "body_format": "json",
				"body": map[string]any{"k": "it's \"q\"\n"}, "url_username": "u", "url_password": "p:w", "headers": map[string]any{"X-Test": "a b"}}, false)
			js, _ := r["json"].(map[string]any)
			if js["method"] != "PUT" || js["body"] != `{"k":"it's \"q\"\n"}` || js["ct"] != "application/json" || js["auth"] != "u:p:w" || js["x"] != "a b" {
				t.Errorf("echo: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/missing", "return_content": true}, false)
			if r["status"] != 404 || !netFailed(r) || !strings.Contains(fmt.Sprint(r["msg"]), "Status code was 404 and not [200]") || r["content"] != "nope\n" {
				t.Errorf("404: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": "http://127.0.0.1:" + fmt.Sprint(freePort(t)) + "/", "timeout": 5}, false)
			if r["status"] != -1 || !netFailed(r) {
				t.Errorf("refused: %v", r)
			}
		})
	}
	r, _ := netRun(t, hosts["bash"], URI{}, map[string]any{"url": "https://127.0.0.1:1/"}, false)
	if !netFailed(r) || !strings.Contains(fmt.Sprint(r["msg"]), "needs curl") {
		t.Errorf("https without curl: %v", r)
	}
}

func TestURIAgentProxyCA(t *testing.T) {
	args, err := (&URI{}).Spec().Validate(map[string]any{"url": "https://example.com/", "http_agent": "probe/1", "use_proxy": false, "ca_path": "/etc/ssl/my-ca.pem"}, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := uriBuildRequest(args)
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.curlConfig()
	for _, want := range []string{`user-agent = "probe/1"`, `noproxy = "*"`, `cacert = "/etc/ssl/my-ca.pem"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("curl config lacks %s:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "tend-uri") {
		t.Errorf("default agent kept:\n%s", cfg)
	}
}

// TestURIDestSrcAndTransportArgs covers dest (written only when the body
// or the attributes change, If-Modified-Since, directory dest), src and
// remote_src bodies, unredirected_headers, decompress and unix_socket,
// with curl and (where it applies) the bash fallback.
func TestURIDestSrcAndTransportArgs(t *testing.T) {
	stamp := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc.txt":
			w.Header().Set("Content-Type", "text/plain")
			http.ServeContent(w, r, "doc.txt", stamp, strings.NewReader("document\n"))
		case "/named":
			w.Header().Set("Content-Disposition", `attachment; filename="given.txt"`)
			fmt.Fprint(w, "named\n")
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"body": string(b), "x": r.Header.Get("X-Secret"), "cc": r.Header.Get("Cache-Control")})
		case "/hop":
			http.Redirect(w, r, "/echo", http.StatusFound)
		case "/gz":
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			fmt.Fprint(gz, "zipped")
			gz.Close()
		}
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	hosts := map[string]*module.Host{"bash": {Name: "localhost", Conn: connection.Local{}, Env: map[string]string{"PATH": allButCurlPath(t)}}}
	if _, err := exec.LookPath("curl"); err == nil {
		hosts["curl"] = &module.Host{Name: "localhost", Conn: connection.Local{}}
	}
	for tool, h := range hosts {
		t.Run(tool, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "doc.txt")
			r, _ := netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/doc.txt", "dest": dest, "mode": "0640"}, false)
			got, _ := os.ReadFile(dest)
			fi, _ := os.Stat(dest)
			if r["changed"] != true || string(got) != "document\n" || fi == nil || fi.Mode().Perm() != 0o640 || r["path"] != dest {
				t.Fatalf("first write: %v, file %q", r, got)
			}
			// The file is newer than the document: 304, nothing written.
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/doc.txt", "dest": dest, "mode": "0640", "status_code": []any{200, 304}}, false)
			if r["changed"] != false || r["status"] != 304 {
				t.Errorf("second run: %v", r)
			}
			// force changes nothing in Ansible 2.14's uri: still 304.
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/doc.txt", "dest": dest, "mode": "0640", "force": true, "status_code": []any{304}}, false)
			if r["changed"] != false || r["status"] != 304 {
				t.Errorf("force: %v", r)
			}
			// A file older than the document is fetched; same content and
			// mode: not changed (Ansible 2.14 reports changed here).
			os.Chtimes(dest, stamp.Add(-time.Hour), stamp.Add(-time.Hour))
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/doc.txt", "dest": dest, "mode": "0640"}, false)
			if r["changed"] != false || r["status"] != 200 {
				t.Errorf("older file, same content: %v", r)
			}
			os.WriteFile(dest, []byte("old"), 0o644)
			os.Chtimes(dest, stamp.Add(-time.Hour), stamp.Add(-time.Hour))
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/doc.txt", "dest": dest}, false)
			if got, _ := os.ReadFile(dest); r["changed"] != true || string(got) != "document\n" {
				t.Errorf("older file replaced: %v %q", r, got)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/named", "dest": dir}, false)
			if got, _ := os.ReadFile(filepath.Join(dir, "given.txt")); r["changed"] != true || string(got) != "named\n" || r["path"] != filepath.Join(dir, "given.txt") {
				t.Errorf("directory dest: %v %q", r, got)
			}
			body := filepath.Join(dir, "body.bin")
			os.WriteFile(body, []byte("a\x00b@c"), 0o600)
			for _, remote := range []bool{false, true} {
				r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/echo", "method": "POST", "src": body, "remote_src": remote}, false)
				if js, _ := r["json"].(map[string]any); js["body"] != "a\x00b@c" {
					t.Errorf("src remote_src=%v: %v", remote, r)
				}
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/hop", "headers": map[string]any{"X-Secret": "s"}, "unredirected_headers": []any{"x-secret"}}, false)
			if js, _ := r["json"].(map[string]any); r["status"] != 200 || js["x"] != "" || r["redirected"] != true {
				t.Errorf("unredirected_headers: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/hop", "headers": map[string]any{"X-Secret": "s"}}, false)
			if js, _ := r["json"].(map[string]any); js["x"] != "s" {
				t.Errorf("headers kept on redirect: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/gz", "return_content": true}, false)
			if r["content"] != "zipped" {
				t.Errorf("decompress: %v", r)
			}
			r, _ = netRun(t, h, URI{}, map[string]any{"url": srv.URL + "/gz", "return_content": true, "decompress": false}, false)
			if c, _ := r["content"].(string); !strings.HasPrefix(c, "\x1f\x8b") {
				t.Errorf("decompress false: %v", r)
			}
			if tool != "curl" {
				return
			}
			sock := filepath.Join(dir, "s.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			us := &http.Server{Handler: handler}
			go us.Serve(l)
			defer us.Close()
			r, _ = netRun(t, h, URI{}, map[string]any{"url": "http://localhost/named", "unix_socket": sock, "return_content": true}, false)
			if r["content"] != "named\n" {
				t.Errorf("unix_socket: %v", r)
			}
		})
	}
}

func TestURICurlExtras(t *testing.T) {
	args, err := (&URI{}).Spec().Validate(map[string]any{"url": "https://example.com/", "ciphers": []any{"ECDHE-RSA-AES128-GCM-SHA256", "AES256-SHA"},
		"client_cert": "/etc/c.pem", "client_key": "/etc/k.pem", "use_gssapi": true}, false)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := uriBuildRequest(args)
	cfg := r.curlConfig()
	for _, want := range []string{`ciphers = "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA"`, `cert = "/etc/c.pem"`, `key = "/etc/k.pem"`, "negotiate\n", `user = ":"`, "netrc-optional\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("curl config lacks %s:\n%s", want, cfg)
		}
	}
	args, _ = (&URI{}).Spec().Validate(map[string]any{"url": "https://example.com/", "url_username": "u", "use_netrc": true}, false)
	r, _ = uriBuildRequest(args)
	if strings.Contains(r.curlConfig(), "netrc") {
		t.Errorf("netrc read although url_username is given")
	}
}

// allButCurlPath is a PATH with every tool of /usr/bin but curl.
func allButCurlPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("/usr/bin")
	if err != nil {
		t.Skip(err)
	}
	for _, e := range ents {
		if e.Name() != "curl" {
			_ = os.Symlink(filepath.Join("/usr/bin", e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	return dir
}
