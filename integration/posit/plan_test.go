package posit_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/posit/deploy"
	"github.com/tend-dev/tend/integration/testbed"
)

// TestPlanApplySingleServers deploys playbooks/site.yml through a saved
// plan: tend play --check --plan-out on fresh hosts, tend show, then tend
// apply, which must apply the plan on every host without a mismatch and
// leave working products.
func TestPlanApplySingleServers(t *testing.T) {
	e := newEnv(t, "playbooks/site.yml", "inventory/single",
		testbed.HostSpec{Name: "db", Role: "postgresql"},
		testbed.HostSpec{Name: "ppm", Role: "package_manager"},
		testbed.HostSpec{Name: "connect", Role: "connect"},
		testbed.HostSpec{Name: "workbench", Role: "workbench"},
	)
	planFile := filepath.Join(t.TempDir(), "deploy.plan")
	planned := e.play("--check", "--plan-out", planFile)
	t.Logf("plan (%s): %s", e.playbook, planned.Duration.Round(100*time.Millisecond))
	if fails := planned.Report.Failures(); len(fails) > 0 || planned.ExitCode != 0 {
		t.Fatalf("planning failed:\n%s", planned.Summary())
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range deploy.Passwords() {
		if strings.Contains(string(data), secret) {
			t.Errorf("the %s database password is in the plan file", name)
		}
	}
	if strings.Contains(string(data), deploy.LicenseKey) {
		t.Errorf("the license key is in the plan file")
	}
	show := exec.Command(e.arts.Tend, "show", planFile, "--detailed-exitcode")
	out, err := show.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("tend show --detailed-exitcode: %v, want exit 2\n%s", err, out)
	}
	if i := strings.Index(string(out), "PLAY ["); i > 0 {
		t.Logf("plan header:\n%s", out[:i])
	}

	apply := func(extra ...string) *deploy.Result {
		ctx, cancel := context.WithTimeout(e.ctx, 15*time.Minute)
		defer cancel()
		res, err := e.arts.Run(ctx, "apply", append([]string{planFile, "-e", "@" + e.vars}, extra...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, res.Summary())
		}
		return res
	}
	if strings.Contains(string(out), "unpredictable tasks") {
		res := apply()
		if res.ExitCode != 10 || !strings.Contains(res.Stderr, "--allow-unpredictable") {
			t.Errorf("apply without --allow-unpredictable: exit %d, want 10\n%s", res.ExitCode, res.Stderr)
		}
	}
	res := apply("--allow-unpredictable")
	t.Logf("apply: %s", res.Duration.Round(100*time.Millisecond))
	if res.ExitCode != 0 || res.Report == nil || len(res.Report.Failures()) > 0 {
		t.Fatalf("apply: exit %d\n%s\n%s\njournals:\n%s", res.ExitCode, res.Summary(), tailText(res.Stderr, 4000), e.journals())
	}
	for _, h := range e.bed.Hosts {
		p, a := planned.Report.Stats[h.Name], res.Report.Stats[h.Name]
		t.Logf("%s: planned changed=%d, applied changed=%d", h.Name, p.Changed, a.Changed)
		if p.Changed > 0 && a.Changed == 0 {
			t.Errorf("%s: the plan's changes were not applied", h.Name)
		}
	}
	e.t = t
	e.checkHealth(t)
	check := e.play("--check", "--detailed-exitcode")
	if check.ExitCode != 0 {
		t.Errorf("check after apply: exit %d, would change:\n%s", check.ExitCode, strings.Join(check.Report.Changed(), "\n"))
	}

	// A plan on the converged hosts, then a hand edit on the Workbench
	// host: apply stops that host at the edited file's task and leaves
	// the edit; the other hosts complete.
	converged := e.play("--check", "--plan-out", planFile)
	if converged.ExitCode != 0 {
		t.Fatalf("plan on converged hosts:\n%s", converged.Summary())
	}
	conf := "/etc/rstudio/rserver.conf"
	e.ssh("workbench", "sed -i 's/^admin-enabled=.*/admin-enabled=edited-by-hand/' "+conf)
	res = apply("--allow-unpredictable")
	if res.ExitCode != 11 || !strings.Contains(res.Stderr, `PLAN MISMATCH: workbench: plan mismatch at task "workbench : Set rserver.conf options`) {
		t.Errorf("apply after a hand edit: exit %d, want 11 naming the rserver.conf task\n%s\n%s", res.ExitCode, res.Summary(), tailText(res.Stderr, 3000))
	}
	for _, h := range []string{"db", "ppm", "connect"} {
		if strings.Contains(res.Stderr, "PLAN MISMATCH: "+h+":") || res.Report == nil || res.Report.Stats[h].Failed != 0 {
			t.Errorf("%s: should complete unaffected\n%s", h, res.Summary())
		}
	}
	if got := e.ssh("workbench", "grep ^admin-enabled= "+conf); got != "admin-enabled=edited-by-hand" {
		t.Errorf("the stopped host was changed: %s", got)
	}
}
