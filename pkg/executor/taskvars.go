package executor

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// isDynamicInclude reports whether a parent is an include_tasks or
// include_role: its keywords apply to the include itself, only its vars
// reach the included tasks.
func isDynamicInclude(t *playbook.Task) bool {
	return t.Action == "include_tasks" || t.Action == "include_role"
}

// chain returns t and the ancestors whose keywords t inherits, innermost
// first.
func chain(t *playbook.Task) []*playbook.Task {
	out := []*playbook.Task{t}
	for p := t.Parent; p != nil; p = p.Parent {
		if isDynamicInclude(p) {
			break
		}
		out = append(out, p)
	}
	return out
}

// delegateTo is the task's delegate_to, or else the innermost enclosing
// block's: a block's delegate_to applies to its tasks, as in Ansible.
func delegateTo(t *playbook.Task) string {
	for _, a := range chain(t) {
		if a.DelegateTo != "" {
			return a.DelegateTo
		}
	}
	return ""
}

// roleOf returns the innermost role block around t and its role.
func roleOf(t *playbook.Task) *playbook.Role {
	if t.Role != nil {
		return t.Role
	}
	for p := t.Parent; p != nil; p = p.Parent {
		if p.Role != nil {
			return p.Role
		}
	}
	return nil
}

// roleChain returns the roles enclosing t, outermost first, so the
// innermost role's defaults and vars win.
func roleChain(t *playbook.Task) []*playbook.Role {
	var rs []*playbook.Role
	seen := map[*playbook.Role]bool{}
	for a := t; a != nil; a = a.Parent {
		if a.Role != nil && !seen[a.Role] {
			seen[a.Role] = true
			rs = append(rs, a.Role)
		}
	}
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// taskVars builds the variables visible to task t on host h, in Ansible's
// precedence order, plus magic variables.
func (p *playRun) taskVars(h *hostState, t *playbook.Task, extra map[string]any) map[string]any {
	inv, facts, include, factVars := h.layers()
	roles := roleChain(t)
	layers := make([]map[string]any, 0, 16)
	layers = append(layers, p.r.opts.DefaultVars, p.roleDefaults)
	for _, r := range roles {
		layers = append(layers, r.Defaults)
	}
	layers = append(layers, inv, factVarsOf(facts, h.plainFacts()), p.play.Vars, p.varsFilesOf(h.name), p.roleVars)
	for _, r := range roles {
		layers = append(layers, r.Vars)
	}
	// Block and task vars, outermost first; include params travel the
	// same way (vars on include_tasks/include_role reach the included
	// tasks).
	var scoped []map[string]any
	var params []map[string]any
	for a := t; a != nil; a = a.Parent {
		if a.Vars != nil {
			scoped = append(scoped, a.Vars)
		}
		if a.RoleParams != nil {
			params = append(params, a.RoleParams)
		}
	}
	for i := len(scoped) - 1; i >= 0; i-- {
		layers = append(layers, scoped[i])
	}
	layers = append(layers, include, factVars)
	for i := len(params) - 1; i >= 0; i-- {
		layers = append(layers, params[i])
	}
	layers = append(layers, extra, p.r.opts.ExtraVars)
	n := len(p.magic) + 12
	for _, l := range layers {
		n += len(l)
	}
	// Sized for the magic variables too, so adding them never grows it.
	m := make(map[string]any, n)
	for _, l := range layers {
		for k, v := range l {
			m[k] = v
		}
	}
	p.addMagic(m, h, t)
	m[template.VarOrderKey] = template.VarOrder(h.definitionOrder)
	return m
}

// playMagic builds the magic variables that are the same for every host
// and task of the play.
func (p *playRun) playMagic() map[string]any {
	playRoles, allRoles, depRoles := p.roleNames()
	return map[string]any{
		"role_names":                   playRoles,
		"ansible_play_role_names":      playRoles,
		"ansible_role_names":           allRoles,
		"ansible_dependent_role_names": depRoles,
		"groups":                       template.Lazy(func() any { return p.groupsVar() }),
		"hostvars":                     template.Lazy(func() any { return p.hostvars() }),
		"ansible_play_hosts_all":       p.allList,
		"ansible_play_name":            p.play.Name,
		"ansible_check_mode":           p.r.opts.Check,
		"ansible_diff_mode":            p.r.opts.Diff,
		"ansible_verbosity":            p.r.opts.Verbosity,
		"ansible_forks":                p.r.opts.Forks,
		"ansible_run_tags":             toAnyList(orDefault(p.r.opts.Tags, []string{"all"})),
		"ansible_skip_tags":            toAnyList(p.r.opts.SkipTags),
		"ansible_version":              map[string]any{"full": p.r.opts.Version, "string": p.r.opts.Version},
		"playbook_dir":                 p.play.Dir,
		"omit":                         p.r.omit,
	}
}

// roleNames are the play's role names as Ansible's magic variables list
// them: the roles of roles: and import_role, every role they depend on,
// and both. (Ansible
// builds the last two from sets; they are sorted here.)
func (p *playRun) roleNames() (play, all, deps []any) {
	play = []any{}
	seen, depSeen := map[string]bool{}, map[string]bool{}
	var walkDeps func(r *playbook.Role)
	walkDeps = func(r *playbook.Role) {
		for _, d := range r.Deps {
			if d.Role != nil && !depSeen[d.Role.Name] {
				depSeen[d.Role.Name] = true
				walkDeps(d.Role)
			}
		}
	}
	for _, r := range p.play.PlayRoles {
		play = append(play, r.Name)
		seen[r.Name] = true
		walkDeps(r)
	}
	for n := range depSeen {
		seen[n] = true
	}
	all = []any{}
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		all = append(all, n)
	}
	deps = []any{}
	for _, n := range slices.Sorted(maps.Keys(depSeen)) {
		deps = append(deps, n)
	}
	return play, all, deps
}

