package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tend-dev/tend/pkg/module"
)

// Document is what the JSON reporter (NewJSON) writes at Close. It is a
// contract for scripts: the JSON field names below are stable, new fields
// may be added, none are renamed or removed.
//
//	{
//	  "plays": [
//	    {
//	      "play": {"name": "web", "hosts": ["web1"], "check_mode": false},
//	      "tasks": [
//	        {
//	          "task": {"name": "copy motd", "role": "", "module": "copy",
//	                   "file": "site.yml", "line": 7, "handler": false, "loop": false},
//	          "hosts": {
//	            "web1": {"status": "changed", "changed": true, "failed": false,
//	                     "skipped": false, "unreachable": false,
//	                     "result": {...}, "items": [...], "diff": [...]}
//	          }
//	        }
//	      ]
//	    }
//	  ],
//	  "stats": {"web1": {"ok": 1, "changed": 1, "unreachable": 0, "failed": 0,
//	                     "skipped": 0, "rescued": 0, "ignored": 0}},
//	  "warnings": [{"host": "web1", "msg": "..."}],
//	  "elapsed_seconds": 1.25,
//	  "check_mode": false
//	}
//
// "status" is one of ok, changed, failed, skipped, unreachable, ignored
// (failed under ignore_errors) or rescued (failed, then rescued by a
// block); "failed" is true for the last three. "result" is the module's
// result without internal keys; for no_log tasks it is Ansible's censored
// stand-in, items have a null "item", and "diff" and "msg" are absent.
// "diff" is present only in diff mode. "stats" are the recap counters
// (Ansible's counting, see Tally).
type Document struct {
	Plays          []PlayReport           `json:"plays"`
	Stats          map[string]StatsReport `json:"stats"`
	Warnings       []WarningReport        `json:"warnings"`
	ElapsedSeconds float64                `json:"elapsed_seconds"`
	CheckMode      bool                   `json:"check_mode"`
}

// PlayReport is one play and its tasks in run order.
type PlayReport struct {
	Play  PlayInfo     `json:"play"`
	Tasks []TaskReport `json:"tasks"`
}

// PlayInfo identifies a play.
type PlayInfo struct {
	Name      string   `json:"name"`
	Hosts     []string `json:"hosts"`
	CheckMode bool     `json:"check_mode"`
}

// TaskReport is one task and its result per host.
type TaskReport struct {
	Task  TaskInfo               `json:"task"`
	Hosts map[string]*HostReport `json:"hosts"`
}

// TaskInfo identifies a task; Name is the task's own name (the banner
// shows "role : name").
type TaskInfo struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Module  string `json:"module"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Handler bool   `json:"handler"`
	Loop    bool   `json:"loop"`
}

// Outcome is the result of a task, or of one loop item, on one host.
type Outcome struct {
	Status          Status         `json:"status"`
	Changed         bool           `json:"changed"`
	Failed          bool           `json:"failed"`
	Skipped         bool           `json:"skipped"`
	Unreachable     bool           `json:"unreachable"`
	DelegatedTo     string         `json:"delegated_to,omitempty"`
	Msg             string         `json:"msg,omitempty"`
	Result          map[string]any `json:"result"`
	Diff            []module.Diff  `json:"diff,omitempty"`
	Attempts        int            `json:"attempts,omitempty"`
	DurationSeconds float64        `json:"duration_seconds"`
}

// HostReport is a task's outcome on one host. For a loop, Items holds
// each item's outcome and the outer fields the loop's aggregate (derived
// from the items when the executor sent no aggregate).
type HostReport struct {
	Outcome
	Items []ItemReport `json:"items,omitempty"`
}

// ItemReport is one loop item's outcome; Item is the item's label (null
// under no_log).
type ItemReport struct {
	Item any `json:"item"`
	Outcome
}

// StatsReport are one host's recap counters.
type StatsReport struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Unreachable int `json:"unreachable"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	Rescued     int `json:"rescued"`
	Ignored     int `json:"ignored"`
}

