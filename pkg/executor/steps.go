package executor

import (
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
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
	// retry is true for a second or later attempt of an until: loop.
	Step(host string, key StepKey, plan *module.Plan, noLog, retry bool) error
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
