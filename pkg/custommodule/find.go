package custommodule

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/vars"
)

// ignoredExts are the file name endings Ansible's module loader skips
// (MODULE_IGNORE_EXTS: REJECT_EXTS plus .yaml, .yml and .ini).
var ignoredExts = []string{".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".yaml", ".yml", ".ini"}

// Find returns the file in dirs that module name resolves to, as
// Ansible's legacy module search does: the directories in order, in each
// a regular file called name or name.EXT (name.py, name.sh, ...),
// __init__.py and ignored extensions aside. Within one directory an exact
// name wins, then the first name.EXT in name order (Ansible takes the
// directory listing's order there). A name with a "/" is never a module.
func Find(dirs []string, name string) (string, bool) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", false
	}
	for _, d := range dirs {
		if p, ok := findIn(d, name); ok {
			return p, true
		}
	}
	return "", false
}

func findIn(dir, name string) (string, bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	var byBase []string
	for _, e := range ents {
		fn := e.Name()
		if fn != name && !strings.HasPrefix(fn, name+".") {
			continue
		}
		if fn == "__init__.py" || ignoredExt(fn) {
			continue
		}
		full := filepath.Join(dir, fn)
		if st, err := os.Stat(full); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if fn == name {
			return full, true
		}
		// name.EXT: the base name (without its last extension) is name.
		if strings.TrimSuffix(fn, filepath.Ext(fn)) == name {
			byBase = append(byBase, full)
		}
	}
	if len(byBase) == 0 {
		return "", false
	}
	sort.Strings(byBase)
	return byBase[0], true
}

func ignoredExt(fn string) bool {
	for _, x := range ignoredExts {
		if strings.HasSuffix(fn, x) {
			return true
		}
	}
	return false
}

// ExpandConfigured returns the configured module directories (ANSIBLE_LIBRARY,
// ansible.cfg's library) as Ansible searches them: for each, its
// subdirectories one and two levels deep, then the directory itself.
func ExpandConfigured(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		p, _ = filepath.Abs(p)
		for _, pat := range []string{"*", "*/*"} {
			ms, _ := filepath.Glob(filepath.Join(p, pat))
			for _, m := range ms {
				if st, err := os.Stat(m); err == nil && st.IsDir() {
					add(m)
				}
			}
		}
		add(p)
	}
	return out
}

// CollectionModule returns the file of module ns.coll.name in a
// collection under one of roots (directories holding ansible_collections/):
// ansible_collections/ns/coll/plugins/modules/name.py (or another
// extension), and the module's Python name
// (ansible_collections.ns.coll.plugins.modules.name).
func CollectionModule(roots []string, fqcn string) (path, fqn string, ok bool) {
	parts := strings.Split(fqcn, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	for _, p := range parts {
		if !vars.ValidName(p) {
			return "", "", false
		}
	}
	for _, r := range roots {
		dir := filepath.Join(r, "ansible_collections", parts[0], parts[1], "plugins", "modules")
		if p, ok := findIn(dir, parts[2]); ok {
			return p, "ansible_collections." + parts[0] + "." + parts[1] + ".plugins.modules." + parts[2], true
		}
	}
	return "", "", false
}
