package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secret is what no_log must hide. It reaches the output of an uncensored
// run through arguments, results, item labels, diffs and error messages.
const secret = "s3cr3t-Tok3n-91"

// noLogShape is a playbook whose no_log task would show the secret.
type noLogShape struct {
	name string
	// playbook is the play (hosts: l, the local host, unless it says
	// otherwise); {{dir}} is a fresh directory for files. secret is a
	// play variable.
	playbook string
	// status is the line the task's result must still show in human
	// output (and, as "status": X, in JSON), with and without --check.
	human, humanCheck string
	status, check     string
}

var noLogShapes = []noLogShape{
	{
		name: "plain task",
		playbook: `
  tasks:
    - command: echo {{ secret }}
      no_log: true`,
		human: "changed: [l]", humanCheck: "skipping: [l]", status: "changed", check: "skipped",
	},
	{
		name: "loop",
		playbook: `
  tasks:
    - debug: msg="item {{ item }}"
      loop: ["{{ secret }}", "{{ secret }}-2"]
      no_log: true`,
		human: "ok: [l] => (item=None)", humanCheck: "ok: [l] => (item=None)", status: "ok", check: "ok",
	},
	{
		name: "loop with label",
		playbook: `
  tasks:
    - debug: msg="item {{ item }}"
      loop: ["{{ secret }}"]
      loop_control:
        label: "{{ item }}"
      no_log: true`,
		human: "ok: [l] => (item=None)", humanCheck: "ok: [l] => (item=None)", status: "ok", check: "ok",
	},
	{
		name: "no_log depending on the loop item",
		playbook: `
  tasks:
    - debug: msg="item {{ item.v }}"
      loop:
        - {v: "{{ secret }}", hide: true}
        - {v: public, hide: false}
      no_log: "{{ item.hide }}"`,
		human: "ok: [l] => (item=None)", humanCheck: "ok: [l] => (item=None)", status: "ok", check: "ok",
	},
	{
		name: "include_tasks in a loop",
		playbook: `
  tasks:
    - include_tasks: inc.yml
      loop: ["{{ secret }}", "{{ secret }}-2"]
      no_log: true`,
		human: "included: ", humanCheck: "included: ", status: "ok", check: "ok",
	},
	{
		name: "until retries failing then succeeding",
		playbook: `
  tasks:
    - shell: "echo {{ secret }}; test -e {{ dir }}/again || { touch {{ dir }}/again; exit 1; }"
      register: r
      until: r.rc | default(0) == 0
      retries: 2
      delay: 0
      no_log: true`,
		human: "FAILED - RETRYING: [l]: shell (2 retries left).", humanCheck: "skipping: [l]", status: "changed", check: "skipped",
	},
	{
		name: "failing task",
		playbook: `
  tasks:
    - command: sh -c 'echo {{ secret }}; echo {{ secret }} >&2; exit 3'
      no_log: true`,
		human: "fatal: [l]: FAILED!", humanCheck: "skipping: [l]", status: "failed", check: "skipped",
	},
	{
		name: "failing debug with var",
		playbook: `
  tasks:
    - debug: var=secret
      failed_when: true
      no_log: true`,
		human: "fatal: [l]: FAILED!", humanCheck: "fatal: [l]: FAILED!", status: "failed", check: "failed",
	},
	{
		name: "failed_when evaluation error",
		playbook: `
  tasks:
    - command: echo {{ secret }}
      register: r
      failed_when: lookup('file', r.stdout) == 'x'
      no_log: true`,
		human: "fatal: [l]: FAILED!", humanCheck: "skipping: [l]", status: "failed", check: "skipped",
	},
	{
		name: "unreachable host",
		playbook: `
- hosts: u
  gather_facts: false
  tasks:
    - ping: data={{ secret }}
      no_log: true`,
		human: "fatal: [u]: UNREACHABLE!", humanCheck: "fatal: [u]: UNREACHABLE!", status: "unreachable", check: "unreachable",
	},
	{
		name: "unreachable host named by the secret",
		playbook: `
- hosts: n
  gather_facts: false
  tasks:
    - ping:
      no_log: true`,
		human: "fatal: [n]: UNREACHABLE!", humanCheck: "fatal: [n]: UNREACHABLE!", status: "unreachable", check: "unreachable",
	},
	{
		name: "template failing inside args",
		playbook: `
  tasks:
    - debug: msg="{{ lookup('file', secret) }}"
      no_log: true`,
		human: "fatal: [l]: FAILED!", humanCheck: "fatal: [l]: FAILED!", status: "failed", check: "failed",
	},
	{
		name: "diff from copy",
		playbook: `
  tasks:
    - copy: content="{{ secret }}\n" dest={{ dir }}/f
      no_log: true`,
		human: "changed: [l]", humanCheck: "changed: [l]", status: "changed", check: "changed",
	},
	{
		name: "diff from lineinfile",
		playbook: `
  tasks:
    - lineinfile: path={{ dir }}/g line="{{ secret }}" create=true
      no_log: true`,
		human: "changed: [l]", humanCheck: "changed: [l]", status: "changed", check: "changed",
	},
	{
		name: "handler",
		playbook: `
  tasks:
    - debug: msg=hi
      changed_when: true
      notify: h
  handlers:
    - name: h
      command: echo {{ secret }}
      no_log: true`,
		human: "RUNNING HANDLER [h]", humanCheck: "RUNNING HANDLER [h]", status: "changed", check: "skipped",
	},
	{
		name: "block-level no_log",
		playbook: `
  tasks:
    - block:
        - debug: var=secret
        - command: echo {{ secret }}
      no_log: true`,
		human: "ok: [l]", humanCheck: "ok: [l]", status: "ok", check: "ok",
	},
	{
		name: "play-level no_log",
		playbook: `
  no_log: true
  tasks:
    - debug: var=secret
    - debug: msg="the secret is {{ secret }}"`,
		human: "ok: [l]", humanCheck: "ok: [l]", status: "ok", check: "ok",
	},
	{
		name: "role-level no_log",
		playbook: `
  roles:
    - role: r
      no_log: true`,
		human: "ok: [l]", humanCheck: "ok: [l]", status: "ok", check: "ok",
	},
	{
		name: "templated no_log",
		playbook: `
  vars:
    flag: "yes"
  tasks:
    - command: echo {{ secret }}
      no_log: "{{ flag }}"`,
		human: "changed: [l]", humanCheck: "skipping: [l]", status: "changed", check: "skipped",
	},
	{
		name: "templated no_log failing to render",
		playbook: `
  tasks:
    - command: echo {{ secret }}
      no_log: "{{ undefined_flag }}"`,
		human: "fatal: [l]: FAILED!", humanCheck: "fatal: [l]: FAILED!", status: "failed", check: "failed",
	},
	{
		name: "templated no_log rendering to a non-boolean",
		playbook: `
  vars:
    flag: "yes please"
  tasks:
    - debug: var=secret
      no_log: "{{ flag }}"`,
		human: "fatal: [l]: FAILED!", humanCheck: "fatal: [l]: FAILED!", status: "failed", check: "failed",
	},
}

