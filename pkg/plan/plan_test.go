package plan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/report"
)

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	f := &File{Created: time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC), Options: Options{Playbooks: []string{"/p/site.yml"}},
		Hosts:  map[string][]Step{"web1": {{StepKey: executor.StepKey{Task: "t", Location: "site.yml:3:7", Module: "copy", Item: -1}, Changed: true, Fingerprint: "sha256:x"}}},
		Events: []Event{{Kind: "result", Result: &report.HostResult{Host: "web1", Status: report.Changed, Result: module.Result{"rc": 0, "list": []any{1.0, 2.5}}}}}}
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", st.Mode().Perm())
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != Format || got.Version != Version || !got.Created.Equal(f.Created) || !got.Changed() {
		t.Errorf("read back %+v", got)
	}
	if s := got.Hosts["web1"][0]; s.Module != "copy" || s.Item != -1 || s.Fingerprint != "sha256:x" {
		t.Errorf("step read back as %+v", s)
	}
	res := got.Events[0].Result.Result
	if rc, ok := res["rc"].(int); !ok || rc != 0 {
		t.Errorf("rc read back as %#v, want int 0", res["rc"])
	}
	if l := res["list"].([]any); l[0] != 1 || l[1] != 2.5 {
		t.Errorf("list read back as %#v", l)
	}

	data, _ := os.ReadFile(path)
	for name, text := range map[string]string{
		"other version": strings.Replace(string(data), `"version": 1`, `"version": 2`, 1),
		"other format":  strings.Replace(string(data), `"tend-plan"`, `"terraform"`, 1),
		"not JSON":      "hello",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(p); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
}

