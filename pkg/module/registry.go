package module

import (
	"sort"
	"strings"
)

// Registry maps module names to modules. It is built once and read-only
// afterwards, so it is safe for concurrent use.
type Registry struct {
	byName map[string]Module
}

// NewRegistry builds a registry of the given modules.
func NewRegistry(mods ...Module) *Registry {
	r := &Registry{byName: make(map[string]Module, len(mods))}
	for _, m := range mods {
		r.byName[m.Spec().Name] = m
	}
	return r
}

// collections whose module names tend answers to without the prefix:
// "ansible.builtin.copy" is "copy", "community.postgresql.postgresql_db"
// is "postgresql_db".
var collectionPrefixes = []string{
	"ansible.builtin.", "ansible.legacy.", "ansible.posix.",
	"community.general.", "community.postgresql.", "community.crypto.", "kubernetes.core.",
}

// Canonical returns name without a known collection prefix.
func Canonical(name string) string {
	for _, p := range collectionPrefixes {
		if strings.HasPrefix(name, p) {
			return strings.TrimPrefix(name, p)
		}
	}
	return name
}

// Lookup returns the module called name (FQCN or short name).
func (r *Registry) Lookup(name string) (Module, bool) {
	m, ok := r.byName[Canonical(name)]
	return m, ok
}

// Names returns the sorted module names.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
