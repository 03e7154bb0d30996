package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Activity is implemented by reporters that follow which hosts are busy:
// the executor calls HostStart when it begins a task on a host and
// HostDone when that host's part of the task has ended (results, retries
// and loop items included). Reporters that do not implement it are not
// told. Both are called from many goroutines.
type Activity interface {
	HostStart(host string, t Task)
	HostDone(host string, t Task)
}

// ProgressDelay is how long a task must have been running on a host
// before the status line names it: quick tasks never show a line.
const ProgressDelay = time.Second

// Progress is the live status line on a terminal: while tasks run, one
// updating line below the normal output names the hosts still running
// which task and for how long, e.g.
//
//	TASK [apt] 3/50 hosts running: web7 12s, web9 11s, web3 2s
//
// The line is drawn by github.com/vbauerster/mpb; the normal output must be
// written through Writer so that its lines appear above the status line
// instead of through it. Progress is a Reporter that ignores every event
// but the Activity ones; put it in a Multi with the human reporter.
type Progress struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	st   *progressState
	stop sync.Once
}

var (
	_ Reporter = (*Progress)(nil)
	_ Activity = (*Progress)(nil)
)

// NewProgress starts the status line on term, which must be a terminal
// (the caller decides: only a TTY, never with NO_COLOR or TERM=dumb). Stop
// removes it.
func NewProgress(term io.Writer) *Progress {
	st := newProgressState(time.Now)
	p := mpb.New(mpb.WithOutput(term), mpb.WithRefreshRate(250*time.Millisecond))
	bar := p.New(0, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Any(func(s decor.Statistics) string {
			return st.line(s.AvailableWidth)
		})),
		mpb.BarFillerTrim(),
	)
	return &Progress{p: p, bar: bar, st: st}
}

// Writer returns the writer for the normal output: each Write is printed
// above the status line at the next refresh, in order.
func (pr *Progress) Writer() io.Writer { return pr.p }

// Stop removes the status line after the output written so far is
// printed. The Writer must not be used afterwards. Stop may be called
// more than once.
func (pr *Progress) Stop() {
	pr.stop.Do(func() {
		pr.bar.Abort(true)
		pr.p.Wait()
	})
}

// HostStart records that host began task t.
func (pr *Progress) HostStart(host string, t Task) { pr.st.start(host, t) }

// HostDone records that host finished task t.
func (pr *Progress) HostDone(host string, _ Task) { pr.st.done(host) }

// PlaybookStart, PlayStart, HostResult, NoHostsLeft, Warn and
// Recap are shown by the other reporters.
func (pr *Progress) PlaybookStart(string)             {}
func (pr *Progress) PlayStart(string, []string, bool) {}

// TaskStart forgets the host counts of tasks no host is running.
func (pr *Progress) TaskStart(Task) { pr.st.taskStart() }

func (pr *Progress) HostResult(HostResult)                            {}
func (pr *Progress) NoHostsLeft()                                     {}
func (pr *Progress) Warn(string, string)                              {}
func (pr *Progress) Recap([]string, map[string]*Stats, time.Duration) {}

// Close does nothing: the status line lives until Stop, after the other
// reporters have written their last lines through Writer.
func (pr *Progress) Close() error { return nil }

// progressState is what the status line shows, apart from drawing.
type progressState struct {
	now     func() time.Time
	mu      sync.Mutex
	running map[string]running // by host
	started map[string]int     // hosts that began each task (by taskKey)
}

type running struct {
	task  string // display name
	key   string
	since time.Time
}

func newProgressState(now func() time.Time) *progressState {
	return &progressState{now: now, running: map[string]running{}, started: map[string]int{}}
}

func taskKey(t Task) string {
	return fmt.Sprintf("%s:%d:%d:%t:%s", t.File, t.Line, t.ID, t.Handler, t.Name)
}

func displayName(t Task) string {
	name := cmp.Or(t.Name, t.Module)
	if t.Role != "" {
		name = t.Role + " : " + name
	}
	return name
}

func (s *progressState) start(host string, t Task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := taskKey(t)
	s.started[key]++
	s.running[host] = running{task: displayName(t), key: key, since: s.now()}
}

func (s *progressState) taskStart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	busy := map[string]bool{}
	for _, r := range s.running {
		busy[r.key] = true
	}
	for k := range s.started {
		if !busy[k] {
			delete(s.started, k)
		}
	}
}

func (s *progressState) done(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, host)
}

// line returns the status line cut to width columns, or "" while no host
// has run its task for ProgressDelay.
func (s *progressState) line(width int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	type entry struct {
		host string
		running
	}
	var es []entry
	for h, r := range s.running {
		es = append(es, entry{h, r})
	}
	if len(es) == 0 {
		return ""
	}
	// Longest running first, then by name.
	slices.SortFunc(es, func(a, b entry) int {
		return cmp.Or(a.since.Compare(b.since), strings.Compare(a.host, b.host))
	})
	if now.Sub(es[0].since) < ProgressDelay {
		return ""
	}
	oneTask := true
	for _, e := range es[1:] {
		oneTask = oneTask && e.key == es[0].key
	}
	var b strings.Builder
	if oneTask {
		fmt.Fprintf(&b, "TASK [%s] %d/%d hosts running:", es[0].task, len(es), max(s.started[es[0].key], len(es)))
	} else {
		fmt.Fprintf(&b, "%d hosts running:", len(es))
	}
	for i, e := range es {
		part := fmt.Sprintf(" %s %s", e.host, elapsed(now.Sub(e.since)))
		if !oneTask {
			part = fmt.Sprintf(" %s [%s] %s", e.host, e.task, elapsed(now.Sub(e.since)))
		}
		if i > 0 {
			part = "," + part
		}
		// Keep room for ", ..." when more hosts follow.
		room := width
		if i < len(es)-1 {
			room -= 5
		}
		if width > 0 && runewidth.StringWidth(b.String()+part) > room {
			b.WriteString(", ...")
			break
		}
		b.WriteString(part)
	}
	if width > 0 {
		return runewidth.Truncate(b.String(), width, "")
	}
	return b.String()
}

// elapsed formats a duration for the status line: 12s, 3m05s, 1h02m.
func elapsed(d time.Duration) string {
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
