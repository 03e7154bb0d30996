package inventory

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/tend-dev/tend/pkg/odict"
)

// Host is one inventory host.
type Host struct {
	Name string
	// Vars holds the host's own variables: inline vars from its inventory
	// line or YAML entry, overridden by host_vars files (inventory side, then
	// playbook side). Group variables are not included; see HostVars.
	Vars map[string]any
	// Groups lists every group the host belongs to, directly or through
	// children, including "all" (and "ungrouped" when it applies), sorted.
	// The implicit localhost belongs to no group.
	Groups []string
}

// Group is one inventory group.
type Group struct {
	Name string
	// Vars holds the group's own variables: inline vars ([g:vars] or YAML
	// vars), overridden by group_vars files (inventory side, then playbook
	// side), plus ansible_group_priority when it is not the default 1.
	Vars     map[string]any
	Children []string // direct child groups, in the order they were added
	Parents  []string // direct parent groups, in the order they were added
	Hosts    []string // direct member hosts, in inventory order
}

// Inventory is a loaded set of hosts and groups. Build one with Load.
type Inventory struct {
	// mu guards the inventory once loaded: a run adds hosts and groups
	// (add_host, group_by) while other hosts read it.
	mu sync.RWMutex

	hosts    []*Host
	hostIdx  map[string]*Host
	hostInfo map[string]*hostInfo

	groups    map[string]*Group
	groupList []*Group // creation order, as Ansible's groups dict
	groupInfo map[string]*groupInfo

	// implicit holds the implicit localhost, one per localhost name, used
	// when the inventory does not define one.
	implicit map[string]*Host

	invDirs  []*varsDir // group_vars/host_vars next to each source, in source order
	playDirs []*varsDir // added by AddVarsDir, in call order

	warnings []string

	// vault decrypts vault data in inventory and vars files; nil refuses
	// it (see orNoVault).
	vault Decrypter
}

type hostInfo struct {
	inline map[string]any
	file   string // absolute path of the first source that defined the host
	dir    string
}

type groupInfo struct {
	inline   map[string]any
	members  map[string]bool // set of Group.Hosts
	depth    int
	priority int
}

// maxHosts bounds the inventory size so a few lines of ranges cannot
// exhaust memory; real inventories are far smaller.
const maxHosts = 1000000

// localhostNames are the names Ansible treats as the implicit localhost.
var localhostNames = []string{"localhost", "127.0.0.1", "::1"}

func newInventory() *Inventory {
	inv := &Inventory{
		hostIdx:   map[string]*Host{},
		hostInfo:  map[string]*hostInfo{},
		groups:    map[string]*Group{},
		groupInfo: map[string]*groupInfo{},
		implicit:  map[string]*Host{},
	}
	inv.addGroup("all")
	inv.addGroup("ungrouped")
	// Cannot fail: both groups are new.
	_ = inv.addChild("all", "ungrouped")
	for _, n := range localhostNames {
		inv.implicit[n] = &Host{Name: n, Vars: map[string]any{"ansible_connection": "local"}, Groups: []string{}}
	}
	return inv
}

func (inv *Inventory) warnf(format string, args ...any) {
	inv.warnings = append(inv.warnings, fmt.Sprintf(format, args...))
}

// Warnings returns what Ansible would print as warnings while loading:
// unreadable sources, skipped YAML keys and similar. Never nil-dereferences.
func (inv *Inventory) Warnings() []string { return slices.Clone(inv.warnings) }

func (inv *Inventory) addGroup(name string) *Group {
	if g, ok := inv.groups[name]; ok {
		return g
	}
	g := &Group{Name: name, Vars: map[string]any{}, Children: []string{}, Parents: []string{}, Hosts: []string{}}
	inv.groups[name] = g
	inv.groupList = append(inv.groupList, g)
	inv.groupInfo[name] = &groupInfo{inline: map[string]any{}, members: map[string]bool{}, priority: 1}
	return g
}

