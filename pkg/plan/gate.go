package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/report"
)

// Recorder is the executor.StepGate of a planning run (check mode): it
// records every host's steps and lets them run.
type Recorder struct {
	mu    sync.Mutex
	hosts map[string][]Step
	after map[string]bool
}

// Step records one step.
func (r *Recorder) Step(host string, key executor.StepKey, p *module.Plan, m executor.StepMeta) error {
	s := newStep(key, p, m)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts, r.after = map[string][]Step{}, map[string]bool{}
	}
	s.AfterUnpredictable = r.after[host]
	if s.Unpredictable {
		r.after[host] = true
	}
	steps := r.hosts[host]
	if n := len(steps); m.Retry && n > 0 && steps[n-1].StepKey == key {
		// until/retries: the last attempt's plan is the one kept.
		steps[n-1] = s
		return nil
	}
	r.hosts[host] = append(steps, s)
	return nil
}

// newStep is how a step of a check run is saved.
func newStep(key executor.StepKey, p *module.Plan, m executor.StepMeta) Step {
	s := Step{StepKey: key, NoLog: m.NoLog}
	switch {
	case m.Skipped:
		s.Skipped = true
		switch {
		case m.CheckModeCondition && m.Include:
			s.Unpredictable, s.Why = true, "check mode skipped this include (its when: reads ansible_check_mode): the tasks it includes are not in the plan"
		case m.CheckModeCondition:
			s.Unpredictable, s.Why = true, "check mode skipped it: its when: reads ansible_check_mode"
		}
		return s
	case m.Include:
		return s
	case m.PlanFailed || planFailed(p):
		s.Unpredictable, s.Why = true, "its check failed when the plan was made (check mode cannot see what earlier tasks would have done)"
		return s
	case !m.Check:
		s.RanInPlan = true
	default:
		s.Changed = p.Changed
		if p.Unpredictable && p.Changed {
			s.Unpredictable, s.Why = true, "command or shell without creates/removes, or a module without check mode"
		}
	}
	s.Fingerprint, s.Change, s.Delta = Fingerprint(p), ChangeFingerprint(p), DeltaFingerprint(p)
	if !m.NoLog && !s.RanInPlan && len(p.Diff) > 0 {
		s.Diff = p.Diff
	}
	return s
}

// Steps returns what was recorded, by host.
func (r *Recorder) Steps() map[string][]Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]Step, len(r.hosts))
	for h, s := range r.hosts {
		out[h] = slices.Clone(s)
	}
	return out
}

// Mismatch is a step whose new plan is not the saved one.
type Mismatch struct {
	Host string `json:"host"`
	// Planned is the saved step, nil when the plan has no step here.
	Planned *Step `json:"planned,omitempty"`
	// Now is the task that ran.
	Now executor.StepKey `json:"now"`
	// What says what differs.
	What string `json:"what"`
}

func (m Mismatch) Error() string {
	return fmt.Sprintf("%s: plan mismatch at task %q (%s): %s", m.Host, displayTask(m.Now), m.Now.Location, m.What)
}

// Gate is the executor.StepGate of tend apply: each host's steps must
// come in the saved order, and each new plan must equal the saved one.
// A host whose step does not match fails that task and every host step
// after it, so it is not changed any further; with AllOrNothing every
// host stops.
//
// While nothing has been changed on a host in this run, a step must
// match the saved plan exactly: what it found on the host (the diff's
// before side, the module's result) and what it would do. Once an
// earlier step changed the host, what a step finds may differ from check
// mode's prediction because of that change (a package installs a default
// configuration file that the next task replaces), so from then on only
// what it would do is compared: whether it changes the host, and either
// the after side of its diff (a template replacing whatever a package
// installed) or the lines its diff adds and removes (a line added to a
// file an earlier task wrote).
type Gate struct {
	saved map[string][]Step
	// Check: the preflight of --all-or-nothing, where nothing is applied.
	check              bool
	allowUnpredictable bool
	allOrNothing       bool

	mu         sync.Mutex
	next       map[string]int
	changed    map[string]bool
	free       map[string]bool // inside an include check mode skipped
	stopped    map[string]bool
	stopAll    bool
	mismatches []Mismatch
}

// NewGate returns the gate for the saved steps. check is true for a run
// in check mode (nothing is applied, so every step is compared exactly).
func NewGate(saved map[string][]Step, check, allowUnpredictable, allOrNothing bool) *Gate {
	return &Gate{saved: saved, check: check, allowUnpredictable: allowUnpredictable, allOrNothing: allOrNothing,
		next: map[string]int{}, changed: map[string]bool{}, free: map[string]bool{}, stopped: map[string]bool{}}
}

