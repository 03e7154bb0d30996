package posit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/posit/deploy"
	"github.com/tend-dev/tend/integration/testbed"
)

// TestSingleServers deploys playbooks/site.yml onto one host per product
// and checks health, databases, wiring and that a second run changes
// nothing.
func TestSingleServers(t *testing.T) {
	e := newEnv(t, "playbooks/site.yml", "inventory/single",
		testbed.HostSpec{Name: "db", Role: "postgresql"},
		testbed.HostSpec{Name: "ppm", Role: "package_manager"},
		testbed.HostSpec{Name: "connect", Role: "connect"},
		testbed.HostSpec{Name: "workbench", Role: "workbench"},
	)
	e.run(t, false)
}

// TestHA deploys playbooks/ha.yml onto clusters of two nodes per product
// behind a load balancer, with shared storage and one PostgreSQL host, and
// also checks shared data, balancing and failover.
func TestHA(t *testing.T) {
	e := newEnv(t, "playbooks/ha.yml", "inventory/ha",
		testbed.HostSpec{Name: "db", Role: "postgresql"},
		testbed.HostSpec{Name: "storage", Role: "storage"},
		testbed.HostSpec{Name: "lb", Role: "load_balancer"},
		testbed.HostSpec{Name: "pm1", Role: "package_manager"},
		testbed.HostSpec{Name: "pm2", Role: "package_manager"},
		testbed.HostSpec{Name: "cn1", Role: "connect"},
		testbed.HostSpec{Name: "cn2", Role: "connect"},
		testbed.HostSpec{Name: "wb1", Role: "workbench"},
		testbed.HostSpec{Name: "wb2", Role: "workbench"},
	)
	e.run(t, true)
}

