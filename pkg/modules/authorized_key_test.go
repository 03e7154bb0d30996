package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@a"
	keyB = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQBBBB bob@b"
)

func TestParseAuthKey(t *testing.T) {
	k, ok := parseAuthKey(`no-pty,command="echo a b" ` + keyA)
	if !ok || k.options != `no-pty,command="echo a b"` || k.typ != "ssh-ed25519" || k.comment != "alice@a" {
		t.Errorf("got %+v %v", k, ok)
	}
	if _, ok := parseAuthKey("# comment"); ok {
		t.Error("comment parsed as key")
	}
	if _, ok := parseAuthKey("garbage"); ok {
		t.Error("garbage parsed as key")
	}
}

func TestEditAuthorizedKeys(t *testing.T) {
	content := "# managed\n" + keyB + "\n"
	a, _ := parseAuthKey(keyA)
	aOpts := a
	aOpts.options = "no-agent-forwarding"
	b, _ := parseAuthKey(keyB)
	tests := []struct {
		name      string
		keys      []authKey
		state     string
		exclusive bool
		want      string
	}{
		{"add", []authKey{a}, "present", false, content + keyA + "\n"},
		{"present", []authKey{b}, "present", false, content},
		{"options change in place", []authKey{aOpts}, "present", false, "# managed\n" + keyB + "\nno-agent-forwarding " + keyA + "\n"},
		{"exclusive", []authKey{a}, "present", true, "# managed\n" + keyA + "\n"},
		{"absent", []authKey{b}, "absent", false, "# managed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := content
			if tt.name == "options change in place" {
				in = content + keyA + "\n"
			}
			if got := editAuthorizedKeys(in, tt.keys, tt.state, tt.exclusive); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	// A key without a comment is written as Ansible writes it ("type blob
	// ", with the space before the empty comment); a line already holding
	// the key, with or without that space, is left as it is.
	bare, _ := parseAuthKey("ssh-rsa ABC123")
	for _, tc := range []struct{ in, want string }{
		{"", "ssh-rsa ABC123 \n"},
		{"ssh-rsa ABC123 \n", "ssh-rsa ABC123 \n"},
		{"ssh-rsa ABC123\n", "ssh-rsa ABC123\n"},
	} {
		if got := editAuthorizedKeys(tc.in, []authKey{bare}, "present", false); got != tc.want {
			t.Errorf("key without comment into %q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := requestedKeys("not a key", "", nil); err == nil {
		t.Error("invalid key accepted")
	}
	c := "deploy"
	ks, _ := requestedKeys(keyA+"\n\n"+keyB+"\n", "from=\"10.0.0.1\"", &c)
	if len(ks) != 2 || ks[1].line() != `from="10.0.0.1" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQBBBB deploy` {
		t.Errorf("keys = %+v", ks)
	}
}

// TestAuthorizedKeyLocal manages a key file in a scratch directory for
// the current user on the controller.
func TestAuthorizedKeyLocal(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown to the looked-up user")
	}
	dir := filepath.Join(t.TempDir(), "ssh")
	path := filepath.Join(dir, "authorized_keys")
	args := map[string]any{"user": "root", "key": keyA + "\n" + keyB, "path": path}
	if r, _ := runLocal(t, AuthorizedKey{}, args, true); r["changed"] != true {
		t.Fatalf("check: %v", r)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("check mode created the directory")
	}
	if r, _ := runLocal(t, AuthorizedKey{}, args, false); r["changed"] != true {
		t.Fatalf("first: %v", r)
	}
	if r, _ := runLocal(t, AuthorizedKey{}, args, false); r["changed"] != false {
		t.Fatalf("second: %v", r)
	}
	st, _ := os.Stat(path)
	dst, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Errorf("modes %o %o", st.Mode().Perm(), dst.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if string(b) != keyA+"\n"+keyB+"\n" {
		t.Errorf("content %q", b)
	}
	r, _ := runLocal(t, AuthorizedKey{}, map[string]any{"user": "nosuchuser-tend", "key": keyA}, false)
	if r["failed"] != true || !strings.Contains(r["msg"].(string), "lookup user") {
		t.Errorf("unknown user: %v", r)
	}
}
