package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestAuth(t *testing.T) {
	f := newFixture(t, "")
	t.Setenv("SSH_AUTH_SOCK", "") // no agent unless a case starts one
	t.Setenv("HOME", f.dir)       // no default keys from the real ~/.ssh
	keys := map[string]*sshtest.Key{}
	for _, kt := range []string{"ed25519", "ecdsa", "rsa"} {
		keys[kt] = sshtest.GenerateKey(t, f.dir, kt, "")
	}
	locked := sshtest.GenerateKey(t, f.dir, "ed25519", "s3cret pass")
	agentKey := sshtest.GenerateKey(t, f.dir, "ed25519", "")
	for _, k := range []*sshtest.Key{keys["ecdsa"], keys["rsa"], locked, agentKey} {
		f.srv.Authorize(t, f.user.Name, k)
	}
	passFile := filepath.Join(f.dir, "passphrase")
	os.WriteFile(passFile, []byte(locked.Passphrase+"\n"), 0o600)
	wrongPassFile := filepath.Join(f.dir, "wrong")
	os.WriteFile(wrongPassFile, []byte("nope\n"), 0o600)
	agentSock := sshtest.StartAgent(t, agentKey)

	base := map[string]any{"ansible_host": f.srv.Host, "ansible_port": f.srv.Port, "ansible_user": f.user.Name}
	keyVars := func(k *sshtest.Key) map[string]any { return with(base, "ansible_ssh_private_key_file", k.Path) }
	tests := []struct {
		name    string
		vars    map[string]any
		opts    func(*Options)
		agent   bool
		wantErr string // "" means the login must work
	}{
		{name: "ed25519 key", vars: keyVars(f.key)},
		{name: "ecdsa key", vars: keyVars(keys["ecdsa"])},
		{name: "rsa key", vars: keyVars(keys["rsa"])},
		{name: "key via -i in common args", vars: with(base, "ansible_ssh_common_args", "-i "+keys["rsa"].Path)},
		{name: "passphrase file", vars: keyVars(locked), opts: func(o *Options) { o.PassphraseFile = passFile }},
		{name: "passphrase prompt", vars: keyVars(locked), opts: func(o *Options) {
			o.AskPass = func(prompt string) (string, error) {
				if !strings.Contains(prompt, locked.Path) {
					return "", fmt.Errorf("prompt %q does not name the key", prompt)
				}
				return locked.Passphrase, nil
			}
		}},
		{name: "passphrase but no way to ask", vars: keyVars(locked), wantErr: "passphrase-protected"},
		{name: "wrong passphrase file", vars: keyVars(locked), opts: func(o *Options) { o.PassphraseFile = wrongPassFile }, wantErr: "does not decrypt"},
		{name: "agent", vars: base, agent: true},
		{name: "agent with IdentitiesOnly and another key", vars: with(keyVars(f.key), "ansible_ssh_common_args", "-o IdentitiesOnly=yes"), agent: true},
		{name: "password", vars: with(base, "ansible_password", f.user.Password)},
		{name: "ansible_ssh_pass", vars: with(base, "ansible_ssh_pass", f.user.Password)},
		{name: "ask-pass", vars: base, opts: func(o *Options) {
			o.AskLoginPassword = true
			o.AskPass = func(string) (string, error) { return f.user.Password, nil }
		}},
		{name: "wrong password", vars: with(base, "ansible_password", "wrong"), wantErr: "authentication failed for " + f.user.Name + "@"},
		{name: "unauthorized key", vars: keyVars(sshtest.GenerateKey(t, f.dir, "ed25519", "")), wantErr: "authentication failed"},
		{name: "no credentials", vars: base, wantErr: "authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.agent {
				t.Setenv("SSH_AUTH_SOCK", agentSock)
			}
			o := f.opts()
			if tt.opts != nil {
				tt.opts(&o)
			}
			p := f.poolWith(t, o)
			c, err := p.Get(ctxT(t), "target", tt.vars)
			if tt.wantErr != "" {
				if !errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrUnreachable with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := mustOut(t, c, "id -un", nil); got != f.user.Name+"\n" {
				t.Errorf("logged in as %q", got)
			}
		})
	}
}

func TestHostKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	dial := func(o Options) error {
		p := NewPool(o)
		defer p.Close()
		_, err := p.Get(ctxT(t), "target", f.vars())
		return err
	}
	known := filepath.Join(f.dir, "sub", "known_hosts") // directory does not exist yet
	o := f.opts()
	o.KnownHostsFile = known

	t.Run("strict refuses an unknown host", func(t *testing.T) {
		o := o
		o.HostKeyPolicy = PolicyStrict
		err := dial(o)
		if !errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), "not in "+known) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("accept-new records the key", func(t *testing.T) {
		if err := dial(o); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(known)
		if want := f.srv.KnownHostsLine(); strings.TrimSpace(string(b)) != want {
			t.Fatalf("known_hosts:\n%s\nwant\n%s", b, want)
		}
		if st, _ := os.Stat(known); st.Mode().Perm() != 0o600 {
			t.Errorf("known_hosts mode %o", st.Mode().Perm())
		}
		o := o
		o.HostKeyPolicy = PolicyStrict
		if err := dial(o); err != nil {
			t.Fatalf("strict after accept-new: %v", err)
		}
	})
	t.Run("hashed entries and cert-authority lines", func(t *testing.T) {
		hashed := filepath.Join(f.dir, "hashed")
		os.WriteFile(hashed, []byte("@cert-authority * "+strings.SplitN(f.srv.KnownHostsLine(), " ", 2)[1]+"\n"+f.srv.KnownHostsLine()+"\n"), 0o600)
		if out, err := exec.Command("ssh-keygen", "-H", "-f", hashed).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -H: %v: %s", err, out)
		}
		b, _ := os.ReadFile(hashed)
		if !strings.Contains(string(b), "|1|") {
			t.Fatalf("not hashed: %s", b)
		}
		// The CA line holds a key of the same type: it must not be taken
		// for the host's own key.
		o := o
		o.KnownHostsFile = hashed
		o.HostKeyPolicy = PolicyStrict
		w := &warnings{}
		o.Warn = w.add
		if err := dial(o); err != nil {
			t.Fatal(err)
		}
		if msgs := w.all(); len(msgs) != 0 {
			t.Errorf("warnings %q, want none", msgs)
		}
	})
	outer := t
	t.Run("changed key is refused", func(t *testing.T) {
		f.srv.Kill()
		f.srv = sshtest.StartServer(outer, sshtest.ServerOptions{Port: f.srv.Port})
		f.srv.Authorize(outer, f.user.Name, f.key)
		for _, policy := range []string{PolicyAcceptNew, PolicyStrict} {
			o := o
			o.HostKeyPolicy = policy
			err := dial(o)
			if !errors.Is(err, connection.ErrUnreachable) {
				t.Fatalf("%s: err = %v, want ErrUnreachable", policy, err)
			}
			var hke *HostKeyError
			if !errors.As(err, &hke) || !hke.Changed {
				t.Fatalf("%s: err = %v, want a changed-key HostKeyError", policy, err)
			}
			for _, want := range []string{"man-in-the-middle", known + ":1", "ssh-keygen -R '[127.0.0.1]:", "-f " + known} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error lacks %q:\n%v", policy, want, err)
				}
			}
		}
		b, _ := os.ReadFile(known)
		if strings.Count(string(b), "\n") != 1 {
			t.Errorf("known_hosts was modified:\n%s", b)
		}
	})
	t.Run("off accepts with a warning", func(t *testing.T) {
		o := o
		o.HostKeyPolicy = PolicyOff
		w := &warnings{}
		o.Warn = w.add
		if err := dial(o); err != nil {
			t.Fatal(err)
		}
		if msgs := w.all(); len(msgs) == 0 || !strings.Contains(msgs[0], "host key checking is OFF") {
			t.Errorf("warnings %q", msgs)
		}
	})
}

