package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
)

func TestOpensshKeypair(t *testing.T) {
	needTool(t, "ssh-keygen")
	dir := t.TempDir()
	key := filepath.Join(dir, "id_test")
	h := testHost(dir, connection.Local{})
	state := func() string {
		out := ""
		for _, p := range []string{key, key + ".pub"} {
			b, _ := os.ReadFile(p)
			fi, err := os.Stat(p)
			if err == nil {
				out += fi.Mode().String() + " " + string(b) + "\n"
			}
		}
		return out
	}
	r := converges(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ed25519", "comment": "one@tend"}, state)
	pub := readFileT(t, key+".pub")
	if r["type"] != "ed25519" || r["size"] != 256 || r["comment"] != "one@tend" || !strings.HasPrefix(pub, r["public_key"].(string)+" one@tend") ||
		!strings.HasPrefix(r["fingerprint"].(string), "SHA256:") {
		t.Errorf("result %v, pub %q", r, pub)
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", fi.Mode())
	}
	priv := readFileT(t, key)
	// A new comment is set in place: same key.
	converges(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ed25519", "comment": "two@tend"}, state)
	if readFileT(t, key+".pub") == pub || !strings.HasSuffix(readFileT(t, key+".pub"), " two@tend\n") {
		t.Errorf("comment not changed: %q", readFileT(t, key+".pub"))
	}
	if out, _ := exec.Command("ssh-keygen", "-l", "-f", key).Output(); !strings.Contains(string(out), r["fingerprint"].(string)) {
		t.Errorf("key regenerated for a comment: %s", out)
	}
	// A missing public key is restored from the private key.
	os.Remove(key + ".pub")
	converges(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ed25519"}, state)
	// Mode applies to both files (ssh-keygen refuses private keys others
	// can read, in Ansible too).
	converges(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ed25519", "mode": "0600"}, state)
	for _, p := range []string{key, key + ".pub"} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", p, fi.Mode())
		}
	}
	// Another type regenerates (partial_idempotence); never keeps it.
	if r := execModule(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ecdsa", "regenerate": "never"}, false); r["changed"] != false || r["type"] != "ecdsa" {
		t.Errorf("regenerate=never: %v", r)
	}
	if r := execModule(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ecdsa", "regenerate": "fail"}, false); r["failed"] != true {
		t.Errorf("regenerate=fail: %v", r)
	}
	os.Chmod(key+".pub", 0o640)
	converges(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ecdsa", "size": 384}, state)
	if readFileT(t, key) == priv || !strings.HasPrefix(readFileT(t, key+".pub"), "ecdsa-sha2-nistp384 ") {
		t.Errorf("not regenerated: %q", readFileT(t, key+".pub"))
	}
	if fi, _ := os.Stat(key + ".pub"); fi.Mode().Perm() != 0o640 {
		t.Errorf("regenerated key lost its mode: %v", fi.Mode())
	}
	if r := execModule(t, h, "openssh_keypair", map[string]any{"path": key, "force": true, "type": "ecdsa", "size": 384}, false); r["changed"] != true {
		t.Errorf("force: %v", r)
	}
	// A broken key is not replaced unless regenerate says so.
	os.WriteFile(key, []byte("garbage\n"), 0o600)
	if r := execModule(t, h, "openssh_keypair", map[string]any{"path": key, "type": "ecdsa", "size": 384}, false); r["failed"] != true || !strings.Contains(r["msg"].(string), "Unable to read the key") {
		t.Errorf("broken key: %v", r)
	}
	converges(t, h, "openssh_keypair", map[string]any{"path": key, "type": "rsa", "size": 1024, "regenerate": "full_idempotence"}, state)
	converges(t, h, "openssh_keypair", map[string]any{"path": key, "state": "absent"}, state)
	if _, err := os.Stat(key + ".pub"); !os.IsNotExist(err) {
		t.Error("public key left")
	}
	for _, c := range []struct {
		args map[string]any
		msg  string
	}{
		{map[string]any{"path": key, "type": "rsa", "size": 512}, "minimum size is 1024"},
		{map[string]any{"path": key, "type": "ecdsa", "size": 300}, "256, 384 or 521"},
		{map[string]any{"path": key, "passphrase": "x"}, "cryptography backend"},
		{map[string]any{"path": filepath.Join(dir, "no", "key")}, "does not exist"},
		{map[string]any{"path": dir}, "is a directory"},
	} {
		if r := execModule(t, h, "openssh_keypair", c.args, false); r["failed"] != true || !strings.Contains(r["msg"].(string), c.msg) {
			t.Errorf("%v: %v, want %q", c.args, r, c.msg)
		}
	}
}
