package modules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
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
			{Name: "depth", Type: module.Int, Default: 0, Doc: "With dir: how deep to recurse (0 = no limit)."},
			{Name: "hash_behaviour", Type: module.String, Choices: []string{"replace", "merge"}, Doc: "Accepted; files replace earlier keys."},
		},
		FreeForm:          "file",
		MutuallyExclusive: [][]string{{"file", "dir"}},
		RequiredOneOf:     [][]string{{"file", "dir"}},
		Controller:        true,
		Examples: `- include_vars: "{{ ansible_os_family }}.yml"
- include_vars:
    dir: vars/site
    name: site`,
	}
}

// Plan implements module.Module.
func (*IncludeVars) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	var files []string
	if a.Has("file") {
		p, err := h.Files.Find("vars", a.String("file"))
		if err != nil {
			return module.Unchanged(module.Failed("include_vars: %v", err)), nil
		}
		files = []string{p}
	} else {
		dir, err := h.Files.Find("vars", a.String("dir"))
		if err != nil {
			return module.Unchanged(module.Failed("include_vars: %v", err)), nil
		}
		files, err = varsDirFiles(dir, a)
		if err != nil {
			return module.Unchanged(module.Failed("include_vars: %v", err)), nil
		}
	}
	loaded := map[string]any{}
	loader := vars.Loader{Vault: h.Vault}
	for _, f := range files {
		m, err := loader.LoadFile(f)
		if err != nil {
			return module.Unchanged(module.Failed("include_vars: %v", err)), nil
		}
		for k, v := range m {
			loaded[k] = v
		}
	}
	facts := loaded
	if name := a.String("name"); name != "" {
		facts = map[string]any{name: loaded}
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
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		level := strings.Count(rel, string(filepath.Separator)) + 1
		if d.IsDir() {
			if p != dir && depth > 0 && level > depth {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if match != nil {
			if ok, err := match.MatchString(name); err != nil || !ok {
				return err
			}
		}
		for _, re := range ignore {
			if ok, err := re.MatchString(name); err != nil || ok {
				return err
			}
		}
		if ext := strings.TrimPrefix(filepath.Ext(name), "."); !inList(exts, ext) || filepath.Ext(name) == "" {
			if a.Bool("ignore_unknown_extensions") {
				return nil
			}
			return fmt.Errorf("%s does not have a valid extension: %s", p, strings.Join(exts, ", "))
		}
		files = append(files, p)
		return nil
	})
	sort.Strings(files)
	return files, err
}

func inList(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