// Step checks one step against the plan.
func (g *Gate) Step(host string, key executor.StepKey, p *module.Plan, m executor.StepMeta) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped[host] {
		return fmt.Errorf("not run: %s stopped at an earlier plan mismatch, before changing anything further", host)
	}
	if g.stopAll {
		g.stopped[host] = true
		return fmt.Errorf("not run: a plan mismatch on another host stopped every host (--all-or-nothing)")
	}
	want, err := g.position(host, key, m)
	if want == nil || err != nil {
		return err
	}
	switch {
	case want.RanInPlan:
		// check_mode: false: it ran for real when the plan was made.
		return nil
	case want.Unpredictable:
		if !g.allowUnpredictable {
			return g.mismatch(Mismatch{Host: host, Planned: want, Now: key, What: "the plan could not predict this task (" + want.Why + "); it runs only with --allow-unpredictable"})
		}
		g.changed[host] = g.changed[host] || !g.check
		if want.Skipped && m.Include && !m.Skipped {
			g.free[host] = true
		}
		return nil
	case want.Skipped && !m.Skipped:
		return g.mismatch(Mismatch{Host: host, Planned: want, Now: key, What: "the plan skipped this task (its when: was false); now it runs"})
	case m.Skipped:
		if want.Changed {
			return g.mismatch(Mismatch{Host: host, Planned: want, Now: key, What: "the plan would change the host here; now the task is skipped (its when: is false)"})
		}
		return nil
	case m.Include || m.PlanFailed || planFailed(p):
		// An include changes nothing itself; a failed check fails the
		// task on its own, changing nothing.
		return nil
	}
	exact := !g.changed[host]
	got := Fingerprint(p)
	if !exact {
		got = ChangeFingerprint(p)
	}
	if (exact && got != want.Fingerprint) || (!exact && got != want.Change && DeltaFingerprint(p) != want.Delta) {
		return g.mismatch(Mismatch{Host: host, Planned: want, Now: key, What: describe(want, p, m.NoLog, exact)})
	}
	if p.Changed && !g.check {
		g.changed[host] = true
	}
	return nil
}

// position finds the saved step key must be: the host's next one (the
// same again for a retry). It returns nil and no error for a step inside
// an include the plan could not see, and an error when key is not the
// step the plan has next.
func (g *Gate) position(host string, key executor.StepKey, m executor.StepMeta) (*Step, error) {
	saved := g.saved[host]
	i := g.next[host]
	if g.free[host] {
		// Inside an include the plan could not see: its steps are not
		// in the plan; the plan resumes at its next step.
		if i >= len(saved) || saved[i].StepKey != key {
			return nil, nil
		}
		g.free[host] = false
	}
	if m.Retry && i > 0 && saved[i-1].StepKey == key {
		i--
	} else {
		g.next[host] = i + 1
	}
	if i >= len(saved) {
		return nil, g.mismatch(Mismatch{Host: host, Now: key, What: "the plan has no further task on this host: the playbook, inventory, variables or host state now take another path"})
	}
	want := &saved[i]
	if want.StepKey != key {
		return nil, g.mismatch(Mismatch{Host: host, Planned: want, Now: key,
			What: fmt.Sprintf("the plan's next task on this host is %q (%s): the playbook, inventory, variables or host state now take another path", displayTask(want.StepKey), want.Location)})
	}
	return want, nil
}

func (g *Gate) mismatch(m Mismatch) error {
	g.mismatches = append(g.mismatches, m)
	g.stopped[m.Host] = true
	if g.allOrNothing {
		g.stopAll = true
	}
	return m
}

// Mismatches returns the mismatches met, in order.
func (g *Gate) Mismatches() []Mismatch {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.mismatches)
}

// Unreached returns, for each host that did not stop at a mismatch, the
// planned changes that never came (the run ended early on the host, or a
// condition now skips them), as mismatches. failed hosts are left out:
// their failure says why.
func (g *Gate) Unreached(failed func(host string) bool) []Mismatch {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Mismatch
	for _, h := range slices.Sorted(maps.Keys(g.saved)) {
		if g.stopped[h] || failed(h) {
			continue
		}
		for i := g.next[h]; i < len(g.saved[h]); i++ {
			s := g.saved[h][i]
			if s.Changed && !s.Unpredictable {
				out = append(out, Mismatch{Host: h, Planned: &s, Now: s.StepKey, What: "this planned change did not run"})
			}
		}
	}
	return out
}

// planFailed reports whether a module's check failed: Plan returned an
// error (p is nil) or a failed result, and changes nothing.
func planFailed(p *module.Plan) bool {
	if p == nil {
		return true
	}
	f, _ := p.Result["failed"].(bool)
	return f && !p.Changed
}

// describe says how p differs from the saved step.
func describe(want *Step, p *module.Plan, noLog, exact bool) string {
	switch {
	case want.Changed && !p.Changed:
		return "the plan said it would change the host; now nothing would change (the host was changed since the plan was made)"
	case !want.Changed && p.Changed:
		return "the plan said nothing would change; now it would change the host (the host drifted, or an input of the task changed)"
	case noLog || want.NoLog:
		return "the change differs from the plan's (details hidden: no_log)"
	}
	var b strings.Builder
	if exact {
		b.WriteString("the host's state differs from what the plan saw (it drifted since the plan was made)")
	} else {
		b.WriteString("the change differs from the plan's")
	}
	if d := diffOfDiffs(want.Diff, p.Diff, exact); d != "" {
		b.WriteString(":\n")
		b.WriteString(d)
	}
	return strings.TrimRight(b.String(), "\n")
}