// parentRoles are the roles that brought t's role in with import_role or
// include_role, the nearest first (Ansible's ansible_parent_role_names and
// _paths); none for a role of roles: or a dependency.
func parentRoles(t *playbook.Task) (names, paths []any) {
	for c := t; c != nil; c = c.Parent {
		if !c.RoleBlock {
			continue
		}
		if c.RoleVia == "" || c.Parent == nil {
			return nil, nil
		}
		parent := roleOf(c.Parent)
		if parent == nil {
			return nil, nil
		}
		names, paths = parentRoles(c.Parent)
		return append([]any{parent.Name}, names...), append([]any{parent.Path}, paths...)
	}
	return nil, nil
}

// addMagic sets the variables Ansible defines itself; they cannot be
// overridden.
func (p *playRun) addMagic(m map[string]any, h *hostState, t *playbook.Task) {
	inv := p.r.opts.Inventory
	for k, v := range p.magic {
		m[k] = v
	}
	m["inventory_hostname"] = h.name
	short, _, _ := strings.Cut(h.name, ".")
	m["inventory_hostname_short"] = short
	m["group_names"] = p.groupNames(h.name)
	m["play_hosts"] = p.batchList
	m["ansible_play_hosts"] = p.activeList()
	m["ansible_play_batch"] = p.batchList
	dir, file := inv.Source(h.name)
	m["inventory_dir"] = dir
	m["inventory_file"] = file
	if h.failedTask != nil {
		m["ansible_failed_task"] = h.failedTask
		m["ansible_failed_result"] = h.failedRes
	}
	if r := roleOf(t); r != nil {
		m["role_path"] = r.Path
		m["role_name"] = r.Name
		m["ansible_role_name"] = r.Name
	}
	if names, paths := parentRoles(t); len(names) > 0 {
		m["ansible_parent_role_names"] = names
		m["ansible_parent_role_paths"] = paths
	}
	m["ansible_search_path"] = toAnyList(searchPath(t, p.play.Dir))
	if t != nil && t.Pos.File != "" {
		m["ansible_task_file"] = filepath.Clean(t.Pos.File)
	}
}

func orDefault(l, d []string) []string {
	if len(l) == 0 {
		return d
	}
	return l
}

func toAnyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// inherited returns the nearest non-nil value of a keyword along t's
// chain, then the play's.
func inherited(t *playbook.Task, get func(*playbook.Task) any, play any) any {
	for _, a := range chain(t) {
		if v := get(a); v != nil {
			return v
		}
	}
	return play
}

// effectiveTags returns the tags of t and everything it inherits from.
func (p *playRun) effectiveTags(t *playbook.Task) []string {
	tags := append([]string(nil), p.play.Tags...)
	for _, a := range chain(t) {
		tags = append(tags, a.Tags...)
	}
	return tags
}
