package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// human is the Ansible-shaped text reporter returned by NewHuman.
type human struct {
	opts    Options
	p       painter
	columns int

	mu       sync.Mutex // guards everything below and serialises writes
	out, err io.Writer
	sepErr   bool // warnings go to a writer of their own
	last     Task // task of the last banner printed
	hasLast  bool
	warned   map[string]bool
	writeErr error
}

var _ Reporter = (*human)(nil)

// NewHuman returns a Reporter printing what ansible-playbook 2.14's
// default callback prints: banners, one line per host result, diffs,
// warnings (on opts.Err, default w) and the PLAY RECAP. The reporter is
// safe for concurrent use; every event is written with whole lines in
// one Write. Write errors are kept and returned by Close.
func NewHuman(w io.Writer, opts Options) Reporter {
	errW := opts.Err
	if errW == nil {
		errW = w
	}
	// Ansible's Display uses max(79, width-1) columns, and 79 when stdout
	// is not a terminal.
	columns := 79
	if opts.Columns-1 > columns {
		columns = opts.Columns - 1
	}
	return &human{
		opts:    opts,
		p:       painter{on: opts.Color},
		columns: columns,
		out:     w,
		err:     errW,
		sepErr:  opts.Err != nil,
		warned:  map[string]bool{},
	}
}

// emission collects the text of one event for stdout and stderr, in
// order, so it can be written whole.
type emission struct {
	chunks []chunk
}

type chunk struct {
	toErr bool
	text  string
}

func (e *emission) add(toErr bool, s string) {
	if s == "" {
		return
	}
	if n := len(e.chunks); n > 0 && e.chunks[n-1].toErr == toErr {
		e.chunks[n-1].text += s
		return
	}
	e.chunks = append(e.chunks, chunk{toErr, s})
}

// display is Ansible's Display.display: the message coloured line by line
// and terminated by one newline.
func (h *human) display(e *emission, msg, color string) {
	msg = strings.TrimSuffix(msg, "\n")
	e.add(false, h.p.stringc(msg, color)+"\n")
}

// banner is Ansible's Display.banner: a blank line, then the message and
// stars up to the column width (at least three).
func (h *human) banner(e *emission, msg string) {
	msg = strings.TrimSpace(msg)
	stars := h.columns - utf8.RuneCountInString(msg)
	if stars <= 3 {
		stars = 3
	}
	e.add(false, "\n"+msg+" "+strings.Repeat("*", stars)+"\n")
}

// warning is Ansible's Display.warning: "[WARNING]: msg" wrapped to the
// column width, each distinct text shown once per run. Caller holds mu.
func (h *human) warning(e *emission, msg string) {
	text := strings.Join(wrapText("[WARNING]: "+msg, h.columns), "\n") + "\n"
	if h.warned[text] {
		return
	}
	h.warned[text] = true
	e.add(h.sepErr, h.p.stringc(strings.TrimSuffix(text, "\n"), colorWarn)+"\n")
}

// flush writes an emission. Caller holds mu.
func (h *human) flush(e *emission) {
	for _, c := range e.chunks {
		w := h.out
		if c.toErr {
			w = h.err
		}
		if _, err := io.WriteString(w, c.text); err != nil && h.writeErr == nil {
			h.writeErr = fmt.Errorf("write report: %w", err)
		}
	}
}

// PlaybookStart prints "PLAYBOOK: name" from -vv on, as Ansible does.
func (h *human) PlaybookStart(path string) {
	if h.opts.Verbosity <= 1 {
		return
	}
	var e emission
	h.banner(&e, "PLAYBOOK: "+filepath.Base(path))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flush(&e)
}

// PlayStart prints the PLAY banner.
func (h *human) PlayStart(name string, hosts []string, check bool) {
	var e emission
	name = strings.TrimSpace(name)
	if name == "" {
		h.banner(&e, "PLAY")
	} else {
		h.banner(&e, "PLAY ["+name+"]")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hasLast = false
	h.flush(&e)
}

// TaskStart prints the task banner, once even if called for every host.
func (h *human) TaskStart(t Task) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hasLast && h.last == t {
		return
	}
	var e emission
	h.taskBanner(&e, t)
	h.flush(&e)
}

// taskBanner prints "TASK [name]" or "RUNNING HANDLER [name]", and the
// task path from -vv on. Caller holds mu.
func (h *human) taskBanner(e *emission, t Task) {
	prefix := "TASK"
	if t.Handler {
		prefix = "RUNNING HANDLER"
	}
	h.banner(e, prefix+" ["+taskName(t)+"]")
	if h.opts.Verbosity >= 2 && t.File != "" {
		path := t.File
		if t.Line > 0 {
			path = fmt.Sprintf("%s:%d", t.File, t.Line)
		}
		h.display(e, "task path: "+path, colorDebug)
	}
	h.last, h.hasLast = t, true
}

