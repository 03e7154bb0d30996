package executor_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gone waits up to 10s for process pid to end.
func gone(pid int) bool {
	for range 100 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the command did not start: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestAsyncTimeout: a job that outlives async fails with one of Ansible's
// messages, the poll loop's or the job's own ("Timeout exceeded", with
// child_pid), and its command is killed on the host.
func TestAsyncTimeout(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	scratch := t.TempDir()
	got, sum := runIn(t, playCase{name: "async_timeout", playbook: "23_async_timeout.yml"}, scratch)
	if sum.Failed() {
		t.Errorf("the run failed:\n%s", got)
	}
	// The poll loop's last look and the job's own limit come at the same
	// second: either may see the time up first, as in Ansible.
	polled := regexp.MustCompile(`ASYNC POLL on h1: jid=JID started=1 finished=0\n(ASYNC POLL on h1: jid=JID started=1 finished=0\n)?ASYNC FAILED on h1: jid=JID\nfatal: \[h1\]: FAILED!`)
	if !polled.MatchString(got) {
		t.Errorf("the polled task's output is not Ansible's:\n%s", got)
	}
	msgs := regexp.MustCompile(`"msg": "(async task did not complete within the requested time - 2s|Timeout exceeded) / Timeout exceeded / True"`)
	if !msgs.MatchString(got) {
		t.Errorf("the timed-out tasks' messages are not Ansible's:\n%s", got)
	}
	for _, name := range []string{"polled.pid", "fired.pid"} {
		if pid := readPID(t, filepath.Join(scratch, name)); !gone(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("%s: process %d still runs after the time limit", name, pid)
		}
	}
	// A job the poll loop gave up on, and the fired one, keep their
	// directories, as Ansible's job files stay; a job seen finished
	// ("Timeout exceeded") is cleaned up. No input file is left.
	jobs, _ := filepath.Glob(filepath.Join(home, ".ansible_async", "j*"))
	want := 1
	if strings.Contains(got, "did not complete within") {
		want = 2
	}
	if len(jobs) != want {
		t.Errorf("job directories: %v, want %d", jobs, want)
	}
	stdin, _ := filepath.Glob(filepath.Join(home, ".ansible_async", "j*", "*", "stdin"))
	if len(stdin) != 0 {
		t.Errorf("input files left: %v", stdin)
	}
}

// TestAsyncCleanup: a polled job's directory is removed once its result
// is read, and async_status mode=cleanup removes a fired one's.
func TestAsyncCleanup(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	got, sum := runIn(t, playCase{name: "async", playbook: "21_async.yml"}, t.TempDir())
	if sum.Failed() || !strings.Contains(got, `"erased": "`+home+`/.ansible_async/JID"`) {
		t.Fatalf("run:\n%s", got)
	}
	left, err := os.ReadDir(filepath.Join(home, ".ansible_async"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("job directories left in ~/.ansible_async: %v", left)
	}
}

// TestAsyncFireAndForget: with poll 0 a command goes on on the host after
// the run (fire and forget), while another module's job is finished by
// the controller before the run ends.
func TestAsyncFireAndForget(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	scratch := t.TempDir()
	got, sum := runIn(t, playCase{name: "async_fire", playbook: "24_async_fire.yml"}, scratch)
	if sum.Failed() {
		t.Fatalf("run:\n%s", got)
	}
	pid := readPID(t, filepath.Join(scratch, "long.pid"))
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("the long command is not running after the run: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(scratch, "made")); err != nil || string(b) != "made by a job\n" {
		t.Errorf("the lineinfile job did not finish before the run ended: %q, %v", b, err)
	}
	jobs, _ := filepath.Glob(filepath.Join(home, ".ansible_async", "j*"))
	if len(jobs) != 2 {
		t.Errorf("job directories: %v, want both (nothing cleaned them up)", jobs)
	}
}
