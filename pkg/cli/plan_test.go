package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// planFixture is a playbook run on two local hosts that writes files in
// out/: a template, a no_log secret and lines added to the template's file.
type planFixture struct {
	dir, inv, pb, out, plan, tmpl string
}

func newPlanFixture(t *testing.T, extraTasks string) *planFixture {
	t.Helper()
	dir := t.TempDir()
	f := &planFixture{dir: dir, out: filepath.Join(dir, "out"), plan: filepath.Join(dir, "plan.json")}
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		t.Fatal(err)
	}
	f.tmpl = writeFile(t, dir, "templates/motd.j2", "hello {{ inventory_hostname }}\n")
	f.inv = writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	f.pb = writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  tasks:
    - name: motd
      template: {src: motd.j2, dest: "`+f.out+`/{{ inventory_hostname }}.motd"}
    - name: secret
      copy: {content: "{{ secret }}", dest: "`+f.out+`/{{ inventory_hostname }}.secret", mode: "0600"}
      no_log: true
    - name: lines
      lineinfile: {path: "`+f.out+`/{{ inventory_hostname }}.motd", line: "line {{ item }}", create: true}
      loop: [1, 2]
`+extraTasks)
	return f
}

func (f *planFixture) makePlan(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"play", "-i", f.inv, f.pb, "--check", "--plan-out", f.plan, "-e", "secret=hunter2"}, extra...)
	code, out, errOut := runCLI(t, args...)
	if code != ExitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	return out
}

func (f *planFixture) files(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, n := range []string{"a.motd", "a.secret", "b.motd", "b.secret"} {
		data, err := os.ReadFile(filepath.Join(f.out, n))
		if err == nil {
			b.WriteString(n + ": " + string(data) + "|")
		}
	}
	return b.String()
}

func TestPlanShowApply(t *testing.T) {
	f := newPlanFixture(t, "")
	planned := f.makePlan(t)
	if f.files(t) != "" {
		t.Fatalf("planning changed files: %s", f.files(t))
	}
	st, err := os.Stat(f.plan)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v %v", st, err)
	}
	data, _ := os.ReadFile(f.plan)
	if strings.Contains(string(data), "hunter2") {
		t.Fatal("the plan file holds the no_log secret")
	}

	code, out, _ := runCLI(t, "show", f.plan, "--detailed-exitcode")
	if code != ExitFailed {
		t.Errorf("show --detailed-exitcode: exit %d, want 2", code)
	}
	for _, want := range []string{"+hello a", "+line 2", "changed: [b] => (item=2)", "b                          : ok=3    changed=3"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Error("show prints the no_log secret")
	}
	code, out, _ = runCLI(t, "show", "-o", "json", f.plan)
	var doc struct {
		Plays []struct {
			Tasks []struct {
				Hosts map[string]struct{ Status string }
			}
		}
		Plan struct{ Version int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("show -o json: exit %d, %v\n%s", code, err, out)
	}
	if doc.Plan.Version != 1 || doc.Plays[0].Tasks[1].Hosts["a"].Status != "changed" {
		t.Errorf("show -o json: %+v", doc)
	}

	// Without the -e the plan was made with, apply refuses.
	if code, _, errOut := runCLI(t, "apply", f.plan, "--no-lock"); code != ExitPlanRefused || !strings.Contains(errOut, "-e arguments") {
		t.Errorf("apply without -e: exit %d, %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "apply", f.plan, "--no-lock", "-e", "secret=hunter2")
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if got, want := f.files(t), "a.motd: hello a\nline 1\nline 2\n|a.secret: hunter2|b.motd: hello b\nline 1\nline 2\n|b.secret: hunter2|"; got != want {
		t.Errorf("files after apply:\n%q\nwant\n%q", got, want)
	}
	if recap(out) != recap(planned) {
		t.Errorf("apply's recap\n%s\ndiffers from the plan's\n%s", recap(out), recap(planned))
	}

	// The same plan again: the hosts are no longer as the plan saw them.
	code, _, errOut = runCLI(t, "apply", f.plan, "--no-lock", "-e", "secret=hunter2")
	if code != ExitPlanMismatch || !strings.Contains(errOut, `PLAN MISMATCH: a: plan mismatch at task "motd"`) || !strings.Contains(errOut, "differs from what the plan saw") {
		t.Errorf("second apply: exit %d\n%s", code, errOut)
	}
}

func recap(out string) string {
	_, r, _ := strings.Cut(out, "PLAY RECAP")
	return r
}

func TestApplyStopsDriftedHost(t *testing.T) {
	f := newPlanFixture(t, "")
	f.makePlan(t)
	writeFile(t, f.out, "b.motd", "edited by hand\n")
	code, out, errOut := runCLI(t, "apply", f.plan, "--no-lock", "-e", "secret=hunter2")
	if code != ExitPlanMismatch {
		t.Fatalf("apply: exit %d, want %d\n%s\n%s", code, ExitPlanMismatch, out, errOut)
	}
	if !strings.Contains(errOut, `PLAN MISMATCH: b: plan mismatch at task "motd"`) || !strings.Contains(errOut, "+edited by hand") {
		t.Errorf("mismatch report:\n%s", errOut)
	}
	if got, want := f.files(t), "a.motd: hello a\nline 1\nline 2\n|a.secret: hunter2|b.motd: edited by hand\n|"; got != want {
		t.Errorf("files after apply:\n%q\nwant\n%q", got, want)
	}

	// --all-or-nothing: nothing changes anywhere.
	f = newPlanFixture(t, "")
	f.makePlan(t)
	writeFile(t, f.out, "b.motd", "edited by hand\n")
	code, _, errOut = runCLI(t, "apply", f.plan, "--no-lock", "--all-or-nothing", "-e", "secret=hunter2")
	if code != ExitPlanMismatch || !strings.Contains(errOut, "no host was changed") {
		t.Errorf("--all-or-nothing: exit %d\n%s", code, errOut)
	}
	if got, want := f.files(t), "b.motd: edited by hand\n|"; got != want {
		t.Errorf("files after --all-or-nothing:\n%q\nwant\n%q", got, want)
	}
}

func TestApplyRefusesChangedInputs(t *testing.T) {
	f := newPlanFixture(t, "")
	f.makePlan(t)
	writeFile(t, f.dir, "templates/motd.j2", "changed {{ inventory_hostname }}\n")
	code, _, errOut := runCLI(t, "apply", f.plan, "--no-lock", "-e", "secret=hunter2")
	if code != ExitPlanRefused || !strings.Contains(errOut, f.tmpl+" changed since the plan was made") {
		t.Errorf("edited template: exit %d\n%s", code, errOut)
	}
	if f.files(t) != "" {
		t.Errorf("a refused plan changed files: %s", f.files(t))
	}
	writeFile(t, f.dir, "templates/motd.j2", "hello {{ inventory_hostname }}\n")
	writeFile(t, f.dir, "hosts", "a ansible_connection=local\n")
	if code, _, errOut := runCLI(t, "apply", f.plan, "--no-lock", "-e", "secret=hunter2"); code != ExitPlanRefused || !strings.Contains(errOut, f.inv) {
		t.Errorf("edited inventory: exit %d\n%s", code, errOut)
	}
	writeFile(t, f.dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	if code, _, errOut := runCLI(t, "apply", f.plan, "--no-lock", "--max-age", "1ns", "-e", "secret=hunter2"); code != ExitPlanRefused || !strings.Contains(errOut, "--max-age") {
		t.Errorf("--max-age: exit %d\n%s", code, errOut)
	}
	if code, _, _ := runCLI(t, "play", "-i", f.inv, f.pb, "--plan-out", f.plan); code != ExitError {
		t.Errorf("--plan-out without --check: exit %d", code)
	}
}

func TestApplyUnpredictable(t *testing.T) {
	f := newPlanFixture(t, `    - name: run
      command: "touch `+"{{ inventory_hostname }}"+`.ran"
      args: {chdir: "`+"OUT"+`"}
