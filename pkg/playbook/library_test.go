package playbook_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
)

// TestCustomModules: a module found in a library/ directory (next to the
// playbook, in a role, in ANSIBLE_LIBRARY, in a collection) is no
// warning, and its key=value text is read as its arguments; a role's
// library/ serves the tasks after it was loaded, in any play, as in
// Ansible; a module found nowhere stays a warning.
func TestCustomModules(t *testing.T) {
	dir := t.TempDir()
	lib := t.TempDir()
	t.Setenv("ANSIBLE_LIBRARY", lib)
	t.Setenv("ANSIBLE_MODULE_UTILS", "")
	files := map[string]string{
		"library/near_playbook.py":                                         "#!/usr/bin/python\n",
		"roles/r/library/in_role.sh":                                       "#!/bin/sh\n",
		"roles/r/module_utils/helper.py":                                   "",
		"roles/r/tasks/main.yml":                                           "- in_role: a=1 b='x y'\n",
		"collections/ansible_collections/ns/c/plugins/modules/coll_mod.py": "#!/usr/bin/python\n",
		"site.yml": `- hosts: all
  tasks:
    - near_playbook: k=v free words
    - in_role: {a: 2}
    - ns.c.coll_mod:
    - from_env:
    - ansible.legacy.near_playbook:
    - nowhere: x=1
- hosts: all
  roles: [r]
  tasks:
    - in_role: c=3
- hosts: all
  collections: [ns.c]
  tasks:
    - coll_mod:
    - community.general.near_playbook:
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(lib, "from_env"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := playbook.NewLoader(modules.Registry(), nil)
	pb, err := l.LoadPlaybook(filepath.Join(dir, "site.yml"))
	if err != nil {
		t.Fatal(err)
	}
	warns := l.Warnings()
	// in_role in the first play comes before the role is loaded: Ansible
	// refuses it when it parses the play; tend warns, and finds it when it
	// runs.
	if len(warns) != 2 || !strings.Contains(warns[0].Error(), `"in_role"`) || !strings.Contains(warns[1].Error(), `"nowhere"`) {
		t.Fatalf("warnings:\n%v", errors.Join(warns...))
	}
	tasks := pb.Plays[0].Tasks
	if got := tasks[0].Args; !reflect.DeepEqual(got, map[string]any{"k": "v", "_raw_params": "free words"}) {
		t.Errorf("near_playbook args: %v", got)
	}
	for _, name := range []string{"in_role", "near_playbook", "from_env", "ns.c.coll_mod", "ansible.legacy.near_playbook"} {
		if _, ok := l.FindModule(name); !ok {
			t.Errorf("FindModule(%q) found nothing", name)
		}
	}
	if _, ok := l.FindModule("nowhere"); ok {
		t.Error("found a module that does not exist")
	}
	roleTasks := pb.Plays[1].PlayRoles[0].Tasks
	if got := roleTasks[0].Args; !reflect.DeepEqual(got, map[string]any{"a": "1", "b": "x y"}) {
		t.Errorf("in_role args: %v", got)
	}
	if got := []string{pb.Plays[2].Tasks[0].Action, pb.Plays[2].Tasks[1].Action}; !reflect.DeepEqual(got, []string{"ns.c.coll_mod", "near_playbook"}) {
		t.Errorf("actions: %v", got)
	}
	mu := l.ModuleUtilsDirs()
	if len(mu) == 0 || !strings.HasSuffix(mu[0], filepath.Join("roles", "r", "module_utils")) {
		t.Errorf("module_utils dirs: %v", mu)
	}
}
