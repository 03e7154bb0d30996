package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/tend-dev/tend/pkg/atomicfile"
)

// scheduleOptions are the parsed flags of tend schedule.
type scheduleOptions struct {
	name        string
	inventories []string
	playbook    string
	mode        string // check or apply
	onCalendar  string
	cronSpec    string
	reportDir   string
	keep        int
	user        string
	waitLock    time.Duration
	tendPath    string
	root        string
	cron        bool
	dryRun      bool
	noStart     bool
	extra       []string
}

func scheduleCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "schedule",
		Usage: "install a systemd timer (or a cron line) that runs a drift check or a correction run with reports and the run lock",
		Description: `Writes tend-NAME.service and tend-NAME.timer into /etc/systemd/system, reloads systemd and
starts the timer; with --cron writes /etc/cron.d/tend-NAME instead. --dry-run prints the files.
The service runs: tend play -i INVENTORY... PLAYBOOK [--check --detailed-exitcode] --wait-lock D
--report-dir DIR --keep N. In check mode exit 2 (drift found) counts as success for systemd:
drift is in the reports (latest/report.json, junit.xml, tend.prom), not a failed unit.`,
		ArgsUsage: "PLAYBOOK",
		Flags: []ucli.Flag{
			inventoryFlag(),
			&ucli.StringFlag{Name: "name", Usage: "unit name suffix: tend-NAME.service/.timer (default: the playbook's file name without .yml)"},
			&ucli.StringFlag{Name: "mode", Value: "check", Usage: "check (drift check: --check --detailed-exitcode) or apply (correction run)"},
			&ucli.StringFlag{Name: "on-calendar", Value: "hourly", Usage: "when the timer runs, as systemd's OnCalendar= (hourly, daily, *:0/15, Mon..Fri 06:00)"},
			&ucli.StringFlag{Name: "cron-schedule", Usage: "with --cron, the five cron time fields (default: from --on-calendar when it is hourly, daily, weekly or monthly)"},
			&ucli.StringFlag{Name: "report-dir", Usage: "report history directory (default /var/lib/tend/NAME)"},
			&ucli.IntFlag{Name: "keep", Value: 48, Usage: "runs kept in the report directory"},
			&ucli.StringFlag{Name: "user", Usage: "run as this user (default root)"},
			&ucli.DurationFlag{Name: "wait-lock", Value: 10 * time.Minute, Usage: "how long a run waits for a run still holding the lock"},
			&ucli.StringFlag{Name: "tend", Usage: "path of the tend binary the unit runs (default: this binary)"},
			&ucli.StringFlag{Name: "root", Value: "/", Usage: "install below this directory instead of / (nothing is reloaded or started)"},
			&ucli.BoolFlag{Name: "cron", Usage: "install a line in /etc/cron.d instead of systemd units"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print the files that would be installed, change nothing"},
			&ucli.BoolFlag{Name: "no-start", Usage: "install and enable the timer but do not start it now"},
			&ucli.StringSliceFlag{Name: "play-arg", Usage: "one more argument for tend play, e.g. --play-arg=--limit=web (repeatable)"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return exitWith(ExitError, errors.New("schedule: give exactly one playbook (usage: tend schedule -i INVENTORY [options] PLAYBOOK)"))
			}
			o := scheduleOptions{
				name: c.String("name"), inventories: c.StringSlice("inventory"), playbook: c.Args().First(),
				mode: c.String("mode"), onCalendar: c.String("on-calendar"), cronSpec: c.String("cron-schedule"),
				reportDir: c.String("report-dir"), keep: c.Int("keep"), user: c.String("user"), waitLock: c.Duration("wait-lock"),
				tendPath: c.String("tend"), root: c.String("root"), cron: c.Bool("cron"), dryRun: c.Bool("dry-run"),
				noStart: c.Bool("no-start"), extra: c.StringSlice("play-arg"),
			}
			return runSchedule(c.Context, o, c.App.Writer)
		},
	}
}

var (
	unitNameRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	unitNameUnsafe = regexp.MustCompile(`[^a-z0-9_-]+`)
	shellSafe      = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)
)

