package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/vault"
)

// vaultTree writes a playbook project whose secrets are all vault
// encrypted: inventory group_vars (whole file), host_vars (inline value),
// playbook-adjacent group_vars, vars_files, role defaults, include_vars
// and an -e @file.
func vaultTree(t *testing.T, password string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	enc := func(s string) string {
		b, err := vault.Encrypt([]byte(s), []byte(password), "")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	files := map[string]string{
		"pw":                             password + "\n",
		"inv/hosts":                      "[app]\nweb1 ansible_connection=local\n",
		"inv/group_vars/app.yml":         enc("group_secret: gs-1\n"),
		"inv/host_vars/web1.yml":         "plain: yes\n" + vault.FormatInline("host_secret", []byte(enc("hs-2"))),
		"play/group_vars/all.yml":        enc("license_key: LK-3\n"),
		"play/secrets.yml":               enc("db_password: \"p@ss w0rd\"\n"),
		"play/vars/inc.yml":              enc("inc_secret: is-4\n"),
		"play/roles/r/defaults/main.yml": enc("role_secret: rs-5\n"),
		"play/roles/r/tasks/main.yml":    "- set_fact:\n    from_role: '{{ role_secret }}'\n",
		"extra.yml":                      enc("extra_secret: es-6\n"),
		"play/minimal.yml":               "- hosts: app\n  gather_facts: false\n  vars_files: [secrets.yml]\n  tasks:\n    - debug: msg=hi\n",
		"play/site.yml": `- hosts: app
  gather_facts: false
  vars_files:
    - secrets.yml
  roles:
    - r
  tasks:
    - include_vars: inc.yml
    - copy:
        dest: "{{ out }}"
        content: "{{ [db_password, group_secret, host_secret, license_key, inc_secret, from_role, extra_secret] | join(',') }}"
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCLIStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"tend"}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPlayVault(t *testing.T) {
	dir := vaultTree(t, "s3cret vault pw")
	inv, site, pw := filepath.Join(dir, "inv", "hosts"), filepath.Join(dir, "play", "site.yml"), filepath.Join(dir, "pw")
	out := filepath.Join(dir, "out.txt")
	want := "p@ss w0rd,gs-1,hs-2,LK-3,is-4,rs-5,es-6"
	wrongPw := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrongPw, []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		stdin   string
		args    []string
		env     string
		code    int
		wantErr string
	}{
		{"password file", "", []string{"--vault-password-file", pw}, "", 0, ""},
		{"vault id", "", []string{"--vault-id", "prod@" + pw}, "", 0, ""},
		{"ask", "s3cret vault pw\n", []string{"--ask-vault-pass"}, "", 0, ""},
		{"env", "", nil, pw, 0, ""},
		{"no password", "", nil, "", 1, "extra.yml is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass"},
		{"wrong password", "", []string{"--vault-password-file", wrongPw}, "", 1, "wrong vault password or corrupted file: " + filepath.Join(dir, "extra.yml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ANSIBLE_VAULT_PASSWORD_FILE", tt.env)
			os.Remove(out)
			args := append([]string{"play", "-i", inv, "-e", "@" + filepath.Join(dir, "extra.yml"), "-e", "out=" + out, site}, tt.args...)
			code, stdout, stderr := runCLIStdin(t, tt.stdin, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, secret := range strings.Split(want, ",") {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("output shows secret %q:\n%s%s", secret, stdout, stderr)
				}
			}
			if tt.wantErr != "" {
				if !strings.Contains(stderr, tt.wantErr) {
					t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
				}
				return
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("secrets written: %q, want %q", got, want)
			}
		})
	}
	t.Run("no password, vars_files and group_vars only", func(t *testing.T) {
		t.Setenv("ANSIBLE_VAULT_PASSWORD_FILE", "")
		code, _, stderr := runCLIStdin(t, "", "play", "-i", inv, filepath.Join(dir, "play", "minimal.yml"))
		wantErr := filepath.Join(dir, "inv", "group_vars", "app.yml") + ":1: vars file is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass"
		if code != ExitError || !strings.Contains(stderr, wantErr) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, wantErr)
		}
	})
}

func TestPlayVaultVarsFilesNoPassword(t *testing.T) {
	t.Setenv("ANSIBLE_VAULT_PASSWORD_FILE", "")
	dir := vaultTree(t, "pw")
	inv := writeFile(t, dir, "plain-hosts", "[app]\nweb1 ansible_connection=local\n")
	if err := os.RemoveAll(filepath.Join(dir, "play", "group_vars")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "play", "-i", inv, filepath.Join(dir, "play", "minimal.yml"))
	wantErr := filepath.Join(dir, "play", "secrets.yml") + " is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass"
	if code == 0 || !strings.Contains(stdout+stderr, wantErr) {
		t.Errorf("exit %d, output %q%q; want failure and %q", code, stdout, stderr, wantErr)
	}
}

func TestInventoryVault(t *testing.T) {
	t.Setenv("ANSIBLE_VAULT_PASSWORD_FILE", "")
	dir := vaultTree(t, "pw")
	code, stdout, stderr := runCLI(t, "inventory", "-i", filepath.Join(dir, "inv", "hosts"), "--playbook-dir", filepath.Join(dir, "play"),
		"--host", "web1", "--vault-password-file", filepath.Join(dir, "pw"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"group_secret": "gs-1"`, `"host_secret": "hs-2"`, `"license_key": "LK-3"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inventory --host output lacks %s:\n%s", want, stdout)
		}
	}
}

func TestVaultCommand(t *testing.T) {
	t.Setenv("ANSIBLE_VAULT_PASSWORD_FILE", "")
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "pw\n")
	f := writeFile(t, dir, "secrets.yml", "key: value\n")
	// Flags after the file, as ansible-vault users write them.
	if code, _, stderr := runCLI(t, "vault", "encrypt", f, "--vault-password-file", pw); code != 0 {
		t.Fatalf("encrypt: %d %s", code, stderr)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(f)
	if st.Mode().Perm() != 0o600 || !vault.IsEncrypted(data) {
		t.Errorf("after encrypt: mode %v, encrypted %v", st.Mode().Perm(), vault.IsEncrypted(data))
	}
	if code, _, stderr := runCLI(t, "vault", "encrypt", "--vault-password-file", pw, f); code != 1 || !strings.Contains(stderr, "already vault-encrypted") {
		t.Errorf("encrypt twice: %d %s", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "vault", "view", "--vault-password-file", pw, f); code != 0 || stdout != "key: value\n" {
		t.Errorf("view: %d %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "vault", "view", f); code != 1 || !strings.Contains(stderr, "pass --vault-password-file or --ask-vault-pass") {
		t.Errorf("view without password: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "vault", "decrypt", "--vault-password-file", pw, f); code != 0 {
		t.Errorf("decrypt: %d %s", code, stderr)
	}
	if data, _ := os.ReadFile(f); string(data) != "key: value\n" {
		t.Errorf("after decrypt: %q", data)
	}
	code, stdout, stderr := runCLI(t, "vault", "encrypt_string", "--vault-id", "prod@"+pw, "--name", "db_password", "0644")
	if code != 0 || !strings.HasPrefix(stdout, "db_password: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Fatalf("encrypt_string: %d %q %s", code, stdout, stderr)
	}
	vf := writeFile(t, dir, "inline.yml", stdout)
	kr := vault.NewKeyring()
	_ = kr.Add("prod", []byte("pw"))
	data, _ = os.ReadFile(vf)
	i := bytes.Index(data, []byte("$ANSIBLE_VAULT"))
	if plain, err := kr.Decrypt(vf, data[i:]); err != nil || string(plain) != "0644" {
		t.Errorf("encrypt_string output decrypts to %q, %v", plain, err)
	}
}
