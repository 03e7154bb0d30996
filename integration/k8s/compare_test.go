package k8s

import (
	"bytes"
	stdcmp "cmp"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/integration/testbed"
)

// helmV3 is the helm command kubernetes.core.helm 2.4 drives (it supports
// helm 3 only); built from the module proxy into the binaries' cache.
const helmV3 = "v3.22.1"

func helmBinary(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(stdcmp.Or(os.Getenv("TEND_K8S_CACHE"), "/var/cache/tend-k8s"), "helm-"+helmV3)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "-trimpath", "-ldflags=-s", "helm.sh/helm/v3/cmd/helm@"+helmV3)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building helm %s: %v\n%s", helmV3, err, out)
	}
	return bin
}

// TestAnsibleComparison deploys playbooks/kubernetes.yml with
// ansible-playbook (Debian's ansible: kubernetes.core 2.4, which runs the
// helm command and the Python kubernetes client) on one fresh cluster and
// database host, and with tend on another; both run twice. It compares
// what each left in the cluster and logs the times. A benchmark: it runs
// only with TEND_BENCH=1 (integration/k8s/README.md).
func TestAnsibleComparison(t *testing.T) {
	if os.Getenv("TEND_BENCH") != "1" {
		t.Skip("benchmark: set TEND_BENCH=1")
	}
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	// The Python that runs ansible-playbook runs the modules on localhost.
	py := "/usr/bin/python3"
	if b, err := os.ReadFile(ap); err == nil && bytes.HasPrefix(b, []byte("#!")) {
		if f := strings.Fields(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "#!")); len(f) > 0 {
			py = f[0]
		}
	}
	if out, err := exec.Command(py, "-c", "import kubernetes").CombinedOutput(); err != nil {
		t.Skipf("the Python kubernetes client is missing (apt install python3-kubernetes): %s", out)
	}
	helm := helmBinary(t)

	type run struct {
		fresh, again   time.Duration
		recap1, recap2 string
		state          map[string]any
	}
	runs := map[string]*run{}
	for _, engine := range []string{"ansible", "tend"} {
		t.Run(engine, func(t *testing.T) {
			e := newPositEnvWith(t, testbed.HostSpec{Name: "db", Role: "postgresql", Python: engine == "ansible"})
			r := &run{}
			play := e.play
			if engine == "ansible" {
				play = func(flags ...string) (string, int) {
					args := append([]string{"-i", e.inventory, "-e", "@" + e.varsFile}, flags...)
					args = append(args, filepath.Join(e.root, "playbooks", "kubernetes.yml"))
					return runCommand(t, 30*time.Minute, []string{"HOME=" + e.dir, "PATH=" + filepath.Dir(helm) + ":" + os.Getenv("PATH"),
						"ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_HOST_KEY_CHECKING=0"}, ap, args...)
				}
			}
			start := time.Now()
			out, code := play()
			r.fresh = time.Since(start)
			if code != 0 {
				t.Fatalf("%s fresh deploy: exit %d\n%s", engine, code, out)
			}
			r.recap1 = recapOf(t, out, "cluster")
			start = time.Now()
			out, code = play()
			r.again = time.Since(start)
			r.recap2 = recapOf(t, out, "cluster")
			if code != 0 || !strings.Contains(r.recap2, "changed=0 ") || !strings.Contains(recapOf(t, out, "db"), "changed=0 ") {
				t.Errorf("%s second run: exit %d, want no change\n%s", engine, code, out)
			}
			r.state = e.clusterState()
			runs[engine] = r
			t.Logf("%s: fresh %s (%s), no-change %s (%s)", engine, r.fresh.Round(100*time.Millisecond), r.recap1, r.again.Round(100*time.Millisecond), r.recap2)
		})
	}
	a, b := runs["ansible"], runs["tend"]
	if a == nil || b == nil {
		return
	}
	if a.recap1 != b.recap1 || a.recap2 != b.recap2 {
		t.Errorf("recaps differ: ansible %q then %q, tend %q then %q", a.recap1, a.recap2, b.recap1, b.recap2)
	}
	if d := cmp.Diff(a.state, b.state); d != "" {
		t.Errorf("the cluster differs (-ansible +tend):\n%s", d)
	}
	t.Logf("fresh deploy: ansible-playbook %s, tend %s (%.1fx); no-change run: ansible-playbook %s, tend %s (%.1fx)",
		a.fresh.Round(100*time.Millisecond), b.fresh.Round(100*time.Millisecond), a.fresh.Seconds()/b.fresh.Seconds(),
		a.again.Round(100*time.Millisecond), b.again.Round(100*time.Millisecond), a.again.Seconds()/b.again.Seconds())
}

// clusterState is what the products would run with, comparable across
// clusters: ConfigMaps' data, the Deployments' replicas and environment,
// the Ingresses' rules and the claims' phases, per namespace. Values that
// differ by construction are left out (certificates of two CAs, keys the
// charts generate, the database host's address).
func (e *positEnv) clusterState() map[string]any {
	e.t.Helper()
	host := e.bed.Host("db").Addr
	state := map[string]any{}
	for _, ns := range []string{"posit-package-manager", "posit-connect", "posit-workbench"} {
		for k, v := range e.configData(ns) {
			if strings.HasPrefix(k, "secrets/") || strings.HasSuffix(k, "kube-root-ca.crt/ca.crt") {
				continue
			}
			// Helm 3 (kubernetes.core) keeps a chart default of null in
			// the values it renders with, Helm 4 (tend) drops the key: the
			// one difference this makes is in Workbench's launcher
			// template data.
			v = strings.ReplaceAll(strings.ReplaceAll(v, `,"ttlSecondsAfterFinished":null`, ""), `"ttlSecondsAfterFinished":null,`, "")
			state[ns+"/"+k] = strings.ReplaceAll(v, host, "DBHOST")
		}
		for _, kind := range []string{"apps/v1/deployments", "networking.k8s.io/v1/ingresses", "v1/persistentvolumeclaims", "v1/secrets"} {
			prefix := "/apis/"
			if strings.HasPrefix(kind, "v1/") {
				prefix = "/api/"
			}
			parts := strings.SplitN(kind, "/", 3)
			path := prefix + strings.Join(parts[:len(parts)-1], "/") + "/namespaces/" + ns + "/" + parts[len(parts)-1]
			items, _ := e.get(path)["items"].([]any)
			var names []string
			for _, it := range items {
				name, _ := dig(it, "metadata", "name").(string)
				if strings.HasPrefix(name, "sh.helm.release") {
					continue
				}
				names = append(names, name)
				key := ns + "/" + kind + "/" + name
				switch parts[len(parts)-1] {
				case "deployments":
					env, _ := json.Marshal(dig(it, "spec", "template", "spec", "containers", 0, "env"))
					state[key] = []any{dig(it, "spec", "replicas"), dig(it, "status", "availableReplicas"), strings.ReplaceAll(string(env), host, "DBHOST")}
				case "ingresses":
					state[key] = dig(it, "spec")
				case "persistentvolumeclaims":
					state[key] = []any{dig(it, "status", "phase"), dig(it, "spec", "accessModes"), dig(it, "spec", "volumeName")}
				}
			}
			sort.Strings(names)
			state[ns+"/"+kind] = names
		}
	}
	return state
}
