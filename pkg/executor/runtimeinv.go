package executor

import (
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
)

// applyInventory applies what group_by or add_host asked for (one task
// or one loop item) to the run's inventory, which modules cannot reach,
// and reports it changed when the inventory changed, as Ansible's
// strategy does. With changed_when or failed_when, the strategy then
// evaluates them again, the result (changed as the inventory says)
// registered under the task's register name: vars are the task's (or
// the item's) variables for that.
func (p *playRun) applyInventory(h *hostState, t *playbook.Task, o *outcome, vars map[string]any) {
	if t.Action != "group_by" && t.Action != "add_host" {
		return
	}
	if o.status != report.OK && o.status != report.Changed {
		return
	}
	changed, host, err := p.applyInventoryResult(h, o.result)
	if err != nil {
		o.status = report.Failed
		o.result = module.Failed("%v (task at %s)", err, t.Pos)
		return
	}
	if changed {
		p.inventoryChanged(host)
	}
	if (len(t.ChangedWhen) == 0 && len(t.FailedWhen) == 0) || vars == nil {
		if changed && len(t.ChangedWhen) == 0 {
			o.result["changed"] = true
			o.status = report.Changed
		}
		return
	}
	o.result["changed"] = changed
	if t.Register != "" {
		vars = mergeVars(vars, map[string]any{t.Register: template.MarkUnsafe(copyMap(o.result))})
	}
	if len(t.ChangedWhen) > 0 {
		c, err := p.allTrue(t.ChangedWhen, vars)
		if err != nil {
			*o = *p.conditionFailure(t, o, "changed_when", err)
			return
		}
		o.result["changed"] = c
	}
	if len(t.FailedWhen) > 0 {
		// Ansible's strategy records it in the result only: the task's
		// status was settled before.
		f, err := p.allTrue(t.FailedWhen, vars)
		if err != nil {
			*o = *p.conditionFailure(t, o, "failed_when", err)
			return
		}
		o.result["failed_when_result"], o.result["failed"] = f, f
	}
	o.status = report.OK
	if c, _ := o.result["changed"].(bool); c {
		o.status = report.Changed
	}
}

// applyInventoryResult applies one result (one loop item) and returns
// whether the inventory changed and the host whose variables may have.
// A result that is neither (a failure) changes nothing.
func (p *playRun) applyInventoryResult(h *hostState, res module.Result) (bool, string, error) {
	inv := p.r.opts.Inventory
	if g, ok := res["add_group"].(string); ok {
		var parents []string
		ps, _ := res["parent_groups"].([]any)
		for _, x := range ps {
			parents = append(parents, fmt.Sprint(x))
		}
		changed, err := inv.AddToGroup(h.name, g, parents)
		return changed, h.name, err
	}
	add, ok := res["add_host"].(map[string]any)
	if !ok {
		return false, "", nil
	}
	name, _ := add["host_name"].(string)
	var groups []string
	gs, _ := add["groups"].([]any)
	for _, x := range gs {
		groups = append(groups, fmt.Sprint(x))
	}
	hv, _ := add["host_vars"].(map[string]any)
	changed, err := inv.AddHost(name, groups, hv)
	return changed, name, err
}
