package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// BenchmarkHostKeyChecks500 is the host key work of one run against 500
// hosts whose ed25519 and ECDSA keys are in one known_hosts file (as the
// testbed writes it): per host, the algorithms to ask for and the check of
// the key it offers. One op is the whole run (500 hosts).
//
//	go test ./pkg/connection/ssh -run '^$' -bench HostKeyChecks500 -benchtime 5x
func BenchmarkHostKeyChecks500(b *testing.B) {
	const n = 500
	var kh strings.Builder
	keys := make([]ssh.PublicKey, n)
	addrs := make([]string, n)
	for i := range n {
		_, edPriv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		addrs[i] = net.JoinHostPort(fmt.Sprintf("10.231.%d.%d", 1+i/240, 10+i%240), "22")
		for j, priv := range []any{edPriv, ec} {
			s, err := ssh.NewSignerFromKey(priv)
			if err != nil {
				b.Fatal(err)
			}
			if j == 0 {
				keys[i] = s.PublicKey()
			}
			kh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addrs[i]), fmt.Sprintf("s%d", i)}, s.PublicKey()) + "\n")
		}
	}
	file := filepath.Join(b.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(kh.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	hk, err := newHostKeys(file, PolicyStrict, func(msg string) { b.Error(msg) })
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		for i, addr := range addrs {
			if algs := hk.algorithms(addr); len(algs) == 0 {
				b.Fatalf("no algorithms for %s", addr)
			}
			if err := hk.callback(addr)(addr, &net.TCPAddr{IP: net.ParseIP(strings.Split(addr, ":")[0]), Port: 22}, keys[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
