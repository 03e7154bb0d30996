package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyringDecrypt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wrong := writeFile(t, dir, "wrong", "nope\n", 0o600)
	script := writeFile(t, dir, "pw.sh", "#!/bin/sh\necho 'correct horse battery staple'\n", 0o700)
	client := writeFile(t, dir, "pw-client.sh", "#!/bin/sh\n[ \"$1\" = --vault-id ] && [ \"$2\" = prod ] && printf 'prod-secret-ä\\r\\n'\n", 0o700)
	fail := writeFile(t, dir, "fail.sh", "#!/bin/sh\necho oops >&2; exit 3\n", 0o700)
	empty := writeFile(t, dir, "empty", " \n", 0o600)
	pw11, pw12 := filepath.Join("testdata", "password.txt"), filepath.Join("testdata", "prod-password.txt")
	prompt := func(p string) (string, error) { return "correct horse battery staple", nil }

	tests := []struct {
		name    string
		src     Sources
		file    string
		wantErr string // substring; "" means success
		loadErr string
	}{
		{"password file", Sources{PasswordFiles: []string{pw11}}, "ansible-1.1.yml", "", ""},
		{"wrong then right", Sources{PasswordFiles: []string{wrong, pw11}}, "ansible-1.1.yml", "", ""},
		{"executable script", Sources{PasswordFiles: []string{script}}, "ansible-1.1.yml", "", ""},
		{"vault id file", Sources{IDs: []string{"prod@" + pw12}}, "ansible-1.2.yml", "", ""},
		{"vault id client script", Sources{IDs: []string{"prod@" + client}}, "ansible-1.2.yml", "", ""},
		{"id mismatch still tried", Sources{IDs: []string{"dev@" + pw12}}, "ansible-1.2.yml", "", ""},
		{"ask", Sources{Ask: true, Prompt: prompt}, "ansible-1.1.yml", "", ""},
		{"vault id prompt", Sources{IDs: []string{"x@prompt"}, Prompt: prompt}, "ansible-1.1.yml", "", ""},
		{"env file", Sources{EnvPasswordFile: pw11}, "ansible-1.1.yml", "", ""},
		{"env tried after flags", Sources{PasswordFiles: []string{wrong}, EnvPasswordFile: pw11}, "ansible-1.1.yml", "", ""},
		{"wrong password", Sources{PasswordFiles: []string{wrong}}, "ansible-1.1.yml", "wrong vault password or corrupted file: testdata/ansible-1.1.yml", ""},
		{"no password", Sources{}, "ansible-1.1.yml", "testdata/ansible-1.1.yml is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass", ""},
		{"failing script", Sources{PasswordFiles: []string{fail}}, "", "", "exit status 3: oops"},
		{"empty password file", Sources{PasswordFiles: []string{empty}}, "", "", "empty password"},
		{"missing password file", Sources{PasswordFiles: []string{filepath.Join(dir, "missing")}}, "", "", "no such file"},
		{"vault id without source", Sources{IDs: []string{"prod@"}}, "", "", "no password source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Load(ctx, tt.src)
			if tt.loadErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.loadErr) {
					t.Fatalf("Load err = %v, want %q", err, tt.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", tt.file)
			got, err := k.Decrypt(file, readFile(t, tt.file))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(readFile(t, "plain.yml")) {
				t.Errorf("decrypted %q", got)
			}
		})
	}
}

func TestKeyringErrorsKeepSecrets(t *testing.T) {
	k := NewKeyring()
	if err := k.Add("", []byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	_, err := k.Decrypt("f.yml", readFile(t, "ansible-1.1.yml"))
	if !errors.Is(err, ErrWrongPassword) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v", err)
	}
	var nilRing *Keyring
	if _, err := nilRing.Decrypt("f.yml", readFile(t, "ansible-1.1.yml")); !errors.Is(err, ErrNoSecret) {
		t.Errorf("nil keyring: err = %v, want ErrNoSecret", err)
	}
}

func TestKeyringEncrypt(t *testing.T) {
	k := NewKeyring()
	if _, err := k.Encrypt([]byte("x"), ""); !errors.Is(err, ErrNoSecret) {
		t.Errorf("empty keyring: err = %v", err)
	}
	_ = k.Add("", []byte("a"))
	_ = k.Add("prod", []byte("b"))
	for _, tt := range []struct{ id, header string }{
		{"", "$ANSIBLE_VAULT;1.1;AES256\n"},
		{"prod", "$ANSIBLE_VAULT;1.2;AES256;prod\n"},
	} {
		out, err := k.Encrypt([]byte("secret"), tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(out), tt.header) {
			t.Errorf("id %q: header %q", tt.id, out[:32])
		}
		got, err := k.Decrypt("x", out)
		if err != nil || string(got) != "secret" {
			t.Errorf("id %q: %q, %v", tt.id, got, err)
		}
	}
	if _, err := k.Encrypt([]byte("x"), "nope"); err == nil {
		t.Error("unknown id: no error")
	}
}

// TestKeyringConcurrent decrypts from many goroutines; run with -race.
func TestKeyringConcurrent(t *testing.T) {
	k := NewKeyring()
	_ = k.Add("", password(t, "password.txt"))
	data := readFile(t, "ansible-1.1.yml")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := k.Decrypt("f", data); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A password script named without a directory is the file in the current
// directory, as in Ansible, never a command of the same name on PATH.
func TestPasswordScriptRelativePath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw.sh", "#!/bin/sh\necho 'correct horse battery staple'\n", 0o700)
	writeFile(t, dir, "true", "#!/bin/sh\necho 'not the one on PATH'\n", 0o700)
	t.Chdir(dir)
	for name, want := range map[string]string{"pw.sh": "correct horse battery staple", "true": "not the one on PATH"} {
		got, err := ReadPasswordFile(context.Background(), name, "")
		if err != nil || string(got) != want {
			t.Errorf("ReadPasswordFile(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}
