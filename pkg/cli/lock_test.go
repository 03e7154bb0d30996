package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	tendBinOnce sync.Once
	tendBin     string
	tendBinErr  error
)

// buildTend builds cmd/tend once per test process: the lock is between
// processes, so it is tested with real ones.
func buildTend(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the tend binary")
	}
	tendBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tend-bin-")
		if err != nil {
			tendBinErr = err
			return
		}
		tendBin = filepath.Join(dir, "tend")
		out, err := exec.Command("go", "build", "-o", tendBin, "github.com/tend-dev/tend/cmd/tend").CombinedOutput()
		if err != nil {
			tendBinErr = errors.New(string(out))
		}
	})
	if tendBinErr != nil {
		t.Fatalf("build tend: %v", tendBinErr)
	}
	return tendBin
}

// lockFixture is an inventory and a playbook whose run takes about
// `sleep` seconds, with locks kept in a directory of the test's own.
type lockFixture struct {
	bin, inv, pb, lockDir string
}

func newLockFixture(t *testing.T, sleep string) lockFixture {
	t.Helper()
	dir := t.TempDir()
	return lockFixture{
		bin:     buildTend(t),
		inv:     writeFile(t, dir, "hosts", "a ansible_connection=local\n"),
		pb:      writeFile(t, dir, "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep "+sleep+"\n"),
		lockDir: filepath.Join(dir, "locks"),
	}
}

func (f lockFixture) cmd(extra ...string) (*exec.Cmd, *bytes.Buffer) {
	c := exec.Command(f.bin, append([]string{"play", "-i", f.inv, f.pb}, extra...)...)
	c.Env = append(os.Environ(), lockDirEnv+"="+f.lockDir)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	return c, &stderr
}

// startHolder starts a run and waits until it has written itself into
// the lock file.
func (f lockFixture) startHolder(t *testing.T) *exec.Cmd {
	t.Helper()
	c, _ := f.cmd()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	want := "pid=" + strconv.Itoa(c.Process.Pid) + "\n"
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(f.lockDir, "*.lock"))
		for _, p := range files {
			if b, _ := os.ReadFile(p); strings.HasPrefix(string(b), want) {
				return c
			}
		}
	}
	t.Fatal("the first run never took the lock")
	return nil
}

func procExit(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestRunLockOverlappingRuns(t *testing.T) {
	f := newLockFixture(t, "3")
	holder := f.startHolder(t)

	second, stderr := f.cmd()
	if code := procExit(second.Run()); code != ExitLocked {
		t.Fatalf("second run exited %d, want %d; stderr:\n%s", code, ExitLocked, stderr)
	}
	for _, want := range []string{"pid " + strconv.Itoa(holder.Process.Pid), "started 20", "command: " + f.bin + " play", "--wait-lock"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("second run's message lacks %q:\n%s", want, stderr)
		}
	}

	// --syntax-check and --list-hosts never take the lock.
	for _, flag := range []string{"--syntax-check", "--list-hosts", "--list-tasks"} {
		c, stderr := f.cmd(flag)
		if code := procExit(c.Run()); code != 0 {
			t.Errorf("%s during a run exited %d; stderr:\n%s", flag, code, stderr)
		}
	}

	waiter, stderr := f.cmd("--wait-lock", "30s")
	start := time.Now()
	if code := procExit(waiter.Run()); code != 0 {
		t.Fatalf("waiting run exited %d; stderr:\n%s", code, stderr)
	}
	if holder.ProcessState == nil {
		if err := holder.Wait(); err != nil {
			t.Fatalf("first run: %v", err)
		}
	}
	if time.Since(start) < time.Second {
		t.Errorf("waiting run finished after %s: it did not wait for the first", time.Since(start))
	}
}

func TestRunLockWaitTimesOut(t *testing.T) {
	f := newLockFixture(t, "5")
	f.startHolder(t)
	c, stderr := f.cmd("--wait-lock", "300ms")
	if code := procExit(c.Run()); code != ExitLocked {
		t.Fatalf("exited %d, want %d; stderr:\n%s", code, ExitLocked, stderr)
	}
	if !strings.Contains(stderr.String(), "waited 300ms") {
		t.Errorf("message does not say how long it waited:\n%s", stderr)
	}
	c, stderr = f.cmd("--no-lock")
	if code := procExit(c.Run()); code != 0 {
		t.Fatalf("--no-lock run exited %d; stderr:\n%s", code, stderr)
	}
}

func TestRunLockKilledHolderDoesNotBlock(t *testing.T) {
	f := newLockFixture(t, "30")
	holder := f.startHolder(t)
	// The holder's `sleep 30` lives on after SIGKILL: the lock must not
	// have been inherited by it.
	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	f2 := f
	f2.pb = writeFile(t, filepath.Dir(f.pb), "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n")
	c, stderr := f2.cmd()
	if code := procExit(c.Run()); code != 0 {
		t.Fatalf("run after a killed holder exited %d; stderr:\n%s", code, stderr)
	}
}

func TestLockKeyUsesAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "hosts", "")
	writeFile(t, dir, "site.yml", "")
	t.Chdir(dir)
	abs := lockKey([]string{filepath.Join(dir, "hosts")}, []string{filepath.Join(dir, "site.yml")})
	if rel := lockKey([]string{"hosts"}, []string{"site.yml"}); rel != abs {
		t.Errorf("relative and absolute paths give different locks: %s, %s", rel, abs)
	}
	if other := lockKey([]string{"hosts"}, []string{"other.yml"}); other == abs {
		t.Error("another playbook gives the same lock")
	}
	if swapped := lockKey([]string{"site.yml"}, []string{"hosts"}); swapped == abs {
		t.Error("inventory and playbook swapped give the same lock")
	}
}
