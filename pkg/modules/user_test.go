package modules

import (
	"context"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/connection"
)

func TestParseGetentPasswd(t *testing.T) {
	pw, ok, err := parseGetentPasswd("app:x:1500:1500:App User,,,:/srv/app:/bin/bash\n")
	want := passwdEntry{Name: "app", UID: 1500, GID: 1500, Comment: "App User,,,", Home: "/srv/app", Shell: "/bin/bash"}
	if err != nil || !ok || pw != want {
		t.Errorf("got %+v %v %v", pw, ok, err)
	}
	if _, ok, err := parseGetentPasswd(""); ok || err != nil {
		t.Error("empty line should be 'no such user'")
	}
	if _, _, err := parseGetentPasswd("broken:x:1"); err == nil {
		t.Error("malformed line accepted")
	}
}

// userFixture is userProbe output for an existing user.
var userFixture = []string{
	"app:x:1500:1500:App:/srv/app:/bin/sh\n",
	"$6$salt$hash:0:99999:7:19000\n",
	"app adm users\n",
	"Y\n",
	"app:x:1500:\n",
	"adm\tadm:x:4:syslog,app\nusers\tusers:x:100:app\nsudo\tsudo:x:27:\nmissing\t\n1500\tapp:x:1500:\n",
}

func TestParseUserProbe(t *testing.T) {
	s, err := parseUserProbe(userFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !s.exists || s.hash != "$6$salt$hash" || s.expireDays != 19000 || !s.homeExists {
		t.Errorf("state = %+v", s)
	}
	if d := cmp.Diff([]string{"adm", "users"}, s.groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	if _, ok := s.resolved["missing"]; ok {
		t.Error("a missing group resolved")
	}
	if s.resolved["1500"].Name != "app" {
		t.Errorf("gid lookup: %+v", s.resolved["1500"])
	}
}

func TestDecideUser(t *testing.T) {
	s, _ := parseUserProbe(userFixture)
	absent := userState{expireDays: -1, resolved: s.resolved}
	tests := []struct {
		name  string
		raw   map[string]any
		st    userState
		cmds  []string
		fail  string
		check func(t *testing.T, p userPlan)
	}{
		{name: "converged", raw: map[string]any{"name": "app", "uid": 1500, "group": "1500", "groups": []any{"adm", "users"}, "shell": "/bin/sh", "password": "$6$salt$hash"}, st: s},
		{name: "append present", raw: map[string]any{"name": "app", "groups": "adm", "append": true}, st: s},
		{name: "append missing", raw: map[string]any{"name": "app", "groups": []any{"adm", "sudo"}, "append": true}, st: s,
			cmds: []string{"usermod -a -G adm,sudo app"}},
		{name: "exact groups", raw: map[string]any{"name": "app", "groups": []any{"sudo"}}, st: s,
			cmds: []string{"usermod -G sudo app"}},
		{name: "remove all groups", raw: map[string]any{"name": "app", "groups": ""}, st: s,
			cmds: []string{"usermod -G '' app"}},
		{name: "modify several", raw: map[string]any{"name": "app", "uid": 1600, "shell": "/bin/bash", "comment": "The App", "home": "/home/app", "move_home": true}, st: s,
			cmds: []string{"usermod -u 1600 -c 'The App' -d /home/app -m -s /bin/bash app"}},
		{name: "password always", raw: map[string]any{"name": "app", "password": "$6$new$x"}, st: s,
			cmds: []string{"usermod -p '$6$new$x' app"}},
		{name: "password on_create", raw: map[string]any{"name": "app", "password": "$6$new$x", "update_password": "on_create"}, st: s},
		{name: "lock", raw: map[string]any{"name": "app", "password_lock": true}, st: s, cmds: []string{"usermod -L app"}},
		{name: "unlock", raw: map[string]any{"name": "app", "password_lock": false}, st: func() userState { x := s; x.hash = "!" + x.hash; return x }(),
			cmds: []string{"usermod -U app"}},
		{name: "locked stays locked", raw: map[string]any{"name": "app", "password_lock": true}, st: func() userState { x := s; x.hash = "!" + x.hash; return x }()},
		{name: "new hash is locked again", raw: map[string]any{"name": "app", "password": "$6$new$x", "password_lock": true}, st: func() userState { x := s; x.hash = "!" + x.hash; return x }(),
			cmds: []string{"usermod -p '$6$new$x' app", "usermod -L app"}},
		{name: "create locked", raw: map[string]any{"name": "new", "create_home": false, "password_lock": true}, st: absent, cmds: []string{"useradd -M new", "usermod -L new"}},
		{name: "create with missing group", raw: map[string]any{"name": "new", "group": "nosuch"}, st: absent, fail: "Group nosuch does not exist"},
		{name: "expires", raw: map[string]any{"name": "app", "expires": 1700000000}, st: s, cmds: []string{"usermod -e 2023-11-14 app"}},
		{name: "expires same day", raw: map[string]any{"name": "app", "expires": 19000*86400 + 100}, st: s},
		{name: "missing group", raw: map[string]any{"name": "app", "groups": []any{"missing"}}, st: s, fail: "Group missing does not exist"},
		{name: "aging", raw: map[string]any{"name": "app", "password_expire_max": 90, "password_expire_min": 0, "password_expire_warn": 14}, st: s,
			cmds: []string{"chage -M 90 -W 14 app"}},
		{name: "aging same", raw: map[string]any{"name": "app", "password_expire_max": 99999, "password_expire_min": 0, "password_expire_warn": 7}, st: s},
		{name: "create with aging", raw: map[string]any{"name": "new", "create_home": false, "password_expire_max": 30}, st: absent,
			cmds: []string{"useradd -M new", "chage -M 30 new"}},
		{name: "create", raw: map[string]any{"name": "new", "uid": 2000, "group": "users", "groups": []any{"adm"}, "shell": "/bin/bash", "system": true, "password": "$6$p"}, st: absent,
			cmds: []string{"useradd -u 2000 -g 100 -G adm -s /bin/bash -p '$6$p' -r -m new"}},
		{name: "create no home", raw: map[string]any{"name": "new", "create_home": false}, st: absent, cmds: []string{"useradd -M new"}},
		{name: "remove", raw: map[string]any{"name": "app", "state": "absent", "remove": true, "force": true}, st: s, cmds: []string{"userdel -r -f app"}},
		{name: "remove absent", raw: map[string]any{"name": "new", "state": "absent"}, st: absent},
		{name: "home missing is created", raw: map[string]any{"name": "app"}, st: func() userState { x := s; x.homeExists = false; return x }(),
			check: func(t *testing.T, p userPlan) {
				if len(p.cmds) != 1 || !strings.Contains(p.cmds[0], "cp -a -- /etc/skel/. /srv/app") || !strings.Contains(p.cmds[0], "chown -R -- 1500:1500 /srv/app") {
					t.Errorf("cmds = %q", p.cmds)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := User{}.Spec().Validate(tt.raw, false)
			if err != nil {
				t.Fatal(err)
			}
			p := decideUser(args, tt.st)
			if p.fail != tt.fail {
				t.Fatalf("fail = %q, want %q", p.fail, tt.fail)
			}
			if tt.check != nil {
				tt.check(t, p)
				return
			}
			if d := cmp.Diff(tt.cmds, p.cmds); d != "" {
				t.Errorf("cmds (-want +got):\n%s", d)
			}
		})
	}
}

func TestGroupCommand(t *testing.T) {
	cur := groupEntry{Name: "app", GID: 1500}
	tests := []struct {
		raw    map[string]any
		exists bool
		want   string
	}{
		{map[string]any{"name": "app"}, true, ""},
		{map[string]any{"name": "app", "gid": 1500}, true, ""},
		{map[string]any{"name": "app", "gid": 1600, "non_unique": true}, true, "groupmod -g 1600 -o app"},
		{map[string]any{"name": "app", "gid": 1600, "system": true}, false, "groupadd -g 1600 -r app"},
		{map[string]any{"name": "app", "state": "absent"}, true, "groupdel app"},
		{map[string]any{"name": "app", "state": "absent"}, false, ""},
	}
	for _, tt := range tests {
		args, err := Group{}.Spec().Validate(tt.raw, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := groupCommand(args, cur, tt.exists); got != tt.want {
			t.Errorf("%v exists=%v: got %q want %q", tt.raw, tt.exists, got, tt.want)
		}
	}
	if g, ok, err := parseGetentGroup("adm:x:4:syslog,app"); err != nil || !ok || g.GID != 4 || len(g.Members) != 2 {
		t.Errorf("parseGetentGroup = %+v %v %v", g, ok, err)
	}
}

func TestUserSSHKey(t *testing.T) {
	needTool(t, "ssh-keygen")
	u, err := osuser.Current()
	if err != nil {
		t.Skip(err)
	}
	home := t.TempDir()
	h := testHost(home, connection.Local{})
	args, err := (User{}).Spec().Validate(map[string]any{"name": u.Username, "generate_ssh_key": true, "ssh_key_type": "ed25519", "ssh_key_comment": "k@tend"}, false)
	if err != nil {
		t.Fatal(err)
	}
	s := userState{exists: true, pw: passwdEntry{Name: u.Username, Home: home}}
	k, err := planUserKey(context.Background(), h, args, s)
	if err != nil || k.cmd == "" || k.path != filepath.Join(home, ".ssh/id_ed25519") {
		t.Fatalf("first plan: %+v %v", k, err)
	}
	if out, err := exec.Command("sh", "-c", k.cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", k.cmd, err, out)
	}
	k, err = planUserKey(context.Background(), h, args, s)
	if err != nil || k.cmd != "" || !strings.HasPrefix(k.public, "ssh-ed25519 ") || !strings.HasSuffix(k.public, " k@tend") || !strings.Contains(k.fingerprint, "SHA256:") {
		t.Fatalf("second plan: %+v %v", k, err)
	}
	if fi, err := os.Stat(filepath.Join(home, ".ssh")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf(".ssh: %v %v", fi, err)
	}
	args["force"] = true
	if k, _ := planUserKey(context.Background(), h, args, s); k.cmd == "" {
		t.Error("force does not regenerate")
	}
}

// TestUserPasswordNotHashed: Ansible's check of a password that looks
// clear-text (it warns then).
func TestUserPasswordNotHashed(t *testing.T) {
	sha512 := "$6$rounds=656000$tgK3gYTyRLUmhyv2$" + strings.Repeat("aZ09./", 14) + "ab"
	for pw, want := range map[string]bool{
		"plaintextpassword":             true,
		"*":                             false,
		"!":                             false,
		"":                              false,
		sha512:                          false,
		sha512 + "+++++":                true,
		sha512[:len(sha512)-1]:          true,
		"$1$abc$0123456789012345678901": false,
		"!" + sha512:                    true,
		"$y$j9T$salt$hash":              false,
	} {
		if got := userPasswordNotHashed(pw); got != want {
			t.Errorf("userPasswordNotHashed(%q) = %v, want %v", pw, got, want)
		}
	}
}

// TestUserSSHKeyPassphrase: with ssh_key_passphrase the key pair is made
// on the controller and written encrypted; ssh-keygen opens it with the
// passphrase only, and reads the same public key.
func TestUserSSHKeyPassphrase(t *testing.T) {
	needTool(t, "ssh-keygen")
	u, err := osuser.Current()
	if err != nil {
		t.Skip(err)
	}
	home := t.TempDir()
	h := testHost(home, connection.Local{})
	for _, typ := range []string{"ed25519", "rsa", "ecdsa"} {
		file := ".ssh/id_" + typ
		args, err := (User{}).Spec().Validate(map[string]any{"name": u.Username, "generate_ssh_key": true, "ssh_key_type": typ,
			"ssh_key_bits": map[string]int{"rsa": 2048}[typ], "ssh_key_comment": "k@tend", "ssh_key_passphrase": "s3cret pass", "ssh_key_file": file}, false)
		if err != nil {
			t.Fatal(err)
		}
		s := userState{exists: true, pw: passwdEntry{Name: u.Username, Home: home}}
		k, err := planUserKey(context.Background(), h, args, s)
		if err != nil || k.private == nil || strings.Contains(k.cmd, "s3cret") {
			t.Fatalf("%s plan: %+v %v", typ, k, err)
		}
		if out, err := exec.Command("sh", "-c", k.cmd).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", k.cmd, err, out)
		}
		if err := writeUserKey(context.Background(), h, u.Username, k.path, k.private, k.pub); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(home, file)
		if out, err := exec.Command("ssh-keygen", "-y", "-P", "wrong", "-f", path).CombinedOutput(); err == nil {
			t.Errorf("%s: the key opens with a wrong passphrase: %s", typ, out)
		}
		out, err := exec.Command("ssh-keygen", "-y", "-P", "s3cret pass", "-f", path).Output()
		if err != nil || !strings.HasPrefix(string(k.pub), strings.TrimSpace(string(out))) {
			t.Errorf("%s: ssh-keygen -y: %q %v, public file %q", typ, out, err, k.pub)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: private key mode %v %v", typ, fi, err)
		}
		if k, _ := planUserKey(context.Background(), h, args, s); k.cmd != "" || k.private != nil || !strings.HasSuffix(k.public, " k@tend") {
			t.Errorf("%s: second plan changes: %+v", typ, k)
		}
	}
}

// TestUserLocalAndAppendWarnings: Ansible's user module warns about
// local: true for a user /etc/passwd does not have, and about append
// without groups.
func TestUserLocalAndAppendWarnings(t *testing.T) {
	needTool(t, "getent")
	var warnings []string
	h := testHost(t.TempDir(), connection.Local{})
	h.Warn = func(m string) { warnings = append(warnings, m) }
	execModule(t, h, "user", map[string]any{"name": "tend-no-such-user-x", "local": true, "append": true}, true)
	if len(warnings) != 2 || !strings.Contains(warnings[0], "'append' is set, but no 'groups'") ||
		!strings.Contains(warnings[1], "The local user account may already exist") {
		t.Errorf("warnings %q", warnings)
	}
}
