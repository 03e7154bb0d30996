package modules_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/module"
)

// newModsEnv boots one host for the tests of the facts, git and system
// modules added to close the gaps public roles hit.
func newModsEnv(t *testing.T) *sysEnv {
	bed := testbed.Start(t, testbed.HostSpec{Name: "m1"})
	host := bed.Hosts[0]
	pool := ssh.NewPool(ssh.Options{KnownHostsFile: host.KnownHostsFile})
	t.Cleanup(func() { pool.Close() })
	conn, err := pool.Get(context.Background(), host.Name, map[string]any{
		"ansible_host": host.Addr, "ansible_port": host.Port, "ansible_user": "root",
		"ansible_ssh_private_key_file": host.KeyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sysEnv{t: t, bed: bed, name: host.Name, h: &module.Host{
		Name: host.Name, Conn: conn, Vars: map[string]any{}, Diff: true, Warn: func(string) {},
	}}
}

// readOnly runs a facts module normally and in check mode: both must
// report ok with the same facts.
func (e *sysEnv) readOnly(t *testing.T, mod string, args map[string]any) map[string]any {
	t.Helper()
	r, _ := e.run(t, mod, args, false)
	if r["failed"] == true || r["changed"] != false {
		t.Fatalf("%s: %v", mod, r)
	}
	rc, _ := e.run(t, mod, args, true)
	if rc["failed"] == true || rc["changed"] != false {
		t.Fatalf("%s in check mode: %v", mod, rc)
	}
	f, _ := r["ansible_facts"].(map[string]any)
	return f
}

func TestModsModules(t *testing.T) {
	e := newModsEnv(t)

	t.Run("service_facts", func(t *testing.T) {
		e.sh(t, "printf '[Unit]\\nDescription=tend facts\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/tend-facts.service && systemctl daemon-reload && systemctl start tend-facts && systemctl mask tend-masked.service")
		start := time.Now()
		f := e.readOnly(t, "service_facts", nil)
		t.Logf("service_facts twice: %v", time.Since(start))
		services, _ := f["services"].(map[string]any)
		want := map[string]map[string]any{
			"tend-facts.service": {"name": "tend-facts.service", "state": "running", "status": "disabled", "source": "systemd"},
			// Not loaded, so not in list-units: its ActiveState, as in Ansible.
			"tend-masked.service": {"name": "tend-masked.service", "state": "inactive", "status": "masked", "source": "systemd"},
			"getty@.service":      {"name": "getty@.service", "state": "unknown", "status": "enabled", "source": "systemd"},
		}
		for name, w := range want {
			got, _ := services[name].(map[string]any)
			for k, v := range w {
				if got[k] != v {
					t.Errorf("%s.%s = %v, want %v (%v)", name, k, got[k], v, got)
				}
			}
		}
		if s, _ := services["ssh.service"].(map[string]any); s["state"] != "running" || s["status"] != "enabled" {
			t.Errorf("ssh.service = %v", s)
		}
		e.sh(t, "systemctl stop tend-facts")
		f = e.readOnly(t, "service_facts", nil)
		// A stopped unit is listed as stopped while loaded, by its
		// ActiveState once systemd has unloaded it.
		if s, _ := f["services"].(map[string]any)["tend-facts.service"].(map[string]any); s["state"] != "stopped" && s["state"] != "inactive" {
			t.Errorf("stopped service: %v", s)
		}
	})

	t.Run("package_facts", func(t *testing.T) {
		f := e.readOnly(t, "package_facts", map[string]any{"manager": "auto"})
		pkgs, _ := f["packages"].(map[string]any)
		want := strings.TrimSpace(e.sh(t, "dpkg-query -W -f='${Version}' bash"))
		l, _ := pkgs["bash"].([]any)
		if len(l) != 1 {
			t.Fatalf("bash = %v", pkgs["bash"])
		}
		if d := l[0].(map[string]any); d["version"] != want || d["source"] != "apt" || d["name"] != "bash" || d["category"] != "shells" {
			t.Errorf("bash = %v, want version %s", d, want)
		}
		n := strings.TrimSpace(e.sh(t, "dpkg-query -W -f='${db:Status-Status}\\n' | grep -c '^installed$'"))
		if got := strconv.Itoa(len(pkgs)); got != n {
			t.Errorf("%s packages, dpkg has %s installed", got, n)
		}
		e.fails(t, "package_facts", map[string]any{"manager": "rpm"}, "Could not detect a supported package manager")
	})

	t.Run("git", func(t *testing.T) {
		e.sh(t, "command -v git >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null 2>&1 || "+
			"{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null; }")
		e.sh(t, `set -e; git init -q -b main /srv/origin; cd /srv/origin; git config user.email t@example.com; git config user.name t
echo one > f; git add f; git commit -qm one; git tag -a v1 -m v1; git checkout -q -b dev; echo dev > f; git commit -qam dev; git checkout -q main`)
		head := func(dir string) string { return strings.TrimSpace(e.sh(t, "git -C "+dir+" rev-parse HEAD")) }
		state := "git -C /srv/app rev-parse HEAD 2>/dev/null; git -C /srv/app status --porcelain 2>/dev/null; git -C /srv/app remote -v 2>/dev/null; cat /srv/app/f 2>/dev/null; true"
		args := map[string]any{"repo": "/srv/origin", "dest": "/srv/app"}
		r := e.converge(t, "git", args, state)
		if r["before"] != nil || r["after"] != head("/srv/origin") {
			t.Errorf("clone result: %v", r)
		}
		e.sh(t, "cd /srv/origin && echo two > f && git commit -qam two")
		r = e.converge(t, "git", args, state)
		if r["after"] != head("/srv/origin") || r["before"] == r["after"] {
			t.Errorf("update result: %v", r)
		}
		args["version"] = "dev"
		e.converge(t, "git", args, state)
		if got := strings.TrimSpace(e.sh(t, "cat /srv/app/f; git -C /srv/app symbolic-ref --short HEAD")); got != "dev\ndev" {
			t.Errorf("branch dev: %q", got)
		}
		args["version"] = "v1"
		r = e.converge(t, "git", args, state)
		if r["after"] != strings.TrimSpace(e.sh(t, "git -C /srv/origin rev-parse v1^{commit}")) {
			t.Errorf("tag: %v", r)
		}
		// Local modifications fail the task unless force discards them.
		e.sh(t, "echo local > /srv/app/f")
		args["version"] = "main"
		e.fails(t, "git", args, "Local modifications exist in the destination: /srv/app (force=no).")
		args["force"] = true
		e.converge(t, "git", args, state)
		if got := strings.TrimSpace(e.sh(t, "cat /srv/app/f")); got != "two" {
			t.Errorf("after force: %q", got)
		}
		// A new URL for the same repository is a change.
		e.sh(t, "ln -s /srv/origin /srv/origin-link")
		args["repo"] = "/srv/origin-link"
		r = e.converge(t, "git", args, state)
		if r["remote_url_changed"] != true {
			t.Errorf("url change: %v", r)
		}
		// update=no only reports the version.
		if r, _ := e.run(t, "git", map[string]any{"repo": "/srv/origin", "dest": "/srv/app", "version": "dev", "update": false}, false); r["changed"] != false || r["after"] != head("/srv/app") {
			t.Errorf("update=no: %v", r)
		}
		// A shallow clone of a branch.
		e.converge(t, "git", map[string]any{"repo": "file:///srv/origin", "dest": "/srv/shallow", "version": "dev", "depth": 1},
			"git -C /srv/shallow rev-parse HEAD 2>/dev/null; true")
		if got := strings.TrimSpace(e.sh(t, "git -C /srv/shallow rev-list --count HEAD")); got != "1" {
			t.Errorf("shallow clone has %s commits", got)
		}
		e.fails(t, "git", map[string]any{"repo": "/srv/nowhere", "dest": "/srv/x"}, "Failed to read the remote refs")
	})

	t.Run("wait_for_connection", func(t *testing.T) {
		ctx := context.Background()
		if err := e.bed.PowerOff(ctx, e.name); err != nil {
			t.Fatal(err)
		}
		on := make(chan error, 1)
		go func() {
			time.Sleep(3 * time.Second)
			on <- e.bed.PowerOn(ctx, e.name)
		}()
		r, _ := e.run(t, "wait_for_connection", map[string]any{"timeout": 120, "sleep": 1}, false)
		if err := <-on; err != nil {
			t.Fatal(err)
		}
		if r["failed"] == true || r["changed"] != false || r["elapsed"].(int) < 2 {
			t.Fatalf("wait_for_connection: %v", r)
		}
		// The new connection is in use: the module's host runs commands.
		if r, _ := e.run(t, "command", map[string]any{"cmd": "true"}, false); r["rc"] != 0 {
			t.Errorf("command after the wait: %v", r)
		}
		// A host that does not come back fails after the timeout.
		if err := e.bed.PowerOff(ctx, e.name); err != nil {
			t.Fatal(err)
		}
		r, _ = e.run(t, "wait_for_connection", map[string]any{"timeout": 3, "connect_timeout": 1}, false)
		if r["failed"] != true || !strings.HasPrefix(r["msg"].(string), "timed out waiting for ping module test: ") {
			t.Errorf("unreachable host: %v", r)
		}
		if err := e.bed.PowerOn(ctx, e.name); err != nil {
			t.Fatal(err)
		}
		if r, _ := e.run(t, "wait_for_connection", map[string]any{"timeout": 60}, false); r["failed"] == true {
			t.Fatalf("wait after power on: %v", r)
		}
	})

	t.Run("reboot", func(t *testing.T) {
		ctx := context.Background()
		bootID := strings.TrimSpace(e.sh(t, "cat /proc/sys/kernel/random/boot_id"))
		// systemd-nspawn ends when its container reboots; the test powers
		// the host on again, as a machine's firmware would. PowerOn leaves a
		// running host alone, so it is simply called until the reboot is over.
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					done <- nil
					return
				case <-time.After(500 * time.Millisecond):
				}
				if err := e.bed.PowerOn(ctx, e.name); err != nil {
					done <- err
					return
				}
			}
		}()
		if r, _ := e.run(t, "reboot", nil, true); r["changed"] != true || r["rebooted"] != true {
			t.Errorf("check mode: %v", r)
		}
		if got := strings.TrimSpace(e.sh(t, "cat /proc/sys/kernel/random/boot_id")); got != bootID {
			t.Fatal("check mode rebooted the host")
		}
		r, _ := e.run(t, "reboot", map[string]any{"reboot_timeout": 120, "test_command": "test -d /root"}, false)
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r["failed"] == true || r["changed"] != true || r["rebooted"] != true {
			t.Fatalf("reboot: %v", r)
		}
		if got := strings.TrimSpace(e.sh(t, "cat /proc/sys/kernel/random/boot_id")); got == bootID {
			t.Errorf("boot id unchanged: %s", got)
		}
		if r, _ := e.run(t, "command", map[string]any{"cmd": "true"}, false); r["rc"] != 0 {
			t.Errorf("command after the reboot: %v", r)
		}
	})

	t.Run("locale_gen", func(t *testing.T) {
		e.sh(t, "[ -f /etc/locale.gen ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q locales >/dev/null 2>&1 || "+
			"{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q locales >/dev/null; }")
		state := "locale -a; grep -v '^#' /etc/locale.gen; true"
		e.converge(t, "locale_gen", map[string]any{"name": "de_CH.UTF-8"}, state)
		if !strings.Contains(e.sh(t, "locale -a"), "de_CH.utf8") {
			t.Error("de_CH.utf8 not generated")
		}
		e.converge(t, "locale_gen", map[string]any{"name": "de_CH.UTF-8", "state": "absent"}, state)
		e.fails(t, "locale_gen", map[string]any{"name": "xx_YY.UTF-8"}, "The locale you've entered is not available on your system.")
	})

	t.Run("pam_limits", func(t *testing.T) {
		state := "cat /etc/security/limits.d/tend.conf 2>/dev/null; stat -c %a /etc/security/limits.d/tend.conf 2>/dev/null; true"
		args := map[string]any{"domain": "postgres", "limit_type": "-", "limit_item": "nofile", "value": "65536",
			"dest": "/etc/security/limits.d/tend.conf", "comment": "tend"}
		e.converge(t, "pam_limits", args, state)
		args["value"] = "4096"
		args["use_max"] = true
		if r, _ := e.run(t, "pam_limits", args, false); r["changed"] != false {
			t.Errorf("use_max with a smaller value: %v", r)
		}
		args["use_max"] = false
		e.sh(t, "chmod 600 /etc/security/limits.d/tend.conf")
		e.converge(t, "pam_limits", args, state)
		if got := e.sh(t, state); got != "postgres\t-\tnofile\t4096\t#tend\n600\n" {
			t.Errorf("file: %q", got)
		}
		e.fails(t, "pam_limits", map[string]any{"domain": "*", "limit_type": "soft", "limit_item": "nice", "value": "40",
			"dest": "/etc/security/limits.d/tend.conf"}, "range -20 to 19")
	})

	t.Run("debconf", func(t *testing.T) {
		state := "debconf-show debconf | sort"
		r := e.converge(t, "debconf", map[string]any{"name": "debconf", "question": "debconf/priority", "vtype": "select", "value": "critical"}, state)
		if cur, _ := r["current"].(map[string]any); cur["debconf/priority"] != "critical" {
			t.Errorf("result: %v", r)
		}
		if got := e.sh(t, "echo GET debconf/priority | debconf-communicate debconf"); strings.TrimSpace(got) != "0 critical" {
			t.Errorf("debconf-communicate: %q", got)
		}
		r, _ = e.run(t, "debconf", map[string]any{"name": "debconf"}, false)
		if cur, _ := r["current"].(map[string]any); r["changed"] != false || cur["debconf/priority"] != "critical" {
			t.Errorf("answers only: %v", r)
		}
		e.converge(t, "debconf", map[string]any{"name": "debconf", "question": "debconf/priority", "vtype": "select", "value": "high"}, state)
	})

	t.Run("alternatives", func(t *testing.T) {
		e.sh(t, "printf '#!/bin/sh\\necho one\\n' > /usr/local/bin/tend-one; printf '#!/bin/sh\\necho two\\n' > /usr/local/bin/tend-two; chmod 755 /usr/local/bin/tend-one /usr/local/bin/tend-two")
		state := "update-alternatives --display tend 2>/dev/null; readlink /usr/bin/tend; true"
		e.converge(t, "alternatives", map[string]any{"name": "tend", "path": "/usr/local/bin/tend-one", "link": "/usr/bin/tend", "priority": 10}, state)
		e.converge(t, "alternatives", map[string]any{"name": "tend", "path": "/usr/local/bin/tend-two", "link": "/usr/bin/tend", "state": "present", "priority": 20}, state)
		if got := strings.TrimSpace(e.sh(t, "tend")); got != "one" {
			t.Errorf("manual selection lost: tend prints %q", got)
		}
		e.converge(t, "alternatives", map[string]any{"name": "tend", "path": "/usr/local/bin/tend-two", "state": "auto"}, state)
		if got := strings.TrimSpace(e.sh(t, "tend")); got != "two" {
			t.Errorf("auto mode: tend prints %q", got)
		}
		e.converge(t, "alternatives", map[string]any{"name": "tend", "path": "/usr/local/bin/tend-two", "state": "absent"}, state)
		e.fails(t, "alternatives", map[string]any{"name": "tend", "path": "/usr/local/bin/tend-nope", "link": "/usr/bin/tend"}, "Specified path /usr/local/bin/tend-nope does not exist")
	})
}
