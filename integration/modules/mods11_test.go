package modules_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/module"
)

// TestMods11Modules checks known_hosts, modprobe, apt_key, capabilities,
// openssh_keypair, pamd, ufw and synchronize on one real Debian host: the
// check run predicts the change and leaves the host alone, the first run
// changes it, the second run and a check run are ok.
func TestMods11Modules(t *testing.T) {
	// The python image variant has python3 already, which ufw needs;
	// CAP_NET_ADMIN lets ufw's iptables work in the host's namespace.
	bed := testbed.Start(t, testbed.HostSpec{Name: "m1", Python: true, NetAdmin: true})
	host := bed.Hosts[0]
	e := &sysEnv{t: t, bed: bed, name: host.Name, h: &module.Host{
		Name: host.Name, Conn: bedConn(t, host, ""), Vars: map[string]any{}, Diff: true, Warn: func(string) {},
	}}
	// The tools some modules need are installed while the modules that
	// need nothing more run; the subtests run in parallel.
	installed := make(chan struct{})
	var installErr error
	go func() {
		defer close(installed)
		start := time.Now()
		out, err := bed.SSH(context.Background(), host.Name, "export DEBIAN_FRONTEND=noninteractive; pk='rsync libcap2-bin ufw gpg gpg-agent kmod'; "+
			"apt-get install -y -q --no-install-recommends $pk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $pk >/dev/null; }")
		if err != nil {
			installErr = fmt.Errorf("install packages: %v: %s", err, out)
		}
		t.Logf("packages installed in %v", time.Since(start).Round(time.Second))
	}()
	needPackages := func(t *testing.T) {
		t.Helper()
		<-installed
		if installErr != nil {
			t.Fatal(installErr)
		}
	}

	t.Run("known_hosts", func(t *testing.T) {
		t.Parallel()
		key := strings.TrimSpace(e.sh(t, "cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f1,2"))
		state := "cat /root/.ssh/known_hosts 2>/dev/null; stat -c %a /root/.ssh/known_hosts 2>/dev/null; true"
		e.converge(t, "known_hosts", map[string]any{"name": "git.example.com", "key": "git.example.com " + key}, state)
		if got := e.sh(t, "ssh-keygen -F git.example.com -f /root/.ssh/known_hosts | grep -c ssh-ed25519"); strings.TrimSpace(got) != "1" {
			t.Errorf("ssh-keygen -F finds %s keys", got)
		}
		e.converge(t, "known_hosts", map[string]any{"name": "git.example.com", "state": "absent"}, state)
	})

	t.Run("modprobe", func(t *testing.T) {
		t.Parallel()
		needPackages(t)
		// Containers cannot load modules (and this kernel has none): a
		// module listed as built in is loaded, and made persistent.
		e.sh(t, `d=/lib/modules/$(uname -r); mkdir -p $d && echo kernel/net/bridge/bridge.ko >> $d/modules.builtin`)
		state := "cat /etc/modules-load.d/* /etc/modprobe.d/* 2>/dev/null; true"
		r := e.converge(t, "modprobe", map[string]any{"name": "bridge", "persistent": "present"}, state)
		if r["name"] != "bridge" || e.sh(t, "cat /etc/modules-load.d/bridge.conf") != "bridge\n" {
			t.Errorf("result %v", r)
		}
		e.converge(t, "modprobe", map[string]any{"name": "bridge", "persistent": "absent"}, state)
		if got := e.sh(t, "cat /etc/modules-load.d/bridge.conf"); got != "#bridge\n" {
			t.Errorf("absent: %q", got)
		}
		e.fails(t, "modprobe", map[string]any{"name": "tend_no_such_module"}, "tend_no_such_module")
	})

	t.Run("apt_key", func(t *testing.T) {
		t.Parallel()
		needPackages(t)
		keyFile := "/usr/share/keyrings/debian-archive-bookworm-automatic.gpg"
		ring := "/etc/apt/trusted.gpg.d/tend-test.gpg"
		state := "gpg --no-default-keyring --keyring " + ring + " --list-keys --with-colons 2>/dev/null | grep ^pub; true"
		r := e.converge(t, "apt_key", map[string]any{"file": keyFile, "keyring": ring}, state)
		id, _ := r["id"].(string)
		if len(id) != 16 || !strings.Contains(e.sh(t, state), id) {
			t.Errorf("result %v", r)
		}
		e.converge(t, "apt_key", map[string]any{"id": id, "keyring": ring, "state": "absent"}, state)
		// A url is fetched by the controller (the host reaches nothing).
		key := e.sh(t, "base64 -w0 "+keyFile)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			b, _ := decodeB64(key)
			w.Write(b)
		}))
		defer srv.Close()
		e.converge(t, "apt_key", map[string]any{"url": srv.URL + "/key.gpg", "keyring": ring}, state)
		e.fails(t, "apt_key", map[string]any{"id": "0x123", "keyring": ring}, "Invalid key_id")
	})

	t.Run("capabilities", func(t *testing.T) {
		t.Parallel()
		needPackages(t)
		e.sh(t, "cp /usr/bin/true /usr/local/bin/tend-cap")
		state := "getcap /usr/local/bin/tend-cap"
		e.sh(t, "setcap cap_net_raw=ep /usr/local/bin/tend-cap")
		e.converge(t, "capabilities", map[string]any{"path": "/usr/local/bin/tend-cap", "capability": "cap_net_bind_service+ep"}, state)
		if got := strings.TrimSpace(e.sh(t, state)); got != "/usr/local/bin/tend-cap cap_net_bind_service,cap_net_raw=ep" {
			t.Errorf("getcap: %q", got)
		}
		e.converge(t, "capabilities", map[string]any{"path": "/usr/local/bin/tend-cap", "capability": "cap_net_raw", "state": "absent"}, state)
		e.fails(t, "capabilities", map[string]any{"path": "/nonexistent", "capability": "cap_net_raw+ep"}, "Unable to get capabilities of /nonexistent")
	})

	t.Run("openssh_keypair", func(t *testing.T) {
		t.Parallel()
		state := "cat /root/.ssh/id_tend.pub 2>/dev/null; stat -c '%a %U' /root/.ssh/id_tend /root/.ssh/id_tend.pub 2>/dev/null; true"
		r := e.converge(t, "openssh_keypair", map[string]any{"path": "/root/.ssh/id_tend", "type": "ed25519", "comment": "tend"}, state)
		if !strings.HasPrefix(e.sh(t, "cat /root/.ssh/id_tend.pub"), r["public_key"].(string)+" tend") {
			t.Errorf("result %v", r)
		}
		e.converge(t, "openssh_keypair", map[string]any{"path": "/root/.ssh/id_tend", "state": "absent"}, state)
	})

	t.Run("pamd", func(t *testing.T) {
		t.Parallel()
		state := "cat /etc/pam.d/login"
		base := map[string]any{"name": "login", "type": "session", "control": "required", "module_path": "pam_env.so"}
		with := func(extra map[string]any) map[string]any {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		e.converge(t, "pamd", with(map[string]any{"state": "args_present", "module_arguments": []any{"user_readenv=0"}}), state)
		e.converge(t, "pamd", with(map[string]any{"state": "after", "new_type": "session", "new_control": "optional", "new_module_path": "pam_tend.so"}), state)
		if got := e.sh(t, "grep -A1 'pam_env.so readenv=1 user_readenv=0' /etc/pam.d/login | tail -1"); got != "session    optional pam_tend.so\n" {
			t.Errorf("inserted rule: %q", got)
		}
		e.converge(t, "pamd", map[string]any{"name": "login", "type": "session", "control": "optional", "module_path": "pam_tend.so", "state": "absent"}, state)
	})

	t.Run("user password aging", func(t *testing.T) {
		t.Parallel()
		state := "getent shadow agetest | cut -d: -f4-6; true"
		e.converge(t, "user", map[string]any{"name": "agetest", "create_home": false, "password_expire_max": 90, "password_expire_min": 1}, state)
		e.converge(t, "user", map[string]any{"name": "agetest", "password_expire_max": 60, "password_expire_warn": 14}, state)
		if got := strings.TrimSpace(e.sh(t, state)); got != "1:60:14" {
			t.Errorf("shadow min:max:warn = %q", got)
		}
	})

	t.Run("apt arguments", func(t *testing.T) {
		t.Parallel()
		needPackages(t)
		// only_upgrade skips a package that is not installed.
		if r, _ := e.run(t, "apt", map[string]any{"name": "nano", "only_upgrade": true}, false); r["changed"] != false || r["failed"] == true {
			t.Errorf("only_upgrade: %v", r)
		}
		if got := e.sh(t, "dpkg-query -W -f='${Status}' nano 2>/dev/null; true"); strings.Contains(got, "install ok installed") {
			t.Error("only_upgrade installed nano")
		}
		// Everything is current after the install: upgrade and autoclean
		// change nothing, in check mode either.
		for _, args := range []map[string]any{{"upgrade": "dist"}, {"upgrade": "yes"}, {"autoclean": true}} {
			for _, check := range []bool{true, false} {
				if r, _ := e.run(t, "apt", args, check); r["changed"] != false || r["failed"] == true {
					t.Errorf("%v (check %v): %v", args, check, r)
				}
			}
		}
		// policy_rc_d keeps an existing policy-rc.d in place afterwards.
		e.sh(t, "printf '#!/bin/sh\\nexit 0\\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d")
		r, _ := e.run(t, "apt", map[string]any{"name": "nano", "policy_rc_d": 101}, false)
		if r["changed"] != true || e.sh(t, "cat /usr/sbin/policy-rc.d") != "#!/bin/sh\nexit 0\n" {
			t.Errorf("policy_rc_d: %v", r)
		}
	})

	t.Run("same as ansible-playbook", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("ansible-playbook"); err != nil {
			t.Skip("ansible-playbook not installed")
		}
		needPackages(t)
		compareWithAnsible(t, e, bed)
	})

	t.Run("ufw", func(t *testing.T) {
		t.Parallel()
		needPackages(t)
		state := "ufw status verbose; grep -h '^### tuple' /etc/ufw/user.rules /etc/ufw/user6.rules; true"
		e.converge(t, "ufw", map[string]any{"rule": "allow", "port": "22", "proto": "tcp", "comment": "ssh in"}, state)
		r := e.converge(t, "ufw", map[string]any{"state": "enabled", "policy": "deny", "logging": "medium"}, state)
		if !strings.Contains(r["msg"].(string), "Status: active") || !strings.Contains(r["msg"].(string), "Logging: on (medium)") {
			t.Errorf("enable: %v", r)
		}
		// The host is still reachable through the allowed port.
		e.sh(t, "true")
		e.converge(t, "ufw", map[string]any{"state": "disabled"}, state)
		e.converge(t, "ufw", map[string]any{"rule": "allow", "port": "22", "proto": "tcp", "comment": "ssh in", "delete": true}, state)
	})

	t.Run("synchronize", func(t *testing.T) {
		t.Parallel()
		needPackages(t)
		src := t.TempDir()
		os.MkdirAll(filepath.Join(src, "sub"), 0o755)
		os.WriteFile(filepath.Join(src, "index.html"), []byte("hello\n"), 0o644)
		os.WriteFile(filepath.Join(src, "sub", "a.txt"), []byte("a\n"), 0o600)
		os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("x\n"), 0o644)
		state := "cd /srv/sync 2>/dev/null && find . -printf '%p %m %s\\n' | sort; true"
		args := map[string]any{"src": src + "/", "dest": "/srv/sync", "rsync_opts": []any{"--exclude=*.tmp"}}
		e.converge(t, "synchronize", args, state)
		if got := e.sh(t, "cat /srv/sync/index.html /srv/sync/sub/a.txt; stat -c %a /srv/sync/sub/a.txt; ls /srv/sync"); got != "hello\na\n600\nindex.html\nsub\n" {
			t.Errorf("pushed: %q", got)
		}
		e.sh(t, "echo stale > /srv/sync/stale")
		args["delete"] = true
		e.converge(t, "synchronize", args, state)
		dest := t.TempDir()
		r, _ := e.run(t, "synchronize", map[string]any{"mode": "pull", "src": "/srv/sync/", "dest": dest + "/"}, false)
		if r["changed"] != true || readFile(t, filepath.Join(dest, "index.html")) != "hello\n" {
			t.Errorf("pull: %v", r)
		}
		if r, _ := e.run(t, "synchronize", map[string]any{"mode": "pull", "src": "/srv/sync/", "dest": dest + "/"}, false); r["changed"] != false {
			t.Errorf("second pull: %v", r)
		}
	})
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
}

