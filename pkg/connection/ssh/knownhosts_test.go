package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestKnownLineMatches(t *testing.T) {
	t.Parallel()
	hashed := knownhosts.HashHostname("[web1]:2222")
	tests := []struct {
		patterns string
		hostport string
		want     bool
	}{
		{"web1", "web1:22", true},
		{"WEB1", "web1:22", true},
		{"web1", "web1:2222", false},
		{"[web1]:2222", "web1:2222", true},
		{"*", "web1:2222", true},
		{"*.example.com", "a.example.com:22", true},
		{"*.example.com", "example.com:22", false},
		{"web?", "web1:22", true},
		{"web?", "web10:22", false},
		{"*,!web1", "web1:22", false},
		{"!web1,web1", "web1:22", false},
		{"*,!web1", "web2:22", true},
		{"a,b,web1", "web1:22", true},
		{hashed, "web1:2222", true},
		{hashed, "web1:22", false},
		{"[::1]:2222", "[::1]:2222", true},
		{"::1", "[::1]:22", true},
	}
	for _, tt := range tests {
		if got := (knownLine{patterns: tt.patterns}).matches(knownName(tt.hostport)); got != tt.want {
			t.Errorf("%q matches %s = %v, want %v", tt.patterns, tt.hostport, got, tt.want)
		}
	}
}

func TestParseKnownHostsSkipsBadLines(t *testing.T) {
	t.Parallel()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := ssh.NewPublicKey(pub)
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	data := strings.Join([]string{
		"web1 " + key + " comment words",
		"@cert-authority *.example.com " + key,
		"@revoked * " + key,
		"@bogus web1 " + key,
		"web1",
		"web1 ssh-ed25519",
		"web1 ssh-rsa " + strings.Fields(key)[1],
		"web1 ssh-ed25519 !!!",
		"|1|bad web1 " + key,
		",,  " + key,
		"  # comment",
		"\t",
	}, "\n")
	db := parseKnownHosts("kh", []byte(data))
	if len(db.hosts) != 1 || len(db.cas) != 1 || len(db.revoked) != 1 {
		t.Errorf("hosts %d, cas %d, revoked %d; want 1 each", len(db.hosts), len(db.cas), len(db.revoked))
	}
	if len(db.skipped) != 7 {
		t.Fatalf("skipped %d lines, want 7: %q", len(db.skipped), db.skipped)
	}
	for i, msg := range db.skipped {
		if want := "kh:" + itoa(i+4) + ": "; !strings.HasPrefix(msg, want) {
			t.Errorf("skipped[%d] = %q, want it to start with %q", i, msg, want)
		}
	}
}

// TestWildcardMatchIsNotExponential: a pattern full of stars against a
// long name that does not match must return at once.
func TestWildcardMatchIsNotExponential(t *testing.T) {
	t.Parallel()
	pat := strings.Repeat("*a", 30) + "b"
	name := strings.Repeat("a", 200)
	start := time.Now()
	if wildcardMatch(pat, name) {
		t.Error("matched")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
}
