package playbook_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// Every file in testdata/bad starts with "# want: FILE:LINE:COL: message"
// (loading it must fail with an error that contains exactly that text) or
// "# warn: FILE:LINE:COL: message" (a problem Ansible finds only when the
// task runs: loading succeeds, and a warning contains that text).
func TestMalformedPlaybooks(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(files) < 15 {
		t.Fatalf("want at least 15 malformed playbooks, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			kind, want := wantLine(t, f)
			l := playbook.NewLoader(modules.Registry(), nil)
			l.Syntax = template.New(template.Options{})
			_, err := l.LoadPlaybook(f)
			if kind == "warn" {
				if err != nil {
					t.Fatalf("loading %s failed; want a warning %q, not an error:\n%v", f, want, err)
				}
				err = errors.Join(l.Warnings()...)
				if err == nil {
					t.Fatalf("loading %s gave no warning; want %q", f, want)
				}
			} else if err == nil {
				t.Fatalf("loading %s succeeded; want error %q", f, want)
			}
			if !strings.Contains(err.Error(), "testdata/bad/"+want) {
				t.Fatalf("%s mismatch\nwant substring: testdata/bad/%s\ngot:\n%v", kind, want, err)
			}
		})
	}
}

// wantLine reads the first line of file: "# want: ..." or "# warn: ...".
func wantLine(t *testing.T, file string) (kind, want string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	line := sc.Text()
	for _, kind := range []string{"want", "warn"} {
		if want, ok := strings.CutPrefix(line, "# "+kind+": "); ok {
			return kind, want
		}
	}
	t.Fatalf("%s: first line must be '# want: ...' or '# warn: ...'", file)
	return "", ""
}

func TestLoadSample(t *testing.T) {
	pb, err := playbook.NewLoader(modules.Registry(), nil).LoadPlaybook("testdata/good/site.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(pb.Plays) != 2 {
		t.Fatalf("want 2 plays (one imported), got %d", len(pb.Plays))
	}
	p := pb.Plays[0]
	if len(p.Roles) != 1 || p.Roles[0].Role == nil || p.Roles[0].Role.Name != "app" {
		t.Fatalf("role not loaded: %+v", p.Roles)
	}
	role := p.Roles[0]
	// dependency first, then the role's own task
	if len(role.Block) != 2 || role.Block[0].Role.Name != "base" {
		t.Fatalf("role dependency not expanded first: %+v", role.Block)
	}
	if got := role.Block[1].Action; got != "debug" {
		t.Fatalf("role task action = %q", got)
	}
	if len(p.Handlers) != 2 {
		t.Fatalf("want play handler + role handler, got %d", len(p.Handlers))
	}
	// free-form k=v args and import_tasks expansion
	tasks := p.Tasks
	if tasks[0].Action != "command" || tasks[0].Args["cmd"] != "ls -l /tmp" || tasks[0].Args["chdir"] != "/" {
		t.Fatalf("free-form command parsed wrong: %#v", tasks[0].Args)
	}
	if !tasks[1].IsBlock() || !tasks[1].Implicit || len(tasks[1].Block) != 1 || tasks[1].Block[0].Parent != tasks[1] {
		t.Fatalf("import_tasks not expanded into an implicit block: %+v", tasks[1])
	}
	if tasks[2].Action != "include_tasks" {
		t.Fatalf("include_tasks should stay dynamic, got %q", tasks[2].Action)
	}
	if tasks[3].LoopKind != "items" || !tasks[3].HasLoop {
		t.Fatalf("with_items not recorded: %+v", tasks[3])
	}
	if got := tasks[4].Tags; len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("comma-separated tags: %v", got)
	}
}

func FuzzLoadPlaybook(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	reg := modules.Registry()
	f.Fuzz(func(t *testing.T, src []byte) {
		// A hang would stall the fuzzer silently; crashing saves the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("loading %q took more than 10 s", src)) })
		defer watchdog.Stop()
		dir := t.TempDir()
		p := filepath.Join(dir, "pb.yml")
		if err := os.WriteFile(p, src, 0o600); err != nil {
			t.Fatal(err)
		}
		// Must never panic; errors are fine.
		_, _ = playbook.NewLoader(reg, nil).LoadPlaybook(p)
	})
}

// TestLoadAliases checks that YAML aliases and merge keys work anywhere
// in a playbook, as they do with Ansible's YAML loader.
func TestLoadAliases(t *testing.T) {
	pb, err := playbook.NewLoader(modules.Registry(), nil).LoadPlaybook("testdata/good/aliases.yml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pb.Plays {
		for _, task := range p.Tasks {
			got = append(got, fmt.Sprintf("%s:%s:%v", task.Name, task.Action, task.Args["msg"]))
		}
	}
	want := []string{"first:debug:one", "second:debug:one", ":debug:common", ":debug:common"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("tasks %q, want %q", got, want)
	}
}

// An empty entry in a task list is skipped, as Ansible skips it.
func TestNullTaskIsSkipped(t *testing.T) {
	f := filepath.Join(t.TempDir(), "site.yml")
	if err := os.WriteFile(f, []byte("- hosts: all\n  tasks:\n    -\n    - debug: msg=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := playbook.NewLoader(modules.Registry(), nil).LoadPlaybook(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pb.Plays[0].Tasks); n != 1 {
		t.Fatalf("want 1 task, got %d", n)
	}
}