// addHost adds host (if new, recording src as its source) and makes it a
// direct member of group. As in Ansible, port only applies to a new host.
func (inv *Inventory) addHost(name, group string, port int, hasPort bool, src string) error {
	if name == "" {
		return errors.New("invalid empty host name")
	}
	g, ok := inv.groups[group]
	if !ok {
		return fmt.Errorf("could not find group %s in inventory", group)
	}
	if _, ok := inv.hostIdx[name]; !ok {
		if len(inv.hosts) >= maxHosts {
			return fmt.Errorf("more than %d hosts: refusing to grow the inventory further", maxHosts)
		}
		h := &Host{Name: name, Vars: map[string]any{}}
		inv.hostIdx[name] = h
		inv.hosts = append(inv.hosts, h)
		info := &hostInfo{inline: map[string]any{}, file: src}
		if src != "" && !isHostList(src) {
			info.dir = filepath.Dir(src)
		}
		inv.hostInfo[name] = info
		if hasPort {
			info.inline["ansible_port"] = port
		}
	}
	if gi := inv.groupInfo[group]; !gi.members[name] {
		gi.members[name] = true
		g.Hosts = append(g.Hosts, name)
	}
	return nil
}

func (inv *Inventory) setHostVar(host, key string, v any) {
	inv.hostInfo[host].inline[key] = v
}

func (inv *Inventory) setGroupVar(group, key string, v any) {
	gi := inv.groupInfo[group]
	if key == "ansible_group_priority" {
		// Like Ansible, this sets the priority and is not kept as a var.
		p, ok := toInt(v)
		if !ok {
			inv.warnf("group %s: ansible_group_priority %v is not an integer; ignored", group, v)
			return
		}
		gi.priority = p
		return
	}
	gi.inline[key] = v
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// ancestors returns every group above g (not g itself).
func (inv *Inventory) ancestors(name string) map[string]bool {
	seen := map[string]bool{}
	stack := slices.Clone(inv.groups[name].Parents)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, inv.groups[n].Parents...)
	}
	return seen
}

// addChild makes child (an existing group) a child of parent, refusing
// loops as Ansible does.
func (inv *Inventory) addChild(parent, child string) error {
	if parent == child {
		return fmt.Errorf("cannot add group %s to itself", parent)
	}
	p, c := inv.groups[parent], inv.groups[child]
	if p == nil || c == nil {
		return fmt.Errorf("%s or %s is not a known group", parent, child)
	}
	if slices.Contains(p.Children, child) {
		return nil
	}
	if inv.ancestors(parent)[child] {
		return fmt.Errorf("adding group %s as child to %s creates a recursive dependency loop", child, parent)
	}
	p.Children = append(p.Children, child)
	if !slices.Contains(c.Parents, parent) {
		c.Parents = append(c.Parents, parent)
	}
	return nil
}

// reconcile completes the group tree once all sources are read, like
// Ansible's reconcile_inventory: orphan groups become children of all,
// hosts without a group go to ungrouped, and hosts that have a real group
// leave ungrouped.
func (inv *Inventory) reconcile() {
	for _, g := range inv.groupList {
		if g.Name != "all" && len(g.Parents) == 0 {
			_ = inv.addChild("all", g.Name) // cannot loop: g has no parents
		}
	}
	ungrouped := inv.groups["ungrouped"]
	closure := inv.membership()
	for _, h := range inv.hosts {
		groups := closure[h.Name]
		if groups["ungrouped"] {
			for g := range groups {
				if g != "all" && g != "ungrouped" {
					ungrouped.Hosts = slices.DeleteFunc(ungrouped.Hosts, func(n string) bool { return n == h.Name })
					delete(inv.groupInfo["ungrouped"].members, h.Name)
					break
				}
			}
		} else if len(groups) == 0 || (len(groups) == 1 && groups["all"]) {
			ungrouped.Hosts = append(ungrouped.Hosts, h.Name)
			inv.groupInfo["ungrouped"].members[h.Name] = true
		}
	}
	// Group membership and depth are final now.
	closure = inv.membership()
	for _, h := range inv.hosts {
		h.Groups = slices.Sorted(maps.Keys(closure[h.Name]))
	}
	depth := map[string]int{}
	var depthOf func(string) int
	depthOf = func(n string) int {
		if d, ok := depth[n]; ok {
			return d
		}
		depth[n] = 0 // the tree has no loops; this only guards recursion
		d := 0
		for _, p := range inv.groups[n].Parents {
			d = max(d, depthOf(p)+1)
		}
		depth[n] = d
		return d
	}
	for _, g := range inv.groupList {
		inv.groupInfo[g.Name].depth = depthOf(g.Name)
	}
}

