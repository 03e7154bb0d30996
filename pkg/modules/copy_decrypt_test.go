package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vault"
)

// TestCopyDecrypt: copy writes the plain text of a vault-encrypted source
// file (alone or in a directory), or the ciphertext with decrypt: false.
func TestCopyDecrypt(t *testing.T) {
	src := t.TempDir()
	keys := vault.NewKeyring()
	if err := keys.Add("", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	enc, _ := keys.Encrypt([]byte("secret=1\n"), "")
	os.MkdirAll(filepath.Join(src, "files", "dir"), 0o755)
	os.WriteFile(filepath.Join(src, "files", "s.conf"), enc, 0o644)
	os.WriteFile(filepath.Join(src, "files", "dir", "d.conf"), enc, 0o644)
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Files: netDirFinder(src), Vault: keys}
	dest := t.TempDir()
	r, _ := netRun(t, h, &Copy{}, map[string]any{"src": "s.conf", "dest": filepath.Join(dest, "s.conf")}, false)
	if b, _ := os.ReadFile(filepath.Join(dest, "s.conf")); netFailed(r) || string(b) != "secret=1\n" {
		t.Errorf("decrypted copy: %v %q", r, b)
	}
	r, _ = netRun(t, h, &Copy{}, map[string]any{"src": "s.conf", "dest": filepath.Join(dest, "s.conf")}, false)
	if r["changed"] != false {
		t.Errorf("second run: %v", r)
	}
	r, _ = netRun(t, h, &Copy{}, map[string]any{"src": "dir/", "dest": dest + "/"}, false)
	if b, _ := os.ReadFile(filepath.Join(dest, "d.conf")); netFailed(r) || string(b) != "secret=1\n" {
		t.Errorf("decrypted directory copy: %v %q", r, b)
	}
	r, _ = netRun(t, h, &Copy{}, map[string]any{"src": "s.conf", "dest": filepath.Join(dest, "raw"), "decrypt": false}, false)
	if b, _ := os.ReadFile(filepath.Join(dest, "raw")); netFailed(r) || !vault.IsEncrypted(b) {
		t.Errorf("decrypt false: %v %q", r, b)
	}
	// Without a password: Ansible's message, which the copy target
	// compares with, for a file and for a directory holding one.
	for _, nopw := range []module.Decrypter{nil, vault.NewKeyring()} {
		h.Vault = nopw
		for _, c := range []struct{ src, file string }{{"s.conf", "s.conf"}, {"dir", "dir/d.conf"}} {
			r, _ = netRun(t, h, &Copy{}, map[string]any{"src": c.src, "dest": dest + "/nopw/"}, false)
			want := "A vault password or secret must be specified to decrypt " + filepath.Join(src, "files", c.file)
			if !netFailed(r) || r["msg"] != want {
				t.Errorf("%s without a password (%T): %v, want msg %q", c.src, nopw, r, want)
			}
		}
	}
}

// TestCopyResultKeys: a copy that writes reports md5sum beside checksum,
// as Ansible's copy and template do (ansible-core's template target
// asserts on both).
func TestCopyResultKeys(t *testing.T) {
	dir := t.TempDir()
	h := testHost(dir, connection.Local{})
	res, _ := runModule(t, h, "copy", map[string]any{"content": "hello\n", "dest": dir + "/x"}, false)
	if res["md5sum"] != "b1946ac92492d2347c6235b4d2611184" || res["checksum"] != "f572d396fae9206628714fb2ce00f72e94f2258f" {
		t.Errorf("result %v", res)
	}
	res, _ = runModule(t, h, "copy", map[string]any{"content": "hello\n", "dest": dir + "/x"}, false)
	if _, has := res["md5sum"]; has || res["changed"] == true {
		t.Errorf("unchanged copy: %v", res)
	}
}
