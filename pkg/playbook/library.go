package playbook

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tend-dev/tend/pkg/custommodule"
)

// Custom modules: Ansible adds the library/ and module_utils/ directories
// next to each playbook and inside each role it loads (legacy roles, not a
// collection's) to its plugin search path, for the rest of the run; the
// configured directories (ANSIBLE_LIBRARY or ansible.cfg's library, and
// ANSIBLE_MODULE_UTILS or module_utils) come after them. A module name
// tend has no module for resolves there (package custommodule runs it).

// pluginDirs are the library/ and module_utils/ directories of the
// playbooks and roles loaded so far, in load order. include_role adds to
// them while the run goes on, hence the lock.
type pluginDirs struct {
	mu          sync.Mutex
	library     []string
	moduleUtils []string
	playDirs    []string
}

// addPluginDirs adds dir's library/ and module_utils/ directories, as
// Ansible's add_all_plugin_dirs.
func (l *Loader) addPluginDirs(dir string) {
	p := &l.plugins
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sub := range []struct {
		name string
		dst  *[]string
	}{{"library", &p.library}, {"module_utils", &p.moduleUtils}} {
		d := filepath.Join(dir, sub.name)
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		if r, err := filepath.EvalSymlinks(d); err == nil {
			d = r
		}
		if !contains(*sub.dst, d) {
			*sub.dst = append(*sub.dst, d)
		}
	}
}

// addPlayDir records a playbook's directory: its library/ and
// module_utils/, and its collections/ for modules named ns.coll.name.
func (l *Loader) addPlayDir(dir string) {
	l.addPluginDirs(dir)
	l.plugins.mu.Lock()
	if !contains(l.plugins.playDirs, dir) {
		l.plugins.playDirs = append(l.plugins.playDirs, dir)
	}
	l.plugins.mu.Unlock()
}

// FindModule returns the file of the custom module name: for ns.coll.name
// the collection's plugins/modules, else the library/ directories of the
// playbooks and roles loaded so far, then the configured ones
// (LibraryPath). ansible.legacy.name is name.
func (l *Loader) FindModule(name string) (string, bool) {
	name = strings.TrimPrefix(name, "ansible.legacy.")
	if coll, short, ok := splitFQCN(name); ok {
		if coll == "ansible.builtin" {
			name = short
		} else {
			p, _, found := custommodule.CollectionModule(l.CollectionRoots(), name)
			return p, found
		}
	}
	l.plugins.mu.Lock()
	dirs := append(append([]string(nil), l.plugins.library...), l.LibraryPath...)
	l.plugins.mu.Unlock()
	return custommodule.Find(dirs, name)
}

// customModuleName returns the name under which FindModule finds the
// custom module a task names (name as written, canon without a known
// collection prefix), or "": a collection's module by its full name, a
// library/ module by its short name, then, inside a collection's role or
// a play with collections:, a module of those collections.
func (l *Loader) customModuleName(ctx *taskCtx, name, canon string) string {
	if _, _, fq := splitFQCN(name); fq && name != canon {
		if _, ok := l.FindModule(name); ok {
			return name
		}
	}
	if _, ok := l.FindModule(canon); ok {
		return canon
	}
	if _, _, fq := splitFQCN(canon); fq {
		return ""
	}
	for _, c := range ctx.collectionList() {
		if c == "ansible.builtin" || c == "ansible.legacy" {
			continue
		}
		if _, ok := l.FindModule(c + "." + canon); ok {
			return c + "." + canon
		}
	}
	return ""
}

// ModuleUtilsDirs returns the module_utils directories of the playbooks
// and roles loaded so far, then the configured ones (ModuleUtilsPath).
func (l *Loader) ModuleUtilsDirs() []string {
	l.plugins.mu.Lock()
	defer l.plugins.mu.Unlock()
	return append(append([]string(nil), l.plugins.moduleUtils...), l.ModuleUtilsPath...)
}

// CollectionRoots returns the directories holding ansible_collections/:
// each loaded playbook's collections/ directory, then CollectionsPath.
func (l *Loader) CollectionRoots() []string {
	l.plugins.mu.Lock()
	playDirs := append([]string(nil), l.plugins.playDirs...)
	l.plugins.mu.Unlock()
	var out []string
	for _, d := range playDirs {
		for _, r := range l.collectionRoots(d) {
			if !contains(out, r) {
				out = append(out, r)
			}
		}
	}
	if len(playDirs) == 0 {
		out = l.collectionRoots(".")
	}
	return out
}

// DefaultLibraryPaths returns the configured module directories:
// ANSIBLE_LIBRARY, else library in ansible.cfg's [defaults], else
// ~/.ansible/plugins/modules and /usr/share/ansible/plugins/modules.
func DefaultLibraryPaths() []string {
	return configuredPaths("ANSIBLE_LIBRARY", "library", "modules")
}

// DefaultModuleUtilsPaths returns the configured module_utils directories:
// ANSIBLE_MODULE_UTILS, else module_utils in ansible.cfg's [defaults],
// else ~/.ansible/plugins/module_utils and
// /usr/share/ansible/plugins/module_utils.
func DefaultModuleUtilsPaths() []string {
	return configuredPaths("ANSIBLE_MODULE_UTILS", "module_utils", "module_utils")
}

func configuredPaths(env, key, sub string) []string {
	home, _ := os.UserHomeDir()
	if v := os.Getenv(env); v != "" {
		return splitPaths(v, "", home)
	}
	if cfg := ansibleCfg(home); cfg != "" {
		if v, ok := cfgValue(cfg, "defaults", key); ok {
			return splitPaths(v, filepath.Dir(cfg), home)
		}
	}
	var out []string
	if home != "" {
		out = append(out, filepath.Join(home, ".ansible", "plugins", sub))
	}
	return append(out, filepath.Join("/usr/share/ansible/plugins", sub))
}