// HostResult prints one result line (and its diff, warnings, exception)
// as Ansible's v2_runner_on_* and v2_runner_item_on_* callbacks do. If
// results of another task arrived since this task's banner (several
// tasks in flight), the banner is repeated first, as with Ansible's free
// strategy.
func (h *human) HostResult(r HostResult) {
	r = Censor(r)
	h.mu.Lock()
	defer h.mu.Unlock()
	var e emission
	if !h.hasLast || h.last != r.Task {
		h.taskBanner(&e, r.Task)
	}
	h.renderResult(&e, r)
	h.flush(&e)
}

// renderResult renders r. Caller holds mu (warnings are deduplicated).
func (h *human) renderResult(e *emission, r HostResult) {
	res := cleanResult(r)
	label := hostLabel(r)
	switch r.Status {
	case Retrying:
		left := 0
		attempts, okA := toInt(r.Result["attempts"])
		retries, _ := toInt(r.Result["retries"])
		if !okA {
			attempts = r.Retries
		}
		left = retries - attempts
		name := strings.TrimSpace(r.Task.Name)
		if name == "" {
			name = r.Task.Module
		}
		msg := fmt.Sprintf("FAILED - RETRYING: [%s]: %s (%d retries left).", label, name, left)
		if h.verbose(r, 2) {
			msg += "Result was: " + h.dump(r, res)
		}
		h.display(e, msg, colorDebug)
		return
	case Async:
		h.display(e, asyncLine(r), colorDebug)
		return
	case Unreachable:
		h.display(e, fmt.Sprintf("fatal: [%s]: UNREACHABLE! => %s", label, h.dump(r, res)), colorUnreachable)
		return
	case Included:
		msg := fmt.Sprintf("included: %v for %s", r.Result["include"], r.Host)
		if r.IsItem {
			msg += " => (item=" + itemLabel(r) + ")"
		}
		h.display(e, msg, colorSkip)
		return
	case Skipped:
		// Ansible prints a skipped loop's aggregate ("All items
		// skipped") too, without its items.
		if isLoopAggregate(r) {
			delete(res, "results")
		}
		var msg string
		if r.IsItem {
			// Ansible's item line ends with a space before any " => ".
			msg = fmt.Sprintf("skipping: [%s] => (item=%s) ", r.Host, itemLabel(r))
		} else {
			msg = fmt.Sprintf("skipping: [%s]", r.Host)
		}
		if h.verbose(r, 0) {
			msg += " => " + h.dump(r, res)
		}
		h.display(e, msg, colorSkip)
		return
	case Failed, Ignored, Rescued:
		if isLoopAggregate(r) {
			if r.Status == Ignored {
				h.display(e, "...ignoring", colorSkip)
			}
			return
		}
		h.exception(e, res)
		h.warnings(e, r, res)
		if r.IsItem {
			h.display(e, fmt.Sprintf("failed: [%s] (item=%s) => %s", label, itemLabel(r), h.dump(r, res)), colorError)
			return
		}
		h.display(e, fmt.Sprintf("fatal: [%s]: FAILED! => %s", label, h.dump(r, res)), colorError)
		if r.Status == Ignored {
			h.display(e, "...ignoring", colorSkip)
		}
		return
	}

	// ok and changed
	if h.opts.Diff && !r.NoLog && r.Status == Changed && len(r.Diff) > 0 {
		if d := renderDiffs(h.p, r.Diff); d != "" {
			e.add(false, d)
		}
	}
	if isLoopAggregate(r) {
		return
	}
	h.warnings(e, r, res)
	word, color := "ok", colorOK
	if r.Status == Changed {
		word, color = "changed", colorChanged
	}
	msg := fmt.Sprintf("%s: [%s]", word, label)
	if r.IsItem {
		msg += " => (item=" + itemLabel(r) + ")"
	}
	if h.verbose(r, 0) {
		msg += " => " + h.dump(r, res)
	}
	h.display(e, msg, color)
}

// warnings prints and removes the result's "warnings" (never for no_log
// results, whose warnings were censored with the rest).
func (h *human) warnings(e *emission, r HostResult, res map[string]any) {
	if r.NoLog {
		return
	}
	for _, w := range resultWarnings(res) {
		h.warning(e, w)
	}
	delete(res, "warnings")
}

// exception is Ansible's _handle_exception: the last line of a traceback
// below -vvv, the whole of it from -vvv on.
func (h *human) exception(e *emission, res map[string]any) {
	x, ok := res["exception"]
	if !ok {
		return
	}
	text := pyStr(x)
	msg := "An exception occurred during task execution. "
	if h.opts.Verbosity < 3 {
		lines := strings.Split(strings.TrimSpace(text), "\n")
		msg += "To see the full traceback, use -vvv. The error was: " + lines[len(lines)-1]
	} else {
		msg = "The full traceback is:\n" + text
		delete(res, "exception")
	}
	h.display(e, msg, colorError)
}

