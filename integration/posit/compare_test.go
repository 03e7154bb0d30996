package posit_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
)

// TestHAAnsibleComparison times a fresh HA deploy and a no-change run of
// playbooks/ha.yml with tend and with ansible-playbook 2.14, each on its
// own fresh bed (hosts with python3, which only Ansible needs). It is a
// benchmark: it runs only with TEND_BENCH=1.
//
//	TEND_BENCH=1 go test ./integration/posit -run TestHAAnsibleComparison -v -timeout 60m
func TestHAAnsibleComparison(t *testing.T) {
	if os.Getenv("TEND_BENCH") != "1" {
		t.Skip("benchmark: set TEND_BENCH=1")
	}
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	specs := func() []testbed.HostSpec {
		var s []testbed.HostSpec
		for _, h := range []struct{ name, role string }{
			{"db", "postgresql"}, {"storage", "storage"}, {"lb", "load_balancer"},
			{"pm1", "package_manager"}, {"pm2", "package_manager"}, {"cn1", "connect"}, {"cn2", "connect"},
			{"wb1", "workbench"}, {"wb2", "workbench"},
		} {
			s = append(s, testbed.HostSpec{Name: h.name, Role: h.role, Python: true})
		}
		return s
	}
	var times = map[string][2]time.Duration{}
	t.Run("tend", func(t *testing.T) {
		e := newEnv(t, "playbooks/ha.yml", "inventory/ha", specs()...)
		first := e.play()
		if f := first.Report.Failures(); len(f) > 0 || first.ExitCode != 0 {
			t.Fatalf("tend deploy failed:\n%s", first.Summary())
		}
		second := e.play()
		if second.Report.TotalChanged() != 0 {
			t.Errorf("tend second run changed %d", second.Report.TotalChanged())
		}
		times["tend"] = [2]time.Duration{first.Duration, second.Duration}
	})
	t.Run("ansible", func(t *testing.T) {
		e := newEnv(t, "playbooks/ha.yml", "inventory/ha", specs()...)
		run := func() time.Duration {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, ap, "-i", e.inventory, "-e", "@"+e.vars, filepath.Join(built.Root, "playbooks/ha.yml"))
			cmd.Dir = built.Root
			cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0")
			start := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(start)
			if err != nil {
				t.Fatalf("ansible-playbook: %v\n%s", err, tailText(string(out), 60))
			}
			t.Logf("ansible-playbook recap:\n%s", tailText(string(out), 12))
			return d
		}
		first := run()
		second := run()
		times["ansible"] = [2]time.Duration{first, second}
	})
	tn, an := times["tend"], times["ansible"]
	t.Logf("HA (9 hosts) fresh deploy: tend %s, ansible-playbook %s; no-change run: tend %s, ansible-playbook %s",
		tn[0].Round(time.Second), an[0].Round(time.Second), tn[1].Round(100*time.Millisecond), an[1].Round(time.Second))
}

func tailText(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