// TestAcceptNewConcurrentHosts dials several hosts many times at once,
// each dial through its own pool (so only the file lock orders the
// appends), into a known_hosts that holds a @cert-authority line.
func TestAcceptNewConcurrentHosts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	var srvs []*sshtest.Server
	for i := 0; i < 5; i++ {
		s := sshtest.StartServer(t, sshtest.ServerOptions{})
		s.Authorize(t, f.user.Name, f.key)
		srvs = append(srvs, s)
	}
	ca := sshtest.GenerateKey(t, f.dir, "ed25519", "")
	head := "@cert-authority *.example.com " + keyField(ca.Public) + "\n"
	os.WriteFile(f.known, []byte(head), 0o600)
	w := &warnings{}
	o := f.opts()
	o.Warn = w.add
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		s := srvs[i%len(srvs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- dialWithin(t, o, with(f.vars(), "ansible_port", s.Port))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(f.known)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 1+len(srvs) || !strings.HasPrefix(string(b), head) {
		t.Errorf("known_hosts has %d lines, want the CA line and one per host:\n%s", len(lines), b)
	}
	for _, s := range srvs {
		if n := strings.Count(string(b), s.KnownHostsLine()+"\n"); n != 1 {
			t.Errorf("known_hosts holds %s %d times:\n%s", s.Addr(), n, b)
		}
	}
	if n := len(w.all()); n != len(srvs) {
		t.Errorf("%d messages, want one per added key: %q", n, w.all())
	}
}

func TestProxyJump(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	bastion := sshtest.StartServer(t, sshtest.ServerOptions{ExtraConfig: "LogLevel DEBUG1"})
	bastion.Authorize(t, f.user.Name, f.key)
	second := sshtest.StartServer(t, sshtest.ServerOptions{})
	second.Authorize(t, f.user.Name, f.key)
	jump := f.user.Name + "@" + bastion.Addr()

	cfg := filepath.Join(f.dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Host behind-*
    HostName 127.0.0.1
    User %s
    IdentityFile %s
    ProxyJump gate
Host behind-1
    Port %d
Host behind-2
    Port %d
Host gate
    HostName %s
    Port %d
    User %s
`, f.user.Name, f.key.Path, f.srv.Port, second.Port, bastion.Host, bastion.Port, f.user.Name)), 0o600)

	for _, tc := range []struct {
		name  string
		opts  func(*Options)
		vars1 map[string]any
		vars2 map[string]any
	}{
		{name: "ansible_ssh_common_args -J",
			vars1: with(f.vars(), "ansible_ssh_common_args", "-J "+jump),
			vars2: with(f.vars(), "ansible_port", second.Port, "ansible_ssh_common_args", "-o ProxyJump="+jump)},
		{name: "ssh_config ProxyJump", opts: func(o *Options) { o.SSHConfigFile = cfg },
			vars1: map[string]any{}, vars2: map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := strings.Count(bastion.Logs(), "Accepted publickey")
			o := f.opts()
			if tc.opts != nil {
				tc.opts(&o)
			}
			p := f.poolWith(t, o)
			c1, err := p.Get(ctxT(t), "behind-1", tc.vars1)
			if err != nil {
				t.Fatal(err)
			}
			c2, err := p.Get(ctxT(t), "behind-2", tc.vars2)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []connection.Connection{c1, c2} {
				if got := mustOut(t, c, "echo $SSH_CONNECTION", nil); !strings.HasPrefix(got, "127.0.0.1") {
					t.Errorf("SSH_CONNECTION %q", got)
				}
			}
			if n := strings.Count(bastion.Logs(), "Accepted publickey") - before; n != 1 {
				t.Errorf("bastion saw %d logins, want 1 shared by both hosts", n)
			}
			if n := strings.Count(bastion.Logs(), "server_request_direct_tcpip"); n < 2 {
				t.Logf("bastion log:\n%s", bastion.Logs())
				t.Errorf("bastion forwarded %d connections, want 2", n)
			}
			if err := p.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Run("dead bastion is unreachable", func(t *testing.T) {
		p := f.pool(t)
		_, err := p.Get(ctxT(t), "x", with(f.vars(), "ansible_ssh_common_args", "-J "+f.user.Name+"@127.0.0.1:1"))
		if !errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), "via jump host") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	// A listener that accepts but never speaks SSH: the handshake times out.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	tests := []struct {
		name string
		vars map[string]any
		want string
	}{
		{"dns", with(f.vars(), "ansible_host", "no-such-host.invalid"), `cannot resolve host name "no-such-host.invalid"`},
		{"refused", with(f.vars(), "ansible_port", closedPort), "refused"},
		{"timeout", with(f.vars(), "ansible_port", silent.Addr().(*net.TCPAddr).Port), "timed out after 500ms"},
		{"auth", with(f.vars(), "ansible_user", "root"), "authentication failed for root@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := f.opts()
			o.ConnectTimeout = 500 * time.Millisecond
			o.ConnectRetries = -1
			p := f.poolWith(t, o)
			_, err := p.Get(ctxT(t), "web1", tt.vars)
			var ue *connection.UnreachableError
			if !errors.As(err, &ue) || !errors.Is(err, connection.ErrUnreachable) || ue.Host != "web1" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want UnreachableError for web1 with %q", err, tt.want)
			}
			// The failure is remembered for the run: no second dial.
			_, err2 := p.Get(ctxT(t), "web1", tt.vars)
			if err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second Get: %v", err2)
			}
		})
	}
	t.Run("refused is retried with backoff", func(t *testing.T) {
		o := f.opts()
		o.ConnectRetries = 2
		p := f.poolWith(t, o)
		start := time.Now()
		_, err := p.Get(ctxT(t), "web1", with(f.vars(), "ansible_port", closedPort))
		if !errors.Is(err, connection.ErrUnreachable) {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 1500*time.Millisecond {
			t.Errorf("gave up after %s; want two retries (0.5s + 1s backoff)", d)
		}
	})
	t.Run("not an SSH connection", func(t *testing.T) {
		_, err := f.pool(t).Get(context.Background(), "localhost", map[string]any{"ansible_connection": "local"})
		if err == nil || !strings.Contains(err.Error(), "not an SSH connection") {
			t.Fatalf("error %v, want one saying local is not an SSH connection", err)
		}
	})
}

// dialWithin dials vars through a new pool with o and fails the test if
// the dial has not returned after 20 seconds (a hang in host-key checking).
func dialWithin(t *testing.T, o Options, vars map[string]any) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		p := NewPool(o)
		defer p.Close()
		_, err := p.Get(ctxT(t), "target", vars)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("dial did not return within 20s: host-key checking hangs")
		return nil
	}
}

// keyField is key as the "type base64" part of a known_hosts line.
func keyField(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestKnownHostsFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	other := sshtest.StartServer(t, sshtest.ServerOptions{})
	other.Authorize(t, f.user.Name, f.key)
	stranger := sshtest.GenerateKey(t, f.dir, "ed25519", "")
	hostPat := "[127.0.0.1]:" + itoa(f.srv.Port)

	t.Run("accept-new with a cert-authority line adds the key and says so", func(t *testing.T) {
		known := filepath.Join(f.dir, "ca_known_hosts")
		os.WriteFile(known, []byte("@cert-authority *.example.com "+keyField(stranger.Public)+"\n"), 0o600)
		o := f.opts()
		o.KnownHostsFile = known
		w := &warnings{}
		o.Warn = w.add
		if err := dialWithin(t, o, f.vars()); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(known)
		if !strings.Contains(string(b), "\n"+f.srv.KnownHostsLine()+"\n") {
			t.Errorf("known_hosts lacks the host's key:\n%s", b)
		}
		msgs := w.all()
		if len(msgs) != 1 {
			t.Fatalf("warnings %q, want one line for the added key", msgs)
		}
		for _, want := range []string{hostPat, f.srv.HostKey.Type(), ssh.FingerprintSHA256(f.srv.HostKey), known} {
			if !strings.Contains(msgs[0], want) {
				t.Errorf("message %q lacks %q", msgs[0], want)
			}
		}
	})

	t.Run("malformed lines are skipped with a warning naming file:line", func(t *testing.T) {
		known := filepath.Join(f.dir, "bad_known_hosts")
		lines := []string{
			"garbage-without-a-key",                             // 1
			"@bogus " + hostPat + " " + keyField(f.srv.HostKey), // 2
			hostPat + " ssh-ed25519 not*base64!",                // 3
			"# a comment",                                       // 4
			"",                                                  // 5
			"*,!" + hostPat + " " + keyField(stranger.Public),               // 6: negated, must not apply to the host
			"!" + hostPat + "," + hostPat + " " + keyField(stranger.Public), // 7: negation wins
			f.srv.KnownHostsLine(), // 8
			other.KnownHostsLine(), // 9
			hostPat + " ssh-rsa " + strings.Fields(keyField(f.srv.HostKey))[1], // 10: type mismatch
		}
		os.WriteFile(known, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
		o := f.opts()
		o.KnownHostsFile = known
		o.HostKeyPolicy = PolicyStrict
		w := &warnings{}
		o.Warn = w.add
		p := f.poolWith(t, o)
		for _, vars := range []map[string]any{f.vars(), with(f.vars(), "ansible_port", other.Port)} {
			if _, err := p.Get(ctxT(t), "h"+itoa(vars["ansible_port"].(int)), vars); err != nil {
				t.Fatal(err)
			}
		}
		msgs := strings.Join(w.all(), "\n")
		for _, n := range []int{1, 2, 3, 10} {
			if c := strings.Count(msgs, known+":"+itoa(n)+":"); c != 1 {
				t.Errorf("%d warnings for %s:%d, want 1; got:\n%s", c, known, n, msgs)
			}
		}
		if c := strings.Count(msgs, "\n") + 1; c != 4 {
			t.Errorf("%d warnings, want 4:\n%s", c, msgs)
		}
	})

	t.Run("a hashed line for the host works beside malformed lines", func(t *testing.T) {
		known := filepath.Join(f.dir, "hashed_known_hosts")
		os.WriteFile(known, []byte(f.srv.KnownHostsLine()+"\n"), 0o600)
		if out, err := exec.Command("ssh-keygen", "-H", "-f", known).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -H: %v: %s", err, out)
		}
		b, _ := os.ReadFile(known)
		os.WriteFile(known, append([]byte("not a valid line\n"), b...), 0o600)
		o := f.opts()
		o.KnownHostsFile = known
		o.HostKeyPolicy = PolicyStrict
		if err := dialWithin(t, o, f.vars()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHostCertificates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	ca := sshtest.GenerateKey(t, f.dir, "ed25519", "")
	otherCA := sshtest.GenerateKey(t, f.dir, "ecdsa", "")
	start := func(o sshtest.ServerOptions) *sshtest.Server {
		s := sshtest.StartServer(t, o)
		s.Authorize(t, f.user.Name, f.key)
		return s
	}
	good := start(sshtest.ServerOptions{HostCA: ca})
	wrongName := start(sshtest.ServerOptions{HostCA: ca, HostCertPrincipals: []string{"elsewhere.example.com"}})
	expired := start(sshtest.ServerOptions{HostCA: ca, HostCertValidity: "-2d:-1d"})
	byOther := start(sshtest.ServerOptions{HostCA: otherCA})
	caLine := func(pattern string, k *sshtest.Key) string {
		return "@cert-authority " + pattern + " " + keyField(k.Public)
	}
	pat := func(s *sshtest.Server) string { return "[127.0.0.1]:" + itoa(s.Port) }

	tests := []struct {
		name    string
		srv     *sshtest.Server
		policy  string
		known   []string
		wantErr string // "" means the host must be accepted
	}{
		{name: "certificate from a trusted CA", srv: good, known: []string{caLine(pat(good), ca)}},
		{name: "CA for every host", srv: good, known: []string{caLine("*", ca)}},
		{name: "CA line with several patterns", srv: good, known: []string{"other.example.com " + keyField(ca.Public), caLine("*.example.com,"+pat(good), ca)}},
		{name: "accept-new adds nothing for a certified host", srv: good, policy: PolicyAcceptNew, known: []string{caLine("*", ca)}},
		{name: "certificate from another CA", srv: byOther, known: []string{caLine("*", ca)}, wantErr: "not in"},
		{name: "CA whose pattern does not match", srv: good, known: []string{caLine("*.example.com", ca)}, wantErr: "not in"},
		{name: "negated CA pattern", srv: good, known: []string{caLine("*,!"+pat(good), ca)}, wantErr: "not in"},
		{name: "principal does not name the host", srv: wrongName, known: []string{caLine("*", ca)}, wantErr: "not in"},
		{name: "expired certificate", srv: expired, known: []string{caLine("*", ca)}, wantErr: "not in"},
		{name: "revoked CA", srv: good, known: []string{caLine("*", ca), "@revoked * " + keyField(ca.Public)}, wantErr: "revoked"},
		{name: "revoked CA under accept-new", srv: good, policy: PolicyAcceptNew, known: []string{caLine("*", ca), "@revoked * " + keyField(ca.Public)}, wantErr: "revoked"},
		{name: "revoked host key with a valid certificate", srv: good, known: []string{caLine("*", ca), "@revoked * " + keyField(good.HostKey)}, wantErr: "revoked"},
		{name: "revoked key also listed as plain", srv: good, known: []string{good.KnownHostsLine(), "@revoked * " + keyField(good.HostKey)}, wantErr: "revoked"},
		{name: "revoked key under accept-new", srv: good, policy: PolicyAcceptNew, known: []string{"@revoked * " + keyField(good.HostKey)}, wantErr: "revoked"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			known := filepath.Join(f.dir, "known_hosts_"+itoa(i))
			content := strings.Join(tt.known, "\n") + "\n"
			os.WriteFile(known, []byte(content), 0o600)
			o := f.opts()
			o.KnownHostsFile = known
			o.HostKeyPolicy = firstNonEmpty(tt.policy, PolicyStrict)
			err := dialWithin(t, o, with(f.vars(), "ansible_port", tt.srv.Port))
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (!errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want ErrUnreachable with %q", err, tt.wantErr)
			}
			if b, _ := os.ReadFile(known); string(b) != content {
				t.Errorf("known_hosts changed:\n%s", b)
			}
		})
	}
}