// noLogPlaybook writes a shape's playbook, its inventory and role into a
// fresh directory.
func noLogPlaybook(t *testing.T, s noLogShape) (inv, pb string) {
	t.Helper()
	dir := t.TempDir()
	inv = writeFile(t, dir, "hosts", "l ansible_connection=local\n"+
		"u ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody ansible_password="+secret+"\n"+
		// The connection error names the address, which holds the secret;
		// .invalid never resolves and DNS failures are not retried.
		"n ansible_host="+secret+".invalid ansible_port=22\n")
	if err := os.MkdirAll(filepath.Join(dir, "roles", "r", "tasks"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "roles/r/tasks/main.yml", "- debug: var=secret\n- debug: msg=\"{{ secret }}\"\n")
	writeFile(t, dir, "inc.yml", "- name: included task\n  debug: msg=\"included for {{ item }}\"\n  no_log: true\n")
	play := s.playbook
	if !strings.HasPrefix(play, "\n- hosts:") {
		play = "\n- hosts: l\n  gather_facts: false" + play
	}
	play = strings.ReplaceAll(play, "{{ dir }}", dir)
	// The secret comes from the play's vars, as secrets usually do.
	play = strings.Replace(play, "gather_facts: false", "gather_facts: false\n  vars_files: [secret.yml]", 1)
	writeFile(t, dir, "secret.yml", "secret: "+secret+"\n")
	return inv, writeFile(t, dir, "site.yml", play+"\n")
}

// TestNoLogHidesSecretEverywhere runs every shape in every output format,
// at several verbosities, with and without --check, and requires that the
// secret never appears while the task's outcome is still reported.
func TestNoLogHidesSecretEverywhere(t *testing.T) {
	for _, s := range noLogShapes {
		for _, format := range []string{"human", "json", "jsonl"} {
			for _, v := range []int{0, 1, 3, 4} {
				for _, check := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/v%d/check=%v", s.name, format, v, check)
					t.Run(name, func(t *testing.T) {
						// Runs share nothing; the unreachable host's connect
						// retries make waiting, not work, most of the time.
						t.Parallel()
						inv, pb := noLogPlaybook(t, s)
						args := []string{"play", "-i", inv, "--diff", "-T", "2s", "--known-hosts", filepath.Join(filepath.Dir(inv), "kh"), "--output", format}
						if v > 0 {
							args = append(args, "-"+strings.Repeat("v", v))
						}
						if check {
							args = append(args, "--check")
						}
						_, out, errOut := runCLI(t, append(args, pb)...)
						all := out + errOut
						if strings.Contains(all, secret) {
							t.Fatalf("the secret appears in the output:\nstdout:\n%s\nstderr:\n%s", out, errOut)
						}
						human, status := s.human, s.status
						if check {
							human, status = s.humanCheck, s.check
						}
						switch format {
						case "human":
							if !strings.Contains(out, human) {
								t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", human, out, errOut)
							}
							if !strings.Contains(out, "PLAY RECAP") {
								t.Errorf("no recap:\n%s", out)
							}
						case "json":
							if !strings.Contains(out, `"status": "`+status+`"`) {
								t.Errorf("no task with status %q:\n%s", status, out)
							}
						case "jsonl":
							if !strings.Contains(out, `"status":"`+status+`"`) {
								t.Errorf("no task with status %q:\n%s", status, out)
							}
						}
						// Text output shows ok and changed results from -v on only.
						shown := format != "human" || v > 0 || status == "failed" || status == "unreachable"
						if status != "skipped" && shown && !strings.Contains(out, "has been hidden") {
							t.Errorf("no censored result in the output:\n%s\nstderr:\n%s", out, errOut)
						}
					})
				}
			}
		}
	}
}

