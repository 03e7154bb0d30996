package executor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/shell"
)

// Tasks with async run their module in a job on the controller whose
// connection (asyncConn) starts every command that changes the host
// detached on the host, with its output and exit status written to the
// job's directory, and waits for that status with short polling sessions,
// connecting again when the connection drops. So a long command holds no
// SSH session for its length and finishes on the host whatever happens to
// the connection; tend reports its result once it can read it.

// Causes of a job's end that are not the run's.
var (
	errAsyncTimeout = errors.New("async time limit reached")
	errRunEnded     = errors.New("the run ended")
)

// defaultPoll is Ansible's DEFAULT_POLL_INTERVAL.
const defaultPoll = 15

// asyncDirVar is where a job's directory lives, below the home of the
// user the job runs as, as in Ansible (~/.ansible_async/JID).
const asyncDirVar = `"$HOME/.ansible_async"`

// jobTable holds the async jobs of a run, for async_status and for the
// end of the run. It implements module.AsyncJobs.
type jobTable struct {
	ctx  context.Context // the run's: jobs stop with it
	mu   sync.Mutex
	jobs map[string]*asyncJob
	wg   sync.WaitGroup
}

// asyncJob is one async task on one host (or loop item).
type asyncJob struct {
	jid  string
	host string // inventory name of the host async_status must be run for
	dir  string // the job directory on the host, absolute
	conn *asyncConn
	// oneCommand: the module issues a single command (command, shell),
	// so once it is started the job only waits and the run need not.
	oneCommand bool
	cancel     context.CancelCauseFunc
	done       chan struct{} // closed when outcome is set
	outcome    *outcome
}

func newJobTable(ctx context.Context) *jobTable {
	return &jobTable{ctx: ctx, jobs: map[string]*asyncJob{}}
}

func (jt *jobTable) get(jid string) *asyncJob {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	return jt.jobs[jid]
}

func (jt *jobTable) forget(jid string) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	delete(jt.jobs, jid)
}

// finish ends the run's jobs: a started command or shell job is left to
// finish on the host (fire and forget, as in Ansible; its directory stays
// for async_status of a later task), any other module's job is waited for,
// since its module still has commands to send (up to its async limit).
func (jt *jobTable) finish() {
	jt.mu.Lock()
	for _, j := range jt.jobs {
		if j.oneCommand && j.conn.started() {
			j.cancel(errRunEnded)
		}
	}
	jt.mu.Unlock()
	jt.wg.Wait()
}

// supportsAsync reports whether Ansible 2.14 runs the module with async:
// its action plugin must allow it (modules without one always do).
func supportsAsync(spec *module.Spec) bool {
	if spec.Controller {
		return false
	}
	switch spec.Name {
	case "copy", "template", "fetch", "unarchive", "script", "raw", "async_status", "assemble":
		return false
	}
	return true
}

// asyncKeywords renders the task's async and poll: async 0 means run
// synchronously.
func (p *playRun) asyncKeywords(t *playbook.Task, vars map[string]any) (async, poll int, failure *outcome) {
	if t.Async == nil {
		return 0, 0, nil
	}
	read := func(name string, v any, def int) (int, *outcome) {
		if v == nil {
			return def, nil
		}
		r, err := p.r.opts.Templates.RenderValue(v, vars)
		if err != nil {
			return 0, p.templateFailure(t, name, err)
		}
		n, ok := module.ToInt(r)
		if !ok {
			if f, isFloat := r.(float64); isFloat {
				return int(f), nil
			}
			return 0, &outcome{status: report.Failed, result: module.Failed("%s must be an integer, not %v%s", name, r, errorLocation(t))}
		}
		return n, nil
	}
	if async, failure = read("async", t.Async, 0); failure != nil || async <= 0 {
		return 0, 0, failure
	}
	if poll, failure = read("poll", t.Poll, defaultPoll); failure != nil {
		return 0, 0, failure
	}
	return async, poll, nil
}

// asyncRefusal is Ansible's failure for an async task that its action
// cannot run so (or in check mode), or nil.
func asyncRefusal(spec *module.Spec, check bool) *outcome {
	msg := ""
	switch {
	case !supportsAsync(spec):
		msg = "async is not supported for this task."
	case check:
		msg = "check mode and async cannot be used on same task."
	default:
		return nil
	}
	res := module.Result{"failed": true, "msg": msg, "exception": "NoneType: None\n"}
	if !spec.Controller {
		res["changed"] = false
	}
	return &outcome{status: report.Failed, result: res}
}

// asyncTask describes an async task about to run on one host.
type asyncTask struct {
	gate      func(*module.Plan) error
	t         *playbook.Task
	rt        report.Task
	mod       module.Module
	mh        *module.Host
	args      module.Args
	async     int
	poll      int
	diff      bool
	delegated string
	noLog     bool
	dial      func(context.Context) (connection.Connection, error)
}