func TestInputsBindThePlan(t *testing.T) {
	dir := t.TempDir()
	role := filepath.Join(dir, "roles", "web")
	for name, content := range map[string]string{
		"site.yml":                 "- hosts: all\n",
		"roles/web/tasks/main.yml": "- debug: msg=hi\n",
		"roles/web/templates/a.j2": "a\n",
		"roles/web/.git/HEAD":      "ref\n",
		"plan.json":                "{}",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := &Inputs{Skip: []string{filepath.Join(dir, "plan.json")}}
	in.Add(filepath.Join(dir, "site.yml"))
	in.Add(role)
	in.Add(role) // once
	in.Add(dir)  // the whole directory: plan.json is skipped
	in.Add(filepath.Join(dir, "group_vars"))
	list, err := in.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range list {
		names = append(names, strings.TrimPrefix(i.Path, dir+"/"))
	}
	if got, want := strings.Join(names, " "), "roles/web/tasks/main.yml roles/web/templates/a.j2 site.yml"; got != want {
		t.Fatalf("inputs %q, want %q", got, want)
	}
	f := &File{Inputs: list}
	if err := f.CheckInputs(); err != nil {
		t.Fatalf("unchanged inputs refused: %v", err)
	}
	// A hidden file is not an input.
	if err := os.WriteFile(filepath.Join(role, ".git", "HEAD"), []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.CheckInputs(); err != nil {
		t.Fatalf("a change to a hidden file refused the plan: %v", err)
	}
	tmpl := filepath.Join(role, "templates", "a.j2")
	if err := os.WriteFile(tmpl, []byte("b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = f.CheckInputs()
	if err == nil || !strings.Contains(err.Error(), tmpl+" changed") {
		t.Fatalf("edited template: got %v, want an error naming %s", err, tmpl)
	}
	if err := os.Remove(filepath.Join(dir, "site.yml")); err != nil {
		t.Fatal(err)
	}
	if err := f.CheckInputs(); err == nil || !strings.Contains(err.Error(), "site.yml was removed") {
		t.Fatalf("removed playbook: got %v", err)
	}
}

func TestExtraVarsKeptAsHashes(t *testing.T) {
	f := &File{ExtraVars: []ExtraVar{NewExtraVar("password=hunter2"), NewExtraVar("@vars.yml")}}
	for _, e := range f.ExtraVars {
		if strings.Contains(e.SHA256+e.File, "hunter2") {
			t.Fatalf("extra var kept in clear: %+v", e)
		}
	}
	if !filepath.IsAbs(f.ExtraVars[1].File) {
		t.Errorf("@file kept as %q, want an absolute path", f.ExtraVars[1].File)
	}
	if err := f.CheckExtraVars([]string{"password=hunter2", "@vars.yml"}); err != nil {
		t.Errorf("same -e refused: %v", err)
	}
	for _, bad := range [][]string{nil, {"password=other", "@vars.yml"}, {"@vars.yml", "password=hunter2"}} {
		if err := f.CheckExtraVars(bad); err == nil {
			t.Errorf("-e %q accepted", bad)
		}
	}
}

func TestCheckAge(t *testing.T) {
	now := time.Now()
	f := &File{Created: now.Add(-25 * time.Hour)}
	if err := f.CheckAge(now, 24*time.Hour); err == nil || !strings.Contains(err.Error(), "--max-age 24h") {
		t.Errorf("25h old plan with --max-age 24h: %v", err)
	}
	if err := f.CheckAge(now, 48*time.Hour); err != nil {
		t.Errorf("25h old plan with --max-age 48h: %v", err)
	}
	if err := f.CheckAge(now, 0); err != nil {
		t.Errorf("--max-age 0: %v", err)
	}
}

func key(task string, item int) executor.StepKey {
	return executor.StepKey{Task: task, Location: "site.yml:1:1", Module: "copy", Item: item}
}

func changing(before, after string) *module.Plan {
	return &module.Plan{Changed: true, Diff: []module.Diff{{BeforeHeader: "/f", AfterHeader: "/f", Before: before, After: after}}, Result: module.Result{"dest": "/f"}}
}

// record runs steps through a Recorder, as check mode does.
func record(t *testing.T, steps map[string][]struct {
	k executor.StepKey
	p *module.Plan
}) map[string][]Step {
	t.Helper()
	r := &Recorder{}
	for h, ss := range steps {
		for _, s := range ss {
			if err := r.Step(h, s.k, s.p, executor.StepMeta{Check: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r.Steps()
}

type step = struct {
	k executor.StepKey
	p *module.Plan
}

func TestGateAppliesOnlyThePlan(t *testing.T) {
	saved := record(t, map[string][]step{
		"a": {{key("motd", -1), changing("", "hello\n")}, {key("line", -1), changing("", "extra\n")}, {key("ok", -1), module.Unchanged(nil)}},
		"b": {{key("motd", -1), changing("", "hello\n")}, {key("line", -1), changing("", "extra\n")}},
	})

	// Unchanged hosts: every step matches. After the first change, the
	// line task finds the file the motd task wrote: what it adds is the
	// same, so it still matches.
	g := NewGate(saved, false, false, false)
	for _, s := range []step{{key("motd", -1), changing("", "hello\n")}, {key("line", -1), changing("hello\n", "hello\nextra\n")}, {key("ok", -1), module.Unchanged(nil)}} {
		if err := g.Step("a", s.k, s.p, executor.StepMeta{Check: true}); err != nil {
			t.Fatalf("step %s: %v", s.k.Task, err)
		}
	}
	if m := g.Unreached(func(string) bool { return false }); len(m) != 2 || m[0].Host != "b" {
		t.Errorf("unreached: %+v, want b's two steps", m)
	}

	// Drift on b before any change: b stops at motd, and stays stopped;
	// a goes on.
	g = NewGate(saved, false, false, false)
	err := g.Step("b", key("motd", -1), changing("drift\n", "hello\n"), executor.StepMeta{Check: true})
	var mm Mismatch
	if !errors.As(err, &mm) || mm.Host != "b" || !strings.Contains(mm.What, "drifted") || !strings.Contains(mm.What, "+drift") {
		t.Fatalf("drifted step: %v", err)
	}
	if err := g.Step("b", key("line", -1), changing("", "extra\n"), executor.StepMeta{Check: true}); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("step after a mismatch on the same host: %v", err)
	}
	if err := g.Step("a", key("motd", -1), changing("", "hello\n"), executor.StepMeta{Check: true}); err != nil {
		t.Errorf("other host: %v", err)
	}
	if len(g.Mismatches()) != 1 {
		t.Errorf("mismatches %+v", g.Mismatches())
	}

	// --all-or-nothing: a's mismatch stops b too.
	g = NewGate(saved, false, false, true)
	if err := g.Step("a", key("motd", -1), module.Unchanged(nil), executor.StepMeta{Check: true}); err == nil || !strings.Contains(err.Error(), "now nothing would change") {
		t.Fatalf("already applied: %v", err)
	}
	if err := g.Step("b", key("motd", -1), changing("", "hello\n"), executor.StepMeta{Check: true}); err == nil || !strings.Contains(err.Error(), "all-or-nothing") {
		t.Errorf("other host with --all-or-nothing: %v", err)
	}

	// Another path through the playbook, and another change after a change.
	g = NewGate(saved, false, false, false)
	if err := g.Step("a", key("line", -1), changing("", "extra\n"), executor.StepMeta{Check: true}); err == nil || !strings.Contains(err.Error(), `plan's next task on this host is "motd"`) {
		t.Errorf("out of order: %v", err)
	}
	g = NewGate(saved, false, false, false)
	_ = g.Step("a", key("motd", -1), changing("", "hello\n"), executor.StepMeta{Check: true})
	if err := g.Step("a", key("line", -1), changing("hello\n", "hello\nother\n"), executor.StepMeta{Check: true}); err == nil || !strings.Contains(err.Error(), "the change differs") {
		t.Errorf("other change: %v", err)
	}
}

func TestGateRetriesAndUnpredictable(t *testing.T) {
	cmd := &module.Plan{Changed: true, Unpredictable: true}
	r := &Recorder{}
	_ = r.Step("a", key("wait", -1), changing("", "x"), executor.StepMeta{Check: true})
	_ = r.Step("a", key("wait", -1), module.Unchanged(nil), executor.StepMeta{Retry: true, Check: true}) // until: second attempt
	_ = r.Step("a", key("cmd", -1), cmd, executor.StepMeta{Check: true})
	_ = r.Step("a", key("after", -1), changing("", "y"), executor.StepMeta{Check: true})
	saved := r.Steps()
	if n := len(saved["a"]); n != 3 {
		t.Fatalf("%d steps, want 3 (the retry replaces the attempt before it)", n)
	}
	if !saved["a"][1].Unpredictable || !saved["a"][2].AfterUnpredictable || saved["a"][0].AfterUnpredictable {
		t.Errorf("unpredictable marks: %+v", saved["a"])
	}
	f := &File{Hosts: saved}
	if u := f.Unpredictable(); len(u) != 1 || !strings.Contains(u[0], "a: cmd") {
		t.Errorf("Unpredictable() = %q", u)
	}

	g := NewGate(saved, false, false, false)
	for retry, p := range []*module.Plan{module.Unchanged(nil), module.Unchanged(nil)} {
		if err := g.Step("a", key("wait", -1), p, executor.StepMeta{Retry: retry > 0, Check: true}); err != nil {
			t.Fatalf("attempt %d: %v", retry+1, err)
		}
	}
	if err := g.Step("a", key("cmd", -1), cmd, executor.StepMeta{Check: true}); err == nil || !strings.Contains(err.Error(), "--allow-unpredictable") {
		t.Errorf("unpredictable without --allow-unpredictable: %v", err)
	}
	g = NewGate(saved, false, true, false)
	for _, s := range []step{{key("wait", -1), module.Unchanged(nil)}, {key("cmd", -1), cmd}, {key("after", -1), changing("", "y")}} {
		if err := g.Step("a", s.k, s.p, executor.StepMeta{Check: true}); err != nil {
			t.Errorf("%s: %v", s.k.Task, err)
		}
	}
}

func TestNoLogKeepsOnlyHashes(t *testing.T) {
	r := &Recorder{}
	p := changing("", "password=hunter2\n")
	p.Result["content"] = "hunter2"
	if err := r.Step("a", key("secret", -1), p, executor.StepMeta{NoLog: true, Check: true}); err != nil {
		t.Fatal(err)
	}
	s := r.Steps()["a"][0]
	if s.Diff != nil || !s.NoLog || !strings.HasPrefix(s.Fingerprint, "sha256:") {
		t.Errorf("no_log step kept %+v", s)
	}
	g := NewGate(r.Steps(), false, false, false)
	err := g.Step("a", key("secret", -1), changing("", "password=other\n"), executor.StepMeta{NoLog: true, Check: true})
	if err == nil || strings.Contains(err.Error(), "other") && !strings.Contains(err.Error(), "no_log") {
		t.Errorf("no_log mismatch: %v", err)
	}
	if strings.Contains(err.Error(), "password") {
		t.Errorf("no_log mismatch shows the value: %v", err)
	}
}

func TestGateSkippedAndCheckModeTasks(t *testing.T) {
	r := &Recorder{}
	check := executor.StepMeta{Check: true}
	_ = r.Step("a", key("skipped", -1), nil, executor.StepMeta{Check: true, Skipped: true})
	_ = r.Step("a", key("real only", -1), nil, executor.StepMeta{Check: true, Skipped: true, CheckModeCondition: true})
	_ = r.Step("a", key("query", -1), &module.Plan{Changed: true, Unpredictable: true}, executor.StepMeta{Check: false})
	_ = r.Step("a", key("check failed", -1), nil, executor.StepMeta{Check: true, PlanFailed: true})
	_ = r.Step("a", key("write", -1), changing("", "x"), check)
	saved := r.Steps()
	got := ""
	for _, s := range saved["a"] {
		got += fmt.Sprintf("%s skipped=%v unpredictable=%v ran=%v changed=%v\n", s.Task, s.Skipped, s.Unpredictable, s.RanInPlan, s.Changed)
	}
	want := `skipped skipped=true unpredictable=false ran=false changed=false
real only skipped=true unpredictable=true ran=false changed=false
query skipped=false unpredictable=false ran=true changed=false
check failed skipped=false unpredictable=true ran=false changed=false
write skipped=false unpredictable=false ran=false changed=true
`
	if got != want {
		t.Fatalf("steps:\n%s\nwant\n%s", got, want)
	}
	if u := (&File{Hosts: saved}).Unpredictable(); len(u) != 2 || !strings.Contains(u[0], "ansible_check_mode") {
		t.Errorf("Unpredictable() = %q", u)
	}

	apply := []struct {
		k executor.StepKey
		p *module.Plan
		m executor.StepMeta
	}{
		{key("skipped", -1), nil, executor.StepMeta{Skipped: true}},
		{key("real only", -1), &module.Plan{Changed: true, Unpredictable: true}, executor.StepMeta{}},
		{key("query", -1), &module.Plan{Changed: true, Unpredictable: true}, executor.StepMeta{}},
		{key("check failed", -1), changing("a", "b"), executor.StepMeta{}},
		{key("write", -1), changing("", "x"), executor.StepMeta{}},
	}
	g := NewGate(saved, false, true, false)
	for _, s := range apply {
		if err := g.Step("a", s.k, s.p, s.m); err != nil {
			t.Errorf("%s: %v", s.k.Task, err)
		}
	}
	// A task the plan skipped now runs.
	g = NewGate(saved, false, true, false)
	if err := g.Step("a", key("skipped", -1), changing("", "x"), executor.StepMeta{}); err == nil || !strings.Contains(err.Error(), "the plan skipped this task") {
		t.Errorf("skipped task that runs: %v", err)
	}
	// A planned change now skipped.
	g = NewGate(saved, false, true, false)
	for _, s := range apply[:4] {
		_ = g.Step("a", s.k, s.p, s.m)
	}
	if err := g.Step("a", key("write", -1), nil, executor.StepMeta{Skipped: true}); err == nil || !strings.Contains(err.Error(), "now the task is skipped") {
		t.Errorf("planned change skipped: %v", err)
	}
}

func TestFailedCheckIsUnpredictable(t *testing.T) {
	r := &Recorder{}
	_ = r.Step("a", key("user", -1), &module.Plan{Result: module.Failed("group web does not exist")}, executor.StepMeta{Check: true})
	s := r.Steps()["a"][0]
	if !s.Unpredictable || !strings.Contains(s.Why, "check failed") {
		t.Errorf("failed check saved as %+v", s)
	}
	g := NewGate(r.Steps(), false, true, false)
	if err := g.Step("a", key("user", -1), changing("", "web"), executor.StepMeta{}); err != nil {
		t.Errorf("apply of a step whose check failed: %v", err)
	}
}

func TestGateIncludeCheckModeSkipped(t *testing.T) {
	inc := executor.StepKey{Task: "setup", Location: "main.yml:5:3", Module: "include_tasks", Item: -1}
	r := &Recorder{}
	_ = r.Step("a", key("install", -1), changing("", "pkg"), executor.StepMeta{Check: true})
	_ = r.Step("a", inc, nil, executor.StepMeta{Check: true, Skipped: true, CheckModeCondition: true, Include: true})
	_ = r.Step("a", key("after", -1), changing("", "y"), executor.StepMeta{Check: true})
	saved := r.Steps()
	if u := (&File{Hosts: saved}).Unpredictable(); len(u) != 1 || !strings.Contains(u[0], "not in the plan") {
		t.Fatalf("Unpredictable() = %q", u)
	}
	g := NewGate(saved, false, true, false)
	for _, s := range []step{
		{key("install", -1), changing("", "pkg")},
		{inc, nil},
		{executor.StepKey{Task: "configure", Location: "setup.yml:1:3", Module: "template", Item: -1}, changing("default", "mine")},
		{key("after", -1), changing("", "y")},
	} {
		m := executor.StepMeta{Include: s.k.Module == "include_tasks"}
		if err := g.Step("a", s.k, s.p, m); err != nil {
			t.Errorf("%s: %v", s.k.Task, err)
		}
	}
	if err := g.Step("a", key("extra", -1), changing("", "z"), executor.StepMeta{}); err == nil {
		t.Error("a step after the plan resumed and ended was accepted")
	}
}
