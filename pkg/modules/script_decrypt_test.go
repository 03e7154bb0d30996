package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vault"
)

// TestScriptDecrypt: a vault-encrypted script runs decrypted; with
// decrypt false the encrypted text is uploaded (and fails to run).
func TestScriptDecrypt(t *testing.T) {
	dir := t.TempDir()
	keys := vault.NewKeyring()
	if err := keys.Add("", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	enc, err := keys.Encrypt([]byte("#!/bin/sh\necho secret-script\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "s.sh"), enc, 0o644)
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Vault: keys, Env: map[string]string{"TMPDIR": t.TempDir()}}
	r, _ := netRun(t, h, Script{}, map[string]any{"cmd": filepath.Join(dir, "s.sh")}, false)
	if netFailed(r) || strings.TrimSpace(r["stdout"].(string)) != "secret-script" {
		t.Errorf("decrypted: %v", r)
	}
	r, _ = netRun(t, h, Script{}, map[string]any{"cmd": filepath.Join(dir, "s.sh"), "decrypt": false}, false)
	if !netFailed(r) || strings.Contains(r["stdout"].(string), "secret-script") {
		t.Errorf("decrypt false: %v", r)
	}
	h.Vault = nil
	r, _ = netRun(t, h, Script{}, map[string]any{"cmd": filepath.Join(dir, "s.sh")}, false)
	if !netFailed(r) || !strings.Contains(r["msg"].(string), "vault password") {
		t.Errorf("no password: %v", r)
	}
}
