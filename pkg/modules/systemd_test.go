package modules

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

const systemctlShowFixture = `Type=simple
Restart=on-failure
MainPID=0
Id=cron.service
Names=cron.service
Description=Regular background program processing daemon
LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=disabled
NeedDaemonReload=no
ExecStart={ path=/usr/sbin/cron ; argv[]=/usr/sbin/cron -f $EXTRA_OPTS ; ignore_errors=no }
`

func TestParseSystemctlShow(t *testing.T) {
	st := parseSystemctlShow(systemctlShowFixture)
	if st["ActiveState"] != "inactive" || st["UnitFileState"] != "disabled" || st["LoadState"] != "loaded" {
		t.Errorf("status = %v", st)
	}
	if !strings.Contains(st["ExecStart"], "argv[]=/usr/sbin/cron -f") {
		t.Errorf("value with = lost: %q", st["ExecStart"])
	}
}

func TestDecideSystemd(t *testing.T) {
	mk := func(kv ...string) unitStatus {
		s := unitStatus{"LoadState": "loaded"}
		for i := 0; i+1 < len(kv); i += 2 {
			s[kv[i]] = kv[i+1]
		}
		return s
	}
	stopped := mk("ActiveState", "inactive", "UnitFileState", "disabled")
	running := mk("ActiveState", "active", "UnitFileState", "enabled")
	tests := []struct {
		name    string
		raw     map[string]any
		st      unitStatus
		actions []string
		fail    string
	}{
		{"start", map[string]any{"name": "cron", "state": "started"}, stopped, []string{"start -- cron"}, ""},
		{"already started", map[string]any{"name": "cron", "state": "started"}, running, nil, ""},
		{"activating counts as running", map[string]any{"name": "cron", "state": "started"}, mk("ActiveState", "activating"), nil, ""},
		{"stop", map[string]any{"name": "cron", "state": "stopped"}, running, []string{"stop -- cron"}, ""},
		{"stop deactivating", map[string]any{"name": "cron", "state": "stopped"}, mk("ActiveState", "deactivating"), []string{"stop -- cron"}, ""},
		{"restart always", map[string]any{"name": "cron", "state": "restarted", "no_block": true}, running, []string{"restart --no-block -- cron"}, ""},
		{"reload running", map[string]any{"name": "cron", "state": "reloaded"}, running, []string{"reload -- cron"}, ""},
		{"reload stopped starts", map[string]any{"name": "cron", "state": "reloaded"}, stopped, []string{"start -- cron"}, ""},
		{"enable and start", map[string]any{"name": "cron", "state": "started", "enabled": true}, stopped, []string{"enable -- cron", "start -- cron"}, ""},
		{"static counts as enabled", map[string]any{"name": "x", "enabled": true}, mk("UnitFileState", "static"), nil, ""},
		{"indirect counts as disabled", map[string]any{"name": "x", "enabled": true}, mk("UnitFileState", "indirect"), []string{"enable -- x"}, ""},
		{"disable forced", map[string]any{"name": "cron", "enabled": false, "force": true}, running, []string{"disable --force -- cron"}, ""},
		{"mask", map[string]any{"name": "cron", "masked": true}, running, []string{"mask -- cron"}, ""},
		{"unmask then start", map[string]any{"name": "cron", "masked": false, "state": "started"}, mk("UnitFileState", "masked", "LoadState", "masked", "ActiveState", "inactive"), []string{"unmask -- cron", "start -- cron"}, ""},
		{"start masked fails", map[string]any{"name": "cron", "state": "started"}, mk("UnitFileState", "masked", "LoadState", "masked", "ActiveState", "inactive"), nil, "masked"},
		{"not found", map[string]any{"name": "nope", "state": "started"}, unitStatus{"LoadState": "not-found"}, nil, "Could not find the requested service nope"},
		{"mask not found is fine", map[string]any{"name": "nope", "masked": true}, unitStatus{"LoadState": "not-found"}, []string{"mask -- nope"}, ""},
		{"quoted name", map[string]any{"name": "a b@x.service", "state": "started"}, stopped, []string{"start -- 'a b@x.service'"}, ""},
		{"name like an option", map[string]any{"name": "-.slice", "state": "started"}, stopped, []string{"start -- -.slice"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := Systemd{}.Spec().Validate(tt.raw, false)
			if err != nil {
				t.Fatal(err)
			}
			p, fail := decideSystemd(args, tt.st)
			if tt.fail != "" {
				if !strings.Contains(fail, tt.fail) {
					t.Errorf("fail = %q, want %q", fail, tt.fail)
				}
				return
			}
			if fail != "" {
				t.Fatalf("unexpected failure %q", fail)
			}
			if d := cmp.Diff(tt.actions, p.actions); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
		})
	}
}