// membership returns, for every host, the set of groups it belongs to
// directly or through children.
func (inv *Inventory) membership() map[string]map[string]bool {
	anc := map[string]map[string]bool{}
	out := map[string]map[string]bool{}
	for _, g := range inv.groupList {
		if len(g.Hosts) == 0 {
			continue
		}
		a, ok := anc[g.Name]
		if !ok {
			a = inv.ancestors(g.Name)
			a[g.Name] = true
			anc[g.Name] = a
		}
		for _, h := range g.Hosts {
			if out[h] == nil {
				out[h] = map[string]bool{}
			}
			maps.Copy(out[h], a)
		}
	}
	return out
}

// refreshVars recomputes the public Vars fields from inline vars and the
// loaded vars directories.
func (inv *Inventory) refreshVars() {
	for _, g := range inv.groupList {
		v := maps.Clone(inv.groupInfo[g.Name].inline)
		for _, d := range inv.allVarsDirs() {
			maps.Copy(v, d.groups[g.Name])
		}
		if p := inv.groupInfo[g.Name].priority; p != 1 {
			// Shown as ansible-inventory --export does; it never reaches
			// HostVars.
			v["ansible_group_priority"] = p
		}
		g.Vars = deepCopyMap(v)
	}
	for _, h := range inv.hosts {
		h.Vars = deepCopyMap(inv.ownHostVars(h.Name, inv.hostInfo[h.Name].inline))
	}
	for n, h := range inv.implicit {
		h.Vars = deepCopyMap(inv.ownHostVars(n, map[string]any{"ansible_connection": "local"}))
	}
}

func (inv *Inventory) ownHostVars(name string, inline map[string]any) map[string]any {
	v := maps.Clone(inline)
	for _, d := range inv.allVarsDirs() {
		maps.Copy(v, d.hosts[name])
	}
	return v
}

func (inv *Inventory) allVarsDirs() []*varsDir {
	return append(slices.Clone(inv.invDirs), inv.playDirs...)
}

// Hosts returns all hosts in inventory order (the order in which they were
// first defined). The implicit localhost is not included.
func (inv *Inventory) Hosts() []*Host {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	return slices.Clone(inv.hosts)
}

// Host returns the named host. For "localhost", "127.0.0.1" and "::1" it
// falls back to the localhost the inventory defines under another of those
// names, then to the implicit localhost (ansible_connection=local, no
// groups), as Ansible does.
func (inv *Inventory) Host(name string) (*Host, bool) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	return inv.host(name)
}

func (inv *Inventory) host(name string) (*Host, bool) {
	if h, ok := inv.hostIdx[name]; ok {
		return h, true
	}
	if h, ok := inv.implicit[name]; ok {
		for _, n := range inv.hosts {
			if slices.Contains(localhostNames, n.Name) {
				return n, true
			}
		}
		return h, true
	}
	return nil, false
}

func (inv *Inventory) isImplicit(h *Host) bool {
	return h != nil && inv.implicit[h.Name] == h
}

// Group returns the named group; "all" and "ungrouped" always exist.
func (inv *Inventory) Group(name string) (*Group, bool) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	g, ok := inv.groups[name]
	return g, ok
}

// GroupNames returns every group name, sorted, including all and ungrouped.
func (inv *Inventory) GroupNames() []string {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	return slices.Sorted(maps.Keys(inv.groups))
}

