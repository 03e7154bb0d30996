package modules

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// execModule validates raw against the registered module and runs it as
// the engine does (Plan, then Apply unless check).
func execModule(t *testing.T, h *module.Host, name string, raw map[string]any, check bool) module.Result {
	t.Helper()
	m, ok := Registry().Lookup(name)
	if !ok {
		t.Fatalf("module %s not registered", name)
	}
	args, err := m.Spec().Validate(raw, false)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	res, _, err := module.Execute(context.Background(), m, h, args, check)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// converges runs a task in check mode (a change predicted, nothing
// touched), for real (changed), then again and in check mode (ok).
func converges(t *testing.T, h *module.Host, name string, raw map[string]any, state func() string) module.Result {
	t.Helper()
	before := state()
	if r := execModule(t, h, name, raw, true); r["changed"] != true || r["failed"] == true {
		t.Fatalf("%s check run: %v", name, r)
	}
	if got := state(); got != before {
		t.Fatalf("%s check run changed the host:\n%s\n->\n%s", name, before, got)
	}
	r := execModule(t, h, name, raw, false)
	if r["changed"] != true || r["failed"] == true {
		t.Fatalf("%s run: %v", name, r)
	}
	for _, check := range []bool{false, true} {
		if r2 := execModule(t, h, name, raw, check); r2["changed"] != false || r2["failed"] == true {
			t.Fatalf("%s second run (check %v): %v", name, check, r2)
		}
	}
	return r
}

func needTool(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func readFileT(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestKnownHosts(t *testing.T) {
	needTool(t, "ssh-keygen")
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	h := testHost(dir, connection.Local{})
	state := func() string { return readFileT(t, kh) }
	key1 := "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEAvwBmaamVJ8PR1Cel6BheO1ag7qFah+rsfazmyveDZ"
	key2 := "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	rsa := "git.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"
	os.WriteFile(kh, []byte("other.example.com "+key1[len("git.example.com "):]+"\n"), 0o600)
	converges(t, h, "known_hosts", map[string]any{"name": "git.example.com", "key": key1, "path": kh}, state)
	if got := state(); !strings.HasSuffix(got, key1+"\n") || strings.Count(got, "\n") != 2 {
		t.Errorf("added: %q", got)
	}
	if fi, _ := os.Stat(kh); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's 0600 kept", fi.Mode())
	}
	// A new key of the same type replaces the old one in place.
	converges(t, h, "known_hosts", map[string]any{"name": "git.example.com", "key": key2, "path": kh}, state)
	if got := state(); strings.Contains(got, key1) || !strings.Contains(got, key2) {
		t.Errorf("replaced: %q", got)
	}
	// Another type is added beside it. The result carries the diff, as
	// Ansible's does in every run (diff mode or not): check mode's
	// predicts the key at the end.
	before := state()
	res := execModule(t, h, "known_hosts", map[string]any{"name": "git.example.com", "key": rsa, "path": kh}, true)
	d, _ := res["diff"].(map[string]any)
	if d["before_header"] != kh || d["after_header"] != kh || d["before"] != before || d["after"] != before+rsa+"\n" {
		t.Errorf("check mode result diff: %v", res["diff"])
	}
	converges(t, h, "known_hosts", map[string]any{"name": "git.example.com", "key": rsa, "path": kh}, state)
	// Removing one key.
	converges(t, h, "known_hosts", map[string]any{"name": "git.example.com", "key": rsa, "path": kh, "state": "absent"}, state)
	if got := state(); strings.Contains(got, "ssh-rsa") || !strings.Contains(got, key2) {
		t.Errorf("removed rsa: %q", got)
	}
	// A hashed entry matches by name and is not rewritten.
	converges(t, h, "known_hosts", map[string]any{"name": "hashed.example.com", "key": "hashed.example.com " + key1[len("git.example.com "):], "path": kh, "hash_host": true}, state)
	if got := state(); !strings.Contains(got, "|1|") || strings.Contains(got, "hashed.example.com") {
		t.Errorf("hashed: %q", got)
	}
	// Without key, absent removes every key of the host.
	converges(t, h, "known_hosts", map[string]any{"name": "git.example.com", "path": kh, "state": "absent"}, state)
	if got := state(); strings.Contains(got, key2[len("git.example.com "):]) {
		t.Errorf("host removed: %q", got)
	}
	// A new file in an existing directory.
	nf := filepath.Join(dir, "new_known_hosts")
	converges(t, h, "known_hosts", map[string]any{"name": "[git.example.com]:2222", "key": "[git.example.com]:2222 " + key1[len("git.example.com "):], "path": nf}, func() string { return readFileT(t, nf) })
	for _, c := range []struct {
		args map[string]any
		msg  string
	}{
		{map[string]any{"name": "a.example.com", "path": kh}, "No key specified when adding a host"},
		{map[string]any{"name": "a.example.com", "key": key1, "path": kh}, "Host parameter does not match hashed host field in supplied key"},
		{map[string]any{"name": "a.example.com,b.example.com", "key": key1, "path": kh}, "Comma separated list of names is not supported"},
		{map[string]any{"name": "git.example.com", "key": key1, "path": filepath.Join(dir, "nodir", "kh")}, "does not exist"},
	} {
		if r := execModule(t, h, "known_hosts", c.args, false); r["failed"] != true || !strings.Contains(r["msg"].(string), c.msg) {
			t.Errorf("%v: %v, want %q", c.args, r, c.msg)
		}
	}
}

func TestSearchKnownHosts(t *testing.T) {
	out := "# Host x found: line 3 \nx ssh-ed25519 AAAA\n# Host x found: line 5 \nx ssh-rsa BBBB\n"
	if found, repl, line := searchKnownHosts(out, "x ssh-rsa BBBB comment\n"); !found || repl || line != 5 {
		t.Errorf("same key: %v %v %d", found, repl, line)
	}
	if found, repl, line := searchKnownHosts(out, "x ssh-rsa CCCC\n"); !found || !repl || line != 5 {
		t.Errorf("other key: %v %v %d", found, repl, line)
	}
	if found, repl, line := searchKnownHosts(out, "x ecdsa-sha2-nistp256 DDDD\n"); !found || !repl || line != 0 {
		t.Errorf("other type: %v %v %d", found, repl, line)
	}
	if got := knownHostsEdit("a\nb\nc\n", 2, true, "present", "n\n"); got != "a\nc\nn\n" {
		t.Errorf("edit: %q", got)
	}
}