// run is the shared sequence: check on fresh hosts, deploy, verify,
// converge, check again, drift.
func (e *env) run(t *testing.T, ha bool) {
	deployed := false
	need := func(t *testing.T) {
		if !deployed {
			t.Skip("the deployment failed")
		}
	}
	// The real clients' packages (cs) download into apt's cache on the
	// client hosts while the check-mode steps run, and install after the
	// deploy while the checks below run (apt must not race the deploy's
	// own package tasks on those hosts).
	cs := e.clientSet()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	download := e.startApt(ctx, cs, true)
	var install *aptJobs
	t.Run("no licence stops the product roles early", func(t *testing.T) {
		e.t = t
		e.checkNoLicence(t)
	})
	t.Run("check on fresh hosts leaves them untouched", func(t *testing.T) {
		e.t = t
		e.checkFresh(t)
	})
	t.Run("deploy", func(t *testing.T) {
		e.t = t
		// --force-handlers: when the testbed flake below fails one
		// service's restart, the host's other restarts (a changed
		// rserver.conf) still run, so that the second run finds every
		// product on its new configuration, as a careful operator would.
		if took, err := download.wait(); err != nil {
			t.Logf("downloading the client packages failed (the client step will try again): %v", err)
		} else {
			t.Logf("client packages %v downloaded in %s", cs.pkgs, took.Round(100*time.Millisecond))
		}
		res := e.play("--force-handlers")
		t.Logf("fresh deploy (%s): %s", e.playbook, res.Duration.Round(100*time.Millisecond))
		if fails := res.Report.Failures(); len(fails) > 0 || res.ExitCode != 0 {
			journals := e.journals()
			if !strings.Contains(journals, "219/CGROUP") {
				t.Fatalf("deploy failed:\n%s\n%s", res.Summary(), journals)
			}
			// The testbed's known flake (README): systemd inside a host
			// could not set up a service's cgroup. The product did nothing
			// wrong; a second run must finish the deploy.
			t.Logf("a service failed with 219/CGROUP (testbed flake, see README); running the deploy again:\n%s", res.Summary())
			first := res
			res = e.play("--force-handlers")
			if fails := res.Report.Failures(); len(fails) > 0 || res.ExitCode != 0 {
				t.Fatalf("deploy failed twice:\n%s\n%s\nfirst run:\n%s", res.Summary(), e.journals(), first.Summary())
			}
			// Changes are counted over both runs below.
			for h, s := range first.Report.Stats {
				st := res.Report.Stats[h]
				st.Changed += s.Changed
				res.Report.Stats[h] = st
			}
		}
		for _, group := range []string{"workbench", "connect", "package_manager", "postgresql"} {
			for _, h := range e.roles[group] {
				if res.Report.Stats[h].Changed == 0 {
					t.Errorf("%s: nothing changed on a fresh host", h)
				}
			}
		}
		deployed = true
		install = e.startApt(ctx, cs, false)
		// Secrets never reach the report (no_log).
		for name, secret := range deploy.Passwords() {
			if strings.Contains(res.Stdout, secret) || strings.Contains(res.Stderr, secret) {
				t.Errorf("the %s database password appears in tend's output", name)
			}
		}
		if strings.Contains(res.Stdout, deploy.LicenseKey) || strings.Contains(res.Stderr, deploy.LicenseKey) {
			t.Errorf("the license key appears in tend's output")
		}
	})
	t.Run("health endpoints", func(t *testing.T) { need(t); e.t = t; e.checkHealth(t) })
	t.Run("databases", func(t *testing.T) { need(t); e.t = t; e.checkDatabases(t) })
	t.Run("package manager wiring", func(t *testing.T) { need(t); e.t = t; e.checkWiring(t) })
	t.Run("pip, R and curl through the roles' configuration", func(t *testing.T) {
		need(t)
		e.t = t
		e.checkRoleClients(t, cs, install)
	})
	if ha {
		t.Run("shared connect data", func(t *testing.T) { need(t); e.t = t; e.checkSharedData(t) })
		t.Run("workbench cluster", func(t *testing.T) { need(t); e.t = t; e.checkWorkbenchCluster(t) })
		t.Run("load balancer spreads and sticks", func(t *testing.T) { need(t); e.t = t; e.checkBalancing(t) })
		t.Run("one node of each product down", func(t *testing.T) { need(t); e.t = t; e.checkFailover(t) })
	}
	t.Run("second run changes nothing", func(t *testing.T) {
		need(t)
		e.t = t
		res := e.play()
		t.Logf("no-change run (%s): %s", e.playbook, res.Duration.Round(100*time.Millisecond))
		if res.ExitCode != 0 || len(res.Report.Failures()) > 0 {
			t.Fatalf("second run failed:\n%s", res.Summary())
		}
		if n := res.Report.TotalChanged(); n != 0 {
			t.Errorf("second run changed %d tasks:\n%s", n, strings.Join(res.Report.Changed(), "\n"))
		}
	})
	t.Run("check on the converged hosts reports no changes", func(t *testing.T) {
		need(t)
		e.t = t
		res := e.play("--check", "--diff", "--detailed-exitcode")
		t.Logf("no-change check run: %s", res.Duration.Round(100*time.Millisecond))
		if res.ExitCode != 0 {
			t.Errorf("exit %d, want 0; would change:\n%s\n%s", res.ExitCode, strings.Join(res.Report.Changed(), "\n"), res.Summary())
		}
	})
	t.Run("drift is detected and repaired on one node only", func(t *testing.T) { need(t); e.t = t; e.checkDrift(t) })
	t.Run("products refuse an invalid configuration", func(t *testing.T) { need(t); e.t = t; e.checkInvalidConfig(t) })
	t.Run("a new CA and certificates restart the products", func(t *testing.T) { need(t); e.t = t; e.checkRenewal(t) })
}

