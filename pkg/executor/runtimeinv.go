package executor

import (
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// applyInventory applies what group_by or add_host asked for (one task
// or one loop item) to the run's inventory, which modules cannot reach,
// and reports it changed when the inventory changed, as Ansible's
// strategy does.
func (p *playRun) applyInventory(h *hostState, t *playbook.Task, o *outcome) {
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
	if !changed {
		return
	}
	p.inventoryChanged(host)
	if len(t.ChangedWhen) == 0 {
		o.result["changed"] = true
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
