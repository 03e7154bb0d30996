package modules_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/module"
)

// TestArgs11 checks arguments added for issue 11 on a real Debian host:
// user umask (the new home's mode), uri dest (written once, then ok,
// with its mode) and src, unarchive include, wait_for exclude_hosts.
func TestArgs11(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "args11"})
	host := bed.Hosts[0]
	ctrl := t.TempDir()
	e := &sysEnv{t: t, bed: bed, name: host.Name, h: &module.Host{
		Name: host.Name, Conn: bedConn(t, host, ""), Vars: map[string]any{}, Diff: true, Warn: func(string) {},
		Files: debFinder(ctrl),
	}}

	t.Run("user umask", func(t *testing.T) {
		e.converge(t, "user", map[string]any{"name": "umasked", "umask": "077"}, "getent passwd umasked; stat -c %a /home/umasked 2>/dev/null; true")
		if got := strings.TrimSpace(e.sh(t, "stat -c %a /home/umasked")); got != "700" {
			t.Errorf("home mode %s, want 700 (umask 077)", got)
		}
		// Without umask the home gets the system's default mode.
		e.run(t, "user", map[string]any{"name": "plain"}, false)
		if got := strings.TrimSpace(e.sh(t, "stat -c %a /home/plain")); got == "700" {
			t.Errorf("home mode without umask is %s too: the test cannot tell", got)
		}
	})

	t.Run("uri", func(t *testing.T) {
		stamp := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		ln, err := net.Listen("tcp", bed.Gateway+":0")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/echo" {
				b := make([]byte, 64)
				n, _ := r.Body.Read(b)
				fmt.Fprintf(w, "got:%s", b[:n])
				return
			}
			http.ServeContent(w, r, "conf", stamp, strings.NewReader("key=value\n"))
		}))
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		args := map[string]any{"url": srv.URL + "/conf", "dest": "/etc/from-uri.conf", "mode": "0600", "status_code": []any{200, 304}}
		state := "cat /etc/from-uri.conf 2>/dev/null; stat -c %a /etc/from-uri.conf 2>/dev/null; true"
		before := e.sh(t, state)
		r, _ := e.run(t, "uri", args, false)
		if r["changed"] != true || r["failed"] == true || e.sh(t, state) == before {
			t.Fatalf("first run: %v", r)
		}
		if got := e.sh(t, state); got != "key=value\n600\n" {
			t.Errorf("state %q", got)
		}
		if r, _ := e.run(t, "uri", args, false); r["changed"] != false || r["status"] != 304 {
			t.Errorf("second run: %v", r)
		}
		os.WriteFile(filepath.Join(ctrl, "body.txt"), []byte("from the controller"), 0o644)
		r, _ = e.run(t, "uri", map[string]any{"url": srv.URL + "/echo", "method": "POST", "src": "body.txt", "return_content": true}, false)
		if r["content"] != "got:from the controller" {
			t.Errorf("src: %v", r)
		}
	})

	t.Run("unarchive include", func(t *testing.T) {
		e.sh(t, "mkdir -p /tmp/arc/a/b /srv/inc && echo 1 > /tmp/arc/a/b/one && echo 2 > /tmp/arc/a/two && tar -C /tmp/arc -czf /tmp/arc.tgz a")
		e.converge(t, "unarchive", map[string]any{"src": "/tmp/arc.tgz", "remote_src": true, "dest": "/srv/inc", "include": []any{"a/b"}},
			"find /srv/inc | sort")
		if got := e.sh(t, "find /srv/inc -type f | sort"); got != "/srv/inc/a/b/one\n" {
			t.Errorf("unpacked %q", got)
		}
	})

	t.Run("git archive and separate_git_dir", func(t *testing.T) {
		e.sh(t, "command -v git >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null 2>&1 || "+
			"{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null; }")
		e.sh(t, `set -e; git init -q -b main /srv/gorigin; cd /srv/gorigin; git config user.email t@example.com; git config user.name t
echo one > f; git add f; git commit -qm one; mkdir -p /srv/gitdirs`)
		args := map[string]any{"repo": "/srv/gorigin", "dest": "/srv/gapp", "separate_git_dir": "/srv/gitdirs/gapp.git",
			"archive": "/srv/gapp.tgz", "archive_prefix": "gapp/"}
		e.converge(t, "git", args, "cat /srv/gapp/.git 2>/dev/null; ls /srv/gitdirs; sha1sum /srv/gapp.tgz 2>/dev/null; true")
		if got := e.sh(t, "tar -tzf /srv/gapp.tgz"); !strings.Contains(got, "gapp/f") {
			t.Errorf("archive members %q", got)
		}
	})

	t.Run("wait_for exclude_hosts", func(t *testing.T) {
		// sshd's port holds the test's own connection from the gateway.
		r, _ := e.run(t, "wait_for", map[string]any{"port": 22, "state": "drained", "timeout": 2}, false)
		if r["failed"] != true {
			t.Fatalf("drained with an ssh session open: %v", r)
		}
		r, _ = e.run(t, "wait_for", map[string]any{"port": 22, "state": "drained", "timeout": 10, "exclude_hosts": []any{bed.Gateway}}, false)
		if r["failed"] == true {
			t.Errorf("exclude_hosts %s: %v", bed.Gateway, r)
		}
	})
}