// checkInvalidConfig breaks each product's configuration on one node and
// shows `systemctl restart` fails with the reason in the journal, then
// restores it.
func (e *env) checkInvalidConfig(t *testing.T) {
	for _, c := range []struct{ group, file, breakCmd, want string }{
		{"workbench", "/etc/rstudio/rserver.conf", "echo server-health-check-enabled=maybe >> %s", "server-health-check-enabled"},
		{"connect", "/etc/rstudio-connect/rstudio-connect.gcfg", `printf '[Server\n' >> %s`, "section header"},
		{"package_manager", "/etc/rstudio-pm/rstudio-pm.gcfg", `printf '[Database]\nProvider = mysql\n' >> %s`, "want sqlite or postgres"},
	} {
		h := e.roles[c.group][0]
		unit := services[c.group][0]
		e.ssh(h, fmt.Sprintf("cp -p %[1]s %[1]s.tend-test && ", c.file)+fmt.Sprintf(c.breakCmd, c.file))
		out, err := e.bed.SSH(e.ctx, h, "systemctl restart "+unit+" 2>&1")
		journal := e.ssh(h, "journalctl -u "+unit+" -n 20 --no-pager -o cat")
		if err == nil {
			t.Errorf("%s: %s restarted with a broken %s: %s", h, unit, c.file, out)
		}
		if !strings.Contains(journal, "refusing to start") || !strings.Contains(journal, c.want) {
			t.Errorf("%s: journal of %s lacks the reason %q:\n%s", h, unit, c.want, journal)
		}
		e.ssh(h, fmt.Sprintf("mv %[1]s.tend-test %[1]s && systemctl reset-failed %[2]s; systemctl restart %[2]s", c.file, unit))
	}
}

// checkNoLicence runs the playbook in check mode on the fresh hosts with
// every licence key emptied: each product role must stop with a message
// naming the variables, before its package task, and the hosts stay as
// they were. One run per product (limited to its hosts): a play in which
// every host fails ends the playbook, as in Ansible, so one run would stop
// at the first product.
func (e *env) checkNoLicence(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "no-licence.json")
	if err := deploy.WriteVars(empty, map[string]any{"workbench_license_key": "", "connect_license_key": "", "package_manager_license_key": ""}); err != nil {
		t.Fatal(err)
	}
	failed := map[string]string{}
	for _, group := range []string{"workbench", "connect", "package_manager"} {
		res := e.play("--check", "-e", "@"+empty, "--limit", group)
		if res.ExitCode == 0 {
			t.Fatalf("a run without licences succeeded on %s:\n%s", group, res.Summary())
		}
		for _, o := range res.Report.Outcomes() {
			if o.Failed && o.Status != "ignored" {
				failed[o.Host] = o.Task + ": " + o.Msg
			}
		}
		for _, h := range e.roles[group] {
			msg := failed[h]
			if !strings.Contains(msg, "has no licence") || !strings.Contains(msg, "_unlicensed_ok: true") {
				t.Errorf("%s: want the licence check to stop the role, got %q", h, msg)
			}
		}
	}
	t.Logf("without licences: %v", failed)
}

func (e *env) checkFresh(t *testing.T) {
	before := map[string]string{}
	for _, h := range e.bed.Hosts {
		before[h.Name] = e.snapshot(h.Name)
	}
	res := e.play("--check", "--diff")
	t.Logf("check on fresh hosts: %s", res.Duration.Round(100*time.Millisecond))
	if fails := res.Report.Failures(); len(fails) > 0 {
		t.Errorf("check mode failed on fresh hosts:\n%s", res.Summary())
	}
	diffs := 0
	for _, o := range res.Report.Outcomes() {
		diffs += o.Diffs
	}
	for _, group := range []string{"workbench", "connect", "package_manager", "postgresql"} {
		for _, h := range e.roles[group] {
			if res.Report.Stats[h].Changed == 0 {
				t.Errorf("%s: check mode predicts no change on a fresh host", h)
			}
		}
	}
	if diffs == 0 {
		t.Errorf("--diff showed no differences")
	}
	t.Logf("check predicts %d changed tasks, %d diffs", res.Report.TotalChanged(), diffs)
	for _, h := range e.bed.Hosts {
		if d := lineDiff(before[h.Name], e.snapshot(h.Name)); d != "" {
			t.Errorf("%s: check mode changed the host:\n%s", h.Name, d)
		}
	}
}

