package executor

import (
	"encoding/json"
	"fmt"

	"github.com/tend-dev/tend/pkg/playbook"
)

// roleRunKey identifies a role block of the play's roles: or of a role's
// dependencies as Ansible's role cache does (the role, its parameters, and
// the when, tags and vars of its reference), so that a role that has run
// on a host is not run there again, unless its meta sets allow_duplicates.
// "" for blocks never deduplicated: other blocks, and the roles of
// import_role and include_role, which run each time.
func roleRunKey(b *playbook.Task) string {
	if !b.RoleBlock || b.RoleVia != "" || b.Role == nil || b.Role.AllowDuplicates {
		return ""
	}
	ident, err := json.Marshal([]any{b.RoleParams, b.When, b.Tags, b.Vars})
	if err != nil {
		ident = []byte(fmt.Sprint(b.RoleParams, b.When, b.Tags, b.Vars))
	}
	return b.Role.Path + "\x00" + string(ident)
}

// roleNotRun returns the hosts on which the role block key has not run.
func (p *playRun) roleNotRun(key string, hosts []*hostState) []*hostState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*hostState
	for _, h := range hosts {
		if !p.rolesRun[key][h.name] {
			out = append(out, h)
		}
	}
	return out
}

// roleRan records that the role block key ran on hosts.
func (p *playRun) roleRan(key string, hosts []*hostState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rolesRun == nil {
		p.rolesRun = map[string]map[string]bool{}
	}
	if p.rolesRun[key] == nil {
		p.rolesRun[key] = map[string]bool{}
	}
	for _, h := range hosts {
		p.rolesRun[key][h.name] = true
	}
}