// mods11Tasks are tasks of the new modules whose paths end in SFX, run by
// ansible-playbook with SFX=a and by tend with SFX=t. Not modprobe:
// community.general's fails on a kernel without /proc/modules (this one);
// not ufw: one firewall per host, tested above.
func mods11Tasks(sfx, hostKey string) []map[string]map[string]any {
	return []map[string]map[string]any{
		{"known_hosts": {"name": "git.example.com", "key": "git.example.com " + hostKey, "path": "/root/kh_" + sfx}},
		{"community.general.pamd": {"name": "cp_" + sfx, "type": "password", "control": "[success=1 default=ignore]",
			"module_path": "pam_unix.so", "state": "args_present", "module_arguments": []any{"rounds=65536", "nullok"}}},
		{"community.general.capabilities": {"path": "/usr/local/bin/cap_" + sfx, "capability": "cap_net_raw=ep"}},
		{"community.crypto.openssh_keypair": {"path": "/root/id_" + sfx, "type": "ed25519", "comment": "tend"}},
		{"apt_key": {"file": "/usr/share/keyrings/debian-archive-bookworm-automatic.gpg", "keyring": "/etc/apt/trusted.gpg.d/cmp_" + sfx + ".gpg"}},
		{"user": {"name": "kg_" + sfx, "generate_ssh_key": true, "ssh_key_type": "ed25519", "password_expire_max": 90}},
	}
}

