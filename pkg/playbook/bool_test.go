package playbook_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// TestBooleanKeywordsAreStrict loads playbooks with a boolean keyword set
// to a value Ansible's boolean() rejects: each must fail at load time,
// naming the file, the value's line and column, and what is valid.
func TestBooleanKeywordsAreStrict(t *testing.T) {
	taskKeys := []string{"no_log", "check_mode", "diff", "become", "ignore_errors", "ignore_unreachable",
		"run_once", "any_errors_fatal", "delegate_facts"}
	playKeys := []string{"no_log", "check_mode", "diff", "become", "ignore_errors", "ignore_unreachable",
		"run_once", "any_errors_fatal", "gather_facts", "force_handlers"}
	roleKeys := []string{"no_log", "check_mode", "diff", "become", "ignore_errors", "ignore_unreachable",
		"run_once", "any_errors_fatal"}
	bad := []string{"ture", `"yes please"`, "2", `""`, "[true]", "0.5"}
	type tc struct {
		name, src string
		line, col int
	}
	var cases []tc
	for _, v := range bad {
		for _, k := range taskKeys {
			cases = append(cases, tc{"task " + k + "=" + v, "- hosts: all\n  tasks:\n    - debug: msg=hi\n      " + k + ": " + v + "\n", 4, 9 + len(k)})
			cases = append(cases, tc{"block " + k + "=" + v, "- hosts: all\n  tasks:\n    - block:\n        - debug: msg=hi\n      " + k + ": " + v + "\n", 5, 9 + len(k)})
		}
		for _, k := range playKeys {
			cases = append(cases, tc{"play " + k + "=" + v, "- hosts: all\n  " + k + ": " + v + "\n  tasks: []\n", 2, 5 + len(k)})
		}
		for _, k := range roleKeys {
			cases = append(cases, tc{"role " + k + "=" + v, "- hosts: all\n  roles:\n    - role: r\n      " + k + ": " + v + "\n", 4, 9 + len(k)})
		}
	}
	cases = append(cases,
		tc{"loop_control extended", "- hosts: all\n  tasks:\n    - debug: msg={{ item }}\n      loop: [1]\n      loop_control:\n        extended: ture\n", 6, 9},
		tc{"include_role public", "- hosts: all\n  tasks:\n    - include_role:\n        name: r\n        public: ture\n", 3, 7},
		tc{"import_role allow_duplicates", "- hosts: all\n  tasks:\n    - import_role:\n        name: r\n        allow_duplicates: maybe\n", 3, 7},
		tc{"handler no_log", "- hosts: all\n  handlers:\n    - name: h\n      debug: msg=hi\n      no_log: ture\n", 5, 15},
	)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "roles", "r", "tasks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "roles", "r", "tasks", "main.yml"), []byte("- debug: msg=hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, "pb"+strings.Repeat("x", i%3)+".yml")
			if err := os.WriteFile(file, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			l := playbook.NewLoader(modules.Registry(), nil)
			l.Syntax = template.New(template.Options{})
			_, err := l.LoadPlaybook(file)
			if err == nil {
				t.Fatalf("loaded without error:\n%s", c.src)
			}
			want := fmt.Sprintf("%s:%d:%d:", file, c.line, c.col)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not a valid boolean") {
				t.Fatalf("want an error at %s saying the value is not a valid boolean, got:\n%v\nsource:\n%s", want, err, c.src)
			}
		})
	}
}

// TestBooleanKeywordsAccept checks that every value Ansible accepts loads,
// and that null leaves the keyword unset.
func TestBooleanKeywordsAccept(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"true", "false", "yes", "no", "True", "on", "off", `"y"`, `"N"`, "1", "0", "1.0", `"t"`, `"F"`, `" yes "`, `"{{ flag }}"`, "null", ""} {
		src := "- hosts: all\n  no_log: " + v + "\n  tasks:\n    - debug: msg=hi\n      no_log: " + v + "\n      check_mode: " + v + "\n      become: " + v + "\n"
		file := filepath.Join(dir, "pb.yml")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		pb, err := playbook.NewLoader(modules.Registry(), nil).LoadPlaybook(file)
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		task := pb.Plays[0].Tasks[0]
		if (v == "null" || v == "") != (task.NoLog == nil) {
			t.Errorf("%s: no_log = %#v; null and empty must leave it unset, values must set it", v, task.NoLog)
		}
	}
}
