package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if len(args) > 0 && args[0] == "play" {
		// Parallel tests run the same playbook against the same inventory
		// on purpose; the run lock is tested in lock_test.go.
		args = append(args[:len(args):len(args)], "--no-lock")
	}
	code := Main(context.Background(), append([]string{"tend"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\nb ansible_connection=local\n")
	ok := writeFile(t, dir, "ok.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n")
	changes := writeFile(t, dir, "changes.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n")
	fails := writeFile(t, dir, "fails.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: msg=no\n      when: inventory_hostname == 'b'\n")
	bad := writeFile(t, dir, "bad.yml", "- hosts: all\n  tasks:\n    - debug: msg=a\n      command: 'true'\n")
	unknown := writeFile(t, dir, "unknown.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - nosuchmodule: x=1\n")
	skipped := writeFile(t, dir, "skipped.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - nosuchmodule: x=1\n      when: false\n")
	unreach := writeFile(t, dir, "unreach", "u ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody\n")
	ping := writeFile(t, dir, "ping.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"ok", []string{"play", "-i", inv, ok}, ExitOK},
		{"changes are fine by default", []string{"play", "-i", inv, changes}, ExitOK},
		{"host failed", []string{"play", "-i", inv, fails}, ExitFailed},
		{"host failed in the first of two playbooks", []string{"play", "-i", inv, fails, ok}, ExitFailed},
		{"host failed in the second of two playbooks", []string{"play", "-i", inv, ok, fails}, ExitFailed},
		{"unreachable in the first of two playbooks", []string{"play", "-i", unreach, "-T", "2s", "--known-hosts", filepath.Join(dir, "kh"), ping, ok}, ExitUnreachable},
		{"detailed: failure in the first of two playbooks is 1", []string{"play", "-i", inv, "--detailed-exitcode", fails, ok}, 1},
		{"parse error", []string{"play", "-i", inv, bad}, ExitError},
		{"missing playbook file", []string{"play", "-i", inv, filepath.Join(dir, "nope.yml")}, ExitError},
		{"no playbook", []string{"play", "-i", inv}, ExitError},
		{"unreachable", []string{"play", "-i", unreach, "-T", "2s", "--known-hosts", filepath.Join(dir, "kh"), ping}, ExitUnreachable},
		{"-c local runs on the controller", []string{"play", "-i", unreach, "-c", "local", ping}, ExitOK},
		{"detailed: nothing changed", []string{"play", "-i", inv, "--detailed-exitcode", ok}, 0},
		{"detailed: changed", []string{"play", "-i", inv, "--detailed-exitcode", changes}, 2},
		{"detailed: failure is 1", []string{"play", "-i", inv, "--detailed-exitcode", fails}, 1},
		{"flags after the playbook", []string{"play", ok, "-i", inv, "--check", "--detailed-exitcode"}, 0},
		{"syntax check ok", []string{"play", "--syntax-check", ok}, 0},
		{"syntax check bad", []string{"play", "--syntax-check", bad}, 1},
		// A module tend does not have fails its task when it runs, and
		// only then; --syntax-check and --strict refuse it before.
		{"unknown module fails its task", []string{"play", "-i", inv, unknown}, ExitFailed},
		{"unknown module never reached", []string{"play", "-i", inv, skipped}, ExitOK},
		{"syntax check unknown module", []string{"play", "--syntax-check", skipped}, 1},
		{"strict refuses an unknown module", []string{"play", "-i", inv, "--strict", skipped}, 1},
		{"bad output format", []string{"play", "-i", inv, "--output", "xml", ok}, 1},
		{"bad extra vars", []string{"play", "-i", inv, "-e", "@/nonexistent.yml", ok}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the unreachable cases wait out connect backoff
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
		})
	}
}

func TestSyntaxErrorNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yml", "- hosts: all\n  tasks:\n    - copy:\n        dest: /x\n        contnet: hi\n")
	code, _, errOut := runCLI(t, "play", "--syntax-check", bad)
	if code != ExitError || !strings.Contains(errOut, bad+":3:7:") || !strings.Contains(errOut, `unsupported argument "contnet"`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

// TestLazyWarnings: a problem Ansible finds only when the task runs is a
// warning naming file:line:col before the run, and the task's failure,
// with the place, when it runs; --strict stops before any host is
// contacted.
func TestLazyWarnings(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        dest: /nonexistent/x\n        contnet: hi\n      ignore_errors: true\n    - debug: msg=after\n")
	code, out, errOut := runCLI(t, "play", "-i", inv, pb)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (the failure is ignored)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "[WARNING]: "+pb+":4:7:") || !strings.Contains(errOut, `unsupported argument "contnet"`) {
		t.Errorf("no located warning before the run; stderr:\n%s", errOut)
	}
	if !strings.Contains(out, `unsupported argument \"contnet\"`) || !strings.Contains(out, "...ignoring") || !strings.Contains(out, `"msg": "after"`) {
		t.Errorf("the task did not fail (ignored) with the message; stdout:\n%s", out)
	}
	code, out, errOut = runCLI(t, "play", "-i", inv, "--strict", pb)
	if code != ExitError || out != "" || !strings.Contains(errOut, pb+":4:7:") {
		t.Errorf("--strict: exit %d, want 1 with the place and no run\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestParseExtraVars(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "x.yml", "from_file: 1\nshared: file\n")
	got, err := parseExtraVars([]string{"a=1 b='two words'", "@" + f, `{"j": [1, 2], "shared": "json"}`})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "1", "b": "two words", "from_file": 1, "shared": "json", "j": []any{1, 2}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatal(d)
	}
	if _, err := parseExtraVars([]string{"novalue"}); err == nil {
		t.Fatal("want an error for a word without =")
	}
}

func TestInterspersed(t *testing.T) {
	app := New(nil, nil, nil)
	got := interspersed(app, []string{"tend", "play", "site.yml", "-i", "inv", "--check", "-e", "a=1", "other.yml", "-vvv"})
	want := []string{"tend", "play", "-i", "inv", "--check", "-e", "a=1", "-vvv", "--", "site.yml", "other.yml"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatal(d)
	}
}

func TestInventoryAndDoc(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "[web]\nweb[1:2] x=1\n[db]\ndb1\n")
	code, out, _ := runCLI(t, "inventory", "-i", inv, "--graph")
	want := "@all:\n  |--@db:\n  |  |--db1\n  |--@ungrouped:\n  |--@web:\n  |  |--web1\n  |  |--web2\n"
	if code != 0 || out != want {
		t.Fatalf("graph: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "inventory", "-i", inv, "--host", "web2")
	if code != 0 || !strings.Contains(out, `"x": 1`) {
		t.Fatalf("host: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "doc", "copy")
	if code != 0 || !strings.Contains(out, "> COPY") || !strings.Contains(out, "- dest") {
		t.Fatalf("doc copy: exit %d\n%s", code, out)
	}
	code, _, errOut := runCLI(t, "doc", "nosuch")
	if code != ExitError || !strings.Contains(errOut, "no module") {
		t.Fatalf("doc nosuch: exit %d %s", code, errOut)
	}
}

// TestConnectorChoosesTransport checks that ansible_connection picks the
// transport: local runs on the controller, an unknown type is an error
// naming the host, before any SSH setup.
func TestConnectorChoosesTransport(t *testing.T) {
	pool := ssh.NewPool(ssh.Options{})
	defer pool.Close()
	c := &cliConnector{pool: pool}
	conn, err := c.Get(context.Background(), "l", map[string]any{"ansible_connection": "local"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conn.(connection.Local); !ok {
		t.Errorf("ansible_connection=local: got %T, want connection.Local", conn)
	}
	_, err = c.Get(context.Background(), "d", map[string]any{"ansible_connection": "docker"})
	if err == nil || !strings.Contains(err.Error(), `host d: ansible_connection "docker" is not supported`) {
		t.Errorf("ansible_connection=docker: error %v", err)
	}
}

// TestForceHandlersFlag: --force-handlers runs a failed host's notified
// handler, as the play keyword does (the keyword is compared with
// ansible-playbook in pkg/executor's force_handlers case).
func TestForceHandlersFlag(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "a ansible_connection=local\n")
	pb := writeFile(t, dir, "pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n      changed_when: true\n      notify: h\n    - fail: msg=no\n  handlers:\n    - name: h\n      debug: msg=handler-ran\n")
	for _, force := range []bool{false, true} {
		args := []string{"play", "--no-lock", "-i", inv, pb}
		if force {
			args = append(args, "--force-handlers")
		}
		code, out, _ := runCLI(t, args...)
		if code != ExitFailed || strings.Contains(out, "handler-ran") != force {
			t.Errorf("force=%v: exit %d, handler ran = %v, want exit %d and %v:\n%s", force, code, strings.Contains(out, "handler-ran"), ExitFailed, force, out)
		}
	}
}