// complete checks the options and fills in defaults: absolute paths
// (the unit runs from /), the unit name, the report directory.
func (o *scheduleOptions) complete() error {
	if len(o.inventories) == 0 {
		return errors.New("schedule: no inventory: give -i INVENTORY (a scheduled run must not depend on $ANSIBLE_INVENTORY)")
	}
	if o.mode != "check" && o.mode != "apply" {
		return fmt.Errorf("schedule: --mode %q: want check (drift check) or apply (correction run)", o.mode)
	}
	if o.keep < 0 {
		return fmt.Errorf("schedule: --keep %d: want 0 (keep all) or more", o.keep)
	}
	abs := func(what, p string) (string, error) {
		if strings.Contains(p, ",") && !strings.ContainsRune(p, '/') {
			return p, nil // a host list such as web1,web2,
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("schedule: %s %s: %w", what, p, err)
		}
		if _, err := os.Stat(a); err != nil {
			return "", fmt.Errorf("schedule: %s: %w", what, err)
		}
		return a, nil
	}
	var err error
	if o.playbook, err = abs("playbook", o.playbook); err != nil {
		return err
	}
	for i, inv := range o.inventories {
		if o.inventories[i], err = abs("inventory", inv); err != nil {
			return err
		}
	}
	if o.name == "" {
		base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(o.playbook), ".yml"), ".yaml")
		o.name = strings.Trim(unitNameUnsafe.ReplaceAllString(strings.ToLower(base), "-"), "-")
	}
	if !unitNameRe.MatchString(o.name) {
		return fmt.Errorf("schedule: --name %q: use lowercase letters, digits, - and _ (it names tend-NAME.service)", o.name)
	}
	if o.reportDir == "" {
		o.reportDir = "/var/lib/tend/" + o.name
	}
	if !filepath.IsAbs(o.reportDir) {
		return fmt.Errorf("schedule: --report-dir %q: give an absolute path", o.reportDir)
	}
	if o.tendPath == "" {
		if o.tendPath, err = os.Executable(); err != nil {
			return fmt.Errorf("schedule: find this binary's path (give --tend PATH): %w", err)
		}
	}
	if o.tendPath, err = abs("--tend", o.tendPath); err != nil {
		return err
	}
	if strings.ContainsAny(o.onCalendar, "\n\r") || strings.TrimSpace(o.onCalendar) == "" {
		return fmt.Errorf("schedule: --on-calendar %q: want one systemd calendar expression", o.onCalendar)
	}
	if o.cron && o.cronSpec == "" {
		if o.cronSpec = cronFor(o.onCalendar); o.cronSpec == "" {
			return fmt.Errorf("schedule: --cron with --on-calendar %q: give the cron time fields with --cron-schedule (e.g. \"*/15 * * * *\")", o.onCalendar)
		}
	}
	if o.cron && len(strings.Fields(o.cronSpec)) != 5 && !strings.HasPrefix(o.cronSpec, "@") {
		return fmt.Errorf("schedule: --cron-schedule %q: want five fields (minute hour day month weekday) or @hourly/@daily", o.cronSpec)
	}
	return nil
}

// cronFor translates systemd's calendar shorthands to cron's.
func cronFor(onCalendar string) string {
	switch strings.ToLower(strings.TrimSpace(onCalendar)) {
	case "hourly":
		return "0 * * * *"
	case "daily":
		return "0 0 * * *"
	case "weekly":
		return "0 0 * * 1"
	case "monthly":
		return "0 0 1 * *"
	}
	return ""
}

// playArgs is the tend play command line the schedule runs.
func (o *scheduleOptions) playArgs() []string {
	args := []string{o.tendPath, "play"}
	for _, inv := range o.inventories {
		args = append(args, "-i", inv)
	}
	if o.mode == "check" {
		args = append(args, "--check", "--detailed-exitcode")
	}
	args = append(args, "--wait-lock", o.waitLock.String(), "--report-dir", o.reportDir, "--keep", fmt.Sprint(o.keep))
	args = append(args, o.extra...)
	return append(args, o.playbook)
}

func (o *scheduleOptions) what() string {
	if o.mode == "check" {
		return "drift check"
	}
	return "correction run"
}

// serviceUnit returns tend-NAME.service.
func (o *scheduleOptions) serviceUnit() string {
	var s strings.Builder
	fmt.Fprintf(&s, `# Installed by tend schedule; tend schedule --dry-run prints it again.
[Unit]
Description=tend %s of %s
Documentation=https://github.com/tend-dev/tend#operations
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
`, o.what(), unitEscape(filepath.Base(o.playbook)))
	if o.user != "" {
		fmt.Fprintf(&s, "User=%s\n", o.user)
	}
	fmt.Fprintf(&s, "WorkingDirectory=%s\n", unitEscape(filepath.Dir(o.playbook)))
	s.WriteString("ExecStartPre=+/bin/mkdir -p " + systemdQuote(o.reportDir) + "\n")
	if o.user != "" {
		s.WriteString("ExecStartPre=+/bin/chown " + systemdQuote(o.user) + " " + systemdQuote(o.reportDir) + "\n")
	}
	quoted := make([]string, 0, len(o.playArgs()))
	for _, a := range o.playArgs() {
		quoted = append(quoted, systemdQuote(a))
	}
	fmt.Fprintf(&s, "ExecStart=%s\n", strings.Join(quoted, " "))
	if o.mode == "check" {
		s.WriteString("# 2: drift found; it is in the reports, the check itself worked.\nSuccessExitStatus=2\n")
	}
	s.WriteString("Environment=NO_COLOR=1\n")
	return s.String()
}