func (e *env) checkHealth(t *testing.T) {
	for group := range productPort {
		for _, h := range e.roles[group] {
			url := e.nodeURL(h, healthPath[group])
			code, body, hdr, err := get(e.client(), url)
			if err != nil || code != 200 {
				t.Errorf("%s: GET %s: %d %v %s", h, url, code, err, body)
				continue
			}
			if hdr.Get("X-Tend-Node") != h {
				t.Errorf("%s: %s answered by %q", h, url, hdr.Get("X-Tend-Node"))
			}
			if in := e.info(h); !in.License {
				t.Errorf("%s: license not activated", h)
			}
		}
	}
	for _, h := range e.roles["package_manager"] {
		var st map[string]any
		e.getJSON(e.nodeURL(h, "/__api__/status"), &st)
		if st["version"] != e.arts.Versions.PackageManager {
			t.Errorf("%s: /__api__/status version %v, want %s", h, st["version"], e.arts.Versions.PackageManager)
		}
	}
}

// binaries are the stand-in programs on each product host, used to try
// database logins from there.
var binaries = map[string]string{
	"workbench": "/usr/lib/rstudio-server/bin/rserver", "connect": "/opt/rstudio-connect/bin/connect",
	"package_manager": "/opt/rstudio-pm/bin/rstudio-pm",
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }

func (e *env) checkDatabases(t *testing.T) {
	db := e.roles["postgresql"][0]
	type creds struct{ user, db, password string }
	own := map[string]creds{}
	for group := range productPort {
		h := e.roles[group][0]
		in := e.info(h)
		d := in.Config.Database
		if d.Provider != "postgres" || d.Host != e.addr(db) && d.Host != db {
			t.Errorf("%s: database %+v, want postgres on %s", h, d, db)
		}
		if in.Database["connected"] != true || in.Database["current_database"] != d.Name {
			t.Errorf("%s: database connection %v", h, in.Database)
		}
		own[group] = creds{d.User, d.Name, deploy.Passwords()[group]}
		// Each node wrote its heartbeat into its product's database.
		rows := e.ssh(db, fmt.Sprintf("cd / && sudo -u postgres psql -XAt -d %s -c %s", shq(d.Name),
			shq("SELECT node || ' ' || product || ' ' || pg_catalog.pg_get_userbyid(c.relowner) FROM tend_standin_heartbeats, pg_class c WHERE c.relname = 'tend_standin_heartbeats' ORDER BY 1")))
		for _, node := range e.roles[group] {
			want := fmt.Sprintf("%s %s %s", node, in.Product, d.User)
			if !slices.Contains(strings.Split(rows, "\n"), want) {
				t.Errorf("database %s: no heartbeat %q (table owned by the product's role) in:\n%s", d.Name, want, rows)
			}
		}
		for key, extra := range d.Extra {
			n := e.ssh(db, fmt.Sprintf("cd / && sudo -u postgres psql -XAt -d %s -c 'SELECT count(*) FROM tend_standin_events'", shq(extra)))
			if n == "0" {
				t.Errorf("%s database %s: no rows written", key, extra)
			}
		}
	}
	// Each product's credentials reach its own database only.
	for group, c := range own {
		h := e.roles[group][0]
		for other, o := range own {
			url := fmt.Sprintf("postgres://%s@%s:5432/%s?sslmode=disable", c.user, e.addr(db), o.db)
			out, err := e.bed.SSH(e.ctx, h, fmt.Sprintf("PGPASSWORD=%s %s __tend_pglogin %s 2>&1", shq(c.password), binaries[group], shq(url)))
			switch {
			case other == group && err != nil:
				t.Errorf("%s: %s cannot log in to its own database %s: %v %s", h, c.user, o.db, err, out)
			case other != group && err == nil:
				t.Errorf("%s: %s logged in to %s's database %s: %s", h, c.user, other, o.db, out)
			case other != group:
				t.Logf("%s: %s -> %s refused: %s", h, c.user, o.db, strings.TrimSpace(out))
			}
			if other != group {
				// The same try with psql on the database host itself.
				out, err := e.bed.SSH(e.ctx, db, fmt.Sprintf("cd / && PGPASSWORD=%s psql -XAt -h %s -U %s -d %s -c 'SELECT 1' 2>&1", shq(c.password), e.addr(db), shq(c.user), shq(o.db)))
				if err == nil {
					t.Errorf("%s: psql as %s into %s succeeded: %s", db, c.user, o.db, out)
				}
			}
		}
	}
}

