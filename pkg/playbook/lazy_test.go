package playbook_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// TestLazyValidation: what Ansible finds only when a task runs is a
// warning naming its place, not an error, and the playbook loads; what
// Ansible refuses when it parses the playbook stays an error.
func TestLazyValidation(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		err   string   // substring of the error; "" loads
		warns []string // substrings, one warning each
	}{
		{
			name: "another OS's include under a false when",
			files: map[string]string{
				"site.yml":    "- hosts: all\n  tasks:\n    - include_tasks: freebsd.yml\n      when: false\n",
				"freebsd.yml": "- pkgng: name=curl\n- win_file:\n    path: C:\\Temp\n",
			},
			warns: []string{`freebsd.yml:1:3: unknown module or task keyword "pkgng"`, `freebsd.yml:2:3: unknown module or task keyword "win_file"`},
		},
		{
			name: "a broken file that include_tasks reads",
			files: map[string]string{
				"site.yml":   "- hosts: all\n  tasks:\n    - include_tasks: broken.yml\n",
				"broken.yml": "- debug: msg=a\n  command: b\n",
			},
			warns: []string{"broken.yml:1:3: conflicting action statements"},
		},
		{
			name:  "a missing include_tasks file",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - include_tasks: nosuch.yml\n"},
			warns: []string{`site.yml:3:7: include_tasks: cannot find task file "nosuch.yml"`},
		},
		{
			name:  "a missing include_role role",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - include_role: name=nosuch\n"},
			warns: []string{`site.yml:3:7: role "nosuch" not found`},
		},
		{
			name:  "a missing import_tasks file stays an error",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - import_tasks: nosuch.yml\n"},
			err:   `site.yml:3:7: import_tasks: cannot find task file "nosuch.yml"`,
		},
		{
			name: "a role included with problems, then imported",
			files: map[string]string{
				"site.yml":               "- hosts: all\n  tasks:\n    - include_role: name=r\n    - import_role: name=r\n",
				"roles/r/tasks/main.yml": "- debug: msg=a\n  command: b\n",
			},
			err:   "main.yml:1:3: conflicting action statements",
			warns: []string{"main.yml:1:3: conflicting action statements"},
		},
		{
			name:  "default(omit) on exclusive arguments",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - copy:\n        src: \"{{ a | default(omit) }}\"\n        content: \"{{ b | default(omit) }}\"\n        dest: /tmp/x\n"},
		},
		{
			name:  "a module chosen at run time",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - action: \"{{ m }} path=/x\"\n"},
		},
		{
			name:  "a template that does not parse",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - debug: msg=\"{{ 1 + }}\"\n      when: x ==\n"},
			warns: []string{"site.yml:4:13: invalid condition", "site.yml:3:14: invalid template"},
		},
		{
			// ansible-core's add_host target gives bad input on purpose,
			// under ignore_errors: the task fails when it runs.
			name:  "free-form arguments that are not key=value",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - add_host: namenewdynamichost groupsnewdynamicgroup\n      ignore_errors: true\n"},
			warns: []string{`site.yml:3:17: module add_host: expected key=value, got "namenewdynamichost"`},
		},
		{
			name:  "import_playbook in a task list stays an error",
			files: map[string]string{"site.yml": "- hosts: all\n  tasks:\n    - import_playbook: other.yml\n"},
			err:   "site.yml:3:7: import_playbook is not valid in a task list",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l := playbook.NewLoader(modules.Registry(), nil)
			l.Syntax = template.New(template.Options{})
			_, err := l.LoadPlaybook(filepath.Join(dir, "site.yml"))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("load failed; want it to load with warnings:\n%v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("load succeeded; want error %q", tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error does not contain %q:\n%v", tc.err, err)
			}
			warns := l.Warnings()
			if len(warns) != len(tc.warns) {
				t.Fatalf("%d warnings, want %d:\n%v", len(warns), len(tc.warns), errors.Join(warns...))
			}
			for i, w := range tc.warns {
				if !strings.Contains(warns[i].Error(), w) {
					t.Errorf("warning %d does not contain %q:\n%v", i, w, warns[i])
				}
			}
		})
	}
}
