package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is returned (wrapped in a connection.UnreachableError) when
// a host's key is unknown under the strict policy, differs from the one
// recorded in known_hosts, or is revoked there.
type HostKeyError struct {
	Host    string // host[:port] as written in known_hosts
	File    string // known_hosts file
	Line    int    // line of the recorded key; 0 for an unknown host
	Key     ssh.PublicKey
	Changed bool // true: a different key was recorded; false: none was
	Revoked bool // the key (or the CA that signed it) is listed as @revoked at File:Line
}

func (e *HostKeyError) Error() string {
	fp := ssh.FingerprintSHA256(e.Key)
	if e.Revoked {
		return fmt.Sprintf("host key of %s: %s key %s is revoked in %s:%d; refusing to connect",
			e.Host, e.Key.Type(), fp, e.File, e.Line)
	}
	if !e.Changed {
		return fmt.Sprintf("host key of %s (%s %s) is not in %s and the host key policy is strict; "+
			"verify the fingerprint and add it with: ssh-keyscan -p PORT HOST >> %s",
			e.Host, e.Key.Type(), fp, e.File, e.File)
	}
	host := e.Host
	return fmt.Sprintf("REMOTE HOST IDENTIFICATION HAS CHANGED for %s: it offered %s key %s, which does not match "+
		"the key recorded in %s:%d. Someone could be eavesdropping on you right now (man-in-the-middle attack), "+
		"or the host key was just changed. If you know the change is legitimate, remove the old key with: "+
		"ssh-keygen -R %s -f %s",
		host, e.Key.Type(), fp, e.File, e.Line, shellWord(host), shellWord(e.File))
}

// shellWord quotes s for a command suggested to the user.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// hostKeys verifies host keys against one known_hosts file. It is safe for
// concurrent use. The file is read under a shared flock and appended to
// under an exclusive one, so concurrent dials, in this process or in
// another tend, neither read a half-written line nor record a host twice.
type hostKeys struct {
	file   string
	policy string
	warn   func(string)

	mu     sync.Mutex // guards warned only; never held during I/O
	warned map[string]bool

	// The file is read for every dial (accept-new may have added a line
	// since), but parsed again only when its content changed: parsing
	// every key of a 500-host file for each of 500 dials took seconds.
	cacheMu   sync.Mutex
	cacheData []byte
	cacheDB   *knownHostsDB
}

func newHostKeys(file, policy string, warn func(string)) (*hostKeys, error) {
	switch policy {
	case PolicyAcceptNew, PolicyStrict, PolicyOff:
	default:
		return nil, fmt.Errorf("unknown host key policy %q (want accept-new, strict or off)", policy)
	}
	return &hostKeys{file: file, policy: policy, warn: warn, warned: map[string]bool{}}, nil
}

// load reads known_hosts; a missing file is an empty one. Lines it cannot
// parse are reported once each and skipped, as OpenSSH does, so that one
// bad line does not make every host unreachable.
func (h *hostKeys) load() (*knownHostsDB, error) {
	f, err := os.Open(h.file)
	if errors.Is(err, fs.ErrNotExist) {
		return parseKnownHosts(h.file, nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known_hosts %s: %w", h.file, err)
	}
	defer f.Close()
	// The shared lock keeps a concurrent append from showing as a torn
	// last line. Where files cannot be locked, reading without it is still
	// right: a torn line would only be skipped with a warning.
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts %s: %w", h.file, err)
	}
	h.cacheMu.Lock()
	if h.cacheDB != nil && bytes.Equal(h.cacheData, data) {
		db := h.cacheDB
		h.cacheMu.Unlock()
		return db, nil
	}
	h.cacheMu.Unlock()
	db := parseKnownHosts(h.file, data)
	h.reportSkipped(db)
	h.cacheMu.Lock()
	h.cacheData, h.cacheDB = data, db
	h.cacheMu.Unlock()
	return db, nil
}

func (h *hostKeys) reportSkipped(db *knownHostsDB) {
	for _, msg := range db.skipped {
		h.mu.Lock()
		seen := h.warned[msg]
		h.warned[msg] = true
		h.mu.Unlock()
		if !seen {
			h.warn("skipping known_hosts line " + msg)
		}
	}
}

// algorithms returns the host key algorithms to ask hostport for. A host
// known by, say, its ed25519 key is asked for that type only, so that it is
// not reported as changed when it would offer an ecdsa key first.
// Certificate algorithms come first when a @cert-authority line matches the
// host, as in OpenSSH, and are not asked for otherwise: a certificate no
// CA vouches for is worth no more than its plain key.
func (h *hostKeys) algorithms(hostport string) []string {
	if h.policy == PolicyOff {
		return nil
	}
	db, err := h.load()
	if err != nil {
		return nil
	}
	name := knownName(hostport)
	certs, plain := supportedHostKeyAlgorithms()
	var algos []string
	if db.hasAuthority(name) {
		algos = certs
	}
	if known := algorithmsFor(db.hostKeys(name)); len(known) > 0 {
		plain = known
	}
	return append(algos, plain...)
}

