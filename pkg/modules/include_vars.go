package modules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
	"github.com/tend-dev/tend/pkg/pyre"
	"github.com/tend-dev/tend/pkg/vars"
)

// IncludeVars loads variables from YAML/JSON files on the controller.
type IncludeVars struct{}

var _ module.Module = (*IncludeVars)(nil)

// Spec implements module.Module.
func (*IncludeVars) Spec() *module.Spec {
	return &module.Spec{
		Name:  "include_vars",
		Short: "Load variables from files on the controller",
		Description: "Loads a YAML or JSON vars file (file, or free-form), or every matching file in dir, as host " +
			"variables for the rest of the play (above play and role vars, below set_fact and extra vars). " +
			"Relative paths are searched in the role's vars/ directory, then next to the playbook.",
		Args: []module.Arg{
			{Name: "file", Aliases: []string{"_raw_params", "free-form"}, Type: module.Path, Doc: "The vars file."},
			{Name: "dir", Type: module.Path, Doc: "A directory of vars files."},
			{Name: "name", Type: module.String, Doc: "Put the variables under this one variable."},
			{Name: "files_matching", Type: module.String, Doc: "With dir: only files whose name matches this regexp."},
			{Name: "ignore_files", Type: module.List, Elements: module.String, Doc: "With dir: file names to skip (regexps)."},
			{Name: "extensions", Type: module.List, Elements: module.String, Default: []any{"json", "yaml", "yml"}, Doc: "With dir: file extensions to load."},
			{Name: "ignore_unknown_extensions", Type: module.Bool, Default: false, Doc: "With dir: skip files whose extension is not in extensions; without it such a file fails the task, as in Ansible."},
			{Name: "depth", Type: module.Int, Default: 0, Doc: "With dir: read only the first depth directories, in path order (0 = all), as Ansible counts it."},
			{Name: "hash_behaviour", Type: module.String, Choices: []string{"replace", "merge"}, Doc: "merge: each variable loaded is merged recursively into its current value (both must be dicts); replace (the default): it replaces it."},
		},
		FreeForm:          "file",
		MutuallyExclusive: [][]string{{"file", "dir"}},
		RequiredOneOf:     [][]string{{"file", "dir"}},
		// A file that templates to nothing fails as Ansible's does.
		GroupsAtRun: true,
		Controller:  true,
		Examples: `- include_vars: "{{ ansible_os_family }}.yml"
- include_vars:
    dir: vars/site
    name: site`,
	}
}

// Plan implements module.Module.
func (*IncludeVars) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	var files []string
	// A free-form file name keeps a YAML block's final newline; Ansible's
	// include_vars action strips it.
	file := strings.TrimRight(a.String("file"), "\n")
	if !a.Has("dir") && file == "" {
		// A file that templated to nothing (first_found with
		// errors=ignore): Ansible's lookup of a null file.
		if h.Warn != nil {
			h.Warn(`Invalid request to find a file that matches a "null" value`)
		}
		const msg = "Could not find file on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
		r := module.Result{"failed": true, "message": msg}
		r["ansible_facts"], r["ansible_included_var_files"] = map[string]any{}, []any{}
		return module.Unchanged(r), nil
	}
	if a.Has("file") {
		p, err := h.Files.Find("vars", file)
		if err != nil {
			return module.Unchanged(includeVarsFailed(err)), nil
		}
		files = []string{p}
	} else {
		dir, err := h.Files.Find("vars", a.String("dir"))
		if err != nil {
			return module.Unchanged(includeVarsFailed(err)), nil
		}
		files, err = varsDirFiles(dir, a)
		if err != nil {
			return module.Unchanged(includeVarsFailed(err)), nil
		}
	}
	loaded := map[string]any{}
	loader := vars.Loader{Vault: h.Vault}
	for _, f := range files {
		m, err := loader.LoadFile(f)
		if err != nil {
			return module.Unchanged(includeVarsFailed(err)), nil
		}
		for k, v := range m {
			loaded[k] = v
		}
	}
	facts := loaded
	if name := a.String("name"); name != "" {
		facts = map[string]any{name: loaded}
	}
	if a.String("hash_behaviour") == "merge" {
		// Ansible's combine_vars: each variable merged recursively
		// into the value it has for the task.
		for k, v := range facts {
			merged, err := mergeHash(h.Vars[k], v)
			if err != nil {
				return module.Unchanged(includeVarsFailed(err)), nil
			}
			facts[k] = merged
		}
	}
	fileList := make([]any, len(files))
	for i, f := range files {
		fileList[i] = f
	}
	return module.Unchanged(module.Result{"ansible_facts": facts, "ansible_included_var_files": fileList}), nil
}

