package custommodule

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// payloadFile is one file of a new-style module's archive.
type payloadFile struct {
	path string
	data []byte
}

// msgError is an error whose text is Ansible's message, as it words it.
type msgError string

func (e msgError) Error() string { return string(e) }

// depEntry is an import waiting to be located (ModuleUtilsProcessEntry).
type depEntry struct {
	parts     []string
	ambiguous bool
	optional  bool
}

// depFinder collects the module_utils files a Python module needs, as
// AnsiballZ's recursive_finder does.
type depFinder struct {
	// muPaths are the module_utils directories searched for
	// ansible.module_utils.X, in order (ansible-core's last).
	muPaths []string
	// collRoots hold ansible_collections/, for
	// ansible_collections.ns.coll.plugins.module_utils.X.
	collRoots []string
	version   string
	files     map[string]payloadFile // by dotted name
}

// findDeps returns the files module src (Python name fqn) needs: the
// module_utils it imports, recursively, ansible.module_utils.basic always,
// and the __init__.py of every package on the way.
func (f *depFinder) findDeps(fqn string, src []byte) ([]payloadFile, error) {
	f.files = map[string]payloadFile{
		"ansible": {"ansible/__init__.py", []byte("from pkgutil import extend_path\n__path__=extend_path(__path__,__name__)\n__version__=\"" +
			f.version + "\"\n__author__=\"Ansible, Inc.\"\n")},
		"ansible.module_utils": {"ansible/module_utils/__init__.py", []byte("from pkgutil import extend_path\n__path__=extend_path(__path__,__name__)\n")},
	}
	queue := submodules(fqn, src, false)
	// As AnsiballZ: basic is always needed (it reads the arguments).
	queue = append(queue, depEntry{parts: []string{"ansible", "module_utils", "basic"}})
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		key := strings.Join(e.parts, ".")
		if _, done := f.files[key]; done {
			continue
		}
		found, isPkg, data, ok := f.locate(e)
		if !ok {
			if e.optional {
				continue
			}
			return nil, msgError(fmt.Sprintf("Could not find imported module support code for %s.  Looked for (%s)", fqn, strings.Join(candidateNames(e), ", ")))
		}
		fkey := strings.Join(found, ".")
		if _, done := f.files[fkey]; done {
			continue
		}
		out := filepath.Join(found...)
		if isPkg {
			out = filepath.Join(out, "__init__")
		}
		f.files[fkey] = payloadFile{out + ".py", data}
		queue = append(queue, submodules(fkey, data, isPkg)...)
		for i := 1; i < len(found); i++ {
			if _, done := f.files[strings.Join(found[:i], ".")]; !done {
				queue = append(queue, depEntry{parts: found[:i], optional: e.optional})
			}
		}
	}
	keys := make([]string, 0, len(f.files))
	for k := range f.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]payloadFile, 0, len(keys))
	for _, k := range keys {
		out = append(out, f.files[k])
	}
	return out, nil
}

// submodules are the module_utils imports of a Python file, as
// ModuleDepFinder reports them; relative imports are resolved against
// fqn (a package's __init__ one level deeper).
func submodules(fqn string, src []byte, isPkg bool) []depEntry {
	var out []depEntry
	for _, imp := range scanImports(src) {
		if !imp.From {
			if strings.HasPrefix(imp.Module, "ansible.module_utils.") || strings.HasPrefix(imp.Module, "ansible_collections.") {
				out = append(out, depEntry{parts: strings.Split(imp.Module, "."), ambiguous: true, optional: imp.Nested})
			}
			continue
		}
		mod := imp.Module
		if imp.Level > 0 && fqn != "" {
			parts := strings.Split(fqn, ".")
			keep := len(parts) - imp.Level
			if isPkg {
				keep++
			}
			if keep < 0 {
				keep = 0
			}
			if keep > len(parts) {
				keep = len(parts)
			}
			base := strings.Join(parts[:keep], ".")
			switch {
			case mod == "":
				mod = base
			case base != "":
				mod = base + "." + mod
			}
		}
		if len(imp.Names) > 0 && imp.Names[0] == "_six" {
			continue
		}
		interesting := strings.HasPrefix(mod, "ansible.module_utils") ||
			strings.HasPrefix(mod, "ansible_collections.") && (strings.HasSuffix(mod, "plugins.module_utils") || strings.Contains(mod, ".plugins.module_utils."))
		if !interesting {
			continue
		}
		for _, n := range imp.Names {
			out = append(out, depEntry{parts: append(strings.Split(mod, "."), n), ambiguous: true, optional: imp.Nested})
		}
	}
	return out
}

// remainder is the part of a name below module_utils.
func remainder(parts []string) []string {
	if parts[0] == "ansible_collections" {
		if len(parts) < 5 {
			return nil
		}
		return parts[5:]
	}
	if len(parts) < 2 {
		return nil
	}
	return parts[2:]
}

// candidates are the names an import may stand for: from a.b import c is
// module a.b.c or attribute c of a.b.
func candidates(e depEntry) [][]string {
	parts := e.parts
	if len(parts) > 2 && parts[0] == "ansible" && parts[2] == "six" {
		return [][]string{{"ansible", "module_utils", "six"}}
	}
	if e.ambiguous && len(remainder(parts)) > 1 {
		return [][]string{parts, parts[:len(parts)-1]}
	}
	return [][]string{parts}
}

func candidateNames(e depEntry) []string {
	var out []string
	for _, c := range candidates(e) {
		out = append(out, "'"+strings.Join(c, ".")+"'")
	}
	return out
}

// locate finds the file of an import: a package (its __init__.py) or a
// module (NAME.py).
func (f *depFinder) locate(e depEntry) (found []string, isPkg bool, data []byte, ok bool) {
	for _, c := range candidates(e) {
		if len(c) == 0 {
			continue
		}
		var dirs []string
		if c[0] == "ansible_collections" {
			if len(c) < 6 {
				// Package levels down to module_utils: empty packages.
				return c, true, nil, true
			}
			for _, r := range f.collRoots {
				dirs = append(dirs, filepath.Join(append([]string{r}, c[:len(c)-1]...)...))
			}
		} else {
			if len(c) < 3 || c[1] != "module_utils" {
				continue
			}
			for _, p := range f.muPaths {
				dirs = append(dirs, filepath.Join(append([]string{p}, c[2:len(c)-1]...)...))
			}
		}
		last := c[len(c)-1]
		for _, d := range dirs {
			if b, err := os.ReadFile(filepath.Join(d, last, "__init__.py")); err == nil {
				return c, true, b, true
			}
			if b, err := os.ReadFile(filepath.Join(d, last+".py")); err == nil {
				return c, false, b, true
			}
		}
	}
	return nil, false, nil, false
}
