package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// progressPlaybook has one task that runs for 2 s on two of three hosts
// (all local), long enough for the status line to name them.
const progressPlaybook = `- hosts: all
  gather_facts: false
  tasks:
    - name: first
      debug: msg=hi
    - name: wait a while
      command: "sleep {{ 0 if inventory_hostname == 'quick1' else 2 }}"
    - name: last
      debug: msg=bye
`

const progressInventory = `quick1 ansible_connection=local
slowa ansible_connection=local
slowb ansible_connection=local
`

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// runInPTY runs tend with its stdin, stdout and stderr on a pseudo-terminal
// of 40x120 and returns everything it printed.
func runInPTY(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(buildTend(t), args...)
	cmd.Env = append(os.Environ(), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	// Reading ends with EIO when the child has exited and closed the pty.
	if _, err := io.Copy(&out, f); err != nil && !errors.Is(err, syscall.EIO) {
		t.Errorf("read pty: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tend %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestProgressLine runs tend on a terminal against a slow task: the status
// line appears, names the slow hosts and the task, and leaves the normal
// output lines whole; through a pipe, with NO_COLOR, TERM=dumb, --output
// json or --no-progress there is no status line.
func TestProgressLine(t *testing.T) {
	dir := t.TempDir()
	pb := filepath.Join(dir, "slow.yml")
	inv := filepath.Join(dir, "hosts")
	if err := os.WriteFile(pb, []byte(progressPlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inv, []byte(progressInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"TERM=xterm", "NO_COLOR=", "TEND_LOCK_DIR=" + dir}
	args := []string{"play", "-i", inv, pb}

	out := runInPTY(t, env, args...)
	status := regexp.MustCompile(`TASK \[wait a while\] 2/3 hosts running: slow[ab] \d+s, slow[ab] \d+s`)
	if !status.MatchString(out) {
		t.Errorf("no status line naming slowa and slowb on the terminal:\n%q", out)
	}
	// Every line of the normal output is whole: the status line is erased
	// before a line is printed, never written into one.
	var plain []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(ansiEscape.ReplaceAllString(l, ""), "\r")
		if strings.Contains(l, "hosts running") && !strings.HasPrefix(l, "TASK [wait a while] 2/3 hosts running") {
			t.Errorf("status line mixed into output: %q", l)
		}
		if !strings.Contains(l, "hosts running") {
			plain = append(plain, l)
		}
	}
	for _, want := range []string{"changed: [slowa]", "changed: [slowb]", "TASK [last] ***", "PLAY RECAP ***"} {
		if !slicesContainsPrefix(plain, want) {
			t.Errorf("output line %q missing or garbled:\n%s", want, strings.Join(plain, "\n"))
		}
	}
	if strings.Contains(plain[len(plain)-1], "running") {
		t.Errorf("status line left on the terminal at the end: %q", plain[len(plain)-1])
	}

	// A pipe: no status line.
	cmd := exec.Command(buildTend(t), args...)
	cmd.Env = append(os.Environ(), env...)
	piped, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tend through a pipe: %v\n%s", err, piped)
	}
	if bytes.Contains(piped, []byte("hosts running")) || !bytes.Contains(piped, []byte("changed: [slowa]")) {
		t.Errorf("through a pipe: status line shown or output missing:\n%s", piped)
	}
	// A terminal, but the status line is off.
	for name, c := range map[string]struct {
		env  []string
		args []string
	}{
		"NO_COLOR":      {[]string{"NO_COLOR=1"}, args},
		"TERM=dumb":     {[]string{"TERM=dumb"}, args},
		"--output json": {nil, append([]string{"play", "--output", "json"}, args[1:]...)},
		"--no-progress": {nil, append([]string{"play", "--no-progress"}, args[1:]...)},
	} {
		if out := runInPTY(t, append(env[:len(env):len(env)], c.env...), c.args...); strings.Contains(out, "hosts running") || !strings.Contains(out, "slowa") {
			t.Errorf("%s on a terminal: status line shown or output missing:\n%q", name, out)
		}
	}
}

func slicesContainsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
