package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/integration/recap"
	"github.com/tend-dev/tend/integration/testbed"
)

// Recap is one host's line of the PLAY RECAP.
type Recap struct {
	Ok, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

func (r Recap) String() string {
	return fmt.Sprintf("ok=%d changed=%d failed=%d skipped=%d", r.Ok, r.Changed, r.Failed, r.Skipped) + extra(r)
}

func extra(r Recap) string {
	s := ""
	if r.Unreachable > 0 {
		s += fmt.Sprintf(" unreachable=%d", r.Unreachable)
	}
	if r.Rescued > 0 {
		s += fmt.Sprintf(" rescued=%d", r.Rescued)
	}
	if r.Ignored > 0 {
		s += fmt.Sprintf(" ignored=%d", r.Ignored)
	}
	return s
}

// parseRecap finds host's recap line in a run's output.
func parseRecap(out, host string) (Recap, bool) {
	c, ok := recap.Of(out, host)
	return Recap{c.OK, c.Changed, c.Unreachable, c.Failed, c.Skipped, c.Rescued, c.Ignored}, ok
}

// Run is one run of one engine.
type Run struct {
	Exit     int
	Recap    Recap
	HasRecap bool
	Seconds  float64
	// Failure is the first failed task and its message, shortened.
	Failure string `json:",omitempty"`
}

// Engine is what one engine did with a role: two runs.
type Engine struct {
	Runs  []Run
	Error string `json:",omitempty"` // the harness failed (boot, ssh)
}

// Result is a role's outcome.
type Result struct {
	Name    string
	Commit  string
	Ansible Engine
	Tend    Engine
	// StateDiff lists end-state differences (empty: same end state).
	StateDiff []string `json:",omitempty"`
	StateErr  string   `json:",omitempty"`
}

// Options say where things are for a corpus run.
type Options struct {
	Tend    string    // the tend binary
	Ansible string    // ansible-playbook
	Work    string    // scratch folder (playbooks, logs)
	Log     io.Writer // progress lines; nil discards
	// Timeout bounds each playbook run; default 20 minutes.
	Timeout time.Duration
}

const hostName = "h1"

// writePlaybook writes the role's play: the role applied to every host,
// after refreshing apt's lists. The refresh is not counted as a change:
// Ansible's apt module refreshes the lists by itself when it installs
// python3-apt on a fresh host, so without this the first update_cache of
// a role would find new lists under tend only.
func writePlaybook(r *Role, dir string) (string, error) {
	rolesDir := filepath.Join(dir, "roles")
	if err := os.MkdirAll(rolesDir, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(r.RoleDir())
	if err != nil {
		return "", err
	}
	link := filepath.Join(rolesDir, r.Name)
	_ = os.Remove(link)
	if err := os.Symlink(abs, link); err != nil {
		return "", err
	}
	play := map[string]any{
		"name":      "compatibility corpus: " + r.Name,
		"hosts":     "all",
		"pre_tasks": []any{map[string]any{"name": "refresh apt lists", "apt": map[string]any{"update_cache": true, "cache_valid_time": 3600}, "changed_when": false}},
		"roles":     []any{r.Name},
	}
	if len(r.Vars) > 0 {
		play["vars"] = r.Vars
	}
	raw, err := yaml.Marshal([]any{play})
	if err != nil {
		return "", err
	}
	pb := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(pb, raw, 0o644); err != nil {
		return "", err
	}
	ev := r.ExtraVars
	if ev == nil {
		ev = map[string]any{}
	}
	extra, err := json.Marshal(ev)
	if err != nil {
		return "", err
	}
	return pb, os.WriteFile(filepath.Join(dir, "extra-vars.json"), extra, 0o644)
}

// bedName is the testbed name of a role's twin ("a" Ansible, "t" tend).
func bedName(role, side string) string {
	s := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(role), "-"), "-")
	if len(s) > 30 {
		s = s[:30]
	}
	return "corpus-" + strings.Trim(s, "-") + "-" + side
}

// RunRole boots the twins (Ansible's with python3, tend's without), runs
// the role twice on each and compares.
func RunRole(ctx context.Context, r *Role, o Options) *Result {
	res := &Result{Name: r.Name, Commit: r.Commit}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "%s %s: %s\n", time.Now().UTC().Format("15:04:05"), r.Name, fmt.Sprintf(format, a...))
		}
	}
	dir := filepath.Join(o.Work, r.Name)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.StateErr = err.Error()
		return res
	}
	pb, err := writePlaybook(r, dir)
	if err != nil {
		res.StateErr = err.Error()
		return res
	}
	random, _ := r.randomRE()
	var (
		wg                     sync.WaitGroup
		ansBefore, ansAfter    State
		tendBefore, tendAfter  State
		ansStateErr, tendStErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		ansBefore, ansAfter, ansStateErr = side(ctx, r, o, dir, pb, "a", true, &res.Ansible, logf)
	}()
	go func() {
		defer wg.Done()
		tendBefore, tendAfter, tendStErr = side(ctx, r, o, dir, pb, "t", false, &res.Tend, logf)
	}()
	wg.Wait()
	switch {
	case ansStateErr != nil:
		res.StateErr = "ansible host: " + ansStateErr.Error()
	case tendStErr != nil:
		res.StateErr = "tend host: " + tendStErr.Error()
	default:
		res.StateDiff = Compare(ansBefore, ansAfter, tendBefore, tendAfter, random)
	}
	logf("done: ansible %s | tend %s | %d end-state differences", runsText(res.Ansible), runsText(res.Tend), len(res.StateDiff))
	return res
}

