// Package compat runs public Ansible roles (the compatibility corpus in
// corpus/) side by side under ansible-playbook and tend on twin fresh
// testbed hosts, compares what each engine reports and leaves behind, and
// renders docs/compatibility.md from the results.
package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"gopkg.in/yaml.v3"
)

// Role is one entry of the corpus: a public role stored, pinned by commit,
// under corpus/NAME/role, described by corpus/NAME/compat.yml.
type Role struct {
	Name    string `yaml:"-"`
	Dir     string `yaml:"-"` // corpus/NAME
	Repo    string `yaml:"repo"`
	Commit  string `yaml:"commit"`
	License string `yaml:"license"`
	// Path is the role's folder inside Repo when it is not the root (a
	// role of a collection).
	Path string `yaml:"path,omitempty"`
	// Vars are the play variables the run uses (to keep it to Debian's apt,
	// with no other download).
	Vars map[string]any `yaml:"vars,omitempty"`
	// ExtraVars are given with -e to both engines: for what a role sets
	// in its vars/ (which play variables do not override).
	ExtraVars map[string]any `yaml:"extra_vars,omitempty"`
	// CI puts the role in the fast subset CI runs.
	CI bool `yaml:"ci,omitempty"`
	// Random matches end-state keys ("file /etc/x") whose content differs
	// between any two runs by design (generated keys, timestamps); only
	// their presence is compared.
	Random []string `yaml:"random,omitempty"`
	// Cause explains a difference that remains between the engines, for
	// docs/compatibility.md.
	Cause string `yaml:"cause,omitempty"`
}

// RoleDir is where the role's files are.
func (r *Role) RoleDir() string { return filepath.Join(r.Dir, "role") }

// randomRE joins Random into one expression (nil when empty).
func (r *Role) randomRE() (*regexp.Regexp, error) {
	if len(r.Random) == 0 {
		return nil, nil
	}
	s := ""
	for i, p := range r.Random {
		if i > 0 {
			s += "|"
		}
		s += "(?:" + p + ")"
	}
	re, err := regexp.Compile("^(?:" + s + ")$")
	if err != nil {
		return nil, fmt.Errorf("%s: random: %w", r.Name, err)
	}
	return re, nil
}

// LoadCorpus reads every corpus/NAME/compat.yml under dir, sorted by name.
func LoadCorpus(dir string) ([]*Role, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	var roles []*Role
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(filepath.Join(d, "compat.yml"))
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", e.Name(), err)
		}
		r := &Role{Name: e.Name(), Dir: d}
		if err := yaml.Unmarshal(raw, r); err != nil {
			return nil, fmt.Errorf("corpus %s/compat.yml: %w", e.Name(), err)
		}
		if r.Repo == "" || len(r.Commit) != 40 || r.License == "" {
			return nil, fmt.Errorf("corpus %s/compat.yml: repo, commit (40 hex digits) and license are required", e.Name())
		}
		if _, err := r.randomRE(); err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	return roles, nil
}
