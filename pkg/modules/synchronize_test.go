package modules

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestSynchronizeLocal(t *testing.T) {
	needTool(t, "rsync")
	dir := t.TempDir()
	src := filepath.Join(dir, "files", "site")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "index.html"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "a.txt"), []byte("a\n"), 0o600)
	os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("x\n"), 0o644)
	dest := filepath.Join(dir, "dest")
	h := testHost(dir, connection.Local{})
	state := func() string { return strings.Join(sortedSnapshot(t, dest), "\n") }
	args := map[string]any{"src": "site/", "dest": dest, "rsync_opts": []any{"--exclude=*.tmp"}}
	r := converges(t, h, "synchronize", args, state)
	if readFileT(t, filepath.Join(dest, "sub", "a.txt")) != "a\n" || readFileT(t, filepath.Join(dest, "skip.tmp")) != "" {
		t.Errorf("dest: %s", state())
	}
	if !strings.Contains(r["cmd"].(string), "--exclude=*.tmp") || !strings.Contains(r["msg"].(string), "index.html") {
		t.Errorf("result: %v", r)
	}
	// delete removes what src does not have.
	os.WriteFile(filepath.Join(dest, "stale"), []byte("old\n"), 0o644)
	converges(t, h, "synchronize", map[string]any{"src": "site/", "dest": dest, "delete": true, "rsync_opts": []any{"--exclude=*.tmp"}}, state)
	if _, err := os.Stat(filepath.Join(dest, "stale")); !os.IsNotExist(err) {
		t.Error("stale file kept")
	}
	if r := execModule(t, h, "synchronize", map[string]any{"src": "nowhere/", "dest": dest}, false); r["failed"] != true {
		t.Errorf("missing src: %v", r)
	}
}

func sortedSnapshot(t *testing.T, dir string) []string {
	var out []string
	for p, v := range snapshot(t, dir) {
		out = append(out, p+" "+v)
	}
	sort.Strings(out)
	return out
}

// sshConn is a connection that says it reached its host over SSH.
type sshConn struct {
	connection.Local
	ep connection.SSHEndpoint
}

func (c sshConn) SSHEndpoint() connection.SSHEndpoint { return c.ep }

func (c sshConn) Run(context.Context, connection.Command) (connection.Result, error) {
	return connection.Result{}, nil
}
func (c sshConn) Put(context.Context, io.Reader, string, connection.PutOptions) error { return nil }

func TestSynchronizeCommand(t *testing.T) {
	ep := connection.SSHEndpoint{Host: "10.0.0.5", Port: 2222, User: "deploy", IdentityFiles: []string{"/k/id"},
		KnownHostsFile: "/k/known_hosts", HostKeyPolicy: "strict", Jumps: []string{"j@bastion:22"}}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "files", "app"), 0o755)
	h := &module.Host{Name: "web", Conn: sshConn{ep: ep}, Files: dirFinder(dir), Become: &connection.Become{User: "root"}}
	args, err := (&Synchronize{}).Spec().Validate(map[string]any{"src": "app/", "dest": "/srv/app", "archive": false, "times": true, "checksum": true}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, cmd := syncCommand(h, args, true)
	want := "rsync --delay-updates -F --compress --dry-run --checksum --times " +
		"'--rsh=ssh -S none -F none -i /k/id -o Port=2222 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/k/known_hosts -o BatchMode=yes -J j@bastion:22' " +
		"'--rsync-path=sudo -u root rsync' '--out-format=<<CHANGED>>%i %n%L' " + filepath.Join(dir, "files", "app") + "/ deploy@10.0.0.5:/srv/app"
	if cmd != want {
		t.Errorf("command\n%s\nwant\n%s", cmd, want)
	}
	args["mode"] = "pull"
	args["src"], args["dest"] = "/var/log/app.log", "/tmp/x"
	args["set_remote_user"] = false
	if _, cmd := syncCommand(h, args, false); !strings.HasSuffix(cmd, " 10.0.0.5:/var/log/app.log /tmp/x") || strings.Contains(cmd, "--dry-run") {
		t.Errorf("pull: %s", cmd)
	}
	ep.HostKeyPolicy = "off"
	if got := rshCommand(ep, args); !strings.Contains(got, "StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null") {
		t.Errorf("policy off: %s", got)
	}
}