// runAsync runs a task with async: it starts the job, then either waits
// for it, reporting a poll line every poll seconds and failing after
// async seconds (poll > 0), or returns at once (poll 0) with the job id.
func (p *playRun) runAsync(ctx context.Context, at asyncTask) *outcome {
	jid := fmt.Sprintf("j%d.%d", rand.Int64N(1_000_000_000_000), os.Getpid())
	ac := &asyncConn{host: at.mh.Name, conn: at.mh.Conn, dial: at.dial, launched: make(chan struct{})}
	dir, err := ac.makeDir(ctx, jid, at.mh.Become)
	if err != nil {
		return executeOutcome(nil, nil, err, false, at.delegated)
	}
	jt := p.r.jobs
	name := at.mod.Spec().Name
	job := &asyncJob{jid: jid, host: at.mh.Name, dir: dir, conn: ac, done: make(chan struct{}),
		oneCommand: name == "command" || name == "shell"}
	// The job's own limit, as Ansible's async_wrapper has; with poll > 0
	// the poll loop below also gives up after async seconds, and which of
	// the two sees the time up first decides the message, as in Ansible.
	jctx, cancel := context.WithCancelCause(jt.ctx)
	jctx, stop := context.WithTimeoutCause(jctx, time.Duration(at.async)*time.Second, errAsyncTimeout)
	job.cancel = cancel
	mh := *at.mh
	mh.Conn = ac
	jt.mu.Lock()
	jt.jobs[jid] = job
	jt.wg.Add(1)
	jt.mu.Unlock()
	go func() {
		defer jt.wg.Done()
		defer cancel(nil)
		defer stop()
		defer close(job.done)
		// Under tend apply the job's plan is compared with the saved one too.
		res, plan, err := module.ExecuteGated(jctx, at.mod, &mh, at.args, false, at.gate)
		if errors.Is(context.Cause(jctx), errAsyncTimeout) {
			// What Ansible's async_wrapper writes when it kills a job.
			res, plan, err = emptyJobResult(jid), nil, nil
			res["failed"], res["msg"] = true, "Timeout exceeded"
			if pid := ac.killed.Load(); pid > 0 {
				res["child_pid"] = pid
			}
		}
		job.outcome = executeOutcome(res, plan, err, at.diff, at.delegated)
	}()
	if at.poll <= 0 {
		// Fire and forget, once the job's first command runs on the host.
		select {
		case <-ac.launched:
		case <-job.done:
		case <-ctx.Done():
		}
		return &outcome{status: report.Changed, result: module.Result{
			"ansible_job_id": jid, "changed": true, "failed": 0, "finished": 0, "results_file": dir, "started": 1,
		}}
	}
	return p.pollJob(ctx, at, job)
}

// pollJob waits for job as Ansible's controller does: it looks every poll
// seconds and gives up when async seconds have passed.
func (p *playRun) pollJob(ctx context.Context, at asyncTask, job *asyncJob) *outcome {
	status := func(msg string, finished int) {
		p.r.opts.Reporter.HostResult(report.HostResult{Host: at.mh.Name, Task: at.rt, Status: report.Async, Msg: msg, NoLog: at.noLog,
			Result: module.Result{"ansible_job_id": job.jid, "started": 1, "finished": finished}})
	}
	// Each poll looks at the host, as Ansible's async_status does, once:
	// while the host cannot be reached the job is simply not finished.
	check := func(ctx context.Context, cmd string) (connection.Result, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return job.conn.tryRun(connection.ReadOnly(ctx), connection.Command{Cmd: cmd, Become: at.mh.Become})
	}
	// Ansible's clock starts once the module runs on the host.
	select {
	case <-job.conn.launched:
	case <-job.done:
	case <-ctx.Done():
	}
	finished := false
	for left := at.async; left > 0; left -= at.poll {
		select {
		case <-time.After(time.Duration(at.poll) * time.Second):
		case <-ctx.Done():
			return &outcome{status: report.Failed, result: module.Failed("interrupted while waiting for async job %s, which goes on on the host", job.jid)}
		}
		if finished = p.r.jobs.wait(ctx, check, job); finished {
			break
		}
		status("poll", 0)
	}
	if !finished {
		job.cancel(errAsyncTimeout)
		<-job.done
		status("failed", 0)
		return &outcome{status: report.Failed, result: module.Result{
			"failed": true, "changed": false,
			"msg": fmt.Sprintf("async task did not complete within the requested time - %ds", at.async),
			"async_result": module.Result{
				"ansible_job_id": job.jid, "finished": 0, "started": 1, "results_file": job.dir,
				"invocation": map[string]any{"module_args": map[string]any{
					"_async_dir": strings.TrimSuffix(job.dir, "/"+job.jid), "jid": job.jid, "mode": "status"}},
				"stdout": "", "stderr": "", "stdout_lines": []string{}, "stderr_lines": []string{},
			},
		}}
	}
	o := job.outcome
	if o.status == report.Unreachable {
		return o
	}
	for k, v := range jobFields(job) {
		o.result[k] = v
	}
	// Ansible removes the job's files once it has the result.
	p.r.jobs.forget(job.jid)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = job.conn.retry(cctx, func(c connection.Connection) error {
		_, err := c.Run(cctx, connection.Command{Cmd: "rm -rf -- " + shell.Quote(job.dir), Become: at.mh.Become})
		return err
	})
	if o.status == report.Failed {
		status("failed", 1)
	} else {
		status("ok", 1)
	}
	return o
}

