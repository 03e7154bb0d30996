package modules_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/modules"
)

// sysEnv is the one host every system module test runs against.
type sysEnv struct {
	t    *testing.T
	bed  *testbed.Bed
	name string
	h    *module.Host
}

// sh runs a command on the host as root over the bed's own ssh and
// returns its output; failures end the test.
func (e *sysEnv) sh(t *testing.T, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := e.bed.SSH(ctx, e.name, cmd)
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return out
}

// run does what the engine does: Validate, Plan, Apply unless check. It
// returns the reported result (with "changed") and the plan.
func (e *sysEnv) run(t *testing.T, name string, raw map[string]any, check bool) (module.Result, *module.Plan) {
	t.Helper()
	return runModule(t, e.h, name, raw, check)
}

// converge checks the contract of one task: check mode predicts a change
// and leaves the host alone, the first run changes (and shows a diff when
// the module supports diffs), the second run and a second check run are ok.
// state is a shell command printing the state the task affects.
func (e *sysEnv) converge(t *testing.T, mod string, args map[string]any, state string) module.Result {
	t.Helper()
	before := e.sh(t, state)
	r, _ := e.run(t, mod, args, true)
	if r["failed"] == true {
		t.Fatalf("%s check run failed: %v", mod, r["msg"])
	}
	if r["changed"] != true {
		t.Fatalf("%s check run predicts no change; state:\n%s", mod, before)
	}
	if after := e.sh(t, state); after != before {
		t.Fatalf("%s check run changed the host:\nbefore:\n%s\nafter:\n%s", mod, before, after)
	}
	r, plan := e.run(t, mod, args, false)
	if r["failed"] == true {
		t.Fatalf("%s failed: %v (%v)", mod, r["msg"], r["stderr"])
	}
	if r["changed"] != true {
		t.Fatalf("%s first run reports no change: %v", mod, r)
	}
	m, _ := modules.Registry().Lookup(mod)
	if m.Spec().Diff && len(plan.Diff) == 0 {
		t.Errorf("%s: no diff for a change", mod)
	}
	if after := e.sh(t, state); after == before {
		t.Errorf("%s: state unchanged after the first run:\n%s", mod, after)
	}
	start := time.Now()
	r2, _ := e.run(t, mod, args, false)
	t.Logf("%s: converged run took %v", mod, time.Since(start).Round(time.Millisecond))
	if r2["changed"] != false || r2["failed"] == true {
		t.Fatalf("%s second run: %v", mod, r2)
	}
	if r3, _ := e.run(t, mod, args, true); r3["changed"] != false {
		t.Fatalf("%s check run after convergence: %v", mod, r3)
	}
	return r
}

// fails runs a task that must fail with msg containing want.
func (e *sysEnv) fails(t *testing.T, mod string, args map[string]any, want string) {
	t.Helper()
	r, _ := e.run(t, mod, args, false)
	if r["failed"] != true || !strings.Contains(r["msg"].(string), want) {
		t.Errorf("%s %v: want a failure containing %q, got %v", mod, args, want, r)
	}
}

type debFinder string

func (d debFinder) Find(kind, name string) (string, error) {
	p := filepath.Join(string(d), name)
	_, err := os.Stat(p)
	return p, err
}

