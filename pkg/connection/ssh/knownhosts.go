package ssh

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsDB is one reading of a known_hosts file, parsed line by line as
// OpenSSH does: a line that cannot be parsed is skipped (and reported in
// skipped) instead of making the whole file unusable.
type knownHostsDB struct {
	file    string
	hosts   []knownLine // plain host keys
	cas     []knownLine // @cert-authority lines
	revoked []knownLine // @revoked lines
	skipped []string    // "file:line: reason" of the lines skipped
}

// knownLine is one usable line of known_hosts.
type knownLine struct {
	line     int
	patterns string // the host field: patterns or one |1|salt|hash
	key      ssh.PublicKey
}

const (
	markerCA      = "@cert-authority"
	markerRevoked = "@revoked"
)

// parseKnownHosts reads a known_hosts file's content. It never fails: bad
// lines are listed in the result's skipped.
func parseKnownHosts(file string, data []byte) *knownHostsDB {
	db := &knownHostsDB{file: file}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(string(raw))
		if text == "" || text[0] == '#' {
			continue
		}
		marker, l, err := parseKnownLine(text)
		if err != nil {
			db.skipped = append(db.skipped, fmt.Sprintf("%s:%d: %v", file, i+1, err))
			continue
		}
		l.line = i + 1
		switch marker {
		case markerCA:
			db.cas = append(db.cas, l)
		case markerRevoked:
			db.revoked = append(db.revoked, l)
		default:
			db.hosts = append(db.hosts, l)
		}
	}
	return db
}

func parseKnownLine(text string) (marker string, l knownLine, err error) {
	f := strings.Fields(text)
	if strings.HasPrefix(f[0], "@") {
		if f[0] != markerCA && f[0] != markerRevoked {
			return "", l, fmt.Errorf("unknown marker %q (want @cert-authority or @revoked)", f[0])
		}
		marker, f = f[0], f[1:]
	}
	if len(f) < 3 {
		return "", l, errors.New("want host patterns, key type and key")
	}
	if err := checkPatterns(f[0]); err != nil {
		return "", l, err
	}
	blob, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil {
		return "", l, fmt.Errorf("key is not base64: %w", err)
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return "", l, fmt.Errorf("parse key: %w", err)
	}
	if key.Type() != f[1] {
		return "", l, fmt.Errorf("key type %s does not match the key, which is %s", f[1], key.Type())
	}
	if _, isCert := key.(*ssh.Certificate); isCert {
		return "", l, errors.New("a certificate is not a host key; list its CA with @cert-authority")
	}
	return marker, knownLine{patterns: f[0], key: key}, nil
}

func checkPatterns(field string) error {
	if strings.HasPrefix(field, "|") {
		_, _, err := decodeHashed(field)
		return err
	}
	for _, p := range strings.Split(field, ",") {
		if p == "" || p == "!" {
			return fmt.Errorf("empty host pattern in %q", field)
		}
	}
	return nil
}

// decodeHashed splits a hashed host field, |1|base64(salt)|base64(hash).
func decodeHashed(field string) (salt, hash []byte, err error) {
	parts := strings.Split(field, "|")
	if len(parts) != 4 || parts[1] != "1" {
		return nil, nil, fmt.Errorf("hashed host %q is not |1|salt|hash", field)
	}
	if salt, err = base64.StdEncoding.DecodeString(parts[2]); err != nil {
		return nil, nil, fmt.Errorf("hashed host salt: %w", err)
	}
	if hash, err = base64.StdEncoding.DecodeString(parts[3]); err != nil {
		return nil, nil, fmt.Errorf("hashed host hash: %w", err)
	}
	return salt, hash, nil
}

// knownName is hostport as known_hosts names it: "host" on port 22,
// "[host]:port" otherwise, lower-cased as OpenSSH does before matching.
func knownName(hostport string) string {
	return strings.ToLower(knownhosts.Normalize(hostport))
}

// matches reports whether the line's host field matches name (from
// knownName). As in OpenSSH, patterns are matched against the whole name,
// so "*" matches hosts on every port, and a matching negated pattern
// excludes the host whatever else matches.
func (l knownLine) matches(name string) bool {
	if strings.HasPrefix(l.patterns, "|") {
		salt, hash, err := decodeHashed(l.patterns)
		if err != nil {
			return false
		}
		mac := hmac.New(sha1.New, salt)
		mac.Write([]byte(name))
		return hmac.Equal(mac.Sum(nil), hash)
	}
	matched := false
	for _, p := range strings.Split(strings.ToLower(l.patterns), ",") {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if wildcardMatch(neg, name) {
				return false
			}
			continue
		}
		if wildcardMatch(p, name) {
			matched = true
		}
	}
	return matched
}

// wildcardMatch matches s against pat, where * is any run of characters
// and ? any one character. It backtracks only to the last star, so a
// pattern full of stars takes O(len(pat)*len(s)), not exponential time.
func wildcardMatch(pat, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && (pat[p] == '?' || pat[p] == s[i]):
			p++
			i++
		case p < len(pat) && pat[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// revokedLine returns the @revoked line listing key, if any. Revocation
// holds for every host, whatever the line's patterns: a key said never to
// be trusted is not trusted anywhere.
func (db *knownHostsDB) revokedLine(key ssh.PublicKey) (knownLine, bool) {
	for _, l := range db.revoked {
		if bytes.Equal(l.key.Marshal(), key.Marshal()) {
			return l, true
		}
	}
	return knownLine{}, false
}

// hostKeys returns the plain keys recorded for name.
func (db *knownHostsDB) hostKeys(name string) []knownLine {
	var out []knownLine
	for _, l := range db.hosts {
		if l.matches(name) {
			out = append(out, l)
		}
	}
	return out
}

// isAuthority reports whether key is a CA trusted for name.
func (db *knownHostsDB) isAuthority(key ssh.PublicKey, name string) bool {
	for _, l := range db.cas {
		if l.matches(name) && bytes.Equal(l.key.Marshal(), key.Marshal()) {
			return true
		}
	}
	return false
}

// hasAuthority reports whether any CA is trusted for name.
func (db *knownHostsDB) hasAuthority(name string) bool {
	for _, l := range db.cas {
		if l.matches(name) {
			return true
		}
	}
	return false
}
