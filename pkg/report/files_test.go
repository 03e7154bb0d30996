package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tend-dev/tend/pkg/module"
)

// playDrift sends a --check run over four hosts: a is in the wanted
// state, b has drifted, c fails, d is unreachable; a second task is
// skipped on a and would change b again.
func playDrift(r Reporter) {
	hosts := []string{"a", "b", "c", "d"}
	r.PlaybookStart("site.yml")
	r.PlayStart("web", hosts, true)
	motd := Task{Name: "motd", Module: "copy", File: "site.yml", Line: 5}
	r.TaskStart(motd)
	r.HostResult(HostResult{Host: "a", Task: motd, Status: OK, Result: module.Result{"changed": false}, CheckMode: true, Duration: time.Second})
	r.HostResult(HostResult{Host: "b", Task: motd, Status: Changed, Result: module.Result{"changed": true}, CheckMode: true})
	r.HostResult(HostResult{Host: "c", Task: motd, Status: Failed, Msg: "no space left", Result: module.Result{"failed": true, "msg": "no space left"}, CheckMode: true})
	r.HostResult(HostResult{Host: "d", Task: motd, Status: Unreachable, Msg: "connection refused", Result: module.Result{"unreachable": true, "msg": "connection refused"}, CheckMode: true})
	svc := Task{Name: "nginx running", Role: "web", Module: "service", File: "roles/web/tasks/main.yml", Line: 2}
	r.TaskStart(svc)
	r.HostResult(HostResult{Host: "a", Task: svc, Status: Skipped, Result: module.Result{"skipped": true}, CheckMode: true})
	r.HostResult(HostResult{Host: "b", Task: svc, Status: Changed, Result: module.Result{"changed": true}, CheckMode: true})
	stats := map[string]*Stats{}
	for _, res := range []HostResult{
		{Host: "a", Status: OK}, {Host: "b", Status: Changed}, {Host: "c", Status: Failed}, {Host: "d", Status: Unreachable},
		{Host: "a", Status: Skipped}, {Host: "b", Status: Changed},
	} {
		Tally(stats, res)
	}
	r.Recap(hosts, stats, 2500*time.Millisecond)
}

func writeDriftReports(t *testing.T, formats ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	var specs []FileSpec
	for _, f := range formats {
		spec, err := ParseFileSpec(f + "=" + filepath.Join(dir, "report."+f))
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, spec)
		paths[f] = spec.Path
	}
	files := NewFiles(specs, nil, Options{})
	playDrift(files)
	if err := files.Close(); err != nil {
		t.Fatal(err)
	}
	if err := files.Write(RunInfo{Finished: time.Unix(1_800_000_000, 500_000_000), ExitCode: 2}); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	return paths
}

// The JUnit schema as a consumer reads it, declared apart from the
// writer's so that a field the writer misnames is caught.
type readSuites struct {
	readCounts
	Suites []struct {
		Name string `xml:"name,attr"`
		readCounts
		Cases []struct {
			Name       string `xml:"name,attr"`
			Classname  string `xml:"classname,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Failure *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Error *struct {
				Type string `xml:"type,attr"`
			} `xml:"error"`
			Skipped   *struct{} `xml:"skipped"`
			SystemOut string    `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type readCounts struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
}

func TestJUnitReport(t *testing.T) {
	paths := writeDriftReports(t, "junit")
	b, err := os.ReadFile(paths["junit"])
	if err != nil {
		t.Fatal(err)
	}
	var got readSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("parse junit: %v\n%s", err, b)
	}
	// 6 results: c failed, b's two changes are drift failures in check
	// mode, d unreachable is an error, a's second task skipped.
	if got.Tests != 6 || got.Failures != 3 || got.Errors != 1 || got.Skipped != 1 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d, want 6, 3, 1, 1\n%s", got.Tests, got.Failures, got.Errors, got.Skipped, b)
	}
	if len(got.Suites) != 1 || got.Suites[0].Name != "web" || got.Suites[0].Tests != 6 {
		t.Fatalf("want one suite \"web\" with 6 cases:\n%s", b)
	}
	byCase := map[string]string{}
	for _, c := range got.Suites[0].Cases {
		kind := "pass"
		switch {
		case c.Error != nil:
			kind = "error:" + c.Error.Type
		case c.Failure != nil:
			kind = "failure:" + c.Failure.Type
		case c.Skipped != nil:
			kind = "skipped"
		}
		if strings.Contains(c.SystemOut, "changed") {
			kind += "+changed"
		}
		byCase[c.Classname+" "+c.Name] = kind
	}
	want := map[string]string{
		"a motd": "pass", "b motd": "failure:drift+changed", "c motd": "failure:failed", "d motd": "error:unreachable",
		"a web : nginx running": "skipped", "b web : nginx running": "failure:drift+changed",
	}
	if d := cmp.Diff(want, byCase); d != "" {
		t.Errorf("testcases (-want +got):\n%s", d)
	}
}

