package modules

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