// supportedHostKeyAlgorithms splits the library's host key algorithms into
// certificate and plain ones, each in the library's order of preference.
func supportedHostKeyAlgorithms() (certs, plain []string) {
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if strings.Contains(a, "-cert-v01@") {
			certs = append(certs, a)
		} else {
			plain = append(plain, a)
		}
	}
	return certs, plain
}

// algorithmsFor returns the algorithms that ask for the keys of lines.
func algorithmsFor(lines []knownLine) []string {
	var algos []string
	seen := map[string]bool{}
	for _, l := range lines {
		as := []string{l.key.Type()}
		if as[0] == ssh.KeyAlgoRSA {
			as = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, a := range as {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// callback returns the HostKeyCallback for one dial. hostport is the
// address as the user named it (HostName and port), which is what
// known_hosts records, also when the TCP connection runs through a jump host.
func (h *hostKeys) callback(hostport string) ssh.HostKeyCallback {
	return func(_ string, remote net.Addr, key ssh.PublicKey) error {
		if h.policy == PolicyOff {
			h.warn(fmt.Sprintf("WARNING: host key checking is OFF: accepting %s key %s of %s without verification; anyone on the network path can impersonate this host",
				key.Type(), ssh.FingerprintSHA256(key), hostport))
			return nil
		}
		db, err := h.load()
		if err != nil {
			return err
		}
		if cert, ok := key.(*ssh.Certificate); ok {
			accepted, err := h.checkCert(db, hostport, remote, cert)
			if accepted || err != nil {
				return err
			}
			// As OpenSSH does, a certificate that no trusted CA vouches
			// for is checked as the plain key it certifies.
			key = cert.Key
		}
		unknown, err := h.verdict(db, hostport, key)
		if !unknown {
			return err
		}
		if h.policy == PolicyStrict {
			return &HostKeyError{Host: knownhosts.Normalize(hostport), File: h.file, Key: key}
		}
		return h.add(hostport, key)
	}
}

// checkCert accepts a host certificate signed by a CA that a matching
// @cert-authority line trusts, naming the host among its principals and
// within its validity interval. A revoked certificate key or CA is a final
// refusal (err); any other failure leaves the certified key to be checked
// as a plain key.
func (h *hostKeys) checkCert(db *knownHostsDB, hostport string, remote net.Addr, cert *ssh.Certificate) (bool, error) {
	for _, k := range []ssh.PublicKey{cert.Key, cert.SignatureKey} {
		if l, ok := db.revokedLine(k); ok {
			return false, &HostKeyError{Host: knownhosts.Normalize(hostport), File: h.file, Line: l.line, Key: k, Revoked: true}
		}
	}
	checker := &ssh.CertChecker{
		IsHostAuthority: func(auth ssh.PublicKey, addr string) bool { return db.isAuthority(auth, knownName(addr)) },
	}
	err := checker.CheckHostKey(hostport, remote, cert)
	if err == nil {
		return true, nil
	}
	h.warn(fmt.Sprintf("host certificate of %s (signed by %s CA %s) not accepted: %v; checking its key as a plain host key",
		knownhosts.Normalize(hostport), cert.SignatureKey.Type(), ssh.FingerprintSHA256(cert.SignatureKey), err))
	return false, nil
}

// verdict checks a plain key against db: nil when it is recorded for the
// host, a HostKeyError when it is revoked or the host has other keys, and
// unknown when the host has none.
func (h *hostKeys) verdict(db *knownHostsDB, hostport string, key ssh.PublicKey) (unknown bool, err error) {
	norm := knownhosts.Normalize(hostport)
	if l, ok := db.revokedLine(key); ok {
		return false, &HostKeyError{Host: norm, File: h.file, Line: l.line, Key: key, Revoked: true}
	}
	want := db.hostKeys(knownName(hostport))
	for _, w := range want {
		if bytes.Equal(w.key.Marshal(), key.Marshal()) {
			return false, nil
		}
	}
	if len(want) > 0 {
		return false, &HostKeyError{Host: norm, File: h.file, Line: want[0].line, Key: key, Changed: true}
	}
	return true, nil
}

// add appends key for hostport under an exclusive lock, re-checking the
// file as it is then in case another dial (or process) added the host
// meanwhile, and says what it added.
func (h *hostKeys) add(hostport string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return fmt.Errorf("create known_hosts %s: %w", h.file, err)
	}
	f, err := os.OpenFile(h.file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("add host key to %s: %w", h.file, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock known_hosts %s: %w", h.file, err)
	}
	// Closing f releases the lock.
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read known_hosts %s: %w", h.file, err)
	}
	if unknown, err := h.verdict(parseKnownHosts(h.file, data), hostport, key); !unknown {
		return err
	}
	norm := knownhosts.Normalize(hostport)
	line := knownhosts.Line([]string{norm}, key) + "\n"
	// A file not ending in a newline would glue our entry to its last line.
	if len(data) > 0 && data[len(data)-1] != '\n' {
		line = "\n" + line
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("add host key to %s: %w", h.file, err)
	}
	h.warn(fmt.Sprintf("Permanently added %s key %s for %s to %s", key.Type(), ssh.FingerprintSHA256(key), norm, h.file))
	return nil
}