// groupHosts returns the hosts of a group and of all its descendants, own
// hosts first, then breadth first through children, without duplicates
// (Ansible's Group.get_hosts).
func (inv *Inventory) groupHosts(name string) []string {
	var out []string
	seenHost := map[string]bool{}
	seenGroup := map[string]bool{name: true}
	queue := []string{name}
	for len(queue) > 0 {
		g := inv.groups[queue[0]]
		queue = queue[1:]
		for _, h := range g.Hosts {
			if !seenHost[h] {
				seenHost[h] = true
				out = append(out, h)
			}
		}
		for _, c := range g.Children {
			if !seenGroup[c] {
				seenGroup[c] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}

// GroupsVar returns the "groups" magic variable: every group name
// (including all and ungrouped) mapped to a []string of the hosts in it or
// in its descendants.
func (inv *Inventory) GroupsVar() map[string]any {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	out := make(map[string]any, len(inv.groups))
	for _, g := range inv.groupList {
		hosts := inv.groupHosts(g.Name)
		if hosts == nil {
			hosts = []string{}
		}
		out[g.Name] = hosts
	}
	return out
}

// GroupNamesOf returns the "group_names" magic variable for host: its groups
// sorted, without "all". As in Ansible (checked with ansible 2.14), a host
// that is only in "ungrouped" gets ["ungrouped"]. Unknown hosts and the
// implicit localhost give an empty list.
func (inv *Inventory) GroupNamesOf(host string) []string {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	out := []string{}
	h, ok := inv.host(host)
	if !ok || inv.isImplicit(h) {
		return out
	}
	for _, g := range h.Groups {
		if g != "all" {
			out = append(out, g)
		}
	}
	return out
}

// Source returns inventory_dir and inventory_file for host: the absolute
// directory and path of the first source that defined it. For a host from a
// comma-separated list, file is that list and dir is empty; for unknown
// hosts and the implicit localhost both are empty.
func (inv *Inventory) Source(host string) (dir, file string) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	h, ok := inv.host(host)
	if !ok || inv.isImplicit(h) {
		return "", ""
	}
	info := inv.hostInfo[h.Name]
	return info.dir, info.file
}

// sortedHostGroups returns the host's groups except all, ordered as
// Ansible's sort_groups: by depth, then ansible_group_priority, then name.
func (inv *Inventory) sortedHostGroups(h *Host) []string {
	var gs []string
	for _, g := range h.Groups {
		if g != "all" {
			gs = append(gs, g)
		}
	}
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := inv.groupInfo[gs[i]], inv.groupInfo[gs[j]]
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		return gs[i] < gs[j]
	})
	return gs
}

// HostVars returns the host's inventory variables merged in Ansible's
// default precedence (lowest first):
//
//  1. all group inline vars, then the host's other groups' inline vars
//     (sorted by depth, ansible_group_priority, name)
//  2. group_vars/all files, inventory side then playbook side
//  3. group_vars/<group> files, inventory side then playbook side, groups
//     sorted as above within each directory
//  4. inventory_file and inventory_dir, then the host's inline vars
//  5. host_vars files, inventory side then playbook side
//
// Top-level keys replace each other (hash_behaviour=replace). The result is
// a fresh deep copy on every call; an unknown host gives an empty map.
func (inv *Inventory) HostVars(name string) map[string]any {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	out := map[string]any{}
	h, ok := inv.host(name)
	if !ok {
		return out
	}
	groups := inv.sortedHostGroups(h)
	maps.Copy(out, inv.groupInfo["all"].inline)
	for _, g := range groups {
		maps.Copy(out, inv.groupInfo[g].inline)
	}
	for _, d := range inv.invDirs {
		maps.Copy(out, d.groups["all"])
	}
	for _, d := range inv.playDirs {
		maps.Copy(out, d.groups["all"])
	}
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			for _, g := range groups {
				maps.Copy(out, d.groups[g])
			}
		}
	}
	if inv.isImplicit(h) {
		out["ansible_connection"] = "local"
	} else {
		info := inv.hostInfo[h.Name]
		out["inventory_file"] = info.file
		out["inventory_dir"] = info.dir
		maps.Copy(out, info.inline)
	}
	for _, d := range inv.invDirs {
		maps.Copy(out, d.hosts[h.Name])
	}
	for _, d := range inv.playDirs {
		maps.Copy(out, d.hosts[h.Name])
	}
	return deepCopyMap(out)
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case *odict.Dict:
		return t.MapValues(deepCopy)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
