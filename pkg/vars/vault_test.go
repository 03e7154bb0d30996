package vars

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/vault"
)

func TestLoaderVault(t *testing.T) {
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
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	whole := write("whole.yml", enc("db_password: s3cret\nport: 5432\n"))
	inline := write("inline.yml", "user: app\n"+vault.FormatInline("db_password", []byte(enc("0644")))+"list:\n  - "+strings.ReplaceAll(vault.FormatInline("", []byte(enc("x"))), "\n", "\n    ")+"\n")
	wrong := write("wrong.yml", string(must(vault.Encrypt([]byte("a: 1"), []byte("other"), ""))))

	tests := []struct {
		name    string
		loader  Loader
		path    string
		want    map[string]any
		wantErr string
	}{
		{"whole file", Loader{Vault: kr}, whole, map[string]any{"db_password": "s3cret", "port": 5432}, ""},
		{"inline values stay strings", Loader{Vault: kr}, inline, map[string]any{"user": "app", "db_password": "0644", "list": []any{"x"}}, ""},
		{"no password, whole file", Loader{}, whole, nil, whole + " is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass"},
		{"no password, inline", Loader{}, inline, nil, inline + ":2:14 is vault-encrypted but no vault password was given"},
		{"wrong password", Loader{Vault: kr}, wrong, nil, "wrong vault password or corrupted file: " + wrong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.loader.LoadFile(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
	if _, err := LoadFile(whole); !errors.Is(err, vault.ErrNoSecret) {
		t.Errorf("package LoadFile: err = %v, want ErrNoSecret", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