// Outside check mode a change is what the run is for: it passes.
func TestJUnitChangedPassesWhenApplying(t *testing.T) {
	doc := &Document{Plays: []PlayReport{{Play: PlayInfo{Name: "p"}, Tasks: []TaskReport{{
		Task:  TaskInfo{Name: "t"},
		Hosts: map[string]*HostReport{"h": {Outcome: Outcome{Status: Changed, Changed: true}}},
	}}}}}
	b, err := JUnit(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got readSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Tests != 1 || got.Failures != 0 || !strings.Contains(got.Suites[0].Cases[0].SystemOut, "changed") {
		t.Errorf("a change outside check mode should pass and say changed:\n%s", b)
	}
}

func TestPrometheusReport(t *testing.T) {
	paths := writeDriftReports(t, "prometheus")
	f, err := os.Open(paths["prometheus"])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (node_exporter reads it as another user)", st.Mode().Perm())
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse textfile: %v", err)
	}
	got := map[string]float64{}
	for name, fam := range fams {
		if fam.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is %v, want a gauge", name, fam.GetType())
		}
		for _, m := range fam.Metric {
			key := name
			for _, l := range m.Label {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"tend_last_run_timestamp_seconds": 1_800_000_000.5,
		"tend_last_run_duration_seconds":  2.5,
		"tend_last_run_exit_code":         2,
		"tend_last_run_check_mode":        1,
		"tend_host_drifted_tasks host=a":  0, "tend_host_drifted_tasks host=b": 2,
		"tend_host_drifted_tasks host=c": 0, "tend_host_drifted_tasks host=d": 0,
	}
	// Ansible counts a change as ok too.
	counts := map[string][7]float64{ // ok changed failed unreachable skipped rescued ignored
		"a": {1, 0, 0, 0, 1}, "b": {2, 2}, "c": {0, 0, 1}, "d": {0, 0, 0, 1},
	}
	for h, c := range counts {
		for i, st := range []string{"ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored"} {
			want["tend_host_tasks host="+h+" status="+st] = c[i]
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("metrics (-want +got):\n%s", d)
	}
}

// The json report is --output json's document, byte for byte.
func TestJSONReportIsTheOutputDocument(t *testing.T) {
	paths := writeDriftReports(t, "json", "junit")
	b, err := os.ReadFile(paths["json"])
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	r := NewJSON(&want, Options{})
	playDrift(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.String(), string(b)); d != "" {
		t.Errorf("json report differs from --output json (-want +got):\n%s", d)
	}
}

func TestParseFileSpec(t *testing.T) {
	for _, bad := range []string{"junit", "junit=", "xml=out.xml", "=x"} {
		if _, err := ParseFileSpec(bad); err == nil {
			t.Errorf("ParseFileSpec(%q) accepted", bad)
		}
	}
	got, err := ParseFileSpec("prometheus=/var/lib/node_exporter/tend.prom")
	if err != nil || got != (FileSpec{Format: "prometheus", Path: "/var/lib/node_exporter/tend.prom"}) {
		t.Errorf("got %+v, %v", got, err)
	}
}
