package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJSONGolden(t *testing.T) {
	tests := []struct {
		name string
		s    scenario
		opts Options
	}{
		{"play", withRecap(playScenario, "web1", "web2", "db1"), Options{}},
		{"loop", withRecap(loopScenario, "web1"), Options{}},
		{"diff", withRecap(diffScenario, "web1"), Options{Diff: true}},
		{"nolog", withRecap(noLogScenario, "web1"), Options{Diff: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := NewJSON(&out, tt.opts)
			tt.s(r)
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			golden(t, "json_"+tt.name+".golden", out.Bytes())
		})
	}
}

// TestJSONRoundTrip decodes the document strictly into Document, so a
// field the contract does not document fails, and checks what scripts
// read.
func TestJSONRoundTrip(t *testing.T) {
	var out bytes.Buffer
	r := NewJSON(&out, Options{Diff: true})
	withRecap(playScenario, "web1", "web2", "db1")(r)
	loopScenario(r)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode document: %v\n%s", err, out.String())
	}
	if len(doc.Plays) != 2 {
		t.Fatalf("plays = %d, want 2", len(doc.Plays))
	}
	p := doc.Plays[0]
	if p.Play.Name != "webservers" || !cmp.Equal(p.Play.Hosts, []string{"web1", "web2", "db1"}) {
		t.Errorf("play = %+v", p.Play)
	}
	var names []string
	for _, task := range p.Tasks {
		names = append(names, task.Task.Name)
	}
	wantNames := []string{"Gathering Facts", "copy motd", "only on debian", "check service", "wait for port", "restart nginx"}
	if !cmp.Equal(names, wantNames) {
		t.Errorf("task names = %q, want %q", names, wantNames)
	}
	copyTask := p.Tasks[1]
	if copyTask.Task.Role != "common" || copyTask.Task.Module != "copy" || copyTask.Task.Line != 3 {
		t.Errorf("copy task = %+v", copyTask.Task)
	}
	web1 := copyTask.Hosts["web1"]
	if web1 == nil || web1.Status != Changed || !web1.Changed || web1.Result["dest"] != "/etc/motd" {
		t.Errorf("copy on web1 = %+v", web1)
	}
	if web2 := copyTask.Hosts["web2"]; web2 == nil || web2.DelegatedTo != "bastion" {
		t.Errorf("copy on web2 = %+v", web2)
	}
	if h := p.Tasks[3].Hosts["web2"]; h == nil || h.Status != Ignored || !h.Failed {
		t.Errorf("ignored failure = %+v", h)
	}
	if h := p.Tasks[4].Hosts["web2"]; h == nil || h.Status != Rescued || h.Attempts != 3 {
		t.Errorf("rescued = %+v", h)
	}
	wantStats := StatsReport{OK: 4, Rescued: 1, Ignored: 1}
	if got := doc.Stats["web2"]; got != wantStats {
		t.Errorf("stats[web2] = %+v, want %+v", got, wantStats)
	}
	if doc.ElapsedSeconds != 2.5 {
		t.Errorf("elapsed = %v, want 2.5", doc.ElapsedSeconds)
	}
	if len(doc.Warnings) != 2 || doc.Warnings[1].Host != "web2" {
		t.Errorf("warnings = %+v", doc.Warnings)
	}
	loop := doc.Plays[1].Tasks[0].Hosts["web1"]
	if loop == nil || len(loop.Items) != 5 || loop.Status != Failed {
		t.Fatalf("loop = %+v", loop)
	}
	if loop.Items[1].Item != "curl" || loop.Items[1].Status != Changed {
		t.Errorf("item 1 = %+v", loop.Items[1])
	}
}

// TestJSONAggregateFromItems checks the loop outcome derived when the
// executor sends items only.
func TestJSONAggregateFromItems(t *testing.T) {
	tests := []struct {
		name  string
		items []Status
		want  Status
	}{
		{"all ok", []Status{OK, OK}, OK},
		{"one changed", []Status{OK, Changed}, Changed},
		{"all skipped", []Status{Skipped, Skipped}, Skipped},
		{"some skipped", []Status{Skipped, OK}, OK},
		{"one failed", []Status{Changed, Failed}, Failed},
		{"ignored only", []Status{OK, Ignored}, Ignored},
		{"failed and ignored", []Status{Ignored, Failed}, Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := NewJSON(&out, Options{})
			task := Task{Name: "l", Module: "command", Loop: true}
			r.TaskStart(task)
			for i, s := range tt.items {
				r.HostResult(HostResult{Host: "h", Task: task, IsItem: true, Item: i, Status: s})
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			var doc Document
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if got := doc.Plays[0].Tasks[0].Hosts["h"].Status; got != tt.want {
				t.Errorf("status = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	r := NewJSONLines(&out, Options{Diff: true})
	withRecap(playScenario, "web1", "web2", "db1")(r)
	diffScenario(r)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	golden(t, "jsonlines_play.golden", out.Bytes())

	types := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var e Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("decode %s: %v", sc.Text(), err)
		}
		types[e.Type]++
		if e.Type == EventHostResult && (e.Outcome == nil || e.Task == nil || e.Host == "") {
			t.Errorf("incomplete host_result: %s", sc.Text())
		}
	}
	want := map[string]int{EventPlaybookStart: 1, EventPlayStart: 2, EventTaskStart: 10, EventHostResult: 17, EventWarning: 2, EventRecap: 1}
	if !cmp.Equal(types, want) {
		t.Errorf("event counts (-want +got):\n%s", cmp.Diff(want, types))
	}
}

// TestNoLogNeverPrinted runs the no_log scenario through every reporter
// at every verbosity and looks for the secret in all output.
func TestNoLogNeverPrinted(t *testing.T) {
	makers := map[string]func(w *bytes.Buffer, o Options) Reporter{
		"human":     func(w *bytes.Buffer, o Options) Reporter { return NewHuman(w, o) },
		"json":      func(w *bytes.Buffer, o Options) Reporter { return NewJSON(w, o) },
		"jsonlines": func(w *bytes.Buffer, o Options) Reporter { return NewJSONLines(w, o) },
	}
	for name, mk := range makers {
		for v := 0; v <= 4; v++ {
			var out, errOut bytes.Buffer
			r := mk(&out, Options{Verbosity: v, Diff: true, Color: v%2 == 1, Err: &errOut})
			withRecap(noLogScenario, "web1")(r)
			if err := r.Close(); err != nil {
				t.Fatalf("%s -v%d: Close: %v", name, v, err)
			}
			all := out.String() + errOut.String()
			if strings.Contains(all, secret) {
				t.Errorf("%s -v%d: secret printed:\n%s", name, v, all)
			}
			if !strings.Contains(all, "censored") {
				t.Errorf("%s -v%d: no censored marker in output:\n%s", name, v, all)
			}
		}
	}
}
