package playbook

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tend-dev/tend/pkg/modules"
)

func TestDefaultCollectionsPaths(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("ANSIBLE_COLLECTIONS_PATHS", "")
	t.Setenv("ANSIBLE_COLLECTIONS_PATH", "/a:~/b")
	if got := DefaultCollectionsPaths(); !slices.Equal(got, []string{"/a", filepath.Join(dir, "b")}) {
		t.Errorf("from ANSIBLE_COLLECTIONS_PATH: %v", got)
	}
	t.Setenv("ANSIBLE_COLLECTIONS_PATH", "")
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, []byte("[defaults]\nroles_path = x\ncollections_paths = ./colls:/opt/c\n[other]\ncollections_path = /no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ANSIBLE_CONFIG", cfg)
	if got := DefaultCollectionsPaths(); !slices.Equal(got, []string{filepath.Join(dir, "colls"), "/opt/c"}) {
		t.Errorf("from ansible.cfg: %v", got)
	}
	t.Setenv("ANSIBLE_CONFIG", filepath.Join(dir, "none.cfg"))
	t.Chdir(dir)
	os.Remove(cfg)
	got := DefaultCollectionsPaths()
	if len(got) < 2 || got[0] != filepath.Join(dir, ".ansible", "collections") || got[len(got)-1] != "/usr/share/ansible/collections" {
		t.Errorf("defaults: %v", got)
	}
}

// A role named ns.coll.role is found in a collections path; a short name
// through the play's collections: keyword.
func TestCollectionRoleFromCollectionsPath(t *testing.T) {
	dir := t.TempDir()
	roleTasks := filepath.Join(dir, "colls", "ansible_collections", "acme", "tools", "roles", "setup", "tasks")
	if err := os.MkdirAll(roleTasks, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roleTasks, "main.yml"), []byte("- debug: msg=hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pb := filepath.Join(dir, "site.yml")
	src := "- hosts: all\n  roles: [acme.tools.setup]\n- hosts: all\n  collections: [acme.tools]\n  roles: [setup]\n"
	if err := os.WriteFile(pb, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLoader(modules.Registry(), nil)
	l.CollectionsPath = []string{filepath.Join(dir, "colls", "ansible_collections")}
	p, err := l.LoadPlaybook(pb)
	if err != nil {
		t.Fatal(err)
	}
	for i, play := range p.Plays {
		if len(play.Roles) != 1 || play.Roles[0].Role.Name != "acme.tools.setup" || play.Roles[0].Role.Collection != "acme.tools" {
			t.Errorf("play %d: roles %+v", i, play.Roles)
		}
	}
	l.CollectionsPath = nil
	if _, err := NewLoader(modules.Registry(), nil).LoadPlaybook(pb); err == nil {
		t.Error("a collection role outside the collections paths was found")
	}
}
