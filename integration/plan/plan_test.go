// Package plan tests saved plans (tend play --check --plan-out, tend show,
// tend apply) against real testbed hosts: an unchanged apply does exactly
// what was planned, a drifted host stops at the drifted task, an edited
// template refuses the plan, and a no_log secret never reaches the file.
package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/integration/testbed"
)

const playbook = `- hosts: all
  vars_files: [vars.yml]
  tasks:
    - name: config
      template: {src: app.conf.j2, dest: /etc/tend-NAME.conf, mode: "0644"}
    - name: data directory
      file: {path: /srv/NAME, state: directory, mode: "0750"}
    - name: secret
      copy: {content: "{{ db_password }}\n", dest: /etc/tend-NAME.secret, mode: "0600"}
      no_log: true
    - name: motd line
      lineinfile: {path: /etc/motd-NAME, line: "managed by tend", create: true}
    - name: service user
      user: {name: NAME, system: true}
`

// secret is the no_log value; it must appear on the hosts only.
const secret = "s3cret-db-password-4711"

type jsonDoc struct {
	Stats map[string]struct{ OK, Changed, Failed, Skipped, Unreachable int } `json:"stats"`
	Plays []struct {
		Tasks []struct {
			Task  struct{ Name string } `json:"task"`
			Hosts map[string]struct {
				Status string `json:"status"`
			} `json:"hosts"`
		} `json:"tasks"`
	} `json:"plays"`
}

// statuses is "task host status" for every result, sorted by play order.
func (d jsonDoc) statuses() string {
	var b strings.Builder
	for _, p := range d.Plays {
		for _, t := range p.Tasks {
			for _, h := range []string{"p1", "p2", "p3"} {
				if r, ok := t.Hosts[h]; ok {
					b.WriteString(t.Task.Name + " " + h + " " + r.Status + "\n")
				}
			}
		}
	}
	return b.String()
}

type fixture struct {
	t                  *testing.T
	bed                *testbed.Bed
	bin, name, dir, pb string
	plan, tmpl         string
}