// diffOfDiffs shows how the new plan's diffs differ from the saved ones:
// the before sides (what the module found) or, when !exact, the after
// sides.
func diffOfDiffs(saved, now []module.Diff, exact bool) string {
	var out []module.Diff
	for i := 0; i < max(len(saved), len(now)); i++ {
		var s, n module.Diff
		if i < len(saved) {
			s = saved[i]
		}
		if i < len(now) {
			n = now[i]
		}
		pair := module.Diff{BeforeHeader: "planned", AfterHeader: "now", Before: s.Before, After: n.Before}
		if !exact || s.Before == n.Before {
			pair.Before, pair.After = s.After, n.After
			pair.BeforeHeader, pair.AfterHeader = "planned change", "change now"
		}
		if pair.Before != pair.After {
			h := firstNonEmpty(n.BeforeHeader, n.AfterHeader, s.BeforeHeader, s.AfterHeader)
			if h != "" {
				pair.BeforeHeader += " (" + h + ")"
				pair.AfterHeader += " (" + h + ")"
			}
			out = append(out, pair)
		}
	}
	return report.UnifiedDiff(out)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// ChangeFingerprint is the hash of what a plan would do, without what it
// found: changed, unpredictable and the after side of its diff.
func ChangeFingerprint(p *module.Plan) string {
	afters := make([][2]string, len(p.Diff))
	for i, d := range p.Diff {
		afters[i] = [2]string{d.AfterHeader, d.After}
	}
	data, _ := json.Marshal(map[string]any{"changed": p.Changed, "unpredictable": p.Unpredictable, "after": afters})
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DeltaFingerprint is the hash of the lines a plan's diff adds and
// removes (as multisets, without context), with changed and
// unpredictable: what a change does to a file, whatever else is in it.
func DeltaFingerprint(p *module.Plan) string {
	deltas := make([][2][]string, len(p.Diff))
	for i, d := range p.Diff {
		deltas[i] = lineDelta(d.Before, d.After)
	}
	data, _ := json.Marshal(map[string]any{"changed": p.Changed, "unpredictable": p.Unpredictable, "delta": deltas})
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// lineDelta returns the lines only in before (removed) and only in after
// (added), counted as multisets, sorted.
func lineDelta(before, after string) [2][]string {
	count := map[string]int{}
	for _, l := range strings.Split(before, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(after, "\n") {
		count[l]--
	}
	var removed, added []string
	for l, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, l)
		}
		for ; n < 0; n++ {
			added = append(added, l)
		}
	}
	slices.Sort(removed)
	slices.Sort(added)
	return [2][]string{removed, added}
}

// EventRecorder is a report.Reporter that keeps the events of a run for
// the plan file. Results reach it censored (the executor censors every
// result before any reporter sees it).
type EventRecorder struct {
	mu     sync.Mutex
	events []Event
}

// Events returns the events recorded.
func (r *EventRecorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *EventRecorder) add(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// PlaybookStart implements report.Reporter.
func (r *EventRecorder) PlaybookStart(path string) { r.add(Event{Kind: "playbook", Name: path}) }

// PlayStart implements report.Reporter.
func (r *EventRecorder) PlayStart(name string, hosts []string, check bool) {
	r.add(Event{Kind: "play", Name: name, Hosts: hosts, Check: check})
}

// TaskStart implements report.Reporter.
func (r *EventRecorder) TaskStart(t report.Task) { r.add(Event{Kind: "task", Task: &t}) }

// HostResult implements report.Reporter.
func (r *EventRecorder) HostResult(res report.HostResult) {
	res = report.Censor(res)
	r.add(Event{Kind: "result", Result: &res})
}

// NoHostsLeft implements report.Reporter.
func (r *EventRecorder) NoHostsLeft() { r.add(Event{Kind: "no_hosts_left"}) }

// Warn implements report.Reporter.
func (r *EventRecorder) Warn(host, msg string) { r.add(Event{Kind: "warning", Host: host, Msg: msg}) }

// Recap implements report.Reporter.
func (r *EventRecorder) Recap(hosts []string, stats map[string]*report.Stats, _ time.Duration) {
	r.add(Event{Kind: "recap", Hosts: hosts, Stats: stats})
}

// Close implements report.Reporter.
func (r *EventRecorder) Close() error { return nil }

// Replay sends the recorded events to rep, as the planning run did, and
// closes it.
func Replay(events []Event, rep report.Reporter) error {
	for _, e := range events {
		switch e.Kind {
		case "playbook":
			rep.PlaybookStart(e.Name)
		case "play":
			rep.PlayStart(e.Name, e.Hosts, e.Check)
		case "task":
			if e.Task != nil {
				rep.TaskStart(*e.Task)
			}
		case "result":
			if e.Result != nil {
				rep.HostResult(*e.Result)
			}
		case "no_hosts_left":
			rep.NoHostsLeft()
		case "warning":
			rep.Warn(e.Host, e.Msg)
		case "recap":
			rep.Recap(e.Hosts, e.Stats, 0)
		}
	}
	return rep.Close()
}