func jobFields(job *asyncJob) module.Result {
	return module.Result{"ansible_job_id": job.jid, "finished": 1, "started": 1, "results_file": job.dir}
}

// validJID reports whether jid can name a job directory: no "/" and not
// "." or "..", so that cleanup removes nothing else.
func validJID(jid string) bool {
	if jid == "" || jid == "." || jid == ".." {
		return false
	}
	for _, r := range jid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// lookDir returns the job directory of jid on h, and whether it exists.
func lookDir(ctx context.Context, h *module.Host, jid string) (string, bool, error) {
	res, err := h.Run(ctx, "d="+asyncDirVar+"/"+shell.Quote(jid)+`; printf '%s\n' "$d"; if [ -d "$d" ]; then echo yes; fi`)
	if err != nil {
		return "", false, err
	}
	lines := strings.Split(strings.TrimRight(string(res.Stdout), "\n"), "\n")
	if res.ExitCode != 0 || lines[0] == "" {
		return "", false, fmt.Errorf("look for async job %s: %s", jid, strings.TrimSpace(string(res.Stderr)))
	}
	return lines[0], len(lines) > 1 && lines[1] == "yes", nil
}

// emptyJobResult holds the fields async_status always returns.
func emptyJobResult(jid string) module.Result {
	return module.Result{"ansible_job_id": jid, "started": 0, "finished": 0, "changed": false,
		"stdout": "", "stderr": "", "stdout_lines": []string{}, "stderr_lines": []string{}}
}

// findJob looks for job jid's directory on the host. When it is not there
// (or jid is not a job id) found is false and res is async_status's
// failed result, as Ansible reports it; otherwise res is the job's empty
// result to fill.
func findJob(ctx context.Context, h *module.Host, jid string) (res module.Result, dir string, found bool, err error) {
	res = emptyJobResult(jid)
	if !validJID(jid) {
		res["failed"], res["msg"] = true, fmt.Sprintf("jid %q is not a job id (ansible_job_id of an async task's result)", jid)
		return res, "", false, nil
	}
	dir, exists, err := lookDir(ctx, h, jid)
	if err != nil {
		return nil, "", false, err
	}
	if !exists {
		res["started"], res["finished"], res["results_file"] = 1, 1, dir
		res["failed"], res["msg"] = true, "could not find job"
		return res, dir, false, nil
	}
	return res, dir, true, nil
}

// Status implements module.AsyncJobs.
func (jt *jobTable) Status(ctx context.Context, h *module.Host, jid string) (module.Result, error) {
	res, dir, found, err := findJob(ctx, h, jid)
	if !found || err != nil {
		return res, err
	}
	res["started"], res["results_file"] = 1, dir
	job := jt.get(jid)
	if job == nil || job.host != h.Name {
		res["finished"], res["failed"] = 1, true
		res["msg"] = "job " + jid + " was not started by this tend run: its directory is on the host, but its result is kept by the run that started it"
		return res, nil
	}
	if !jt.wait(ctx, h.Run, job) {
		return res, nil
	}
	out := module.Result{}
	for k, v := range job.outcome.result {
		out[k] = v
	}
	if job.outcome.status == report.Unreachable {
		out["failed"] = true
	}
	for k, v := range jobFields(job) {
		out[k] = v
	}
	return out, nil
}

// wait reports whether job is done. When its last command has finished on
// the host, the controller is about to see it: wait for that, a little,
// so that async_status agrees with the host, as Ansible's does.
func (jt *jobTable) wait(ctx context.Context, run func(context.Context, string) (connection.Result, error), job *asyncJob) bool {
	select {
	case <-job.done:
		return true
	default:
	}
	d := job.conn.lastCommand()
	if d == "" {
		return false
	}
	r, err := run(ctx, "test -e "+shell.Quote(d+"/rc"))
	if err != nil || r.ExitCode != 0 {
		return false
	}
	select {
	case <-job.done:
		return true
	case <-time.After(2 * time.Second):
		return false
	case <-ctx.Done():
		return false
	}
}

// Cleanup implements module.AsyncJobs.
func (jt *jobTable) Cleanup(ctx context.Context, h *module.Host, jid string) (module.Result, error) {
	res, dir, found, err := findJob(ctx, h, jid)
	if !found || err != nil {
		return res, err
	}
	r, err := h.Run(ctx, "rm -rf -- "+shell.Quote(dir))
	if err != nil {
		return nil, err
	}
	if r.ExitCode != 0 {
		res["failed"], res["msg"] = true, fmt.Sprintf("remove %s: %s", dir, strings.TrimSpace(string(r.Stderr)))
		return res, nil
	}
	jt.forget(jid)
	res["erased"] = dir
	return res, nil
}
