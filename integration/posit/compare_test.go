package posit_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"

	"github.com/tend-dev/tend/integration/recap"
)

// TestAnsibleComparison runs playbooks/site.yml (single servers) and
// playbooks/ha.yml (clusters) with tend and with ansible-playbook 2.14,
// each engine on its own fresh bed (hosts with python3, which only Ansible
// needs), and shows that the same role files give the same end state
// (packages, files under the products' configuration directories with
// owner, mode and content, services, users) and that both second runs
// change nothing. It also times both engines. It takes 15-25 minutes, so
// it runs only with TEND_BENCH=1:
//
//	TEND_BENCH=1 go test ./integration/posit -run TestAnsibleComparison -v -timeout 90m
func TestAnsibleComparison(t *testing.T) {
	if os.Getenv("TEND_BENCH") != "1" {
		t.Skip("benchmark: set TEND_BENCH=1")
	}
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	for _, c := range []struct {
		name, playbook, inventory string
		hosts                     [][2]string
	}{
		{"single", "playbooks/site.yml", "inventory/single", [][2]string{
			{"db", "postgresql"}, {"ppm", "package_manager"}, {"connect", "connect"}, {"workbench", "workbench"}}},
		{"ha", "playbooks/ha.yml", "inventory/ha", [][2]string{
			{"db", "postgresql"}, {"storage", "storage"}, {"lb", "load_balancer"},
			{"pm1", "package_manager"}, {"pm2", "package_manager"}, {"cn1", "connect"}, {"cn2", "connect"},
			{"wb1", "workbench"}, {"wb2", "workbench"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			specs := func() []testbed.HostSpec {
				var s []testbed.HostSpec
				for _, h := range c.hosts {
					s = append(s, testbed.HostSpec{Name: h[0], Role: h[1], Python: true})
				}
				return s
			}
			states := map[string]map[string]string{}
			var times = map[string][2]time.Duration{}
			t.Run("tend", func(t *testing.T) {
				e := newEnv(t, c.playbook, c.inventory, specs()...)
				first := e.play()
				if f := first.Report.Failures(); len(f) > 0 || first.ExitCode != 0 {
					t.Fatalf("tend deploy failed:\n%s", first.Summary())
				}
				second := e.play()
				if n := second.Report.TotalChanged(); n != 0 || second.ExitCode != 0 {
					t.Errorf("tend second run: exit %d, changed %d:\n%s", second.ExitCode, n, strings.Join(second.Report.Changed(), "\n"))
				}
				times["tend"] = [2]time.Duration{first.Duration, second.Duration}
				states["tend"] = e.endState()
			})
			t.Run("ansible", func(t *testing.T) {
				e := newEnv(t, c.playbook, c.inventory, specs()...)
				run := func() (time.Duration, string) {
					ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
					defer cancel()
					cmd := exec.CommandContext(ctx, ap, "-i", e.inventory, "-e", "@"+e.vars, filepath.Join(built.Root, c.playbook))
					cmd.Dir = built.Root
					cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_HOST_KEY_CHECKING=0")
					start := time.Now()
					out, err := cmd.CombinedOutput()
					d := time.Since(start)
					if err != nil {
						t.Fatalf("ansible-playbook: %v\n%s", err, tailText(string(out), 80))
					}
					return d, string(out)
				}
				first, _ := run()
				second, out := run()
				recap := tailText(out, len(c.hosts)+2)
				t.Logf("ansible-playbook second run recap:\n%s", recap)
				if changed := changedInRecap(out); len(changed) > 0 {
					t.Errorf("ansible-playbook second run changed something: %v", changed)
				}
				times["ansible"] = [2]time.Duration{first, second}
				states["ansible"] = e.endState()
			})
			if states["tend"] != nil && states["ansible"] != nil {
				for _, h := range c.hosts {
					if d := lineDiff(states["ansible"][h[0]], states["tend"][h[0]]); d != "" {
						t.Errorf("%s: end state differs (- ansible-playbook, + tend):\n%s", h[0], d)
					}
				}
			}
			tn, an := times["tend"], times["ansible"]
			t.Logf("%s (%d hosts) fresh deploy: tend %s, ansible-playbook %s; no-change run: tend %s, ansible-playbook %s",
				c.name, len(c.hosts), tn[0].Round(time.Second), an[0].Round(time.Second), tn[1].Round(100*time.Millisecond), an[1].Round(time.Second))
		})
	}
}

// changedInRecap lists "host changed=N" for the hosts with changes.
func changedInRecap(out string) []string {
	var changed []string
	for _, h := range recap.Parse(out) {
		if h.Changed != 0 {
			changed = append(changed, fmt.Sprintf("%s changed=%d", h.Name, h.Changed))
		}
	}
	return changed
}

// stateDirs are where the deployment writes configuration.
const stateDirs = "/etc/rstudio /etc/rstudio-connect /etc/rstudio-pm /etc/haproxy /etc/postgresql /etc/posit-tls /etc/pip.conf /etc/exports /etc/fstab /usr/local/share/ca-certificates"

// randomFiles differ between any two deployments by design (generated
// keys, certificates, the internal CA); only their owner and mode are
// compared.
var randomFiles = regexp.MustCompile(`^(/etc/rstudio/(secure-cookie-key|launcher\.pem|launcher\.pub)|/etc/posit-tls/.*|/usr/local/share/ca-certificates/posit-team-ca\.crt|/etc/rstudio-(connect|pm)/\.license-.*)$`)

// endState describes every host of the bed for comparison across beds:
// packages with versions, files under stateDirs (path, type, owner, group,
// mode and the sha256 of the content with the bed's addresses replaced by
// host names), services and their state, users and groups.
func (e *env) endState() map[string]string {
	e.t.Helper()
	// Addresses differ between beds; names do not.
	var sed []string
	names := make([]string, 0, len(e.hosts))
	for n := range e.hosts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(e.addr(names[i])) > len(e.addr(names[j])) })
	for _, n := range names {
		sed = append(sed, "-e "+shq("s/"+regexp.QuoteMeta(e.addr(n))+"/"+n+"/g"))
	}
	// Ansible's apt module installs python3-apt (and what it pulls in) on
	// the host for itself: an engine requirement, not the roles' state.
	// run-credentials-*.mount units are systemd's runtime mounts of a
	// unit's credentials (systemd-sysusers run by a package's postinst),
	// present or gone depending on when the state is read (seen once on
	// the HA storage host, tend side only).
	script := `{ dpkg-query -W -f '${Package} ${Version} ${Status}\n' | grep -v -e '^python3-apt ' -e '^python-apt-common ' -e '^distro-info-data ' | sort
for p in $(find ` + stateDirs + ` -xdev \( -type f -o -type l \) 2>/dev/null | sort); do
  printf '%s %s %s %s ' "$p" "$(stat -c %F "$p")" "$(stat -c '%U %G' "$p")" "$(stat -c %a "$p")"
  if printf '%s' "$p" | grep -Eq ` + shq(randomFiles.String()) + `; then echo random; else sed ` + strings.Join(sed, " ") + ` "$p" | sha256sum | cut -c1-16; fi
done
systemctl list-units --all --no-legend --plain --type=service,mount | awk '{print $1, $3, $4}' | grep -v -e '^systemd-' -e '^user@' -e '^session-' -e '^run-credentials-' | sort
getent passwd | cut -d: -f1,3,4,6,7 | sort; getent group | cut -d: -f1,3 | sort; } 2>&1`
	out := map[string]string{}
	for _, h := range e.bed.Hosts {
		out[h.Name] = e.ssh(h.Name, script)
	}
	return out
}

func tailText(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
