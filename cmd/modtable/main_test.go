package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/modules"
)

var update = flag.Bool("update", false, "rewrite docs/modules.md")

const docPath = "../../docs/modules.md"

// TestModulesDocUpToDate regenerates the compatibility table from the
// module specs and the cached Ansible extract and compares it with
// docs/modules.md, so a module change without a regenerated table fails.
func TestModulesDocUpToDate(t *testing.T) {
	ex, err := loadExtract("testdata/ansible-2.14.json")
	if err != nil {
		t.Fatal(err)
	}
	got := generate(modules.Registry(), ex)
	if *update {
		if err := os.WriteFile(docPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("docs/modules.md is out of date: run `go run ./cmd/modtable` (or go test -update) (-file +generated):\n%s", diff)
	}
}

func TestCompare(t *testing.T) {
	spec := &module.Spec{
		Name:     "demo",
		FreeForm: "cmd",
		Args: []module.Arg{
			{Name: "path", Aliases: []string{"dest"}},
			{Name: "cmd"},
			{Name: "mode"},
			{Name: "selevel", Doc: "Accepted for compatibility and ignored."},
			{Name: "extra"},
		},
	}
	ans := &AnsibleMod{FQCN: "ansible.builtin.demo", Options: map[string]AnsibleOpt{
		"name":      {Aliases: []string{"path"}}, // tend accepts the alias
		"cmd":       {},
		"free_form": {},
		"mode":      {},
		"selevel":   {},
		"owner":     {},
		"backup":    {},
	}}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"missing", compare("demo", spec, ans).missing, []string{"backup", "owner"}},
		{"ignored", compare("demo", spec, ans).ignored, []string{"selevel"}},
		{"supported", compare("demo", spec, ans).supported, []string{"path", "cmd", "mode", "extra"}},
		// path is Ansible's alias of name, so only extra is tend's own.
		{"tend only", compare("demo", spec, ans).tendOnly, []string{"extra"}},
		{"not compared", compare("demo", spec, nil).missing, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryModuleListed checks the table has a row and a section for
// every registered module.
func TestEveryModuleListed(t *testing.T) {
	ex, err := loadExtract("testdata/ansible-2.14.json")
	if err != nil {
		t.Fatal(err)
	}
	reg := modules.Registry()
	md := generate(reg, ex)
	for _, n := range reg.Names() {
		if !strings.Contains(md, "\n| ["+n+"](#"+n+") |") || !strings.Contains(md, "\n## "+n+"\n") {
			t.Errorf("module %s has no row or section", n)
		}
	}
}