func varsDirFiles(dir string, a module.Args) ([]string, error) {
	var match *pyre.Regexp
	if p := a.String("files_matching"); p != "" {
		re, err := pyre.Compile(p, 0)
		if err != nil {
			return nil, fmt.Errorf("files_matching: %w", err)
		}
		match = re
	}
	var ignore []*pyre.Regexp
	for _, p := range a.List("ignore_files") {
		// Ansible searches for the pattern followed by "$" (appended as
		// it is, not grouped).
		re, err := pyre.Compile(p+"$", 0)
		if err != nil {
			return nil, fmt.Errorf("ignore_files: %w", err)
		}
		ignore = append(ignore, re)
	}
	exts := a.List("extensions")
	depth := a.Int("depth")
	// Ansible walks the tree, sorts the directories by path and loads
	// each one's files in name order; depth counts directories in that
	// order (the first depth of them are read).
	filesOf := map[string][]string{}
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		filesOf[filepath.Dir(p)] = append(filesOf[filepath.Dir(p)], d.Name())
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	var files []string
	for i, d := range dirs {
		if depth > 0 && i >= depth {
			break
		}
		names := filesOf[d]
		sort.Strings(names)
		for _, name := range names {
			wanted, err := varsFileWanted(name, match, ignore)
			if err != nil {
				return files, err
			}
			if !wanted {
				continue
			}
			p := filepath.Join(d, name)
			// Python's splitext: the extension of "name" is "", which
			// extensions may list.
			if ext := strings.TrimPrefix(filepath.Ext(name), "."); !inList(exts, ext) {
				if a.Bool("ignore_unknown_extensions") {
					continue
				}
				return files, fmt.Errorf("%s does not have a valid extension: %s", p, strings.Join(exts, ", "))
			}
			files = append(files, p)
		}
	}
	return files, nil
}

// varsFileWanted applies files_matching (searched in the name) and
// ignore_files to a file name.
func varsFileWanted(name string, match *pyre.Regexp, ignore []*pyre.Regexp) (bool, error) {
	if match != nil {
		if ok, err := match.MatchString(name); err != nil || !ok {
			return false, err
		}
	}
	for _, re := range ignore {
		if ok, err := re.MatchString(name); err != nil || ok {
			return false, err
		}
	}
	return true, nil
}

// includeVarsFailed is a failure as Ansible's include_vars reports it:
// the text in message.
func includeVarsFailed(err error) module.Result {
	return module.Result{"failed": true, "message": err.Error()}
}

func inList(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// mergeHash is Ansible's merge_hash(x, y) (recursive, lists replaced):
// x's keys in x's order, then y's new ones; both must be dicts.
func mergeHash(x, y any) (*odict.Dict, error) {
	xkeys, xm, xok := odict.As(x)
	ykeys, ym, yok := odict.As(y)
	if !xok || !yok {
		return nil, fmt.Errorf("failed to combine variables, expected dicts but got a '%s' and a '%s'", pyfmt.TypeName(x), pyfmt.TypeName(y))
	}
	out := odict.New(len(xkeys) + len(ykeys))
	for _, k := range xkeys {
		out.Set(k, xm[k])
	}
	for _, k := range ykeys {
		yv := ym[k]
		if xv, ok := out.Get(k); ok && odict.IsDict(xv) && odict.IsDict(yv) {
			m, err := mergeHash(xv, yv)
			if err != nil {
				return nil, err
			}
			out.Set(k, m)
			continue
		}
		out.Set(k, yv)
	}
	return out, nil
}