// verbose is Ansible's _run_is_verbose: above the given verbosity, or
// always for results that ask for it (debug), never for results that
// refuse it (fact gathering).
func (h *human) verbose(r HostResult, above int) bool {
	always := false
	if !r.NoLog {
		always = verboseAlways(r)
	}
	override := (!r.NoLog && r.Result["_ansible_verbose_override"] == true) ||
		moduleIs(r.Task, "setup", "gather_facts")
	return (h.opts.Verbosity > above || always) && !override
}

// verboseAlways reports whether r asks to be shown in full at any
// verbosity: the debug action marks its ok results so (not its skips or
// templating failures, which do not come from the action).
func verboseAlways(r HostResult) bool {
	return r.Result["_ansible_verbose_always"] == true ||
		(isDebug(r.Task) && (r.Status == OK || r.Status == Changed))
}

// dump is Ansible's _dump_results for the default callback: the cleaned
// result without internal keys, exception, and (below -vvv) invocation
// and diff, as sorted JSON; indented by 4 for debug-like results and from
// -vvv on, one line otherwise.
func (h *human) dump(r HostResult, res map[string]any) string {
	indent := 0
	if (!r.NoLog && verboseAlways(r)) || h.opts.Verbosity > 2 {
		indent = 4
	}
	out, _ := deepCopy(res).(map[string]any)
	if isDebug(r.Task) {
		// Censored debug results too: Ansible cleans them the same way,
		// which drops their "changed".
		cleanDebug(out)
	}
	stripInternal(out, false)
	if h.opts.Verbosity < 3 {
		delete(out, "invocation")
		delete(out, "diff")
	}
	delete(out, "exception")
	return pyDumps(out, indent)
}

// cleanDebug is Ansible's _clean_results for debug: with msg, only msg
// (and exception/warnings/deprecations) stays; with var, the bookkeeping
// keys go and the variable remains.
func cleanDebug(res map[string]any) {
	if _, ok := res["msg"]; ok {
		for k := range res {
			switch {
			case k == "msg" || k == "exception" || k == "warnings" || k == "deprecations":
			case strings.HasPrefix(k, "_"):
			default:
				delete(res, k)
			}
		}
		return
	}
	for _, k := range []string{"changed", "failed", "skipped", "invocation", "skip_reason"} {
		delete(res, k)
	}
}

// Warn prints "[WARNING]: msg" ("[WARNING]: host: msg" for a host).
func (h *human) Warn(host, msg string) {
	if host != "" {
		msg = host + ": " + msg
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var e emission
	h.warning(&e, msg)
	h.flush(&e)
}

// Recap prints the PLAY RECAP with Ansible's padding and colours.
func (h *human) Recap(hosts []string, stats map[string]*Stats, elapsed time.Duration) {
	var e emission
	h.banner(&e, "PLAY RECAP")
	var b strings.Builder
	for _, host := range hosts {
		var s Stats
		if st := stats[host]; st != nil {
			s = *st
		}
		fmt.Fprintf(&b, "%s : %s %s %s %s %s %s %s\n",
			h.p.hostcolor(host, s),
			h.p.colorize("ok", s.OK, colorOK),
			h.p.colorize("changed", s.Changed, colorChanged),
			h.p.colorize("unreachable", s.Unreachable, colorUnreachable),
			h.p.colorize("failed", s.Failed, colorError),
			h.p.colorize("skipped", s.Skipped, colorSkip),
			h.p.colorize("rescued", s.Rescued, colorOK),
			h.p.colorize("ignored", s.Ignored, colorWarn),
		)
	}
	b.WriteString("\n")
	e.add(false, b.String())
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flush(&e)
}

// Close returns the first write error; the writers are the caller's.
func (h *human) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.writeErr
}

// toInt reads a counter from a result value.
func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// wrapText is a small textwrap.wrap: whitespace runs become one break
// opportunity, lines are filled greedily up to width, and words longer
// than width are cut. (Python also breaks after hyphens; tend does not.)
func wrapText(s string, width int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	cur := ""
	for _, w := range words {
		for utf8.RuneCountInString(w) > width {
			if cur != "" {
				lines = append(lines, cur)
				cur = ""
			}
			r := []rune(w)
			lines = append(lines, string(r[:width]))
			w = string(r[width:])
		}
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// NoHostsLeft prints Ansible's "NO MORE HOSTS LEFT" banner.
func (h *human) NoHostsLeft() {
	var e emission
	h.banner(&e, "NO MORE HOSTS LEFT")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hasLast = false
	h.flush(&e)
}

// asyncLine is Ansible's v2_runner_on_async_poll, _ok or _failed line.
// The job id is shown even for no_log tasks, as Ansible does.
func asyncLine(r HostResult) string {
	jid := pyStr(r.Result["ansible_job_id"])
	switch r.Msg {
	case "ok":
		return fmt.Sprintf("ASYNC OK on %s: jid=%s", r.Host, jid)
	case "failed":
		return fmt.Sprintf("ASYNC FAILED on %s: jid=%s", r.Host, jid)
	}
	return fmt.Sprintf("ASYNC POLL on %s: jid=%s started=%s finished=%s", r.Host, jid, pyStr(r.Result["started"]), pyStr(r.Result["finished"]))
}