// TestBooleanKeywordTemplatesFailTasks: a boolean keyword whose template
// renders to something that is not a boolean, or does not render, fails
// the task with a message naming the keyword and the value; it is never
// read as false.
func TestBooleanKeywordTemplatesFailTasks(t *testing.T) {
	type tc struct {
		name, where, key, value string
	}
	// any_errors_fatal is left out: it is read when a host fails, and one
	// that is not a boolean stops the play (TestAnyErrorsFatalFailsClosed).
	var cases []tc
	wheres := map[string][]string{"delegate_facts": {"task", "block"}, "gather_facts": {"play"}}
	for _, key := range []string{"check_mode", "diff", "ignore_errors", "ignore_unreachable", "become", "delegate_facts", "gather_facts", "run_once"} {
		where := wheres[key]
		if where == nil {
			where = []string{"task", "block", "play"}
		}
		for _, where := range where {
			cases = append(cases,
				tc{key + " invalid on " + where, where, key, `"{{ flag }}"`},
				tc{key + " undefined on " + where, where, key, `"{{ nope }}"`},
			)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			inv := writeFile(t, dir, "hosts", "l ansible_connection=local\n")
			play, task := "", "    - command: echo hi\n"
			switch c.where {
			case "play":
				play = "  " + c.key + ": " + c.value + "\n"
			case "task":
				task += "      " + c.key + ": " + c.value + "\n"
			case "block":
				task = "    - block:\n        - command: echo hi\n      " + c.key + ": " + c.value + "\n"
			}
			gather := "  gather_facts: false\n"
			if c.key == "gather_facts" {
				gather = ""
			}
			pb := writeFile(t, dir, "site.yml", "- hosts: l\n"+gather+"  vars:\n    flag: ture\n"+play+"  tasks:\n"+task+"    - debug: msg=after\n")
			code, out, errOut := runCLI(t, "play", "-i", inv, pb)
			if code != ExitFailed {
				t.Fatalf("exit %d, want %d (task failed)\n%s%s", code, ExitFailed, out, errOut)
			}
			if !strings.Contains(out, "fatal: [l]: FAILED!") || !strings.Contains(out, "the field '"+c.key+"' has an invalid value") ||
				!strings.Contains(out, strings.Trim(c.value, `"`)) || strings.Contains(out, "after") {
				t.Fatalf("want the task failed naming %s and %s, and no later task run:\n%s%s", c.key, c.value, out, errOut)
			}
		})
	}
}