func runsText(e Engine) string {
	if e.Error != "" {
		return "error: " + e.Error
	}
	var s []string
	for _, r := range e.Runs {
		s = append(s, fmt.Sprintf("[exit %d %s %.1fs]", r.Exit, r.Recap, r.Seconds))
	}
	return strings.Join(s, " ")
}

// side boots one twin, snapshots it, runs the engine twice and snapshots
// it again.
func side(ctx context.Context, r *Role, o Options, dir, pb, s string, python bool, e *Engine, logf func(string, ...any)) (before, after State, err error) {
	engine := map[string]string{"a": "ansible", "t": "tend"}[s]
	var bed *testbed.Bed
	for try := 0; try < 2; try++ { // a boot on a loaded machine may fail once
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		bed, err = testbed.Up(bctx, testbed.Options{Name: bedName(r.Name, s)}, testbed.HostSpec{Name: hostName, Python: python})
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		logf("%s boot failed, once more: %v", engine, err)
	}
	if err != nil {
		e.Error = "boot: " + err.Error()
		return nil, nil, err
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer dcancel()
		if derr := bed.Down(dctx); derr != nil {
			logf("%s bed down: %v", engine, derr)
		}
	}()
	prefix := bed.Gateway[:strings.LastIndex(bed.Gateway, ".")+1]
	snap := func() (State, error) {
		sctx, scancel := context.WithTimeout(ctx, 5*time.Minute)
		defer scancel()
		out, err := bed.SSH(sctx, hostName, snapshotScript(prefix))
		if err != nil {
			return nil, err
		}
		return parseState(out), nil
	}
	save := func(name string, st State) {
		var b strings.Builder
		for _, k := range sortedKeys(st) {
			b.WriteString(k + " " + st[k] + "\n")
		}
		_ = os.WriteFile(filepath.Join(dir, engine+"-"+name+".state"), []byte(b.String()), 0o644)
	}
	defer func() { save("before", before); save("after", after) }()
	if before, err = snap(); err != nil {
		e.Error = "snapshot: " + err.Error()
		return nil, nil, err
	}
	for i := 1; i <= 2; i++ {
		run := runEngine(ctx, engine, o, dir, pb, bed.InventoryINI, i)
		e.Runs = append(e.Runs, run)
		logf("%s run %d: exit %d %s %.1fs %s", engine, i, run.Exit, run.Recap, run.Seconds, run.Failure)
		if run.Exit != 0 && run.Exit != 2 && !run.HasRecap {
			break
		}
	}
	if after, err = snap(); err != nil {
		e.Error = "snapshot: " + err.Error()
		return nil, nil, err
	}
	return before, after, nil
}

// runEngine runs the playbook once with one engine and keeps its output
// in dir/ENGINE-N.log.
func runEngine(ctx context.Context, engine string, o Options, dir, pb, inv string, n int) Run {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	if engine == "ansible" {
		cmd = exec.CommandContext(rctx, o.Ansible, "-i", inv, "-e", "@extra-vars.json", pb)
	} else {
		cmd = exec.CommandContext(rctx, o.Tend, "play", "--no-lock", "-i", inv, "-e", "@extra-vars.json", pb)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "NO_COLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_PIPELINING=1", "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, ".ansible-tmp"),
		"ANSIBLE_ROLES_PATH="+filepath.Join(dir, "roles"), "ANSIBLE_FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	run := Run{Seconds: time.Since(start).Seconds()}
	if err != nil {
		run.Exit = -1
		if ee, ok := err.(*exec.ExitError); ok {
			run.Exit = ee.ExitCode()
		}
	}
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.log", engine, n)), out.Bytes(), 0o644)
	run.Recap, run.HasRecap = parseRecap(out.String(), hostName)
	run.Failure = firstFailure(out.String())
	if run.Failure == "" && run.Exit != 0 && !run.HasRecap {
		run.Failure = lastLines(out.String(), 3)
	}
	return run
}

var taskRE = regexp.MustCompile(`^(TASK|RUNNING HANDLER) \[(.*)\]`)

// firstFailure names the first task that failed (not ignored) and the
// start of its message.
func firstFailure(out string) string {
	task := ""
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if m := taskRE.FindStringSubmatch(l); m != nil {
			task = m[2]
			continue
		}
		if strings.HasPrefix(l, "fatal: ") || (strings.HasPrefix(l, "failed: ") && !strings.Contains(strings.Join(lines[i:min(i+3, len(lines))], "\n"), "...ignoring")) {
			if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "...ignoring" {
				continue
			}
			msg := l
			if j := strings.Index(msg, `"msg": "`); j >= 0 {
				msg = msg[j+8:]
			}
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			return task + ": " + msg
		}
		if strings.HasPrefix(l, "ERROR!") || strings.HasPrefix(l, "error:") || strings.HasPrefix(l, "ERROR:") {
			if len(l) > 300 {
				l = l[:300] + "..."
			}
			return l
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

func sortedKeys(s State) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
