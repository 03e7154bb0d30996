package smoke

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
)

// scheduledPlaybook creates one directory: a drift check finds it missing
// (exit 2), a correction run creates it.
const scheduledPlaybook = `- hosts: all
  gather_facts: false
  tasks:
    - name: the scheduled directory
      file:
        path: /srv/scheduled
        state: directory
        mode: "0750"
`

// TestSchedule installs tend on a testbed host (Debian with systemd),
// runs tend schedule there, checks the units with systemd-analyze verify,
// starts the drift-check service once with systemctl (the unit must run
// tend and leave a report set in its report directory, drift counted as
// success), then a correction-run service, and runs the command of the
// cron line --cron installs.
func TestSchedule(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "sched1"})
	h := bed.Host("sched1")
	root := filepath.Join(h.Dir, "merged")
	// tend as a static binary, the playbook and an inventory on the host.
	bin := filepath.Join(root, "usr/local/bin/tend")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/tend")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}
	for path, content := range map[string]string{
		"etc/tend/hosts":    "sched1 ansible_connection=local\n",
		"etc/tend/site.yml": scheduledPlaybook,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// sshTry runs a command on the host; an SSH connection that timed out
	// (exit 255, as on a machine at load 100) is tried again.
	sshTry := func(cmd string) (string, error) {
		var out string
		var err error
		for range 3 {
			out, err = bed.SSH(ctx, "sched1", cmd)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 255 {
				break
			}
		}
		return out, err
	}
	ssh := func(cmd string) string {
		t.Helper()
		out, err := sshTry(cmd)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out
	}

	// --dry-run prints the units and installs nothing.
	out := ssh("tend schedule -i /etc/tend/hosts --on-calendar '*:0/30' --dry-run /etc/tend/site.yml")
	for _, want := range []string{"# /etc/systemd/system/tend-site.service", "OnCalendar=*:0/30",
		"ExecStart=/usr/local/bin/tend play -i /etc/tend/hosts --check --detailed-exitcode --wait-lock 10m0s --report-dir /var/lib/tend/site --keep 48 /etc/tend/site.yml"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/tend-site.service")); err == nil {
		t.Fatal("--dry-run installed the service")
	}

	// The drift check: installed, verified, the timer running, one run.
	ssh("tend schedule -i /etc/tend/hosts --on-calendar '*:0/30' /etc/tend/site.yml")
	if out, err := sshTry("systemd-analyze verify /etc/systemd/system/tend-site.service /etc/systemd/system/tend-site.timer 2>&1"); err != nil || strings.Contains(out, "tend-site") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(ssh("systemctl is-active tend-site.timer; systemctl is-enabled tend-site.timer")); got != "active\nenabled" {
		t.Errorf("timer: %q, want active and enabled", got)
	}
	ssh("systemctl start tend-site.service")
	if got := strings.TrimSpace(ssh("systemctl show -P ExecMainStatus tend-site.service; systemctl show -P Result tend-site.service")); got != "2\nsuccess" {
		t.Errorf("drift check service: status and result %q, want 2 (drift) and success", got)
	}
	prom := ssh("cat /var/lib/tend/site/latest/tend.prom")
	if !strings.Contains(prom, "tend_last_run_exit_code 2") || !strings.Contains(prom, `tend_host_drifted_tasks{host="sched1"} 1`) {
		t.Errorf("drift check's Prometheus report:\n%s", prom)
	}
	if out, err := sshTry("test -e /srv/scheduled"); err == nil {
		t.Errorf("the drift check changed the host: %s", out)
	}

	// A correction run as a second schedule.
	ssh("tend schedule -i /etc/tend/hosts --mode apply --name site-fix --on-calendar daily --no-start /etc/tend/site.yml")
	if out, err := sshTry("systemd-analyze verify /etc/systemd/system/tend-site-fix.service /etc/systemd/system/tend-site-fix.timer 2>&1"); err != nil || strings.Contains(out, "tend-site") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	ssh("systemctl start tend-site-fix.service")
	if got := strings.TrimSpace(ssh("systemctl show -P ExecMainStatus tend-site-fix.service; stat -c %a /srv/scheduled")); got != "0\n750" {
		t.Errorf("correction run: exit status and directory mode %q, want 0 and 750", got)
	}
	if got := ssh("ls /var/lib/tend/site-fix/latest/"); !strings.Contains(got, "report.json") {
		t.Errorf("correction run's report set: %q", got)
	}

	// The cron alternative: the file's command runs as cron would run it.
	ssh("tend schedule -i /etc/tend/hosts --cron --name site-cron /etc/tend/site.yml")
	line := ""
	for l := range strings.SplitSeq(ssh("cat /etc/cron.d/tend-site-cron"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") && !strings.Contains(l, "=") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) < 7 || strings.Join(f[:6], " ") != "0 * * * * root" {
		t.Fatalf("cron line %q: want hourly as root", line)
	}
	command := strings.SplitN(line, " root ", 2)[1]
	if out, err := sshTry("/bin/sh -c " + shellWord(command)); err != nil {
		t.Fatalf("cron command %q: %v\n%s", command, err, out)
	}
	if got := ssh("cat /var/lib/tend/site-cron/latest/tend.prom"); !strings.Contains(got, "tend_last_run_exit_code 0") {
		t.Errorf("cron run's report (nothing left to correct, exit 0):\n%s", got)
	}
}

func shellWord(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
