package k8s

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelmFromRepository is the usual way to install Posit's charts:
// helm_repository adds a chart repository (served here over HTTP with
// rstudio-pm packaged in it), helm installs REPO/CHART at a chart_version;
// a second run changes nothing, and a repository URL that serves no index
// fails the task.
func TestHelmFromRepository(t *testing.T) {
	chart := chartCopy(t, "rstudio-pm")
	const version = "0.20.4"
	repoDir := t.TempDir()
	tgz := "rstudio-pm-" + version + ".tgz"
	if out, err := exec.Command("tar", "-C", filepath.Dir(chart), "-czf", filepath.Join(repoDir, tgz), "rstudio-pm").CombinedOutput(); err != nil {
		t.Fatalf("packaging the chart: %v\n%s", err, out)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer srv.Close()
	index := fmt.Sprintf("apiVersion: v1\nentries:\n  rstudio-pm:\n  - apiVersion: v2\n    name: rstudio-pm\n    version: %s\n    urls: [%s/%s]\n", version, srv.URL, tgz)
	if err := os.WriteFile(filepath.Join(repoDir, "index.yaml"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}

	c := Start(t, 1)
	e := &playEnv{t: t, tend: tendBinary(t), dir: t.TempDir()}
	tasks := fmt.Sprintf(`    - kubernetes.core.helm_repository:
        name: rstudio
        repo_url: %s
    - kubernetes.core.helm:
        name: rspm
        namespace: posit
        create_namespace: true
        chart_ref: rstudio/rstudio-pm
        chart_version: %s
        kubeconfig: %s
        release_values: {replicas: 1}
      register: r
    - assert:
        that: [r.status.chart == "rstudio-pm-%s", r.status.status == "deployed"]
`, srv.URL, version, c.Kubeconfig, version)
	out, code := e.play(tasks)
	if code != 0 || recap(t, out) != "ok=3 changed=2 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0" {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	code2, b, err := c.Do(context.Background(), "GET", "/apis/apps/v1/namespaces/posit/deployments/rspm-rstudio-pm", nil)
	if err != nil || code2 != http.StatusOK {
		t.Fatalf("Deployment not found: %d %v %s", code2, err, b)
	}
	out, code = e.play(tasks)
	if code != 0 || recap(t, out) != "ok=3 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0" {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}

	out, code = e.play(fmt.Sprintf("    - kubernetes.core.helm_repository:\n        name: nothing\n        repo_url: %s/nothing\n", srv.URL))
	if code == 0 || !strings.Contains(out, "helm_repository nothing") || !strings.Contains(out, "is not a chart repository") {
		t.Fatalf("repository without an index: exit %d, want a failure naming it:\n%s", code, out)
	}
}