// TestBooleanKeywordTemplatesReadAsAnsible: a template rendering to the
// string "no" is false, as Ansible's boolean() reads it, not a non-empty
// (truthy) string; become may be a template.
func TestBooleanKeywordTemplatesReadAsAnsible(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "l ansible_connection=local\n")
	marker := filepath.Join(dir, "ran")
	pb := writeFile(t, dir, "site.yml", `- hosts: l
  gather_facts: false
  vars:
    off: "no"
  tasks:
    - command: touch `+marker+`
      check_mode: "{{ off }}"
      become: "{{ off }}"
      no_log: "{{ off }}"
`)
	code, out, errOut := runCLI(t, "play", "-i", inv, "-v", pb)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("check_mode: \"no\" ran the task in check mode: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"cmd": ["touch", "`+marker+`"]`) {
		t.Fatalf("no_log: \"no\" hid the result:\n%s", out)
	}
}

// TestAnyErrorsFatalFailsClosed: an any_errors_fatal that is not a boolean
// stops the play when a host fails, with a warning naming the keyword.
func TestAnyErrorsFatalFailsClosed(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  vars:
    flag: ture
  any_errors_fatal: "{{ flag }}"
  tasks:
    - fail: msg=boom
      when: inventory_hostname == 'a'
    - debug: msg=after
`)
	code, out, errOut := runCLI(t, "play", "-i", inv, pb)
	if code != ExitFailed || strings.Contains(out, "after") || !strings.Contains(out+errOut, "the field 'any_errors_fatal' has an invalid value") {
		t.Fatalf("exit %d; want the play stopped with a warning naming any_errors_fatal:\n%s%s", code, out, errOut)
	}
}

// TestRunOnceTemplate: run_once may be a template, read with the first
// host's variables.
func TestRunOnceTemplate(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  vars:
    once: "yes"
  tasks:
    - debug: msg="ran on {{ inventory_hostname }}"
      run_once: "{{ once }}"
`)
	code, out, errOut := runCLI(t, "play", "-i", inv, pb)
	if code != ExitOK || !strings.Contains(out, "ran on a") || strings.Contains(out, "ran on b") {
		t.Fatalf("exit %d; want the task run on a only:\n%s%s", code, out, errOut)
	}
}

// TestSkippedTaskKeywordsNotRead: when is evaluated first, as in Ansible,
// so a skipped task's keywords are never read.
func TestSkippedTaskKeywordsNotRead(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "l ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", `- hosts: l
  gather_facts: false
  tasks:
    - debug: msg=x
      no_log: "{{ nope }}"
      when: false
    - debug: msg=y
      ignore_errors: "{{ nope }}"
      when: false
`)
	code, out, errOut := runCLI(t, "play", "-i", inv, pb)
	if code != ExitOK || strings.Count(out, "skipping: [l]") != 2 {
		t.Fatalf("exit %d; want both tasks skipped:\n%s%s", code, out, errOut)
	}
}