// WarningReport is a warning; Host is empty for run-wide warnings.
type WarningReport struct {
	Host string `json:"host"`
	Msg  string `json:"msg"`
}

func statsReport(s Stats) StatsReport {
	return StatsReport(s)
}

func taskInfo(t Task) TaskInfo {
	return TaskInfo{
		Name: t.Name, Role: t.Role, Module: t.Module, File: t.File,
		Line: t.Line, Handler: t.Handler, Loop: t.Loop,
	}
}

// outcome builds the masked outcome of r. Diffs are kept only in diff
// mode and never for no_log results.
func outcome(r HostResult, withDiff bool) Outcome {
	res := cleanResult(r)
	stripInternal(res, false)
	o := Outcome{
		Status:          r.Status,
		Changed:         isChanged(r),
		Failed:          r.Status == Failed || r.Status == Ignored || r.Status == Rescued,
		Skipped:         r.Status == Skipped,
		Unreachable:     r.Status == Unreachable,
		DelegatedTo:     r.Delegated,
		Result:          sanitize(res),
		Attempts:        r.Retries,
		DurationSeconds: r.Duration.Seconds(),
	}
	if !r.NoLog {
		o.Msg = r.Msg
		if withDiff && len(r.Diff) > 0 {
			o.Diff = append([]module.Diff(nil), r.Diff...)
		}
	}
	return o
}

// jsonItem is the item label as JSON data, null under no_log.
func jsonItem(r HostResult) any {
	if r.NoLog {
		return nil
	}
	return sanitizeValue(r.Item)
}

