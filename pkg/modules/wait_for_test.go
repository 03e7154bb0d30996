package modules

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// freePort returns a local port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

// noBashPath makes a PATH with the tools wait_for needs but no bash or nc,
// to exercise the /proc/net/tcp fallback.
func noBashPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"date", "grep", "cat", "sleep", "timeout", "printf"} {
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

func TestWaitFor(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // after the parallel subtests
	open := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-tend_test\r\n"))
			c.Close()
		}
	}()
	closed := freePort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "app.log")
	os.WriteFile(file, []byte("booting\nlistening on port 4242 (pid 17)\n"), 0o644)

	local := &module.Host{Name: "localhost", Conn: connection.Local{}}
	noBash := &module.Host{Name: "localhost", Conn: connection.Local{}, Env: map[string]string{"PATH": noBashPath(t)}}
	tests := []struct {
		name   string
		h      *module.Host
		args   map[string]any
		failed bool
		msg    string
		groups []any
	}{
		{"port open", local, map[string]any{"port": open, "timeout": 5}, false, "", nil},
		{"port open, proc fallback", noBash, map[string]any{"port": open, "timeout": 5}, false, "", nil},
		{"port stopped", local, map[string]any{"port": closed, "state": "stopped", "timeout": 5}, false, "", nil},
		{"port closed times out", local, map[string]any{"port": closed, "timeout": 1}, true, "Timeout when waiting for 127.0.0.1:", nil},
		{"closed, proc fallback", noBash, map[string]any{"port": closed, "timeout": 1}, true, "Timeout when waiting", nil},
		{"remote host without bash", noBash, map[string]any{"port": closed, "host": "10.255.255.1", "timeout": 1}, true, "needs bash or nc", nil},
		{"banner", local, map[string]any{"port": open, "search_regex": "SSH-2.0", "timeout": 5}, false, "", nil},
		{"drained", local, map[string]any{"port": closed, "state": "drained", "timeout": 5}, false, "", nil},
		{"file present", local, map[string]any{"path": file, "timeout": 5}, false, "", nil},
		{"regex groups", local, map[string]any{"path": file, "search_regex": `port (\d+) \(pid (?P<pid>\d+)\)`, "timeout": 5}, false, "", []any{"4242", "17"}},
		{"regex missing", local, map[string]any{"path": file, "search_regex": "ready", "timeout": 1, "msg": "app did not start"}, true, "app did not start", nil},
		{"absent", local, map[string]any{"path": filepath.Join(dir, "nope"), "state": "absent", "timeout": 5}, false, "", nil},
		{"absent times out", local, map[string]any{"path": file, "state": "absent", "timeout": 1}, true, "to be absent", nil},
		{"sleep only", local, map[string]any{"timeout": 0}, false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the timeout cases wait
			r, p := netRun(t, tt.h, WaitFor{}, tt.args, false)
			if p.Changed || netFailed(r) != tt.failed || !strings.Contains(module.Args(r).String("msg"), tt.msg) {
				t.Fatalf("result = %v", r)
			}
			if tt.groups != nil {
				if strings.Join(module.Args{"g": r["match_groups"]}.List("g"), ",") != "4242,17" || r["match_groupdict"].(map[string]any)["pid"] != "17" {
					t.Errorf("groups = %v %v", r["match_groups"], r["match_groupdict"])
				}
			}
		})
	}
	if _, err := (WaitFor{}).Spec().Validate(map[string]any{"port": 1, "path": "/x"}, false); err == nil {
		t.Error("port and path together accepted")
	}
}
