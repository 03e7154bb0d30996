package modules

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vault"
)

// TestUnarchiveIncludeDecrypt: include unpacks only the named members
// (a directory brings what is under it); a vault-encrypted controller
// archive is decrypted unless decrypt is false.
func TestUnarchiveIncludeDecrypt(t *testing.T) {
	src := t.TempDir()
	plain := makeTarGz(t, testMembers)
	os.WriteFile(filepath.Join(src, "a.tar.gz"), plain, 0o644)
	keys := vault.NewKeyring()
	if err := keys.Add("", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	enc, err := keys.Encrypt(plain, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "v.tar.gz"), enc, 0o644)
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Vault: keys}

	dest := t.TempDir()
	args := map[string]any{"src": filepath.Join(src, "a.tar.gz"), "dest": dest, "include": []any{"app/bin", "app/-dash"}, "list_files": true}
	r, _ := netRun(t, h, Unarchive{}, args, false)
	var got []string
	filepath.Walk(dest, func(p string, _ os.FileInfo, _ error) error {
		if p != dest {
			got = append(got, strings.TrimPrefix(p, dest+"/"))
		}
		return nil
	})
	sort.Strings(got)
	if r["changed"] != true || strings.Join(got, ",") != "app,app/-dash,app/bin,app/bin/run.sh" {
		t.Errorf("include: %v, unpacked %v", r, got)
	}
	if files, _ := r["files"].([]string); len(files) != 3 {
		t.Errorf("list_files with include: %v", r["files"])
	}
	if r, _ := netRun(t, h, Unarchive{}, args, false); r["changed"] != false {
		t.Errorf("include, second run: %v", r)
	}
	if _, err := (Unarchive{}).Spec().Validate(map[string]any{"src": "a", "dest": "b", "include": "x", "exclude": "y"}, false); err == nil {
		t.Error("include with exclude accepted")
	}

	dest = t.TempDir()
	r, _ = netRun(t, h, Unarchive{}, map[string]any{"src": filepath.Join(src, "v.tar.gz"), "dest": dest, "io_buffer_size": 4096}, false)
	if b, _ := os.ReadFile(filepath.Join(dest, "app/-dash")); r["changed"] != true || string(b) != "dash\n" {
		t.Errorf("decrypt: %v", r)
	}
	r, _ = netRun(t, h, Unarchive{}, map[string]any{"src": filepath.Join(src, "v.tar.gz"), "dest": t.TempDir(), "decrypt": false}, false)
	if !netFailed(r) {
		t.Errorf("decrypt false reads the vault file as an archive: %v", r)
	}
	r, _ = netRun(t, &module.Host{Name: "localhost", Conn: connection.Local{}}, Unarchive{}, map[string]any{"src": filepath.Join(src, "v.tar.gz"), "dest": t.TempDir()}, false)
	if !netFailed(r) || !strings.Contains(r["msg"].(string), "vault password") {
		t.Errorf("no vault password: %v", r)
	}
}
