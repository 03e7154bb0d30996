package playbook

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// Roles from collections: a fully qualified role name ns.coll.role is
// found at ansible_collections/ns/coll/roles/role under the playbook's
// collections/ directory or a collections path; a short name is looked up
// first in the collections the play (or the role's own collection and its
// meta/main.yml collections:) lists, then as usual.

// DefaultCollectionsPaths returns the collections paths Ansible searches:
// ANSIBLE_COLLECTIONS_PATH (or the older ANSIBLE_COLLECTIONS_PATHS), else
// collections_path(s) in the [defaults] section of ansible.cfg (found as
// Ansible finds it: ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,
// /etc/ansible/ansible.cfg), else ~/.ansible/collections and
// /usr/share/ansible/collections.
func DefaultCollectionsPaths() []string {
	home, _ := os.UserHomeDir()
	for _, env := range []string{"ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"} {
		if v := os.Getenv(env); v != "" {
			return splitPaths(v, "", home)
		}
	}
	if cfg := ansibleCfg(home); cfg != "" {
		if v, ok := cfgValue(cfg, "defaults", "collections_path", "collections_paths"); ok {
			return splitPaths(v, filepath.Dir(cfg), home)
		}
	}
	var out []string
	if home != "" {
		out = append(out, filepath.Join(home, ".ansible", "collections"))
	}
	return append(out, "/usr/share/ansible/collections")
}

// ansibleCfg returns the ansible.cfg Ansible reads, or "".
func ansibleCfg(home string) string {
	cands := []string{os.Getenv("ANSIBLE_CONFIG")}
	if wd, err := os.Getwd(); err == nil {
		cands = append(cands, filepath.Join(wd, "ansible.cfg"))
	}
	if home != "" {
		cands = append(cands, filepath.Join(home, ".ansible.cfg"))
	}
	cands = append(cands, "/etc/ansible/ansible.cfg")
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			c = filepath.Join(c, "ansible.cfg")
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	return ""
}

// cfgValue reads the first of keys in section of an INI file.
func cfgValue(file, section string, keys ...string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	found := map[string]string{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		if cur != section {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if ok {
			found[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for _, k := range keys {
		if v, ok := found[k]; ok {
			return v, true
		}
	}
	return "", false
}

// splitPaths splits a colon-separated path list, expanding ~ and making
// relative entries relative to base (the config file's directory).
func splitPaths(v, base, home string) []string {
	var out []string
	for _, p := range filepath.SplitList(v) {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
			p = filepath.Join(home, p[1:])
		}
		if !filepath.IsAbs(p) && base != "" {
			p = filepath.Join(base, p)
		}
		out = append(out, p)
	}
	return out
}

// splitFQCN splits ns.coll.name; ok is false for other names.
func splitFQCN(name string) (coll, short string, ok bool) {
	if strings.ContainsAny(name, `/\`) {
		return "", "", false
	}
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	for _, p := range parts {
		if !isIdent(p) {
			return "", "", false
		}
	}
	return parts[0] + "." + parts[1], parts[2], true
}

// collectionRoots are the directories holding ansible_collections/ for a
// playbook: its own collections/ directory, then the collections paths. A
// path ending in ansible_collections stands for its parent, as in Ansible.
func (l *Loader) collectionRoots(playDir string) []string {
	roots := []string{filepath.Join(playDir, "collections")}
	for _, p := range l.CollectionsPath {
		if filepath.Base(p) == "ansible_collections" {
			p = filepath.Dir(p)
		}
		roots = append(roots, p)
	}
	return roots
}

// findCollectionRole looks for role short in collection coll (ns.coll),
// adding the places it looked to tried.
func (l *Loader) findCollectionRole(coll, short, playDir string, tried *[]string) string {
	ns, name, _ := strings.Cut(coll, ".")
	for _, root := range l.collectionRoots(playDir) {
		c := filepath.Join(root, "ansible_collections", ns, name, "roles", short)
		*tried = append(*tried, c)
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	return ""
}

// collectionList is the collections short names resolve through: the
// role's (its own collection first, then its meta/main.yml collections:)
// inside a role, else the play's or block's.
func (ctx *taskCtx) collectionList() []string {
	if ctx.role != nil {
		return ctx.role.Collections
	}
	return ctx.collections
}
