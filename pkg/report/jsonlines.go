package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Event types written by NewJSONLines.
const (
	EventPlaybookStart = "playbook_start"
	EventPlayStart     = "play_start"
	EventTaskStart     = "task_start"
	EventHostResult    = "host_result"
	EventWarning       = "warning"
	EventRecap         = "recap"
)

// Event is one line of NewJSONLines output, a contract like Document:
//
//	{"type": "playbook_start", "playbook": "site.yml"}
//	{"type": "play_start", "play": {"name": ..., "hosts": [...], "check_mode": false}}
//	{"type": "task_start", "task": {"name": ..., "role": ..., "module": ..., ...}}
//	{"type": "host_result", "host": "web1", "task": {...}, "is_item": true, "item": "a",
//	 "status": "changed", "changed": true, "failed": false, "skipped": false,
//	 "unreachable": false, "result": {...}, "diff": [...], "duration_seconds": 0.1}
//	{"type": "warning", "host": "web1", "msg": "..."}
//	{"type": "recap", "hosts": ["web1"], "stats": {"web1": {"ok": 1, ...}}, "elapsed_seconds": 2.5}
//
// host_result carries the fields of Outcome, masked for no_log exactly as
// in Document; "status" is also "retrying" for a failed until: attempt.
type Event struct {
	Type     string    `json:"type"`
	Playbook string    `json:"playbook,omitempty"`
	Play     *PlayInfo `json:"play,omitempty"`
	Task     *TaskInfo `json:"task,omitempty"`
	Host     string    `json:"host,omitempty"`
	IsItem   bool      `json:"is_item,omitempty"`
	Item     any       `json:"item,omitempty"`
	*Outcome
	Msg            string                 `json:"msg,omitempty"`
	Hosts          []string               `json:"hosts,omitempty"`
	Stats          map[string]StatsReport `json:"stats,omitempty"`
	ElapsedSeconds float64                `json:"elapsed_seconds,omitempty"`
}

// jsonLines writes one Event per line.
type jsonLines struct {
	opts Options

	mu  sync.Mutex // serialises writes and guards err
	enc *json.Encoder
	err error
}

var _ Reporter = (*jsonLines)(nil)

// NewJSONLines returns a Reporter that writes one JSON object (an Event)
// per line as events happen, for streaming consumers. It is safe for
// concurrent use; each event is one Write. Write errors are kept and
// returned by Close.
func NewJSONLines(w io.Writer, opts Options) Reporter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonLines{opts: opts, enc: enc}
}

func (j *jsonLines) emit(e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Encode writes the whole line with one Write call.
	if err := j.enc.Encode(e); err != nil && j.err == nil {
		j.err = fmt.Errorf("write json lines report: %w", err)
	}
}

func (j *jsonLines) PlaybookStart(path string) {
	j.emit(Event{Type: EventPlaybookStart, Playbook: path})
}

func (j *jsonLines) PlayStart(name string, hosts []string, check bool) {
	j.emit(Event{Type: EventPlayStart, Play: &PlayInfo{Name: name, Hosts: append([]string{}, hosts...), CheckMode: check}})
}

func (j *jsonLines) TaskStart(t Task) {
	ti := taskInfo(t)
	j.emit(Event{Type: EventTaskStart, Task: &ti})
}

func (j *jsonLines) HostResult(r HostResult) {
	r = Censor(r)
	ti := taskInfo(r.Task)
	o := outcome(r, j.opts.Diff)
	// Event.Msg shadows Outcome.Msg in JSON; carry it at the top.
	e := Event{Type: EventHostResult, Host: r.Host, Task: &ti, IsItem: r.IsItem, Outcome: &o, Msg: o.Msg}
	if r.IsItem {
		e.Item = jsonItem(r)
	}
	j.emit(e)
}

func (j *jsonLines) Warn(host, msg string) {
	j.emit(Event{Type: EventWarning, Host: host, Msg: msg})
}

func (j *jsonLines) Recap(hosts []string, stats map[string]*Stats, elapsed time.Duration) {
	sr := make(map[string]StatsReport, len(hosts))
	for _, h := range hosts {
		var s Stats
		if st := stats[h]; st != nil {
			s = *st
		}
		sr[h] = statsReport(s)
	}
	j.emit(Event{Type: EventRecap, Hosts: append([]string{}, hosts...), Stats: sr, ElapsedSeconds: elapsed.Seconds()})
}

func (j *jsonLines) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// NoHostsLeft is emitted as a warning event.
func (j *jsonLines) NoHostsLeft() { j.Warn("", "no more hosts left") }
