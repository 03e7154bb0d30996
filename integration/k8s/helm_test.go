package k8s

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// chartsDir is where Posit's charts are (test input, read-only, not in
// the repository): $TEND_POSIT_HELM_CHARTS, else shared/posit-helm/charts
// beside the repository or one of its parents, else /work/shared's.
func chartsDir() string {
	if d := os.Getenv("TEND_POSIT_HELM_CHARTS"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	for dir := filepath.Dir(file); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		c := filepath.Join(dir, "shared", "posit-helm", "charts")
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return "/work/shared/posit-helm/charts"
}

// tendBinary builds tend, and tend-kube beside it, into a temporary
// directory and returns tend's path.
func tendBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/tend", "./cmd/tend-kube")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building tend and tend-kube: %v\n%s", err, out)
	}
	return filepath.Join(dir, "tend")
}

// chartCopy copies Posit's chart name into a temporary directory with
// rstudio-library in its charts/ folder, which is what `helm dependency
// build` does (the repository cannot be reached here).
func chartCopy(t *testing.T, name string) string {
	t.Helper()
	charts := chartsDir()
	if _, err := os.Stat(filepath.Join(charts, name, "Chart.yaml")); err != nil {
		t.Skipf("Posit's charts are not at %s (%v): skipping", charts, err)
	}
	dir := filepath.Join(t.TempDir(), name)
	for _, c := range [][]string{
		{"cp", "-r", filepath.Join(charts, name), dir},
		{"mkdir", "-p", filepath.Join(dir, "charts")},
		{"cp", "-r", filepath.Join(charts, "rstudio-library"), filepath.Join(dir, "charts", "rstudio-library")},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	return dir
}

type playEnv struct {
	t    *testing.T
	tend string
	dir  string
}

// play runs tend play on a one-task playbook with the helm task args and
// returns its output and exit code.
func (e *playEnv) play(task string, flags ...string) (string, int) {
	e.t.Helper()
	pb := filepath.Join(e.dir, "site.yml")
	text := "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + task
	if err := os.WriteFile(pb, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return runCommand(e.t, 10*time.Minute, []string{"HOME=" + e.dir, "NO_COLOR=1"}, e.tend, append([]string{"play", "-i", "localhost,", pb}, flags...)...)
}

// runCommand runs bin with args and env added to the test's, for at most
// limit, and returns its combined output and exit code.
func runCommand(t *testing.T, limit time.Duration, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

func helmTask(name, chart, kubeconfig, values string) string {
	return fmt.Sprintf(`    - name: %s
      kubernetes.core.helm:
        release_name: %s
        release_namespace: posit
        create_namespace: true
        chart_ref: %s
        kubeconfig: %s
        wait: true
        timeout: 3m
        release_values: %s
`, name, name, chart, kubeconfig, values)
}

func recap(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "localhost ") && strings.Contains(l, "ok=") {
			return strings.Join(strings.Fields(l)[2:], " ")
		}
	}
	t.Fatalf("no recap in output:\n%s", out)
	return ""
}

// TestHelmPackageManager installs Posit's rstudio-pm chart with tend's
// helm module on a real API server: the Deployment becomes available on a
// kwok node; a second run changes nothing; after the release is upgraded
// with another value behind tend's back, --check reports the change with
// a diff naming the resource, and a run puts it back.
func TestHelmPackageManager(t *testing.T) {
	chart := chartCopy(t, "rstudio-pm")
	c := Start(t, 1)
	e := &playEnv{t: t, tend: tendBinary(t), dir: t.TempDir()}
	ctx := context.Background()

	values := `{replicas: 1, config: {Server: {Address: "http://rspm.example.com"}}}`
	out, code := e.play(helmTask("rspm", chart, c.Kubeconfig, values))
	if code != 0 || recap(t, out) != "ok=1 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0" {
		t.Fatalf("fresh install: exit %d\n%s", code, out)
	}
	code2, b, err := c.Do(ctx, "GET", "/apis/apps/v1/namespaces/posit/deployments/rspm-rstudio-pm", nil)
	if err != nil || code2 != http.StatusOK {
		t.Fatalf("Deployment not found: %d %v %s", code2, err, b)
	}
	var d struct {
		Status struct{ AvailableReplicas int } `json:"status"`
	}
	if err := json.Unmarshal(b, &d); err != nil || d.Status.AvailableReplicas != 1 {
		t.Errorf("Deployment not available after wait: %s", b)
	}
	_, b, _ = c.Do(ctx, "GET", "/api/v1/namespaces/posit/configmaps/rspm-rstudio-pm-config", nil)
	if !strings.Contains(string(b), "http://rspm.example.com") {
		t.Errorf("ConfigMap lacks the configured address: %s", b)
	}

	out, code = e.play(helmTask("rspm", chart, c.Kubeconfig, values), "--diff")
	if code != 0 || recap(t, out) != "ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0" {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	out, code = e.play(helmTask("rspm", chart, c.Kubeconfig, values), "--check", "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("--check on the converged release: exit %d, want 0\n%s", code, out)
	}

	// Someone upgrades the release by hand with another address.
	other := `{replicas: 1, config: {Server: {Address: "http://elsewhere.example.com"}}}`
	if out, code = e.play(helmTask("rspm", chart, c.Kubeconfig, other)); code != 0 {
		t.Fatalf("hand upgrade: exit %d\n%s", code, out)
	}
	out, code = e.play(helmTask("rspm", chart, c.Kubeconfig, values), "--check", "--diff", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("--check after a hand edit: exit %d, want 2\n%s", code, out)
	}
	for _, want := range []string{"ConfigMap posit/rspm-rstudio-pm-config", "http://rspm.example.com", "http://elsewhere.example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("--diff output lacks %q:\n%s", want, out)
		}
	}
	_, b, _ = c.Do(ctx, "GET", "/api/v1/namespaces/posit/configmaps/rspm-rstudio-pm-config", nil)
	if !strings.Contains(string(b), "elsewhere") {
		t.Errorf("--check changed the ConfigMap: %s", b)
	}
	if out, code = e.play(helmTask("rspm", chart, c.Kubeconfig, values)); code != 0 || !strings.Contains(recap(t, out), "changed=1") {
		t.Fatalf("run after the hand edit: exit %d\n%s", code, out)
	}
	_, b, _ = c.Do(ctx, "GET", "/api/v1/namespaces/posit/configmaps/rspm-rstudio-pm-config", nil)
	if !strings.Contains(string(b), "http://rspm.example.com") {
		t.Errorf("the run did not put the address back: %s", b)
	}
}

// TestHelmBadInput checks that each kind of bad input is a clear task
// failure naming the release and the cause.
func TestHelmBadInput(t *testing.T) {
	chart := chartCopy(t, "rstudio-pm")
	c := Start(t, 1)
	e := &playEnv{t: t, tend: tendBinary(t), dir: t.TempDir()}

	unreachable := filepath.Join(e.dir, "unreachable.kubeconfig")
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteKubeconfig(unreachable, fmt.Sprintf("https://127.0.0.1:%d", ports[0])); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(e.dir, "broken")
	if err := os.MkdirAll(filepath.Join(broken, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.missing.key }}\n",
	} {
		if err := os.WriteFile(filepath.Join(broken, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, release, chart, kubeconfig, values string
		want                                     []string
	}{
		{"wrong kubeconfig", "badkc", chart, filepath.Join(e.dir, "missing.kubeconfig"), "{}",
			[]string{"helm release badkc in namespace posit", "missing.kubeconfig", "no such file"}},
		{"unreachable API server", "unreach", chart, unreachable, "{}",
			[]string{"helm release unreach in namespace posit", "cluster unreachable", "connection refused"}},
		{"chart that does not render", "broken", broken, c.Kubeconfig, "{}",
			[]string{"helm release broken in namespace posit", "rendering chart", "missing"}},
		{"value of the wrong type", "badtype", chart, c.Kubeconfig, `{replicas: "two"}`,
			[]string{"helm release badtype in namespace posit", "replicas"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, code := e.play(helmTask(tt.release, tt.chart, tt.kubeconfig, tt.values))
			if code == 0 || !strings.Contains(recap(t, out), "failed=1") {
				t.Fatalf("exit %d, want a failed task:\n%s", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "panic") {
				t.Errorf("panic:\n%s", out)
			}
		})
	}
}
