package report

import (
	"io"
	"time"

	"github.com/tend-dev/tend/pkg/module"
)

// Status is the outcome of one task on one host (or one loop item).
type Status string

// Task outcomes, as Ansible names them in its recap.
const (
	OK          Status = "ok"
	Changed     Status = "changed"
	Failed      Status = "failed"
	Skipped     Status = "skipped"
	Unreachable Status = "unreachable"
	Ignored     Status = "ignored" // failed with ignore_errors
	Rescued     Status = "rescued" // counted when a block's rescue ran
	// Retrying is an until: attempt that failed and will be retried. It
	// is shown ("FAILED - RETRYING: ...") but never counted. The retries
	// left are Result["retries"] minus Result["attempts"] as in Ansible;
	// without "attempts" in Result, HostResult.Retries is used.
	Retrying Status = "retrying"
	// Async is a progress line of a task run with async and poll > 0:
	// Msg is "poll" (still running, shown every poll seconds), "ok" or
	// "failed" (finished; the task's own result follows), and Result
	// holds ansible_job_id, started and finished. Shown, never counted.
	Async Status = "async"
	// Included is an include_tasks that loaded a file for some hosts:
	// Host holds the host names joined with ", ", Result["include"] the
	// file. Not counted in the recap.
	Included Status = "included"
)

// Task identifies a task in output.
type Task struct {
	Name    string // as displayed: "role : name" is built by the reporter from Role+Name
	Role    string
	Module  string
	File    string
	Line    int
	Handler bool // RUNNING HANDLER instead of TASK
	// Loop marks a task with loop:/with_*. Its per-host aggregate result
	// (IsItem false, Result["results"] holding the items) prints no line
	// of its own, as in Ansible: the items were already shown. An ignored
	// failure still prints "...ignoring".
	Loop bool
	// ID distinguishes runs of the same task (an included file run once
	// per loop item): a banner is printed again for a new ID.
	ID uint64
}

// HostResult is one host's result for a task, or for one loop item.
type HostResult struct {
	Host      string
	Delegated string // delegate_to host, shown as "[host -> delegated]"
	Task      Task
	Status    Status
	Result    module.Result
	// Item is the loop item label when the result is for one item; nil
	// otherwise. ItemResult marks a per-item line (Ansible prints one line
	// per item and then nothing for the whole loop unless it failed).
	Item      any
	IsItem    bool
	NoLog     bool
	Diff      []module.Diff
	Duration  time.Duration
	CheckMode bool
	Retries   int // attempts made for until:, 0 if not retried
	Msg       string
}

// Stats are one host's counters for the recap.
type Stats struct {
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

// Reporter receives the events of a run. The executor calls it from many
// goroutines; implementations must be safe for concurrent use and must
// keep output lines whole.
type Reporter interface {
	PlaybookStart(path string)
	PlayStart(name string, hosts []string, check bool)
	TaskStart(t Task)
	HostResult(r HostResult)
	// NoHostsLeft says the play stopped early because no host may go on
	// (any_errors_fatal or max_fail_percentage).
	NoHostsLeft()
	// Warn prints a warning; host may be empty.
	Warn(host, msg string)
	// Recap prints the final counters for hosts in the given order.
	Recap(hosts []string, stats map[string]*Stats, elapsed time.Duration)
	// Close flushes output (the JSON reporter writes its document here).
	Close() error
}

// Options configure reporters.
type Options struct {
	Color     bool // colour (only on a TTY and never with NO_COLOR: decided by the caller)
	Verbosity int  // -v count: 1 shows results of ok/changed tasks, 2 more detail, 3 commands
	Diff      bool // show diffs
	// Err receives warnings (Ansible prints them on stderr); nil means
	// the reporter's main writer.
	Err io.Writer
	// Columns is the terminal width; banners ("TASK [x] ****") are padded
	// like Ansible's: max(79, Columns-1) characters plus the space, i.e.
	// 80 columns when Columns is 0 or the output is not a terminal.
	Columns int
}
