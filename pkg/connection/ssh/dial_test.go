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
		if msgs := w.all(); len(msgs) != 1 || !strings.Contains(msgs[0], "@cert-authority") {
			t.Errorf("warnings %q, want one about @cert-authority", msgs)
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

func TestAcceptNewConcurrentHosts(t *testing.T) {
	f := newFixture(t, "")
	var srvs []*sshtest.Server
	for i := 0; i < 4; i++ {
		s := sshtest.StartServer(t, sshtest.ServerOptions{})
		s.Authorize(t, f.user.Name, f.key)
		srvs = append(srvs, s)
	}
	p := f.pool(t)
	var wg sync.WaitGroup
	for i, s := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.Get(ctxT(t), fmt.Sprint("h", i), with(f.vars(), "ansible_port", s.Port))
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(f.known)
	for _, s := range srvs {
		if !strings.Contains(string(b), s.KnownHostsLine()+"\n") {
			t.Errorf("known_hosts lacks %s:\n%s", s.Addr(), b)
		}
	}
}

func TestProxyJump(t *testing.T) {
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
	t.Run("local connection", func(t *testing.T) {
		c, err := f.pool(t).Get(context.Background(), "localhost", map[string]any{"ansible_connection": "local"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(connection.Local); !ok {
			t.Errorf("got %T, want connection.Local", c)
		}
	})
}