// timerUnit returns tend-NAME.timer.
func (o *scheduleOptions) timerUnit() string {
	return fmt.Sprintf(`# Installed by tend schedule; tend schedule --dry-run prints it again.
[Unit]
Description=Run the tend %s of %s (%s)

[Timer]
OnCalendar=%s
Persistent=true
RandomizedDelaySec=60
Unit=tend-%s.service

[Install]
WantedBy=timers.target
`, o.what(), unitEscape(filepath.Base(o.playbook)), unitEscape(o.onCalendar), o.onCalendar, o.name)
}

// cronFile returns the /etc/cron.d/tend-NAME file.
func (o *scheduleOptions) cronFile() string {
	user := o.user
	if user == "" {
		user = "root"
	}
	quoted := make([]string, 0, len(o.playArgs()))
	for _, a := range o.playArgs() {
		// cron hands the line to /bin/sh; % ends the command in cron.
		quoted = append(quoted, strings.ReplaceAll(shellQuote(a), "%", `\%`))
	}
	return fmt.Sprintf(`# Installed by tend schedule: the tend %s of %s.
# Exit codes: 0 no drift, 2 drift found (check) or corrected (apply), 1 error, 75 still locked.
SHELL=/bin/sh
%s %s mkdir -p %s && %s >/dev/null 2>>%s
`, o.what(), filepath.Base(o.playbook), o.cronSpec, user, shellQuote(o.reportDir), strings.Join(quoted, " "),
		shellQuote(filepath.Join(o.reportDir, "tend.log")))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// systemdQuote quotes one word of an Exec= line: double quotes when
// needed, backslash escapes, and %% and $$ so that systemd expands no
// specifier or variable.
func systemdQuote(s string) string {
	e := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$").Replace(s)
	if e != "" && !strings.ContainsAny(e, " \t'\";") {
		return e
	}
	return `"` + e + `"`
}

// unitEscape makes s safe in a unit file value that is not a command
// line: specifiers are escaped.
func unitEscape(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func runSchedule(ctx context.Context, o scheduleOptions, stdout io.Writer) error {
	if err := o.complete(); err != nil {
		return exitWith(ExitError, err)
	}
	type file struct {
		path, content string
	}
	var files []file
	if o.cron {
		files = []file{{"/etc/cron.d/tend-" + o.name, o.cronFile()}}
	} else {
		files = []file{
			{"/etc/systemd/system/tend-" + o.name + ".service", o.serviceUnit()},
			{"/etc/systemd/system/tend-" + o.name + ".timer", o.timerUnit()},
		}
	}
	if o.dryRun {
		for _, f := range files {
			fmt.Fprintf(stdout, "# %s\n%s\n", filepath.Join(o.root, f.path), f.content)
		}
		return nil
	}
	for _, f := range files {
		path := filepath.Join(o.root, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return exitWith(ExitError, fmt.Errorf("schedule: %w", err))
		}
		if err := atomicfile.Write(path, []byte(f.content), 0o644); err != nil {
			return exitWith(ExitError, fmt.Errorf("schedule: install %s: %w", path, err))
		}
		fmt.Fprintf(stdout, "installed %s\n", path)
	}
	if o.cron || filepath.Clean(o.root) != "/" {
		if !o.cron {
			fmt.Fprintf(stdout, "not under /: run systemctl daemon-reload and systemctl enable --now tend-%s.timer on the target system\n", o.name)
		}
		return nil
	}
	steps := [][]string{{"systemctl", "daemon-reload"}}
	if o.noStart {
		steps = append(steps, []string{"systemctl", "enable", "tend-" + o.name + ".timer"})
	} else {
		steps = append(steps, []string{"systemctl", "enable", "--now", "tend-" + o.name + ".timer"})
	}
	for _, st := range steps {
		if out, err := exec.CommandContext(ctx, st[0], st[1:]...).CombinedOutput(); err != nil {
			return exitWith(ExitError, fmt.Errorf("schedule: %s: %v: %s", strings.Join(st, " "), err, strings.TrimSpace(string(out))))
		}
	}
	fmt.Fprintf(stdout, "timer tend-%s.timer enabled (OnCalendar=%s); run once now: systemctl start tend-%s.service; reports: %s/latest\n",
		o.name, o.onCalendar, o.name, o.reportDir)
	return nil
}
