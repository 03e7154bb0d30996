package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// TestSlurpErrors: Ansible's messages for the errors opening the file
// gives, as the become user (an unreadable file is not "not found").
func TestSlurpErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "f")
	write(t, f, "hello", 0o600)
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	h := localHost()
	r := execModule(t, h, "slurp", map[string]any{"src": f}, false)
	if r["content"] != "aGVsbG8=" || r["source"] != f || r["failed"] == true {
		t.Errorf("readable: %v", r)
	}
	for src, want := range map[string]string{
		filepath.Join(dir, "missing"): "file not found: " + filepath.Join(dir, "missing"),
		filepath.Join(dir, "d"):       "source is a directory and must be a file: " + filepath.Join(dir, "d"),
		f + "/x":                      "unable to slurp file: [Errno 20] Not a directory: '" + f + "/x'",
	} {
		if r := execModule(t, h, "slurp", map[string]any{"src": src}, false); r["msg"] != want || r["failed"] != true {
			t.Errorf("slurp %s: %v, want msg %q", src, r, want)
		}
	}
	if os.Getuid() != 0 {
		t.Skip("the unreadable cases need root (su to nobody)")
	}
	nobody := &module.Host{Name: "localhost", Conn: connection.Local{}, Become: &connection.Become{Method: "su", User: "nobody", Flags: "-s /bin/sh"}}
	for _, src := range []string{f, filepath.Join(dir, "d")} {
		if r := execModule(t, nobody, "slurp", map[string]any{"src": src}, false); r["msg"] != "file is not readable: "+src {
			t.Errorf("slurp %s as nobody: %v", src, r)
		}
	}
}
