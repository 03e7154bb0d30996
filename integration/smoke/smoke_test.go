// Package smoke runs the tend binary against real testbed hosts: ping,
// fact gathering, a small playbook in parallel, and idempotence.
package smoke

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

// buildTend compiles the tend binary once for the package.
func buildTend(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tend")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/tend")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}
	return bin
}

type jsonDoc struct {
	Stats map[string]struct {
		OK, Changed, Unreachable, Failed, Skipped int
	} `json:"stats"`
	Plays []struct {
		Tasks []struct {
			Task struct {
				Name string `json:"name"`
			} `json:"task"`
			Hosts map[string]struct {
				Status string         `json:"status"`
				Result map[string]any `json:"result"`
			} `json:"hosts"`
		} `json:"tasks"`
	} `json:"plays"`
}

// play runs tend with JSON output and returns the decoded document and
// the exit code.
func play(t *testing.T, bin string, args ...string) (jsonDoc, int, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"play", "--output", "json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tend: %v", err)
	}
	var doc jsonDoc
	if jerr := json.Unmarshal(stdout.Bytes(), &doc); jerr != nil {
		t.Fatalf("tend output is not JSON (%v): exit %d\nstdout:\n%s\nstderr:\n%s", jerr, code, stdout.String(), stderr.String())
	}
	return doc, code, stderr.String()
}

const smokePlaybook = `
- name: smoke
  hosts: all
  tasks:
    - name: ping
      ping:
    - name: facts are there
      assert:
        that:
          - ansible_distribution == 'Debian'
          - ansible_distribution_major_version == '12'
          - ansible_hostname == inventory_hostname
          - ansible_facts.service_mgr == 'systemd'
          - ansible_default_ipv4.address == ansible_host
    - name: a directory
      file:
        path: /srv/smoke
        state: directory
        mode: "0750"
    - name: a file with the host's name
      copy:
        dest: /srv/smoke/hello.txt
        content: "hello from {{ inventory_hostname }} ({{ ansible_default_ipv4.address }})\n"
      notify: note
    - name: a setting
      lineinfile:
        path: /srv/smoke/settings.conf
        line: "peers={{ groups['all'] | join(',') }}"
        regexp: '^peers='
        create: true
    - name: read it back
      command: cat /srv/smoke/hello.txt
      register: hello
      changed_when: false
      check_mode: false
    - assert:
        that: hello.stdout == 'hello from ' ~ inventory_hostname ~ ' (' ~ ansible_host ~ ')'
      when: not ansible_check_mode
  handlers:
    - name: note
      command: touch /srv/smoke/notified
`

func TestSmoke(t *testing.T) {
	bed := testbed.Start(t,
		testbed.HostSpec{Name: "s1"}, testbed.HostSpec{Name: "s2"}, testbed.HostSpec{Name: "s3"},
		testbed.HostSpec{Name: "s4"}, testbed.HostSpec{Name: "s5"})
	bin := buildTend(t)
	dir := t.TempDir()
	pb := filepath.Join(dir, "smoke.yml")
	if err := os.WriteFile(pb, []byte(smokePlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := bed.InventoryINI

	t.Run("first run changes every host", func(t *testing.T) {
		doc, code, stderr := play(t, bin, "-i", inv, pb)
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s\nstats: %+v", code, stderr, doc.Stats)
		}
		if len(doc.Stats) != 5 {
			t.Fatalf("want 5 hosts in the recap, got %d: %+v", len(doc.Stats), doc.Stats)
		}
		for h, s := range doc.Stats {
			// directory, file, line and the handler
			if s.Changed != 4 || s.Failed != 0 || s.Unreachable != 0 {
				t.Errorf("%s: want changed=4 failed=0, got %+v", h, s)
			}
		}
	})
	t.Run("second run changes nothing", func(t *testing.T) {
		doc, code, stderr := play(t, bin, "-i", inv, pb)
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		for h, s := range doc.Stats {
			if s.Changed != 0 || s.Failed != 0 {
				t.Errorf("%s: second run must not change anything, got %+v", h, s)
			}
		}
	})
	t.Run("drift is detected by a check and repaired by a run", func(t *testing.T) {
		if _, err := bed.SSH(t.Context(), "s3", "echo tampered > /srv/smoke/hello.txt"); err != nil {
			t.Fatal(err)
		}
		doc, code, _ := play(t, bin, "-i", inv, "--check", "--detailed-exitcode", pb)
		if code != 2 {
			t.Fatalf("--check --detailed-exitcode on a drifted host: exit %d, want 2: %+v", code, doc.Stats)
		}
		for h, s := range doc.Stats {
			want := 0
			if h == "s3" {
				want = 1 // the file; its handler is a command, skipped in check mode
			}
			if s.Changed != want {
				t.Errorf("%s: check predicted changed=%d, want %d", h, s.Changed, want)
			}
		}
		got, err := bed.SSH(t.Context(), "s3", "cat /srv/smoke/hello.txt")
		if err != nil || strings.TrimSpace(got) != "tampered" {
			t.Fatalf("check mode touched the host: %q %v", got, err)
		}
		_, code, stderr := play(t, bin, "-i", inv, "--detailed-exitcode", pb)
		if code != 2 {
			t.Fatalf("repair run: exit %d, want 2 (changes made)\n%s", code, stderr)
		}
		_, code, _ = play(t, bin, "-i", inv, "--check", "--detailed-exitcode", pb)
		if code != 0 {
			t.Fatalf("after repair, check must report no drift: exit %d", code)
		}
	})
	t.Run("an unreachable host fails alone", func(t *testing.T) {
		if err := bed.LinkDown(t.Context(), "s5"); err != nil {
			t.Fatal(err)
		}
		defer bed.LinkUp(t.Context(), "s5")
		doc, code, _ := play(t, bin, "-i", inv, "-T", "3s", pb)
		if code != 4 {
			t.Fatalf("exit %d, want 4 (a host unreachable)", code)
		}
		if doc.Stats["s5"].Unreachable != 1 {
			t.Errorf("s5 should be unreachable: %+v", doc.Stats["s5"])
		}
		for _, h := range []string{"s1", "s2", "s3", "s4"} {
			if s := doc.Stats[h]; s.Failed != 0 || s.Unreachable != 0 || s.OK == 0 {
				t.Errorf("%s should be unaffected: %+v", h, s)
			}
		}
	})
}