func (e *env) checkWiring(t *testing.T) {
	ppms := e.roles["package_manager"]
	for _, group := range []string{"workbench", "connect"} {
		for _, h := range e.roles[group] {
			var probes []struct {
				Kind, Name, URL, From, Fetched, Error string
				Status                                int
				ServedBy                              string `json:"served_by"`
				Body                                  string
			}
			e.getJSON(e.nodeURL(h, "/__tend__/repos"), &probes)
			kinds := map[string]int{}
			for _, p := range probes {
				t.Logf("%s: %s repo %s (%s) -> %s: %d from %s", h, p.Kind, p.Name, p.From, p.Fetched, p.Status, p.ServedBy)
				if p.Status != 200 || !slices.Contains(ppms, p.ServedBy) {
					t.Errorf("%s: %s (from %s) did not answer from Package Manager: %d %s %s", h, p.Fetched, p.From, p.Status, p.Error, p.Body)
					continue
				}
				if p.Kind == "r" && !strings.Contains(p.Body, "Package: A3") || p.Kind == "python" && !strings.Contains(p.Body, "/simple/requests/") {
					t.Errorf("%s: %s: unexpected index:\n%s", h, p.Fetched, p.Body)
				}
				kinds[p.Kind]++
				if strings.Contains(p.From, "pip.conf") {
					kinds["pip.conf"]++
				}
			}
			if kinds["r"] == 0 || kinds["python"] == 0 || kinds["pip.conf"] == 0 {
				t.Errorf("%s: want CRAN and PyPI URLs, including pip.conf; got %v", h, kinds)
			}
		}
	}
}

func (e *env) checkDrift(t *testing.T) {
	host := e.roles["connect"][len(e.roles["connect"])-1]
	const file = "/etc/rstudio-connect/rstudio-connect.gcfg"
	orig := e.ssh(host, "sha256sum "+file)
	pids := e.mainPIDs()
	// The one Listen on :3939: [HTTPS] on a single server, [HTTP] behind
	// the load balancer.
	e.ssh(host, `sed -i -E 's/^([[:space:]]*Listen[[:space:]]*=[[:space:]]*):3939$/\1:3940/' `+file+` && grep -q ':3940' `+file)

	res := e.play("--check", "--diff", "--detailed-exitcode")
	t.Logf("drift check run: %s", res.Duration.Round(100*time.Millisecond))
	if res.ExitCode != 2 {
		t.Errorf("check with drift: exit %d, want 2\n%s", res.ExitCode, res.Summary())
	}
	changed := res.Report.Changed()
	t.Logf("check names:\n%s", strings.Join(changed, "\n"))
	if len(changed) == 0 || !strings.HasPrefix(changed[0], host+": connect: ") {
		t.Errorf("check does not name %s and a connect task first: %q", host, changed)
	}
	for _, c := range changed {
		if !strings.HasPrefix(c, host+": ") {
			t.Errorf("check names another host: %s", c)
		}
	}
	if got := e.ssh(host, "grep -c ':3940' "+file); got != "1" {
		t.Errorf("check mode repaired the file")
	}

	res = e.play()
	if res.ExitCode != 0 {
		t.Fatalf("repair run:\n%s", res.Summary())
	}
	t.Logf("repair run: %s, changed: %q", res.Duration.Round(100*time.Millisecond), res.Report.Changed())
	if got := e.ssh(host, "sha256sum "+file); got != orig {
		t.Errorf("%s not restored: %s, want %s", file, got, orig)
	}
	after := e.mainPIDs()
	for k, pid := range pids {
		restarted := after[k] != pid
		want := k == host+"/rstudio-connect"
		if restarted != want {
			t.Errorf("%s: MainPID %s -> %s (restart expected: %v)", k, pid, after[k], want)
		}
	}
	if code, body, _, err := get(e.client(), e.nodeURL(host, healthPath["connect"])); err != nil || code != 200 {
		t.Errorf("%s does not answer on 3939 after repair: %d %v %s", host, code, err, body)
	}
}
