package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// --report files are written beside the human output, with the run's
// exit code; a bad spec is refused before anything runs.
func TestPlayReportFiles(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n    - fail: msg=no\n      when: inventory_hostname == 'b'\n")
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "play", "-i", inv, pb,
		"--report", "json="+filepath.Join(out, "run.json"),
		"--report", "junit="+filepath.Join(out, "run.xml"),
		"--report", "prometheus="+filepath.Join(out, "tend.prom"))
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFailed, stderr)
	}
	if !strings.Contains(stdout, "PLAY RECAP") {
		t.Errorf("the terminal lost its human output:\n%s", stdout)
	}
	var doc struct {
		Stats map[string]struct{ Failed int } `json:"stats"`
	}
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Stats["b"].Failed != 1 {
		t.Errorf("json report: %v, stats %+v", err, doc.Stats)
	}
	f, err := os.Open(filepath.Join(out, "tend.prom"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := fams["tend_last_run_exit_code"].Metric[0].GetGauge().GetValue(); got != ExitFailed {
		t.Errorf("tend_last_run_exit_code %v, want %d", got, ExitFailed)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "run.xml")); !strings.Contains(string(b), `<testsuites name="tend" tests="4" failures="1"`) {
		t.Errorf("junit report:\n%s", b)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 3 {
		t.Errorf("report directory holds %d files, want 3 (no temporary files left)", len(entries))
	}

	for spec, want := range map[string]string{
		"pdf=" + filepath.Join(out, "x"):             `unknown format "pdf"`,
		"junit=" + filepath.Join(dir, "no", "x.xml"): "does not exist",
	} {
		code, stdout, stderr := runCLI(t, "play", "-i", inv, pb, "--report", spec)
		if code != ExitError || !strings.Contains(stderr, want) || strings.Contains(stdout, "PLAY") {
			t.Errorf("--report %s: exit %d, want 1 before the run, saying %q; stdout:\n%s\nstderr:\n%s", spec, code, want, stdout, stderr)
		}
	}
}

func TestPlayReportDir(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: content=x dest="+filepath.Join(dir, "f")+"\n")
	reports := filepath.Join(dir, "reports")
	for range 3 {
		if code, _, stderr := runCLI(t, "play", "-i", inv, pb, "--check", "--report-dir", reports, "--keep", "2", "--detailed-exitcode"); code != ExitFailed {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(reports, "2*"))
	if len(runs) != 2 {
		t.Errorf("%d runs kept, want 2: %v", len(runs), runs)
	}
	b, err := os.ReadFile(filepath.Join(reports, "latest", "junit.xml"))
	if err != nil || !strings.Contains(string(b), `type="drift"`) {
		t.Errorf("latest/junit.xml (%v):\n%s", err, b)
	}
	b, err = os.ReadFile(filepath.Join(reports, "latest", "report.html"))
	if err != nil || !strings.Contains(string(b), `<td class="cell changed"`) {
		t.Errorf("latest/report.html (%v):\n%s", err, b)
	}
}

// The html report shows the command line without -e values: they
// often hold passwords. A file named with @ is no secret.
func TestHideExtraVars(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tend play -i h site.yml", "tend play -i h site.yml"},
		{"tend play -e pw=x site.yml", "tend play -e <hidden> site.yml"},
		{"tend play --extra-vars pw=x site.yml", "tend play --extra-vars <hidden> site.yml"},
		{"tend play --extra-vars=pw=x -epw=y -e=pw=z", "tend play --extra-vars=<hidden> -e<hidden> -e<hidden>"},
		{"tend play -e @vars.yml --extra-vars=@v2.yml -e@v3.yml", "tend play -e @vars.yml --extra-vars=@v2.yml -e@v3.yml"},
		{"tend play -e", "tend play -e"},
		{"tend play -- -e pw=x", "tend play -- -e pw=x"},
	} {
		in := strings.Fields(tc.in)
		if got := strings.Join(hideExtraVars(in), " "); got != tc.want {
			t.Errorf("hideExtraVars(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Join(in, " ") != tc.in {
			t.Errorf("hideExtraVars(%q) changed its argument", tc.in)
		}
	}
}