// mods11State prints what the tasks leave on the host for one suffix,
// with the suffix and the pamd time stamp taken out.
func mods11State(sfx string) string {
	return strings.ReplaceAll(`cat /root/kh_S; stat -c %a /root/kh_S
grep -v '^# Updated by Ansible' /etc/pam.d/cp_S; stat -c %a /etc/pam.d/cp_S
getcap /usr/local/bin/cap_S | cut -d' ' -f2
cut -d' ' -f1,3 /root/id_S.pub; stat -c '%a %U' /root/id_S /root/id_S.pub
gpg --no-default-keyring --keyring /etc/apt/trusted.gpg.d/cmp_S.gpg --list-keys --with-colons 2>/dev/null | grep ^pub | cut -d: -f5
stat -c %a /etc/apt/trusted.gpg.d/cmp_S.gpg
stat -c '%n %a %U' /home/kg_S/.ssh /home/kg_S/.ssh/id_ed25519 /home/kg_S/.ssh/id_ed25519.pub | sed 's/kg_S/kg/g'
cut -d' ' -f1,3- /home/kg_S/.ssh/id_ed25519.pub
getent shadow kg_S | cut -d: -f2,4-`, "_S", "_"+sfx)
}

// compareWithAnsible runs the same tasks with ansible-playbook 2.14 and
// with tend on the same host (other paths) and requires the same end
// state, a change on the first run and none on the second, from both.
func compareWithAnsible(t *testing.T, e *sysEnv, bed *testbed.Bed) {
	key := strings.TrimSpace(e.sh(t, "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub"))
	prep := func(sfx string) string {
		return strings.ReplaceAll("cp /etc/pam.d/common-password /etc/pam.d/cp_S && cp /usr/bin/true /usr/local/bin/cap_S", "_S", "_"+sfx)
	}
	e.sh(t, prep("a")+" && "+prep("t"))
	dir := t.TempDir()
	play := []map[string]any{{"hosts": "all", "gather_facts": false, "tasks": mods11Tasks("a", key)}}
	b, _ := json.Marshal(play)
	pb := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(pb, b, 0o644); err != nil {
		t.Fatal(err)
	}
	recap := regexp.MustCompile(`changed=(\d+)\s+unreachable=0\s+failed=(\d+)`)
	// ansible-playbook runs while tend runs the same tasks (other paths).
	ansible := func() (string, error) {
		cmd := exec.Command("ansible-playbook", "-i", bed.InventoryINI, pb)
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, ".ansible-tmp"))
		out, err := cmd.CombinedOutput()
		m := recap.FindStringSubmatch(string(out))
		if err != nil || m == nil || m[2] != "0" {
			return "", fmt.Errorf("ansible-playbook: %v\n%s", err, out)
		}
		return m[1], nil
	}
	ansibleDone := make(chan error, 1)
	go func() {
		first, err := ansible()
		if err == nil && first != fmt.Sprint(len(play[0]["tasks"].([]map[string]map[string]any))) {
			err = fmt.Errorf("ansible-playbook first run: changed=%s", first)
		}
		if err == nil {
			var second string
			if second, err = ansible(); err == nil && second != "0" {
				err = fmt.Errorf("ansible-playbook second run: changed=%s", second)
			}
		}
		ansibleDone <- err
	}()
	for _, task := range mods11Tasks("t", key) {
		for mod, args := range task {
			if r, _ := e.run(t, mod, args, false); r["changed"] != true || r["failed"] == true {
				t.Errorf("tend %s: %v", mod, r)
			}
			if r, _ := e.run(t, mod, args, false); r["changed"] != false || r["failed"] == true {
				t.Errorf("tend %s second run: %v", mod, r)
			}
		}
	}
	if err := <-ansibleDone; err != nil {
		t.Fatal(err)
	}
	want, got := e.sh(t, mods11State("a")), e.sh(t, mods11State("t"))
	for _, w := range []string{"git.example.com ssh-ed25519", "pam_unix.so obscure yescrypt nullok rounds=65536", "cap_net_raw=ep", "ssh-ed25519 tend",
		"/home/kg/.ssh 700 kg", "ssh-ed25519 ansible-generated on m1"} {
		if !strings.Contains(want, w) {
			t.Errorf("ansible-playbook's end state lacks %q:\n%s", w, want)
		}
	}
	if got != want {
		t.Errorf("end state differs\nansible-playbook:\n%s\ntend:\n%s", want, got)
	}
}
