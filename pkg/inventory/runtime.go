package inventory

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// AddToGroup puts host in group, creating the group and its parents as
// needed and making group a child of each parent: what group_by does
// during a run. Empty parents means all. It reports whether the inventory
// changed, as Ansible's strategy does for the task's changed status.
func (inv *Inventory) AddToGroup(host, group string, parents []string) (bool, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if _, ok := inv.hostIdx[host]; !ok {
		return false, fmt.Errorf("group_by: host %s is not in the inventory", host)
	}
	if len(parents) == 0 {
		parents = []string{"all"}
	}
	changed := false
	if _, ok := inv.groups[group]; !ok {
		inv.addGroup(group)
	}
	for _, p := range parents {
		if _, ok := inv.groups[p]; !ok {
			inv.addGroup(p)
			changed = true
		}
	}
	for _, p := range parents {
		if p == group {
			continue
		}
		if !slices.Contains(inv.groups[p].Children, group) {
			if err := inv.addChild(p, group); err != nil {
				return false, fmt.Errorf("group_by: %w", err)
			}
			changed = true
		}
	}
	if !inv.groupInfo[group].members[host] {
		// Cannot fail: the host and the group exist.
		_ = inv.addHost(host, group, 0, false, "")
		changed = true
	}
	if changed {
		inv.reconcile()
	}
	return changed, nil
}

// AddHost adds host to the inventory (if new) with vars merged over its
// own variables and puts it in groups, creating them as needed: what
// add_host does during a run. It reports whether the inventory changed.
func (inv *Inventory) AddHost(host string, groups []string, vars map[string]any) (bool, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	changed := false
	if _, ok := inv.hostIdx[host]; !ok {
		if err := inv.addHost(host, "ungrouped", 0, false, ""); err != nil {
			return false, fmt.Errorf("add_host: %w", err)
		}
		changed = true
	}
	info := inv.hostInfo[host]
	if len(vars) > 0 && !hasVars(info.inline, vars) {
		// Ansible compares the host's own variables before and after the
		// merge: giving the same values again changes nothing.
		info.inline = maps.Clone(info.inline)
		maps.Copy(info.inline, vars)
		changed = true
	}
	for _, g := range groups {
		if _, ok := inv.groups[g]; !ok {
			inv.addGroup(g)
			changed = true
		}
		if !inv.groupInfo[g].members[host] {
			_ = inv.addHost(host, g, 0, false, "")
			changed = true
		}
	}
	if changed {
		inv.reconcile()
		h := inv.hostIdx[host]
		h.Vars = deepCopyMap(inv.ownHostVars(host, info.inline))
	}
	return changed, nil
}

// hasVars reports whether have already holds every variable of want with
// an equal value.
func hasVars(have, want map[string]any) bool {
	for k, v := range want {
		hv, ok := have[k]
		if !ok || !reflect.DeepEqual(hv, v) {
			return false
		}
	}
	return true
}
