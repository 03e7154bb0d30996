package posit_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/integration/posit/deploy"
)

// TestRoleREADMEsDocumentEveryVariable: every variable in a role's
// defaults/main.yml has a row in the role README's variables table (with a
// Posit documentation column), and each product role's README has a
// "Supported distributions" section.
func TestRoleREADMEsDocumentEveryVariable(t *testing.T) {
	root, err := deploy.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob(filepath.Join(root, "roles", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no roles: %v", err)
	}
	for _, dir := range dirs {
		role := filepath.Base(dir)
		readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Errorf("%s: %v", role, err)
			continue
		}
		if !strings.Contains(string(readme), "| variable | default | meaning | Posit documentation |") {
			t.Errorf("roles/%s/README.md has no variables table with a Posit documentation column", role)
		}
		switch role {
		case "workbench", "connect", "package_manager":
			if !strings.Contains(string(readme), "## Supported distributions") {
				t.Errorf("roles/%s/README.md has no supported distributions section", role)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, "defaults", "main.yml"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var vars map[string]any
		if err := yaml.Unmarshal(data, &vars); err != nil {
			t.Fatalf("roles/%s/defaults/main.yml: %v", role, err)
		}
		var missing []string
		for name := range vars {
			if !strings.Contains(string(readme), "| `"+name+"` |") {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("roles/%s/README.md does not document %v", role, missing)
		}
	}
}