// TestSystemModules boots one host and runs every system module against
// it, in an order where later tasks build on earlier ones (cron needs the
// cron package, authorized_key a user).
func TestSystemModules(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "s1"})
	host := bed.Hosts[0]
	pool := ssh.NewPool(ssh.Options{KnownHostsFile: host.KnownHostsFile})
	t.Cleanup(func() { pool.Close() })
	ctx := context.Background()
	conn, err := pool.Get(ctx, host.Name, map[string]any{
		"ansible_host": host.Addr, "ansible_port": host.Port, "ansible_user": "root",
		"ansible_ssh_private_key_file": host.KeyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctrl := t.TempDir()
	e := &sysEnv{t: t, bed: bed, name: host.Name, h: &module.Host{
		Name: host.Name, Conn: conn, Vars: map[string]any{}, Files: debFinder(ctrl), Diff: true, Warn: func(string) {},
	}}

	t.Run("apt", func(t *testing.T) {
		state := "dpkg-query -W -f='${Package} ${Status} ${Version}\\n' tree cron 2>/dev/null; true"
		// A cache refresh on its own is a change (as in Ansible) when it
		// brought new lists (their time stamp moved): after lists were
		// removed, not when the mirror had nothing new. Without
		// cache_valid_time it refreshes every time; with it, only when the
		// lists are older.
		e.sh(t, "rm -f /var/lib/apt/lists/*_Packages*")
		if r, _ := e.run(t, "apt", map[string]any{"update_cache": true}, false); r["changed"] != true || r["cache_updated"] != true {
			t.Fatalf("update_cache after the lists were removed: %v", r)
		}
		if r, _ := e.run(t, "apt", map[string]any{"update_cache": true}, false); r["changed"] != false || r["cache_updated"] != false {
			t.Errorf("update_cache with nothing new on the mirror: %v", r)
		}
		if r, _ := e.run(t, "apt", map[string]any{"update_cache": true, "cache_valid_time": 3600}, false); r["changed"] != false || r["cache_updated"] != false {
			t.Errorf("update_cache with a fresh cache: %v", r)
		}
		e.converge(t, "apt", map[string]any{"name": []any{"tree", "cron"}, "update_cache": true, "cache_valid_time": 3600}, state)
		e.sh(t, "command -v tree && command -v crontab")
		// latest on what is installed and current: ok.
		if r, _ := e.run(t, "apt", map[string]any{"name": "tree", "state": "latest"}, false); r["changed"] != false {
			t.Errorf("latest: %v", r)
		}
		e.converge(t, "apt", map[string]any{"name": "tree", "state": "absent", "purge": true}, state)
		e.fails(t, "apt", map[string]any{"name": "tend-no-such-package"}, "No package matching")
	})

	t.Run("apt deb", func(t *testing.T) {
		if _, err := exec.LookPath("dpkg-deb"); err != nil {
			t.Skip("dpkg-deb not installed on the controller")
		}
		build := func(version string) string {
			root := filepath.Join(ctrl, "pkg-"+version)
			os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755)
			os.MkdirAll(filepath.Join(root, "usr/share/tend-hello"), 0o755)
			os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: tend-hello\nVersion: "+version+
				"\nArchitecture: all\nMaintainer: tend <t@example.com>\nDescription: tend test package\n"), 0o644)
			os.WriteFile(filepath.Join(root, "usr/share/tend-hello/VERSION"), []byte(version+"\n"), 0o644)
			out := filepath.Join(ctrl, "tend-hello_"+version+"_all.deb")
			if b, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, out).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb: %v: %s", err, b)
			}
			return out
		}
		v1, v2 := build("1.0-1"), build("2.0-1")
		var requests atomic.Int64
		ln, err := net.Listen("tcp", bed.Gateway+":0")
		if err != nil {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") == "" {
				requests.Add(1) // full downloads only
			}
			http.ServeFile(w, r, filepath.Join(ctrl, filepath.Base(r.URL.Path)))
		}))
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)

		state := "cat /usr/share/tend-hello/VERSION 2>/dev/null; dpkg-query -W -f='${Version}\\n' tend-hello 2>/dev/null; true"
		e.converge(t, "apt", map[string]any{"deb": srv.URL + "/" + filepath.Base(v1)}, state)
		if n := requests.Load(); n != 1 {
			t.Errorf("%d full downloads for 4 runs, want 1 (the install)", n)
		}
		// A newer version from a controller path (role files/).
		e.converge(t, "apt", map[string]any{"deb": filepath.Base(v2)}, state)
		if got := strings.TrimSpace(e.sh(t, "cat /usr/share/tend-hello/VERSION")); got != "2.0-1" {
			t.Errorf("installed version %q", got)
		}
		e.fails(t, "apt", map[string]any{"deb": srv.URL + "/missing.deb"}, "404")
	})

	t.Run("apt_repository", func(t *testing.T) {
		state := "cat /etc/apt/sources.list.d/tendtest.list 2>/dev/null; true"
		args := map[string]any{"repo": "deb [trusted=yes] http://tend.invalid/apt stable main", "filename": "tendtest", "update_cache": false}
		e.converge(t, "apt_repository", args, state)
		if got := e.sh(t, "cat /etc/apt/sources.list.d/tendtest.list"); got != "deb [trusted=yes] http://tend.invalid/apt stable main\n" {
			t.Errorf("file = %q", got)
		}
		args["state"] = "absent"
		e.converge(t, "apt_repository", args, state)
		e.sh(t, "test ! -e /etc/apt/sources.list.d/tendtest.list")
		e.fails(t, "apt_repository", map[string]any{"repo": "http://no-type stable"}, "Invalid repository string")
	})

	t.Run("deb822_repository", func(t *testing.T) {
		key := "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGTendTestKeyOnly\n-----END PGP PUBLIC KEY BLOCK-----"
		args := map[string]any{"name": "Tend Test", "uris": "http://tend.invalid/debian", "suites": "bookworm",
			"components": "main", "signed_by": key, "enabled": false}
		state := "cat /etc/apt/sources.list.d/tend-test.sources /etc/apt/keyrings/tend-test.asc 2>/dev/null; true"
		r := e.converge(t, "deb822_repository", args, state)
		if r["key_filename"] != "/etc/apt/keyrings/tend-test.asc" {
			t.Errorf("key_filename = %v", r["key_filename"])
		}
		got := e.sh(t, "cat /etc/apt/sources.list.d/tend-test.sources")
		want := "Components: main\nEnabled: no\nX-Repolib-Name: Tend Test\nSigned-By: /etc/apt/keyrings/tend-test.asc\nSuites: bookworm\nTypes: deb\nURIs: http://tend.invalid/debian\n"
		if got != want {
			t.Errorf("sources file:\n%s\nwant:\n%s", got, want)
		}
		e.converge(t, "deb822_repository", map[string]any{"name": "Tend Test", "state": "absent"}, state)
	})

	t.Run("systemd and service", func(t *testing.T) {
		e.sh(t, "printf '[Unit]\\nDescription=tend test\\n[Service]\\nExecStart=/bin/sleep infinity\\nExecReload=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n' > /usr/lib/systemd/system/tend-test.service")
		state := "systemctl is-active tend-test; systemctl is-enabled tend-test; true"
		r := e.converge(t, "systemd", map[string]any{"name": "tend-test", "state": "started", "enabled": true, "daemon_reload": true}, state)
		if st, _ := r["status"].(map[string]any); st["LoadState"] != "loaded" {
			t.Errorf("status = %v", r["status"])
		}
		if got := e.sh(t, state); got != "active\nenabled\n" {
			t.Errorf("state %q", got)
		}
		if r, _ := e.run(t, "systemd", map[string]any{"name": "tend-test", "state": "reloaded"}, false); r["changed"] != true || r["failed"] == true || r["state"] != "started" {
			t.Errorf("reloaded: %v (state: the unit's, started, as Ansible's)", r)
		}
		if r, _ := e.run(t, "service", map[string]any{"name": "tend-test", "state": "restarted"}, false); r["changed"] != true || r["state"] != "started" {
			t.Errorf("service restarted: %v, want changed and state started", r)
		}
		// daemon_reload alone runs outside check mode but is no change, as
		// in Ansible: a drift check must not report it every time.
		e.sh(t, "sed -i 's/Description=tend test/Description=tend test, edited/' /usr/lib/systemd/system/tend-test.service")
		needReload := "systemctl show -p NeedDaemonReload --value tend-test"
		for _, check := range []bool{true, false} {
			r, _ := e.run(t, "systemd", map[string]any{"daemon_reload": true}, check)
			if r["changed"] != false || r["failed"] == true {
				t.Errorf("daemon_reload alone (check %v): %v, want ok", check, r)
			}
			want := "yes\n" // check mode runs nothing
			if !check {
				want = "no\n"
			}
			if got := e.sh(t, needReload); got != want {
				t.Errorf("after daemon_reload (check %v): NeedDaemonReload=%q, want %q", check, got, want)
			}
		}
		// service detects systemd by itself (no ansible_service_mgr fact).
		e.converge(t, "service", map[string]any{"name": "tend-test", "state": "stopped", "enabled": false}, state)
		e.converge(t, "systemd_service", map[string]any{"name": "tend-test", "masked": true}, state)
		e.fails(t, "systemd", map[string]any{"name": "tend-test", "state": "started"}, "masked")
		e.converge(t, "systemd", map[string]any{"name": "tend-test", "masked": false}, state)
		e.fails(t, "systemd", map[string]any{"name": "tend-nope", "state": "started"}, "Could not find the requested service")
	})

	t.Run("systemd indirect unit", func(t *testing.T) {
		// A service enabled through Also= stays "indirect"; Ansible reads
		// is-enabled --full to know it is enabled, so a second run is ok.
		e.sh(t, "printf '[Unit]\nDescription=tend dummy\nRequires=tend-dummy.socket\n[Service]\nExecStart=/bin/yes\nStandardInput=socket\n[Install]\nAlso=tend-dummy.socket\n' > /etc/systemd/system/tend-dummy.service && "+
			"printf '[Unit]\nDescription=tend dummy socket\n[Socket]\nListenDatagram=6969\n[Install]\nWantedBy=sockets.target\n' > /etc/systemd/system/tend-dummy.socket && systemctl daemon-reload")
		state := "systemctl is-enabled --full tend-dummy; true"
		if r, _ := e.run(t, "systemd", map[string]any{"name": "tend-dummy", "enabled": false}, false); r["changed"] != false || r["failed"] == true {
			t.Errorf("indirect unit not enabled yet: %v", r)
		}
		e.converge(t, "systemd", map[string]any{"name": "tend-dummy", "enabled": true}, state)
		if got := e.sh(t, "systemctl is-enabled tend-dummy.socket"); got != "enabled\n" {
			t.Errorf("socket %q", got)
		}
	})

	t.Run("systemd offline", func(t *testing.T) {
		h := *e.h
		h.Env = map[string]string{"SYSTEMD_OFFLINE": "1"}
		r, _ := runModule(t, &h, "systemd", map[string]any{"name": "ssh", "state": "started"}, false)
		if r["failed"] == true || r["changed"] == true {
			t.Errorf("offline: %v", r)
		}
	})

	t.Run("group and user", func(t *testing.T) {
		state := "getent group tendgrp; getent passwd tenduser; id -Gn tenduser 2>/dev/null; getent shadow tenduser | cut -d: -f2,8; ls -d /home/tenduser 2>/dev/null; true"
		e.converge(t, "group", map[string]any{"name": "tendgrp", "gid": 2345}, state)
		e.converge(t, "group", map[string]any{"name": "tendgrp", "gid": 2346}, state)
		e.fails(t, "group", map[string]any{"name": "tendgrp2", "non_unique": true}, "non_unique is True but all of the following are missing: gid")
		hash := "$6$tendsalt$Zx0wUQ5nV5Y8g9v0m0M9b0lJg9.5m9QWmBkI5m2b0bq3N5QO1yGx1o2xJX4Q0pQXl6p6m6yZc2i7u0VvH8n1/"
		r := e.converge(t, "user", map[string]any{"name": "tenduser", "uid": 2345, "group": "tendgrp", "groups": []any{"adm"},
			"shell": "/bin/sh", "comment": "Tend User", "password": hash}, state)
		if r["uid"] != 2345 || r["group"] != 2346 || r["home"] != "/home/tenduser" {
			t.Errorf("result = %v", r)
		}
		if got := e.sh(t, "getent shadow tenduser | cut -d: -f2"); strings.TrimSpace(got) != hash {
			t.Errorf("hash = %q", got)
		}
		e.converge(t, "user", map[string]any{"name": "tenduser", "groups": []any{"users"}, "append": true}, state)
		if got := strings.Fields(e.sh(t, "id -Gn tenduser")); len(got) != 3 {
			t.Errorf("groups after append: %v", got)
		}
		e.converge(t, "user", map[string]any{"name": "tenduser", "password_lock": true, "expires": 1893456000}, state)
		e.fails(t, "user", map[string]any{"name": "tenduser", "groups": []any{"tend-missing"}}, "Group tend-missing does not exist")
	})

	t.Run("authorized_key", func(t *testing.T) {
		keys := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlbmR0ZXN0a2V5MTExMTExMTExMTExMTExMTExMTE one@tend\n" +
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlbmR0ZXN0a2V5MjIyMjIyMjIyMjIyMjIyMjIyMjI two@tend"
		state := "stat -c '%n %a %U' /home/tenduser/.ssh /home/tenduser/.ssh/authorized_keys 2>/dev/null; cat /home/tenduser/.ssh/authorized_keys 2>/dev/null; true"
		e.converge(t, "authorized_key", map[string]any{"user": "tenduser", "key": keys}, state)
		if got := e.sh(t, "stat -c '%a %U' /home/tenduser/.ssh /home/tenduser/.ssh/authorized_keys"); got != "700 tenduser\n600 tenduser\n" {
			t.Errorf("modes/owners: %q", got)
		}
		e.converge(t, "authorized_key", map[string]any{"user": "tenduser", "key": strings.Split(keys, "\n")[0], "key_options": "no-pty", "exclusive": true}, state)
		if got := e.sh(t, "cat /home/tenduser/.ssh/authorized_keys"); !strings.HasPrefix(got, "no-pty ssh-ed25519") || strings.Count(got, "\n") != 1 {
			t.Errorf("exclusive: %q", got)
		}
	})

	t.Run("cron", func(t *testing.T) {
		state := "crontab -l -u tenduser 2>/dev/null; cat /etc/cron.d/tend 2>/dev/null; true"
		e.converge(t, "cron", map[string]any{"name": "tend tick", "minute": "*/5", "job": "date > /tmp/tick", "user": "tenduser"}, state)
		if got := e.sh(t, "crontab -l -u tenduser"); !strings.Contains(got, "#Ansible: tend tick\n*/5 * * * * date > /tmp/tick\n") {
			t.Errorf("crontab:\n%s", got)
		}
		e.converge(t, "cron", map[string]any{"name": "MAILTO", "env": true, "job": "ops@example.com", "user": "tenduser"}, state)
		e.converge(t, "cron", map[string]any{"name": "tend tick", "minute": "*/5", "job": "date > /tmp/tick", "user": "tenduser", "disabled": true}, state)
		e.converge(t, "cron", map[string]any{"name": "nightly", "special_time": "daily", "job": "/bin/true", "cron_file": "tend"}, state)
		if got := e.sh(t, "cat /etc/cron.d/tend"); got != "#Ansible: nightly\n@daily root /bin/true\n" {
			t.Errorf("cron file %q", got)
		}
		e.converge(t, "cron", map[string]any{"name": "nightly", "state": "absent", "cron_file": "tend"}, state)
		e.sh(t, "test ! -e /etc/cron.d/tend")
	})

	t.Run("sysctl", func(t *testing.T) {
		// /proc/sys is read-only in the testbed's containers: the file side
		// is tested for real, setting the live value must fail cleanly.
		state := "cat /etc/sysctl.d/90-tend.conf 2>/dev/null; true"
		args := map[string]any{"name": "vm.swappiness", "value": "10", "sysctl_file": "/etc/sysctl.d/90-tend.conf", "reload": false}
		e.converge(t, "sysctl", args, state)
		if got := e.sh(t, state); got != "vm.swappiness=10\n" {
			t.Errorf("state %q", got)
		}
		args["value"] = "20"
		e.converge(t, "sysctl", args, state)
		e.converge(t, "sysctl", map[string]any{"name": "vm.swappiness", "state": "absent",
			"sysctl_file": "/etc/sysctl.d/90-tend.conf", "reload": false}, state)
		e.fails(t, "sysctl", map[string]any{"name": "net.ipv4.ip_forward", "value": "1", "sysctl_set": true, "reload": false,
			"sysctl_file": "/etc/sysctl.d/91-tend.conf"}, "setting net.ipv4.ip_forward failed")
		e.sh(t, "rm -f /etc/sysctl.d/91-tend.conf")
	})

	t.Run("hostname", func(t *testing.T) {
		orig := strings.TrimSpace(e.sh(t, "hostname"))
		t.Cleanup(func() { e.sh(t, "printf '%s\\n' "+orig+" > /etc/hostname; hostname "+orig) })
		r := e.converge(t, "hostname", map[string]any{"name": "tend-renamed.example.com"}, "hostname; cat /etc/hostname")
		if f, _ := r["ansible_facts"].(map[string]any); f["ansible_hostname"] != "tend-renamed" {
			t.Errorf("facts = %v", r["ansible_facts"])
		}
		if got := e.sh(t, "hostname; cat /etc/hostname"); got != "tend-renamed.example.com\ntend-renamed.example.com\n" {
			t.Errorf("got %q", got)
		}
	})

	t.Run("timezone", func(t *testing.T) {
		e.sh(t, "test -f /usr/share/zoneinfo/Europe/Paris || DEBIAN_FRONTEND=noninteractive apt-get install -y -q tzdata >/dev/null")
		state := "readlink /etc/localtime; cat /etc/timezone 2>/dev/null; true"
		e.converge(t, "timezone", map[string]any{"name": "Europe/Paris"}, state)
		if got := e.sh(t, "date +%Z"); got != "CET\n" && got != "CEST\n" {
			t.Errorf("date +%%Z = %q", got)
		}
		r := e.converge(t, "timezone", map[string]any{"name": "Etc/UTC"}, state)
		// The result's diff names the zone replaced, as Ansible's does.
		if d, _ := r["diff"].(map[string]any); fmt.Sprint(d["before"]) != "map[name:Europe/Paris]" || fmt.Sprint(d["after"]) != "map[name:Etc/UTC]" {
			t.Errorf("timezone result diff: %v", r["diff"])
		}
		e.fails(t, "timezone", map[string]any{"name": "Mars/Olympus_Mons"}, "not available")
	})

	t.Run("mount", func(t *testing.T) {
		state := "grep tend /etc/fstab; findmnt -n -o SOURCE,FSTYPE,OPTIONS /mnt/tend; ls -d /mnt/tend 2>/dev/null; true"
		args := map[string]any{"path": "/mnt/tend", "src": "tendfs", "fstype": "tmpfs", "opts": "size=1m", "state": "mounted"}
		e.converge(t, "mount", args, state)
		if got := e.sh(t, "findmnt -n -o SOURCE,FSTYPE /mnt/tend"); !strings.Contains(got, "tendfs") || !strings.Contains(got, "tmpfs") {
			t.Errorf("findmnt: %q", got)
		}
		args["opts"] = "size=2m"
		e.converge(t, "mount", args, state)
		if got := e.sh(t, "findmnt -n -o OPTIONS /mnt/tend"); !strings.Contains(got, "size=2048k") {
			t.Errorf("not remounted with the new size: %q", got)
		}
		e.converge(t, "mount", map[string]any{"path": "/mnt/tend", "state": "unmounted"}, state)
		e.converge(t, "mount", map[string]any{"path": "/mnt/tend", "state": "absent"}, state)
		e.sh(t, "test ! -e /mnt/tend && ! grep -q /mnt/tend /etc/fstab")
		// An NFS entry is pure fstab work with state=present.
		e.converge(t, "mount", map[string]any{"path": "/srv/nfs", "src": "nas.example.com:/export", "fstype": "nfs4",
			"opts": "rw,hard,_netdev", "state": "present"}, "grep /srv/nfs /etc/fstab; true")
		e.fails(t, "mount", map[string]any{"path": "/mnt/x", "state": "mounted"}, "requires src and fstype")
	})

	t.Run("package", func(t *testing.T) {
		e.h.Vars = map[string]any{"ansible_facts": map[string]any{"pkg_mgr": "apt"}}
		defer func() { e.h.Vars = map[string]any{} }()
		e.converge(t, "package", map[string]any{"name": "tree", "state": "present"},
			"dpkg-query -W -f='${Status}\\n' tree 2>/dev/null; true")
	})

	t.Run("bad arguments", func(t *testing.T) {
		for _, c := range []struct {
			mod  string
			args map[string]any
			want string
		}{
			{"apt", map[string]any{"name": "x", "deb": "/x.deb"}, "mutually exclusive"},
			{"systemd", map[string]any{"name": "x", "state": "bounced"}, "not one of"},
			{"user", map[string]any{"name": "x", "uid": "abc"}, "expected an integer"},
			{"mount", map[string]any{"path": "/x"}, "missing required argument \"state\""},
			{"cron", map[string]any{"name": "x", "insertafter": "A", "insertbefore": "B", "env": true}, "mutually exclusive"},
			{"authorized_key", map[string]any{"user": "x"}, "missing required argument \"key\""},
			{"service", map[string]any{"name": "x"}, "one of these arguments is required: state, enabled"},
		} {
			m, _ := modules.Registry().Lookup(c.mod)
			if _, err := m.Spec().Validate(c.args, false); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %v: err = %v, want %q", c.mod, c.args, err, c.want)
			}
		}
	})
}
