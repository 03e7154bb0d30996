package badinput

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
)

// Limits of one run of tend. Every case is small: a run that needs more is
// a hang or a runaway allocation.
const (
	runTimeout = 10 * time.Second
	// termGrace is how long tend gets to stop after SIGTERM before SIGKILL.
	termGrace = 2 * time.Second
	// memoryLimit is the address-space limit (prlimit --as) of a run.
	memoryLimit = 2 << 30
)

// Problem kinds, as counted in the summary line.
const (
	kindCrash      = "crash"
	kindHang       = "hang"
	kindUnlocated  = "unlocated"
	kindUnexpected = "unexpected"
)

// result is the outcome of one command of one case.
type result struct {
	code     int
	out      string
	hang     bool
	ignTerm  bool // did not stop on SIGTERM
	signaled string
	elapsed  time.Duration
}

var crashRE = regexp.MustCompile(`(?m)^(panic: |fatal error: |runtime: |goroutine [0-9]+ \[)`)

// tendBinary builds tend, or returns $TEND_BIN (to measure another build).
func tendBinary(t *testing.T) string {
	if b := os.Getenv("TEND_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "tend")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/tend")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}
	return bin
}

func loadCases(t *testing.T) []*Case {
	paths, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	var cases []*Case
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCase(strings.TrimSuffix(filepath.Base(p), ".txtar"), data)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	return cases
}

// run runs tend in dir under the time and memory limits.
func run(bin, dir string, args []string) result {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		panic("prlimit not found (apt-get install util-linux)")
	}
	argv := append([]string{"--as=" + strconv.Itoa(memoryLimit), "--", bin}, args...)
	cmd := exec.Command(prlimit, argv...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NO_COLOR=1", "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdin = nil
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{code: -1, out: err.Error()}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var r result
	select {
	case err = <-done:
	case <-time.After(runTimeout):
		r.hang = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(termGrace):
			r.ignTerm = true
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err = <-done
		}
	}
	r.elapsed = time.Since(start)
	r.out = out.String()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signaled = ws.Signal().String()
		}
	} else if err != nil {
		r.code = -1
		r.out += err.Error()
	}
	return r
}

var outcomeOf = map[int]Outcome{0: OK, 1: Error, 2: Failed, 4: Unreachable}

// judge returns the problem with r, if any.
func judge(c *Case, e Expect, syntaxOnly bool, r result) (kind, msg string) {
	switch {
	case r.hang:
		how := "stopped on SIGTERM"
		if r.ignTerm {
			how = "ignored SIGTERM, killed"
		}
		return kindHang, fmt.Sprintf("no end after %s (%s)", runTimeout, how)
	case r.signaled != "" && !r.hang:
		return kindCrash, "killed by " + r.signaled
	case crashRE.MatchString(r.out):
		return kindCrash, "Go runtime crash"
	}
	got, ok := outcomeOf[r.code]
	if !ok {
		return kindCrash, fmt.Sprintf("exit code %d", r.code)
	}
	if got != e.Outcome {
		return kindUnexpected, fmt.Sprintf("outcome %s (exit %d), want %s", got, r.code, e.Outcome)
	}
	warns := c.Warn
	if !syntaxOnly {
		warns = append(warns[:len(warns):len(warns)], c.PlayWarn...)
	}
	for _, w := range warns {
		if !Located(r.out, w.File, w.Line) {
			return kindUnlocated, fmt.Sprintf("no warning naming %s:%d", w.File, w.Line)
		}
	}
	if e.File != "" && !Located(r.out, e.File, e.Line) {
		want := e.File + ":" + strconv.Itoa(e.Line)
		if e.Line == 0 {
			want = e.File + ":LINE"
		}
		return kindUnlocated, "the message does not name " + want
	}
	matches := c.Match
	if !syntaxOnly {
		matches = append(matches[:len(matches):len(matches)], c.PlayMatch...)
	}
	for _, re := range matches {
		if syntaxOnly && e.Outcome == OK {
			break // a syntax check prints no results to match
		}
		if !re.MatchString(r.out) {
			return kindUnexpected, fmt.Sprintf("output does not match %q", re)
		}
	}
	return "", ""
}