func newFixture(t *testing.T, bed *testbed.Bed, bin, name string) *fixture {
	dir := t.TempDir()
	f := &fixture{t: t, bed: bed, bin: bin, name: name, dir: dir, pb: filepath.Join(dir, "site.yml"), plan: filepath.Join(dir, "plan.json"),
		tmpl: filepath.Join(dir, "templates", "app.conf.j2")}
	files := map[string]string{
		"site.yml":              strings.ReplaceAll(playbook, "NAME", name),
		"vars.yml":              "db_password: " + secret + "\nport: 8080\n",
		"templates/app.conf.j2": "host={{ inventory_hostname }}\nport={{ port }}\n",
	}
	for n, content := range files {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// tend runs the binary and returns stdout, stderr and the exit code.
func (f *fixture) tend(args ...string) (string, string, int) {
	f.t.Helper()
	cmd := exec.Command(f.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		f.t.Fatalf("run tend: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

func (f *fixture) doc(out string) jsonDoc {
	f.t.Helper()
	var d jsonDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		f.t.Fatalf("not JSON (%v):\n%s", err, out)
	}
	return d
}

// makePlan plans on the bed and returns the planned run's document.
func (f *fixture) makePlan() jsonDoc {
	f.t.Helper()
	out, errOut, code := f.tend("play", "-i", f.bed.InventoryINI, f.pb, "--check", "--plan-out", f.plan, "--output", "json")
	if code != 0 {
		f.t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	return f.doc(out)
}

func (f *fixture) ssh(host, cmd string) string {
	f.t.Helper()
	out, err := f.bed.SSH(f.t.Context(), host, cmd)
	if err != nil {
		f.t.Fatalf("%s: %s: %v\n%s", host, cmd, err, out)
	}
	return strings.TrimSpace(out)
}

// state is what the playbook manages on host, as one string.
func (f *fixture) state(host string) string {
	return f.ssh(host, "cat /etc/tend-"+f.name+".conf 2>&1; stat -c %a /srv/"+f.name+" 2>&1; cat /etc/tend-"+f.name+".secret 2>&1; cat /etc/motd-"+f.name+" 2>&1; id -u "+f.name+" >/dev/null 2>&1 && echo user || echo no user")
}

func TestSavedPlans(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "p1"}, testbed.HostSpec{Name: "p2"}, testbed.HostSpec{Name: "p3"})
	bin := filepath.Join(t.TempDir(), "tend")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/tend").CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}

	t.Run("apply on unchanged hosts makes exactly the planned changes", func(t *testing.T) {
		f := newFixture(t, bed, bin, "same")
		planned := f.makePlan()
		for _, h := range []string{"p1", "p2", "p3"} {
			if s := planned.Stats[h]; s.Changed != 5 || s.Failed != 0 {
				t.Errorf("%s: planned %+v, want 5 changes", h, s)
			}
			if st := f.state(h); strings.Contains(st, "port=") || strings.Contains(st, secret) {
				t.Fatalf("%s: planning changed the host:\n%s", h, st)
			}
		}
		out, _, code := f.tend("show", f.plan, "-o", "json", "--detailed-exitcode")
		if code != 2 || f.doc(out).statuses() != planned.statuses() {
			t.Errorf("show: exit %d, statuses\n%s\nwant\n%s", code, f.doc(out).statuses(), planned.statuses())
		}
		out, errOut, code := f.tend("apply", f.plan, "--output", "json")
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
		}
		applied := f.doc(out)
		if applied.statuses() != planned.statuses() {
			t.Errorf("apply's results\n%s\ndiffer from the plan's\n%s", applied.statuses(), planned.statuses())
		}
		for _, h := range []string{"p1", "p2", "p3"} {
			if applied.Stats[h] != planned.Stats[h] {
				t.Errorf("%s: recap %+v, plan %+v", h, applied.Stats[h], planned.Stats[h])
			}
			want := "host=" + h + "\nport=8080\n750\n" + secret + "\nmanaged by tend\nuser"
			if got := f.state(h); got != want {
				t.Errorf("%s: state after apply\n%s\nwant\n%s", h, got, want)
			}
		}
		out, _, code = f.tend("play", "-i", bed.InventoryINI, f.pb, "--check", "--detailed-exitcode", "--output", "json")
		if code != 0 {
			t.Errorf("check after apply: exit %d (something is left to change): %+v", code, f.doc(out).Stats)
		}
	})

	t.Run("a drifted host stops at the drifted task; the others complete", func(t *testing.T) {
		f := newFixture(t, bed, bin, "drift")
		f.makePlan()
		f.ssh("p2", "echo 'managed by tend' > /etc/motd-drift")
		out, errOut, code := f.tend("apply", f.plan, "--output", "json")
		if code != 11 {
			t.Fatalf("apply: exit %d, want 11 (plan mismatch)\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, `PLAN MISMATCH: p2: plan mismatch at task "motd line"`) || !strings.Contains(errOut, "now nothing would change") {
			t.Errorf("mismatch report:\n%s", errOut)
		}
		if strings.Contains(errOut, "p1:") || strings.Contains(errOut, "p3:") {
			t.Errorf("mismatch reported for an unchanged host:\n%s", errOut)
		}
		doc := f.doc(out)
		if s := doc.Stats["p2"]; s.Failed != 1 || s.Changed != 3 {
			t.Errorf("p2: %+v, want the three tasks before the drifted one applied and the drifted one failed", s)
		}
		if got, want := f.state("p2"), "host=p2\nport=8080\n750\n"+secret+"\nmanaged by tend\nno user"; got != want {
			t.Errorf("p2: state\n%s\nwant\n%s (the task after the drifted one must not run)", got, want)
		}
		for _, h := range []string{"p1", "p3"} {
			if s := doc.Stats[h]; s.Changed != 5 || s.Failed != 0 {
				t.Errorf("%s: %+v, want all 5 planned changes", h, s)
			}
		}

		// --all-or-nothing: a new plan, p3 drifts, no host changes.
		f = newFixture(t, bed, bin, "aon")
		f.makePlan()
		f.ssh("p3", "echo 'hand-made' > /etc/tend-aon.conf")
		_, errOut, code = f.tend("apply", f.plan, "--all-or-nothing")
		if code != 11 || !strings.Contains(errOut, "PLAN MISMATCH: p3") || !strings.Contains(errOut, "no host was changed") {
			t.Errorf("--all-or-nothing: exit %d\n%s", code, errOut)
		}
		for _, h := range []string{"p1", "p2"} {
			if st := f.state(h); strings.Contains(st, "port=") || strings.Contains(st, "\nuser") {
				t.Errorf("%s changed under --all-or-nothing:\n%s", h, st)
			}
		}
	})

	t.Run("an edited template refuses the plan, naming the file", func(t *testing.T) {
		f := newFixture(t, bed, bin, "tmpl")
		f.makePlan()
		if err := os.WriteFile(f.tmpl, []byte("host={{ inventory_hostname }}\nport=9090\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := f.tend("apply", f.plan)
		if code != 10 || !strings.Contains(errOut, f.tmpl+" changed since the plan was made") {
			t.Errorf("apply: exit %d, want 10 naming %s\n%s", code, f.tmpl, errOut)
		}
		for _, h := range []string{"p1", "p2", "p3"} {
			if st := f.state(h); strings.Contains(st, "port=") {
				t.Errorf("%s changed by a refused plan:\n%s", h, st)
			}
		}
	})

	t.Run("a no_log secret appears in the plan only as a hash", func(t *testing.T) {
		f := newFixture(t, bed, bin, "nolog")
		f.makePlan()
		data, err := os.ReadFile(f.plan)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Fatal("the plan file holds the no_log secret")
		}
		var p struct {
			Hosts map[string][]struct {
				Task, Fingerprint string
				NoLog             bool `json:"no_log"`
				Diff              []any
			}
		}
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range p.Hosts["p1"] {
			if s.Task == "secret" {
				found = true
				if !s.NoLog || !strings.HasPrefix(s.Fingerprint, "sha256:") || s.Diff != nil {
					t.Errorf("no_log step %+v, want only a fingerprint", s)
				}
			}
		}
		if !found {
			t.Errorf("no step for the no_log task in %+v", p.Hosts["p1"])
		}
		for _, args := range [][]string{{"show", f.plan}, {"show", f.plan, "-o", "json"}} {
			out, _, _ := f.tend(args...)
			if strings.Contains(out, secret) {
				t.Errorf("tend %s shows the secret", strings.Join(args, " "))
			}
		}
	})
}
