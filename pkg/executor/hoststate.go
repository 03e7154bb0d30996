package executor

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/vars"
)

// hostState is what the run knows about one host. Facts, set_fact and
// registered variables persist across plays, as in Ansible.
type hostState struct {
	name string

	mu    sync.Mutex
	inv   map[string]any // inventory variables (read-only after creation)
	facts map[string]any // gathered facts, keys without the ansible_ prefix
	// plain names the facts a module set without the ansible_ prefix
	// (getent_passwd): they are variables under their own name.
	plain       map[string]bool
	includeVars map[string]any // include_vars (precedence 18)
	factVars    map[string]any // set_fact and register (precedence 19)
	// defined numbers the variables the run defined (set_fact, register,
	// include_vars; not gathered facts) in the order it first defined them.
	defined     map[string]int
	version     int            // bumped on every change, for hostvars caching
	snapshot    map[string]any // hostvars entry for version snapVersion
	snapVersion int
	// changes counts variable changes of every host in the run, so
	// hostvars can tell in O(1) that nothing changed.
	changes *atomic.Int64

	// Per play state, reset by resetPlay.
	failed      bool
	unreachable bool
	ended       bool
	notified    map[string]bool // handler keys notified
	failedTask  map[string]any
	failedRes   map[string]any
}

func newHostState(name string, inv *inventory.Inventory, changes *atomic.Int64) *hostState {
	return &hostState{
		name:        name,
		changes:     changes,
		inv:         inv.HostVars(name),
		facts:       map[string]any{},
		plain:       map[string]bool{},
		includeVars: map[string]any{},
		factVars:    map[string]any{},
		notified:    map[string]bool{},
		snapVersion: -1,
	}
}

// active reports whether the host still takes part in the play.
func (h *hostState) active() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.failed && !h.unreachable && !h.ended
}

// setFacts adds m to a variable layer; order lists its names in the
// order they were written (names it lacks come after, sorted).
func (h *hostState) setFacts(layer string, m map[string]any, order ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if layer != "facts" {
		h.noteDefined(m, order)
	}
	// Copy on write: readers hold the old maps without locking.
	var dst *map[string]any
	switch layer {
	case "facts":
		dst = &h.facts
	case "include_vars":
		dst = &h.includeVars
	default:
		dst = &h.factVars
	}
	next := copyMap(*dst)
	for k, v := range m {
		next[k] = v
	}
	*dst = next
	h.version++
	h.changes.Add(1)
}

// noteDefined numbers the names of m not defined before, in order's
// order then sorted. Called with h.mu held; copy on write.
func (h *hostState) noteDefined(m map[string]any, order []string) {
	var fresh []string
	for k := range m {
		if _, ok := h.defined[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 {
		return
	}
	rank := func(k string) int {
		if i := slices.Index(order, k); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(fresh, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	next := make(map[string]int, len(h.defined)+len(fresh))
	maps.Copy(next, h.defined)
	for _, k := range fresh {
		next[k] = len(next)
	}
	h.defined = next
}

// definitionOrder orders variable names as Ansible's variables list them:
// those from playbooks and inventory first (sorted: their files' order is
// not kept), then those the run defined, in the order it defined them.
func (h *hostState) definitionOrder(names []string) []string {
	h.mu.Lock()
	defined := h.defined
	h.mu.Unlock()
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int {
		ia, oka := defined[a]
		ib, okb := defined[b]
		switch {
		case !oka && !okb:
			return strings.Compare(a, b)
		case !oka:
			return -1
		case !okb:
			return 1
		}
		return cmp.Compare(ia, ib)
	})
	return out
}

// setModuleFacts stores the ansible_facts a module returned, as Ansible
// does: ansible_facts.NAME without any ansible_ prefix, and each fact a
// variable under the name the module gave it.
func (h *hostState) setModuleFacts(m map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.facts, h.plain = mergeModuleFacts(h.facts, h.plain, m)
	h.version++
	h.changes.Add(1)
}

// mergeModuleFacts returns copies of facts and plain with m added.
func mergeModuleFacts(facts map[string]any, plain map[string]bool, m map[string]any) (map[string]any, map[string]bool) {
	facts = copyMap(facts)
	next := make(map[string]bool, len(plain))
	for k, v := range plain {
		next[k] = v
	}
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, "ansible_"); ok {
			facts[name] = v
			delete(next, name)
			continue
		}
		facts[k] = v
		next[k] = true
	}
	return facts, next
}

func (h *hostState) clearFacts() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.facts = map[string]any{}
	h.plain = map[string]bool{}
	h.factVars = map[string]any{}
	h.version++
	h.changes.Add(1)
}

// layers returns the host's variable layers. The maps are replaced, never
// mutated, on change, so they are safe to read after the lock is released.
func (h *hostState) layers() (inv, facts, include, factVars map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inv, h.facts, h.includeVars, h.factVars
}

// plainFacts returns the names of the facts that are variables under
// their own name; the map is replaced, never mutated.
func (h *hostState) plainFacts() map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.plain
}

// hostvars returns this host's entry of the hostvars magic variable:
// inventory vars, facts, include_vars, set_fact and registered vars, and
// the host's own magic variables (groupNames gives its group_names, called
// only when the entry is rebuilt: a change of the host's groups reloads
// its inventory, which bumps its version). scope makes the entry render
// its templates with the host's own variables (template.HostScope).
func (h *hostState) hostvars(extra map[string]any, groupNames func(string) []any, scope func(map[string]any) map[string]any) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.snapVersion == h.version && h.snapshot != nil {
		return h.snapshot
	}
	m := vars.Merge(h.inv, factVarsOf(h.facts, h.plain), h.includeVars, h.factVars, extra)
	m["inventory_hostname"] = h.name
	short, _, _ := strings.Cut(h.name, ".")
	m["inventory_hostname_short"] = short
	m["group_names"] = groupNames(h.name)
	m = scope(m)
	h.snapshot, h.snapVersion = m, h.version
	return m
}

// factVarsOf exposes facts as ansible_facts.NAME and as ansible_NAME, or
// NAME for those a module set without the prefix.
func factVarsOf(facts map[string]any, plain map[string]bool) map[string]any {
	out := make(map[string]any, len(facts)+1)
	for k, v := range facts {
		if plain[k] {
			out[k] = v
			continue
		}
		out["ansible_"+k] = v
	}
	out["ansible_facts"] = facts
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// reloadInventory rereads the host's inventory variables after the
// inventory changed during the run.
func (h *hostState) reloadInventory(inv *inventory.Inventory) {
	v := inv.HostVars(h.name)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inv = v
	h.version++
	h.changes.Add(1)
}