// sshHost is the SSH server and login shared by the cases that need one.
type sshHost struct {
	replacer *strings.Replacer
}

func startSSH(t *testing.T) *sshHost {
	srv := sshtest.StartServer(t, sshtest.ServerOptions{})
	user := sshtest.CreateUser(t, "badin", sshtest.UserOptions{})
	key := sshtest.GenerateKey(t, sshtest.Dir(t), "ed25519", "")
	srv.Authorize(t, user.Name, key)
	hostKey := strings.TrimPrefix(srv.KnownHostsLine(), "["+srv.Host+"]:"+strconv.Itoa(srv.Port)+" ")
	return &sshHost{replacer: strings.NewReplacer(
		"@SSH_PORT@", strconv.Itoa(srv.Port),
		"@SSH_USER@", user.Name,
		"@SSH_KEY@", key.Path,
		"@SSH_HOSTKEY@", hostKey,
	)}
}

// TestCorpus runs every case through tend play --syntax-check and tend
// play and fails on any crash, hang, unlocated error or unexpected outcome.
func TestCorpus(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit not found: integration/prereqs installs util-linux")
	}
	bin := tendBinary(t)
	cases := loadCases(t)
	var host *sshHost
	var hostOnce sync.Once
	needSSH := func(t *testing.T) *sshHost {
		hostOnce.Do(func() {
			// sshtest skips the whole test without its prerequisites; only
			// the cases that need the host are skipped here (in CI, failed).
			_, sshdErr := os.Stat(sshtest.SSHD)
			_, keygenErr := exec.LookPath("ssh-keygen")
			if os.Geteuid() != 0 || sshdErr != nil || keygenErr != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("the known_hosts cases need root, sshd and ssh-keygen (integration/prereqs installs them)")
				}
				return
			}
			host = startSSH(t)
		})
		return host
	}
	for _, c := range cases {
		if c.SSH {
			needSSH(t)
			break
		}
	}
	var mu sync.Mutex
	// counts holds, per kind of problem, the cases that showed it.
	counts := map[string]map[string]bool{kindCrash: {}, kindHang: {}, kindUnlocated: {}, kindUnexpected: {}}
	var problems []string
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				var repl *strings.Replacer
				if c.SSH {
					if host == nil {
						t.Skip("needs root, sshd and ssh-keygen for an SSH host (sshtest)")
					}
					repl = host.replacer
				}
				t.Parallel()
				dir := t.TempDir()
				if err := c.Write(dir, repl); err != nil {
					t.Fatal(err)
				}
				for _, cmd := range []struct {
					name string
					want Expect
					args []string
				}{
					{"syntax-check", c.Syntax, append(append([]string{"play", "--syntax-check", "-i", "hosts"}, c.Args...), "site.yml")},
					{"play", c.Play, append(append([]string{"play", "-i", "hosts"}, c.Args...), "site.yml")},
				} {
					r := run(bin, dir, cmd.args)
					kind, msg := judge(c, cmd.want, cmd.name == "syntax-check", r)
					if kind == "" {
						continue
					}
					mu.Lock()
					counts[kind][c.Name] = true
					problems = append(problems, fmt.Sprintf("%s %s: %s: %s", c.Name, cmd.name, kind, msg))
					mu.Unlock()
					t.Errorf("%s: %s: %s (%s)\ncase: %s\n%s", cmd.name, kind, msg, r.elapsed.Round(time.Millisecond), c.Title, tail(r.out, 2000))
				}
			})
		}
	})
	sort.Strings(problems)
	for _, p := range problems {
		t.Log(p)
	}
	line := fmt.Sprintf("badinput: %d cases, %d crashes, %d hangs, %d unlocated errors, %d unexpected outcomes",
		len(cases), len(counts[kindCrash]), len(counts[kindHang]), len(counts[kindUnlocated]), len(counts[kindUnexpected]))
	fmt.Println(line)
	if out := os.Getenv("BADINPUT_SUMMARY"); out != "" {
		os.WriteFile(out, []byte(line+"\n"+strings.Join(problems, "\n")+"\n"), 0o644)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