func TestSystemdSpec(t *testing.T) {
	if _, err := (Systemd{}).Spec().Validate(map[string]any{"state": "started"}, false); err == nil {
		t.Error("no name, no daemon_reload: want an error")
	}
	if _, err := (SystemdService{}).Spec().Validate(map[string]any{"daemon-reload": true}, false); err != nil {
		t.Errorf("daemon-reload alone: %v", err)
	}
	if _, err := (Systemd{}).Spec().Validate(map[string]any{"name": "x", "state": "bounced"}, false); err == nil {
		t.Error("bad state accepted")
	}
}

func TestSysVCommands(t *testing.T) {
	tests := []struct {
		raw              map[string]any
		running, enabled bool
		want             []string
	}{
		{map[string]any{"name": "ntp", "state": "started"}, false, false, []string{"service ntp start"}},
		{map[string]any{"name": "ntp", "state": "started"}, true, false, nil},
		{map[string]any{"name": "ntp", "state": "stopped", "arguments": "--force"}, true, false, []string{"service ntp stop --force"}},
		{map[string]any{"name": "ntp", "state": "restarted", "sleep": 2}, true, true, []string{"{ service ntp stop || true; }", "sleep 2", "service ntp start"}},
		{map[string]any{"name": "ntp", "enabled": true}, true, false, []string{"if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ntp defaults && update-rc.d ntp enable; else chkconfig ntp on; fi"}},
		{map[string]any{"name": "ntp", "enabled": true}, true, true, nil},
	}
	for _, tt := range tests {
		args, err := Service{}.Spec().Validate(tt.raw, false)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, sysvCommands(args, tt.running, tt.enabled)); d != "" {
			t.Errorf("%v (-want +got):\n%s", tt.raw, d)
		}
	}
	if !strings.Contains(sysvProbe("ntp", "ntpd -g"), "grep -F -- 'ntpd -g'") {
		t.Error("pattern not used in the probe")
	}
}

// TestServicePassesSystemdArgs: service takes the systemd module's
// arguments (daemon-reload, as ansible-core's setup_cron target writes)
// and hands them to it on systemd; one systemd does not know, or any
// unknown one on SysV, fails the task. None of these reach the host.
func TestServicePassesSystemdArgs(t *testing.T) {
	spec := Service{}.Spec()
	if _, err := spec.Validate(map[string]any{"name": "cron", "state": "restarted", "daemon-reload": true}, false); err != nil {
		t.Fatalf("daemon-reload refused: %v", err)
	}
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "cron", "state": "started", "use": "systemd", "bogus": 1}, `module systemd: unsupported argument "bogus"`},
		{map[string]any{"name": "cron", "state": "started", "use": "sysvinit", "daemon_reload": true}, "Unsupported parameters for (service) module: daemon_reload"},
	} {
		args, err := spec.Validate(c.args, false)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Service{}.Plan(context.Background(), &module.Host{Name: "x"}, args)
		if err != nil {
			t.Fatal(err)
		}
		if msg, _ := p.Result["msg"].(string); !strings.Contains(msg, c.want) {
			t.Errorf("%v: msg %q, want %q", c.args, msg, c.want)
		}
	}
}

// TestSystemdOffline: with systemd offline (SYSTEMD_OFFLINE=1, or a
// chroot) systemctl show says nothing; the unit is found from its unit
// file and state is left alone with Ansible's warning.
func TestSystemdOffline(t *testing.T) {
	if _, err := exec.LookPath("systemctl"); err != nil {
		t.Skip("no systemctl")
	}
	if out, _ := exec.Command("systemctl", "is-enabled", "systemd-journald").Output(); len(out) == 0 {
		t.Skip("no systemd-journald unit here")
	}
	var warnings []string
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Env: map[string]string{"SYSTEMD_OFFLINE": "1"},
		Warn: func(m string) { warnings = append(warnings, m) }}
	args, err := Systemd{}.Spec().Validate(map[string]any{"name": "systemd-journald", "state": "started"}, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Systemd{}.Plan(context.Background(), h, args)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result["failed"] == true || p.Changed || len(warnings) != 1 || !strings.Contains(warnings[0], "systemd is offline") {
		t.Errorf("plan %+v, warnings %q", p.Result, warnings)
	}
	args, _ = Systemd{}.Spec().Validate(map[string]any{"name": "tend-no-such-unit", "state": "started"}, false)
	if p, err := (Systemd{}).Plan(context.Background(), h, args); err != nil || p.Result["msg"] != "Could not find the requested service tend-no-such-unit: host" {
		t.Errorf("missing unit offline: %v %v", p.Result, err)
	}
}
