package ssh

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	home, _ := os.UserHomeDir()
	r, err := newResolver(filepath.Join("testdata", "ssh_config"))
	if err != nil {
		t.Fatal(err)
	}
	r.localUser = "me"
	type hop struct {
		User, Host string
		Port       int
	}
	tests := []struct {
		name        string
		host        string
		vars        map[string]any
		wantUser    string
		wantHost    string
		wantPort    int
		wantKeys    []string
		wantOnly    bool
		wantTimeout time.Duration
		wantAlive   time.Duration
		wantPolicy  string
		wantPass    string
		wantJumps   []hop // first hop first
	}{
		{name: "defaults", host: "plain", wantUser: "me", wantHost: "plain", wantPort: 22},
		{name: "ssh_config pattern", host: "web1", wantUser: "deploy", wantHost: "web1.example.test", wantPort: 2222,
			wantKeys: []string{filepath.Join(home, ".ssh/web_key")}, wantOnly: true, wantTimeout: 7 * time.Second, wantAlive: 30 * time.Second},
		{name: "inventory wins", host: "web1", vars: map[string]any{"ansible_user": "admin", "ansible_port": 22,
			"ansible_ssh_private_key_file": "/k", "ansible_password": "pw"},
			wantUser: "admin", wantHost: "web1.example.test", wantPort: 22, wantKeys: []string{"/k"}, wantOnly: true,
			wantTimeout: 7 * time.Second, wantAlive: 30 * time.Second, wantPass: "pw"},
		{name: "ansible_host is the ssh_config alias", host: "db", vars: map[string]any{"ansible_host": "web9"},
			wantUser: "deploy", wantHost: "web9.example.test", wantPort: 2222, wantKeys: []string{filepath.Join(home, ".ssh/web_key")},
			wantOnly: true, wantTimeout: 7 * time.Second, wantAlive: 30 * time.Second},
		{name: "multi-hop ProxyJump from ssh_config", host: "behind", wantUser: "me", wantHost: "10.0.0.5", wantPort: 22,
			wantJumps: []hop{{"jumper", "bastion1.example.test", 22}, {"admin", "bastion2", 2200}}},
		{name: "-J in common args wins", host: "behind", vars: map[string]any{"ansible_ssh_common_args": "-o StrictHostKeyChecking=no -J 'ops@gw:2022'"},
			wantUser: "me", wantHost: "10.0.0.5", wantPort: 22, wantPolicy: PolicyOff, wantJumps: []hop{{"ops", "gw", 2022}}},
		{name: "-o ProxyJump=", host: "h", vars: map[string]any{"ansible_ssh_common_args": "-o ProxyJump=bastion1"},
			wantUser: "me", wantHost: "h", wantPort: 22, wantJumps: []hop{{"jumper", "bastion1.example.test", 22}}},
		{name: "ProxyCommand ssh -W becomes a jump", host: "legacy", wantUser: "me", wantHost: "legacy", wantPort: 22,
			wantJumps: []hop{{"ops", "gate.example.test", 2022}}},
		{name: "ProxyCommand in extra args", host: "h", vars: map[string]any{"ansible_ssh_extra_args": `-o ProxyCommand="ssh -q -W %h:%p bob@gw"`},
			wantUser: "me", wantHost: "h", wantPort: 22, wantJumps: []hop{{"bob", "gw", 22}}},
		{name: "StrictHostKeyChecking from ssh_config", host: "paranoid", wantUser: "me", wantHost: "paranoid", wantPort: 22, wantPolicy: PolicyStrict},
		{name: "ProxyJump none", host: "behind", vars: map[string]any{"ansible_ssh_common_args": "-o ProxyJump=none"},
			wantUser: "me", wantHost: "10.0.0.5", wantPort: 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := r.resolve(tt.host, tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			var jumps []hop
			for j := e.via; j != nil; j = j.via {
				jumps = append([]hop{{j.user, j.host, j.port}}, jumps...)
			}
			got := []any{e.user, e.host, e.port, e.identityFiles, e.identitiesOnly, e.connectTimeout, e.keepAlive, e.policy, e.password, jumps}
			want := []any{tt.wantUser, tt.wantHost, tt.wantPort, tt.wantKeys, tt.wantOnly, tt.wantTimeout, tt.wantAlive, tt.wantPolicy, tt.wantPass, tt.wantJumps}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("user, host, port, keys, identitiesOnly, timeout, keepalive, policy, password, jumps (-want +got):\n%s", d)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	r, err := newResolver("none")
	if err != nil {
		t.Fatal(err)
	}
	for name, vars := range map[string]map[string]any{
		"bad port":       {"ansible_port": "ssh"},
		"port too large": {"ansible_port": 70000},
		"bad quoting":    {"ansible_ssh_common_args": "-o 'ProxyJump=x"},
		"-J without arg": {"ansible_ssh_common_args": "-J"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := r.resolve("h", vars); err == nil {
				t.Fatal("resolve succeeded")
			}
		})
	}
}

func TestEndpointKeyShared(t *testing.T) {
	t.Parallel()
	r, _ := newResolver("none")
	a, _ := r.resolve("a", map[string]any{"ansible_host": "10.1.1.1", "ansible_user": "u", "ansible_ssh_common_args": "-J gw"})
	b, _ := r.resolve("b", map[string]any{"ansible_host": "10.1.1.2", "ansible_user": "u", "ansible_ssh_common_args": "-J gw"})
	if a.via.key() != b.via.key() {
		t.Errorf("jump keys differ: %q vs %q", a.via.key(), b.via.key())
	}
	if a.key() == b.key() {
		t.Errorf("hosts share key %q", a.key())
	}
}

func TestSplitWords(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		`a b  c`:             {"a", "b", "c"},
		`-o 'ProxyJump a b'`: {"-o", "ProxyJump a b"},
		`-o "x \"y\" $z"`:    {"-o", `x "y" $z`},
		`a\ b`:               {"a b"},
		`''`:                 {""},
		"x\ty\n":             {"x", "y"},
	}
	for in, want := range tests {
		got, err := splitWords(in)
		if err != nil {
			t.Errorf("splitWords(%q): %v", in, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("splitWords(%q) (-want +got):\n%s", in, d)
		}
	}
}
