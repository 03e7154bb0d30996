package template

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/odict"
	"gopkg.in/yaml.v3"
)

// TestAnsibleOracle renders testdata/oracle/playbook.yml's cases with real
// Ansible and with this package and compares the results. It runs when
// ansible-playbook is installed and is skipped under -short. Cases left out on purpose: PyYAML's
// exact block style, Python's seeded random, and non-native string results
// (splitext's tuple repr).
func TestAnsibleOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the comparison with ansible-playbook")
	}
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	out := filepath.Join(t.TempDir(), "out.json")
	cmd := exec.Command(bin, "-i", "localhost,", "-c", "local", "-e", "out="+out, "testdata/oracle/playbook.yml")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, b)
	}
	var want map[string]any
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}

	src, err := os.ReadFile("testdata/oracle/playbook.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	pb, err := yamlOrdered(&doc)
	if err != nil {
		t.Fatal(err)
	}
	// The variables keep their order, as Ansible's loader keeps it.
	play := pb.([]any)[0].(*odict.Dict)
	playVars, _ := play.Get("vars")
	vars := playVars.(*odict.Dict).Map()
	e := New(Options{BaseDir: "testdata/oracle"})
	gotJSON, err := e.Render("{{ cases | to_json }}", vars)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(gotJSON.(string)), &got); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		if diff := cmp.Diff(w, got[name], dictAsMap); diff != "" {
			t.Errorf("case %s %q differs from Ansible (-ansible +tend):\n%s", name, vars["cases"].(*odict.Dict).Map()[name], diff)
		}
	}
}