// sanitize turns a result into plain JSON data (maps, slices, strings,
// numbers, booleans, null) so that encoding the document cannot fail on
// NaN, channels or types without a JSON form.
func sanitize(m map[string]any) map[string]any {
	out, _ := sanitizeValue(m).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func sanitizeValue(v any) any {
	var out any
	dec := json.NewDecoder(strings.NewReader(string(strictJSON(v))))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// jsonReporter collects a Document and writes it at Close.
type jsonReporter struct {
	w     io.Writer
	opts  Options
	start time.Time

	mu     sync.Mutex // guards everything below
	doc    Document
	recap  bool
	stats  map[string]*Stats
	closed bool
}

var _ Reporter = (*jsonReporter)(nil)

// NewJSON returns a Reporter that collects the run and writes one
// Document (see its documentation for the format) to w at Close. It is
// safe for concurrent use.
func NewJSON(w io.Writer, opts Options) Reporter {
	return &jsonReporter{
		w:     w,
		opts:  opts,
		start: time.Now(),
		doc: Document{
			Plays:    []PlayReport{},
			Stats:    map[string]StatsReport{},
			Warnings: []WarningReport{},
		},
		stats: map[string]*Stats{},
	}
}

func (j *jsonReporter) PlaybookStart(string) {}

func (j *jsonReporter) PlayStart(name string, hosts []string, check bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.doc.Plays = append(j.doc.Plays, PlayReport{
		Play:  PlayInfo{Name: name, Hosts: append([]string{}, hosts...), CheckMode: check},
		Tasks: []TaskReport{},
	})
	if check {
		j.doc.CheckMode = true
	}
}

// currentPlay returns the last play, making an unnamed one for events
// that come before any PlayStart. Caller holds mu.
func (j *jsonReporter) currentPlay() *PlayReport {
	if len(j.doc.Plays) == 0 {
		j.doc.Plays = append(j.doc.Plays, PlayReport{Play: PlayInfo{Hosts: []string{}}, Tasks: []TaskReport{}})
	}
	return &j.doc.Plays[len(j.doc.Plays)-1]
}

// task finds t in the current play, latest first (several hosts report
// the same task, maybe interleaved with others), or adds it. Caller
// holds mu.
func (j *jsonReporter) task(t Task, add bool) *TaskReport {
	p := j.currentPlay()
	info := taskInfo(t)
	for i := len(p.Tasks) - 1; i >= 0; i-- {
		if p.Tasks[i].Task == info {
			if !add || i == len(p.Tasks)-1 {
				return &p.Tasks[i]
			}
			break
		}
	}
	p.Tasks = append(p.Tasks, TaskReport{Task: info, Hosts: map[string]*HostReport{}})
	return &p.Tasks[len(p.Tasks)-1]
}

func (j *jsonReporter) TaskStart(t Task) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.task(t, true)
}

func (j *jsonReporter) HostResult(r HostResult) {
	if r.Status == Retrying || r.Status == Async {
		return // an attempt or a poll, not an outcome; the final result carries Attempts
	}
	r = Censor(r)
	o := outcome(r, j.opts.Diff)
	j.mu.Lock()
	defer j.mu.Unlock()
	if r.CheckMode {
		j.doc.CheckMode = true
	}
	Tally(j.stats, r)
	t := j.task(r.Task, false)
	hr := t.Hosts[r.Host]
	if hr == nil {
		hr = &HostReport{}
		t.Hosts[r.Host] = hr
	}
	if r.IsItem {
		hr.Items = append(hr.Items, ItemReport{Item: jsonItem(r), Outcome: o})
		return
	}
	hr.Outcome = o
}

func (j *jsonReporter) Warn(host, msg string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.doc.Warnings = append(j.doc.Warnings, WarningReport{Host: host, Msg: msg})
}

func (j *jsonReporter) Recap(hosts []string, stats map[string]*Stats, elapsed time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recap = true
	j.doc.ElapsedSeconds = elapsed.Seconds()
	j.doc.Stats = map[string]StatsReport{}
	for _, h := range hosts {
		var s Stats
		if st := stats[h]; st != nil {
			s = *st
		}
		j.doc.Stats[h] = statsReport(s)
	}
}

// Close writes the document. Without a Recap, stats are the reporter's
// own tally and the elapsed time is measured from NewJSON. A second Close
// writes nothing.
func (j *jsonReporter) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if !j.recap {
		j.doc.ElapsedSeconds = time.Since(j.start).Seconds()
		for h, s := range j.stats {
			j.doc.Stats[h] = statsReport(*s)
		}
	}
	for pi := range j.doc.Plays {
		for ti := range j.doc.Plays[pi].Tasks {
			for _, hr := range j.doc.Plays[pi].Tasks[ti].Hosts {
				if hr.Status == "" {
					hr.Outcome = aggregate(hr.Items)
				}
			}
		}
	}
	enc := json.NewEncoder(j.w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(j.doc); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// aggregate derives a loop's outcome from its items as Ansible does: failed
// if any item failed, changed if any changed, skipped only if all were.
func aggregate(items []ItemReport) Outcome {
	o := Outcome{Status: OK, Result: map[string]any{}}
	if len(items) == 0 {
		o.Status, o.Skipped = Skipped, true
		return o
	}
	allSkipped, ignoredOnly := true, true
	for _, it := range items {
		if it.Failed && it.Status != Ignored {
			ignoredOnly = false
		}
		o.Changed = o.Changed || it.Changed
		o.Failed = o.Failed || it.Failed
		o.Unreachable = o.Unreachable || it.Unreachable
		o.DurationSeconds += it.DurationSeconds
		allSkipped = allSkipped && it.Skipped
	}
	switch {
	case o.Unreachable:
		o.Status = Unreachable
	case o.Failed && ignoredOnly:
		o.Status = Ignored
	case o.Failed:
		o.Status = Failed
	case allSkipped:
		o.Status, o.Skipped = Skipped, true
	case o.Changed:
		o.Status = Changed
	}
	return o
}

// NoHostsLeft is recorded in the document's warnings.
func (j *jsonReporter) NoHostsLeft() { j.Warn("", "no more hosts left") }
