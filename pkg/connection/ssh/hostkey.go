package ssh

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
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
// a host's key is unknown under the strict policy or differs from the one
// recorded in known_hosts.
type HostKeyError struct {
	Host    string // host[:port] as written in known_hosts
	File    string // known_hosts file
	Line    int    // line of the recorded key; 0 for an unknown host
	Key     ssh.PublicKey
	Changed bool // true: a different key was recorded; false: none was
}

func (e *HostKeyError) Error() string {
	fp := ssh.FingerprintSHA256(e.Key)
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
// concurrent use; appends are serialised with a mutex and, across
// processes, an flock on the file.
type hostKeys struct {
	file   string
	policy string
	warn   func(string)

	mu       sync.Mutex
	warnedCA bool
	probe    ssh.PublicKey // a random key no host has: asks the DB for a host's known keys
}

func newHostKeys(file, policy string, warn func(string)) (*hostKeys, error) {
	switch policy {
	case PolicyAcceptNew, PolicyStrict, PolicyOff:
	default:
		return nil, fmt.Errorf("unknown host key policy %q (want accept-new, strict or off)", policy)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate probe key: %w", err)
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("generate probe key: %w", err)
	}
	return &hostKeys{file: file, policy: policy, warn: warn, probe: probe}, nil
}

// db loads the current known_hosts: a knownhosts callback plus the line
// numbers of @cert-authority entries, whose keys are CA keys and must not
// be taken for a host's own key.
func (h *hostKeys) db() (ssh.HostKeyCallback, map[int]bool, error) {
	if err := h.ensureFile(); err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(h.file)
	if err != nil {
		return nil, nil, fmt.Errorf("read known_hosts %s: %w", h.file, err)
	}
	caLines := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "@cert-authority") {
			caLines[n] = true
		}
	}
	if len(caLines) > 0 {
		h.mu.Lock()
		if !h.warnedCA {
			h.warnedCA = true
			h.warn(fmt.Sprintf("known_hosts %s: @cert-authority lines are ignored by tend; host certificates are not used, plain host keys are checked", h.file))
		}
		h.mu.Unlock()
	}
	cb, err := knownhosts.New(h.file)
	if err != nil {
		return nil, nil, fmt.Errorf("known_hosts %s: %w", h.file, err)
	}
	return cb, caLines, nil
}

func (h *hostKeys) ensureFile() error {
	if _, err := os.Stat(h.file); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return fmt.Errorf("create known_hosts %s: %w", h.file, err)
	}
	f, err := os.OpenFile(h.file, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create known_hosts %s: %w", h.file, err)
	}
	return f.Close()
}

// lookup asks known_hosts about key for hostport. It returns the hosts'
// recorded keys when they differ (want non-empty), nothing when key is
// known, and unknown=true when the host has no entry.
func lookup(cb ssh.HostKeyCallback, ca map[int]bool, hostport string, remote net.Addr, key ssh.PublicKey) (want []knownhosts.KnownKey, unknown bool, err error) {
	err = cb(hostport, remote, key)
	if err == nil {
		return nil, false, nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil, false, err
	}
	for _, w := range ke.Want {
		if !ca[w.Line] {
			want = append(want, w)
		}
	}
	return want, len(want) == 0, nil
}

// algorithms returns the host key algorithms to ask hostport for, so that
// a host known by, say, its ed25519 key is not reported as changed when it
// would offer an ecdsa key first. Nil means the library default.
func (h *hostKeys) algorithms(hostport string) []string {
	if h.policy == PolicyOff {
		return nil
	}
	cb, ca, err := h.db()
	if err != nil {
		return nil
	}
	want, _, err := lookup(cb, ca, hostport, fakeAddr{}, h.probe)
	if err != nil || len(want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range want {
		t := w.Key.Type()
		var as []string
		if t == ssh.KeyAlgoRSA {
			as = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		} else {
			as = []string{t}
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
		cb, ca, err := h.db()
		if err != nil {
			return err
		}
		want, unknown, err := lookup(cb, ca, hostport, remote, key)
		if err != nil {
			return err
		}
		norm := knownhosts.Normalize(hostport)
		if len(want) > 0 {
			return &HostKeyError{Host: norm, File: want[0].Filename, Line: want[0].Line, Key: key, Changed: true}
		}
		if !unknown {
			return nil
		}
		if h.policy == PolicyStrict {
			return &HostKeyError{Host: norm, File: h.file, Key: key}
		}
		return h.add(hostport, remote, key)
	}
}

// add appends key for hostport, re-checking under the lock in case another
// dial (or process) added the host meanwhile.
func (h *hostKeys) add(hostport string, remote net.Addr, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("add host key to %s: %w", h.file, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", h.file, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	cb, ca, err := h.db()
	if err != nil {
		return err
	}
	want, unknown, err := lookup(cb, ca, hostport, remote, key)
	if err != nil {
		return err
	}
	if len(want) > 0 {
		return &HostKeyError{Host: knownhosts.Normalize(hostport), File: want[0].Filename, Line: want[0].Line, Key: key, Changed: true}
	}
	if !unknown {
		return nil
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key) + "\n"
	// A file not ending in a newline would glue our entry to its last line.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if last, err := lastByte(h.file); err == nil && last != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("add host key to %s: %w", h.file, err)
	}
	return nil
}

func lastByte(file string) (byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b := make([]byte, 1)
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if _, err := f.ReadAt(b, st.Size()-1); err != nil {
		return 0, err
	}
	return b[0], nil
}

// fakeAddr stands in for the remote address when probing known_hosts.
type fakeAddr struct{}

func (fakeAddr) Network() string { return "tcp" }
func (fakeAddr) String() string  { return "0.0.0.0:0" }
