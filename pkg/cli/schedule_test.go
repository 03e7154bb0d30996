package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSystemdQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/tend/site.yml":   "/etc/tend/site.yml",
		"/srv/my playbooks/a":  `"/srv/my playbooks/a"`,
		"50%":                  "50%%",
		"$HOME/x":              "$$HOME/x",
		`a"b\c`:                `"a\"b\\c"`,
		"":                     `""`,
		"--limit=web;rm -rf /": `"--limit=web;rm -rf /"`,
	} {
		if got := systemdQuote(in); got != want {
			t.Errorf("systemdQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestScheduleInstallRoot installs both kinds of schedule below a root
// directory and checks the files; bad options are refused before anything
// is written.
func TestScheduleInstallRoot(t *testing.T) {
	dir := t.TempDir()
	pb := filepath.Join(dir, "my site.yml")
	inv := filepath.Join(dir, "hosts")
	for _, f := range []string{pb, inv} {
		if err := os.WriteFile(f, []byte("- hosts: all\n  tasks: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "root")
	run := func(o scheduleOptions) (string, error) {
		var out bytes.Buffer
		o.tendPath, o.root, o.keep, o.waitLock = "/bin/true", root, 48, 10*time.Minute
		if o.mode == "" {
			o.mode = "check"
		}
		if o.onCalendar == "" {
			o.onCalendar = "hourly"
		}
		err := runSchedule(context.Background(), o, &out)
		return out.String(), err
	}
	if _, err := run(scheduleOptions{inventories: []string{inv}, playbook: pb, user: "tend"}); err != nil {
		t.Fatal(err)
	}
	svc, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/tend-my-site.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ExecStart=/bin/true play -i ` + inv + ` --check --detailed-exitcode --wait-lock 10m0s --report-dir /var/lib/tend/my-site --keep 48 "` + pb + `"`,
		"User=tend\n", "SuccessExitStatus=2\n", "ExecStartPre=+/bin/chown tend /var/lib/tend/my-site\n",
	} {
		if !strings.Contains(string(svc), want) {
			t.Errorf("service lacks %q:\n%s", want, svc)
		}
	}
	timer, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/tend-my-site.timer"))
	if err != nil || !strings.Contains(string(timer), "OnCalendar=hourly\n") || !strings.Contains(string(timer), "Unit=tend-my-site.service\n") {
		t.Errorf("timer: %v\n%s", err, timer)
	}
	if _, err := run(scheduleOptions{inventories: []string{inv}, playbook: pb, mode: "apply", cron: true, name: "fix", onCalendar: "daily"}); err != nil {
		t.Fatal(err)
	}
	cron, err := os.ReadFile(filepath.Join(root, "etc/cron.d/tend-fix"))
	if err != nil {
		t.Fatal(err)
	}
	want := "0 0 * * * root mkdir -p /var/lib/tend/fix && /bin/true play -i " + inv + " --wait-lock 10m0s --report-dir /var/lib/tend/fix --keep 48 '" + pb + "' >/dev/null 2>>/var/lib/tend/fix/tend.log\n"
	if !strings.Contains(string(cron), want) {
		t.Errorf("cron file lacks\n%s\n%s", want, cron)
	}
	for name, o := range map[string]scheduleOptions{
		"no inventory":        {playbook: pb},
		"bad mode":            {inventories: []string{inv}, playbook: pb, mode: "fix"},
		"missing playbook":    {inventories: []string{inv}, playbook: filepath.Join(dir, "nope.yml")},
		"bad name":            {inventories: []string{inv}, playbook: pb, name: "a/b"},
		"relative reports":    {inventories: []string{inv}, playbook: pb, reportDir: "runs"},
		"cron needs a spec":   {inventories: []string{inv}, playbook: pb, cron: true, onCalendar: "*:0/15"},
		"cron spec too short": {inventories: []string{inv}, playbook: pb, cron: true, cronSpec: "0 *"},
	} {
		o.name = cmpOr(o.name, "bad")
		if _, err := run(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc/cron.d/tend-bad")); err == nil {
		t.Error("a refused schedule was installed")
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
