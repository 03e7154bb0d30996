package executor

import (
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// StepKey identifies one module run on a host: a task (by its place in
// the playbook, name and module) and, in a loop, the item's index.
type StepKey struct {
	Task     string `json:"task"`
	Role     string `json:"role,omitempty"`
	Location string `json:"location"`
	Module   string `json:"module"`
	// Item is the loop item's index, -1 for a task without a loop.
	Item int `json:"item"`
}

// StepGate sees every module that runs on a host (controller-only modules
// such as set_fact and debug excepted) between its Plan and anything that
// may change the host. Saved plans record the steps in check mode and
// compare them before applying (package plan). An error fails the task
// on that host without changing it. Step is called from many goroutines.
type StepGate interface {
	// plan is nil when the module's Plan failed or the task was skipped
	// (m says which).
	Step(host string, key StepKey, plan *module.Plan, m StepMeta) error
}

// StepMeta says how a step ran.
type StepMeta struct {
	NoLog bool
	// Retry is true for a second or later attempt of an until: loop.
	Retry bool
	// Check is the task's check mode: false in a check run for a task
	// with check_mode: false, which runs for real.
	Check bool
	// PlanFailed: the module's Plan returned an error (plan is nil).
	PlanFailed bool
	// Skipped: the task's when: was false (plan is nil);
	// CheckModeCondition says a when: of the task mentions
	// ansible_check_mode, so check mode skips or runs it where a real
	// run would not.
	Skipped, CheckModeCondition bool
	// Include: the step is an include_tasks or include_role (plan is
	// nil): what it includes is the steps that follow.
	Include bool
}

// skippedStep tells the run's StepGate that t was skipped on h by its
// when: conditions; an error fails the task instead.
func (p *playRun) skippedStep(t *playbook.Task, h *hostState, vars map[string]any, noLog bool) *outcome {
	g := p.r.opts.Steps
	if g == nil {
		return conditionSkipped(t)
	}
	if !isInclude(t) {
		mod, ok := p.r.opts.Registry.Lookup(t.Action)
		if !ok && p.r.opts.Custom != nil {
			mod, ok = p.r.opts.Custom.Lookup(t.Action)
		}
		if !ok || mod.Spec().Controller {
			return conditionSkipped(t)
		}
	}
	m := StepMeta{NoLog: noLog, Skipped: true, Check: p.r.opts.Check, Include: isInclude(t)}
	if p.r.opts.Check && strings.Contains(condString(t), "ansible_check_mode") {
		// Skipped because of check mode only if a real run would run it.
		real, err := p.conditionsHold(t, mergeVars(vars, map[string]any{"ansible_check_mode": false}))
		m.CheckModeCondition = err != nil || real
	}
	if err := g.Step(h.name, stepKey(t, vars), nil, m); err != nil {
		return &outcome{status: report.Failed, result: module.Failed("%v", err)}
	}
	return conditionSkipped(t)
}

// stepKey is t's key on a host whose task variables are vars.
func stepKey(t *playbook.Task, vars map[string]any) StepKey {
	k := StepKey{Task: t.DisplayName(), Location: t.Pos.String(), Module: t.Action, Item: -1}
	if t.Role != nil {
		k.Role = t.Role.Name
	}
	if t.HasLoop {
		if l, ok := vars["ansible_loop"].(map[string]any); ok {
			if i, ok := l["index0"].(int); ok {
				k.Item = i
			}
		}
	}
	return k
}

// recordInput tells the run's Input callback, if any, that path was read.
func (r *runner) recordInput(path string) {
	if r.opts.Input != nil {
		r.opts.Input(path)
	}
}

// includeStep tells the run's StepGate that an include runs on h; a
// failed outcome is returned when the gate refuses it.
func (p *playRun) includeStep(t *playbook.Task, h *hostState, vars map[string]any, noLog bool) *outcome {
	g := p.r.opts.Steps
	if g == nil {
		return nil
	}
	if err := g.Step(h.name, stepKey(t, vars), nil, StepMeta{NoLog: noLog, Check: p.r.opts.Check, Include: true}); err != nil {
		return &outcome{status: report.Failed, result: module.Failed("%v", err)}
	}
	return nil
}