`)
	pb, _ := os.ReadFile(f.pb)
	writeFile(t, f.dir, "site.yml", strings.ReplaceAll(string(pb), "OUT", f.out))
	f.makePlan(t)
	code, out, _ := runCLI(t, "show", f.plan)
	if code != 0 || !strings.Contains(out, "unpredictable tasks") || !strings.Contains(out, "a: run (") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	code, _, errOut := runCLI(t, "apply", f.plan, "--no-lock", "-e", "secret=hunter2")
	if code != ExitPlanRefused || !strings.Contains(errOut, "--allow-unpredictable") || f.files(t) != "" {
		t.Errorf("without --allow-unpredictable: exit %d\n%s", code, errOut)
	}
	code, out, errOut = runCLI(t, "apply", f.plan, "--no-lock", "--allow-unpredictable", "-e", "secret=hunter2")
	if code != ExitOK {
		t.Fatalf("with --allow-unpredictable: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(f.out, "b.ran")); err != nil {
		t.Errorf("the command did not run: %v", err)
	}
}

func TestApplyCheckModeConditions(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	writeFile(t, dir, "setup.yml", `- name: configure
  copy: {content: "setup", dest: "`+out+`/{{ inventory_hostname }}.setup"}
`)
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  tasks:
    - name: real only
      copy: {content: "x", dest: "`+out+`/{{ inventory_hostname }}.real"}
      when: not ansible_check_mode
    - name: never
      copy: {content: "x", dest: "`+out+`/never"}
      when: not ansible_check_mode and inventory_hostname == 'nobody'
    - name: setup
      include_tasks: setup.yml
      when: not ansible_check_mode
    - name: after
      copy: {content: "after", dest: "`+out+`/{{ inventory_hostname }}.after"}
`)
	planFile := filepath.Join(dir, "plan.json")
	if code, o, e := runCLI(t, "play", "-i", inv, pb, "--check", "--plan-out", planFile); code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, o, e)
	}
	_, shown, _ := runCLI(t, "show", planFile)
	for _, want := range []string{"a: real only (", "b: setup (", "the tasks it includes are not in the plan"} {
		if !strings.Contains(shown, want) {
			t.Errorf("show lacks %q:\n%s", want, shown)
		}
	}
	if strings.Contains(shown, "never (") {
		t.Errorf("a task a real run skips too is listed as unpredictable:\n%s", shown)
	}
	if code, _, _ := runCLI(t, "apply", planFile, "--no-lock"); code != ExitPlanRefused {
		t.Errorf("apply without --allow-unpredictable: exit %d", code)
	}
	code, o, e := runCLI(t, "apply", planFile, "--no-lock", "--allow-unpredictable")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, o, e)
	}
	for _, f := range []string{"a.real", "b.setup", "b.after"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
