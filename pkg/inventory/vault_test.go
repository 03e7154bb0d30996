package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/vault"
)

func TestLoadVault(t *testing.T) {
	kr := vault.NewKeyring()
	if err := kr.Add("", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	enc := func(s string) string {
		b, err := vault.Encrypt([]byte(s), []byte("pw"), "")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	invFile := write("inv/hosts.yml", enc("all:\n  hosts:\n    web1:\n      "+
		strings.ReplaceAll(vault.FormatInline("inline_secret", []byte(enc("0644"))), "\n", "\n      ")+"\n"))
	write("inv/host_vars/web1.yml", enc("hv_secret: from host_vars\n"))
	write("play/group_vars/all/vault.yml", enc("gv_secret: from playbook group_vars\n"))

	inv, err := LoadWith([]string{invFile}, Options{Vault: kr})
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.AddVarsDir(filepath.Join(dir, "play")); err != nil {
		t.Fatal(err)
	}
	hv := inv.HostVars("web1")
	for k, want := range map[string]any{
		"inline_secret": "0644",
		"hv_secret":     "from host_vars",
		"gv_secret":     "from playbook group_vars",
	} {
		if hv[k] != want {
			t.Errorf("%s = %#v, want %#v", k, hv[k], want)
		}
	}

	_, err = Load([]string{invFile})
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrVaultEncrypted) || !strings.Contains(err.Error(), "pass --vault-password-file or --ask-vault-pass") {
		t.Errorf("without password: err = %v", err)
	}

	other := vault.NewKeyring()
	_ = other.Add("", []byte("other"))
	_, err = LoadWith([]string{invFile}, Options{Vault: other})
	if err == nil || !errors.Is(err, vault.ErrWrongPassword) || !strings.Contains(err.Error(), "hosts.yml:1: wrong vault password or corrupted inventory file") {
		t.Errorf("wrong password: err = %v", err)
	}
}
