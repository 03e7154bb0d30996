package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the command's writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	tendBinDir  string
	tendBinOnce sync.Once
	tendBinErr  error
)

// TestMain removes the binary buildTend built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if tendBinDir != "" {
		os.RemoveAll(tendBinDir)
	}
	os.Exit(code)
}

// buildTend builds this command once per test process.
func buildTend(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the tend binary")
	}
	tendBinOnce.Do(func() {
		if tendBinDir, tendBinErr = os.MkdirTemp("", "tend-bin-"); tendBinErr != nil {
			return
		}
		if out, err := exec.Command("go", "build", "-o", filepath.Join(tendBinDir, "tend"), ".").CombinedOutput(); err != nil {
			tendBinErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if tendBinErr != nil {
		t.Fatalf("build tend: %v", tendBinErr)
	}
	return filepath.Join(tendBinDir, "tend")
}

// TestSignalStopsLongRuns starts the tend binary on playbooks that would
// run for hours, sends SIGTERM or SIGINT once the task has started, and
// checks that tend exits within 2 seconds with the interrupted exit code
// and leaves no process behind.
func TestSignalStopsLongRuns(t *testing.T) {
	bin := buildTend(t)
	// A sleep of a unique length tells this test's processes apart.
	mark := fmt.Sprintf("1000.%d", rand.IntN(1_000_000_000))
	tests := []struct{ name, task string }{
		// Seconds of filter work within the template work budget (a
		// loop that long now fails with "too much work" on its own).
		{"template filter chain", `debug: {msg: "{{ range(1000000) | map('string') | map('regex_replace', '1', '11') | map('regex_replace', '2', '22') | map('regex_replace', '3', '33') | map('regex_replace', '4', '44') | map('regex_replace', '5', '55') | list | length }}"}`},
		{"until with a long delay", "command: \"false\"\n      register: r\n      until: r.rc == 0\n      retries: 100\n      delay: 1000"},
		{"wait_for a closed port", "wait_for: {host: 127.0.0.1, port: 1, timeout: 1000}"},
		{"shell command", "shell: sleep " + mark},
		{"pipe lookup", `debug: {msg: "{{ lookup('pipe', 'sleep ` + mark + `') }}"}`},
	}
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts")
	if err := os.WriteFile(inv, []byte("localhost ansible_connection=local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(tt.name+"/"+sig.String(), func(t *testing.T) {
				pb := filepath.Join(dir, fmt.Sprintf("pb%d.yml", i))
				src := "- hosts: all\n  gather_facts: false\n  tasks:\n    - " + tt.task + "\n"
				if err := os.WriteFile(pb, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				code, took, out := interrupt(t, bin, sig, "TASK [", "play", "-i", inv, pb)
				if took > 2*time.Second {
					t.Errorf("tend took %v to exit after %v", took, sig)
				}
				if code != 99 {
					t.Errorf("exit code %d, want 99 (interrupted); output:\n%s", code, out)
				}
				if left := processesWith(mark); len(left) > 0 {
					t.Errorf("processes left behind: %v", left)
				}
			})
		}
	}
}

// TestSignalStopsPrompts checks the same for what tend waits on before
// the run: password prompts on an input that never ends, and a vault
// password script that never answers.
func TestSignalStopsPrompts(t *testing.T) {
	bin := buildTend(t)
	mark := fmt.Sprintf("1000.%d", rand.IntN(1_000_000_000))
	dir := t.TempDir()
	inv, pb, script := filepath.Join(dir, "hosts"), filepath.Join(dir, "pb.yml"), filepath.Join(dir, "pass.sh")
	for name, content := range map[string]string{
		inv:    "localhost ansible_connection=local\n",
		pb:     "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
		script: "#!/bin/sh\necho waiting\nexec sleep " + mark + "\n",
	} {
		if err := os.WriteFile(name, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "fifo.yml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ready string
		args        []string
		limit       time.Duration
	}{
		{"vault password prompt", "Vault password:", []string{"--ask-vault-pass"}, 2 * time.Second},
		{"become password prompt", "BECOME password:", []string{"-K"}, 2 * time.Second},
		{"vault password script", "", []string{"--vault-password-file", script}, 2 * time.Second},
		// Nothing watches this read: the grace period ends it.
		{"extra vars file that is a FIFO", "", []string{"-e", "@" + fifo}, stopGrace + time.Second},
	}
	for _, tt := range tests {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(tt.name+"/"+sig.String(), func(t *testing.T) {
				args := append(append([]string{"play", "-i", inv}, tt.args...), pb)
				code, took, out := interrupt(t, bin, sig, tt.ready, args...)
				if took > tt.limit {
					t.Errorf("tend took %v to exit after %v", took, sig)
				}
				if code != 99 {
					t.Errorf("exit code %d, want 99 (interrupted); output:\n%s", code, out)
				}
				if left := processesWith(mark); len(left) > 0 {
					t.Errorf("processes left behind: %v", left)
				}
			})
		}
	}
}

// interrupt runs bin with a standard input that stays open, sends sig
// once the output shows ready, and returns the exit code, the time from
// signal to exit and the output.
func interrupt(t *testing.T, bin string, sig syscall.Signal, ready string, args ...string) (int, time.Duration, string) {
	t.Helper()
	var out syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), ready) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("no %q after 30 s; output:\n%s", ready, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("tend still running 10 s after %v; output:\n%s", sig, out.String())
	}
	took := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), took, out.String()
}

// processesWith lists the live processes whose command line contains s.
func processesWith(s string) []string {
	var found []string
	// A killed process can take a moment to be gone from /proc.
	for range 20 {
		found = found[:0]
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err == nil && bytes.Contains(b, []byte(s)) {
				found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
		if len(found) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return found
}
