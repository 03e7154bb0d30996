package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/vault"
)

// varsDir holds the group_vars/ and host_vars/ variables found under one
// directory, for the groups and hosts of the inventory.
type varsDir struct {
	dir    string
	groups map[string]map[string]any
	hosts  map[string]map[string]any
}

// varsExts are the suffixes Ansible tries, in order, for a vars file; ""
// first so that a directory named after the group wins.
var varsExts = []string{"", ".yml", ".yaml", ".json"}

// loadVarsDir reads base/group_vars and base/host_vars for every group and
// host currently in the inventory (and the localhost names).
func (inv *Inventory) loadVarsDir(base string) (*varsDir, error) {
	d := &varsDir{dir: base, groups: map[string]map[string]any{}, hosts: map[string]map[string]any{}}
	groupNames := make([]string, 0, len(inv.groupList))
	for _, g := range inv.groupList {
		groupNames = append(groupNames, g.Name)
	}
	hostNames := make([]string, 0, len(inv.hosts)+len(localhostNames))
	for _, h := range inv.hosts {
		hostNames = append(hostNames, h.Name)
	}
	for _, n := range localhostNames {
		if _, ok := inv.hostIdx[n]; !ok {
			hostNames = append(hostNames, n)
		}
	}
	var err error
	if d.groups, err = loadEntityVars(filepath.Join(base, "group_vars"), groupNames, inv.vault); err != nil {
		return nil, err
	}
	if d.hosts, err = loadEntityVars(filepath.Join(base, "host_vars"), hostNames, inv.vault); err != nil {
		return nil, err
	}
	return d, nil
}

// loadEntityVars loads dir/<name>{,.yml,.yaml,.json} (first match wins; a
// directory has all its files merged in name order) for every name.
func loadEntityVars(dir string, names []string, dec Decrypter) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vars directory: %w", err)
	}
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		present[e.Name()] = true
	}
	for _, name := range names {
		if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			continue
		}
		for _, ext := range varsExts {
			if !present[name+ext] {
				continue
			}
			p := filepath.Join(dir, name+ext)
			files, err := varsFiles(p)
			if err != nil {
				return nil, err
			}
			vars := map[string]any{}
			for _, f := range files {
				v, err := loadVarsFile(f, dec)
				if err != nil {
					return nil, err
				}
				maps.Copy(vars, v)
			}
			out[name] = vars
			break
		}
	}
	return out, nil
}

// varsFiles returns p itself when it is a file, or the vars files below the
// directory p in name order: hidden files and ~ backups are skipped, as are
// files whose extension is not .yml, .yaml or .json (files without one
// count); subdirectories without an extension are walked too.
func varsFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("vars file: %w", err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("vars directory: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		full := filepath.Join(p, n)
		ext := filepath.Ext(n)
		st, err := os.Stat(full)
		if err != nil {
			return nil, fmt.Errorf("vars directory: %w", err)
		}
		switch {
		case st.IsDir() && ext == "":
			sub, err := varsFiles(full)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case st.Mode().IsRegular() && (ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"):
			out = append(out, full)
		}
	}
	return out, nil
}

// loadVarsFile reads one YAML/JSON vars file, which must hold a mapping (or
// nothing).
func loadVarsFile(path string, dec Decrypter) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vars file: %w", err)
	}
	if vault.IsEncrypted(data) {
		if data, err = decrypt(dec, path, 1, 0, "vars file", data); err != nil {
			return nil, err
		}
	}
	doc, err := parseYAMLDocument(path, data)
	if err != nil {
		return nil, err
	}
	conv := &yamlConverter{file: path, vault: dec}
	v, err := conv.value(doc, 0)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	case *odict.Dict:
		return m.Map(), nil
	}
	top := deref(doc.Content[0])
	return nil, conv.errorf(top, "vars file must hold a dictionary of variables, got %s", yamlKindName(top))
}
