package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "regenerate testdata/oracle/*/*.golden.json by running ansible-inventory (needs ansible-core)")

// oracleCase is one directory of testdata/oracle: inventory files plus an
// args file holding the sources and an optional "--playbook-dir DIR".
type oracleCase struct {
	dir         string
	sources     []string
	playbookDir string
}

func readOracleCase(t *testing.T, dir string) oracleCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	c := oracleCase{dir: dir}
	fields := strings.Fields(string(data))
	for i := 0; i < len(fields); i++ {
		if fields[i] == "--playbook-dir" && i+1 < len(fields) {
			c.playbookDir = fields[i+1]
			i++
			continue
		}
		c.sources = append(c.sources, fields[i])
	}
	return c
}

// chdir changes the working directory for one test and restores it.
func chdir(t *testing.T, dir string) {
	t.Helper()
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Chdir(old); err != nil {
			t.Errorf("restoring working directory: %v", err)
		}
	})
}

// TestOracle compares Load/HostVars/Group with what ansible-inventory 2.14
// printed for the same inventories (recorded in *.golden.json).
func TestOracle(t *testing.T) {
	dirs, err := filepath.Glob("testdata/oracle/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := readOracleCase(t, dir)
			if *update {
				runAnsibleInventory(t, c)
			}
			chdir(t, dir)
			inv, err := Load(c.sources)
			if err != nil {
				t.Fatalf("Load(%q): %v", c.sources, err)
			}
			if c.playbookDir != "" {
				if err := inv.AddVarsDir(c.playbookDir); err != nil {
					t.Fatal(err)
				}
			}
			for _, export := range []bool{false, true} {
				name := "list.golden.json"
				if export {
					name = "export.golden.json"
				}
				want := readJSON(t, name)
				got := normalizeJSON(t, renderAnsibleList(inv, export))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: mismatch with ansible-inventory (-ansible +tend):\n%s", name, diff)
				}
			}
		})
	}
}

func runAnsibleInventory(t *testing.T, c oracleCase) {
	t.Helper()
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		t.Skip("ansible-inventory not installed (apt-get install -y ansible-core); cannot regenerate golden files")
	}
	for _, export := range []bool{false, true} {
		args := []string{"--list"}
		name := "list.golden.json"
		if export {
			args = append(args, "--export")
			name = "export.golden.json"
		}
		for _, s := range c.sources {
			args = append(args, "-i", s)
		}
		if c.playbookDir != "" {
			args = append(args, "--playbook-dir", c.playbookDir)
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = c.dir
		cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible-inventory %v: %v\n%s", args, err, stderr.String())
		}
		if err := os.WriteFile(filepath.Join(c.dir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
		if stderr.Len() > 0 {
			t.Logf("ansible-inventory %v warnings:\n%s", args, stderr.String())
		}
	}
}

// renderAnsibleList builds what "ansible-inventory --list [--export]"
// prints, from the public API.
func renderAnsibleList(inv *Inventory, export bool) map[string]any {
	out := map[string]any{}
	seen := map[string]bool{}
	var format func(name string)
	format = func(name string) {
		g, _ := inv.Group(name)
		entry := map[string]any{}
		if name != "all" && len(g.Hosts) > 0 {
			entry["hosts"] = g.Hosts
		}
		if len(g.Children) > 0 {
			entry["children"] = g.Children
		}
		if export && len(g.Vars) > 0 {
			entry["vars"] = g.Vars
		}
		for _, c := range g.Children {
			if !seen[c] {
				seen[c] = true
				format(c)
			}
		}
		if len(entry) > 0 {
			out[name] = entry
		}
	}
	format("all")
	hostvars := map[string]any{}
	for _, h := range inv.Hosts() {
		var v map[string]any
		if export {
			v = h.Vars
		} else {
			v = inv.HostVars(h.Name)
			delete(v, "inventory_file")
			delete(v, "inventory_dir")
		}
		if len(v) > 0 {
			hostvars[h.Name] = v
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return out
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestOracle -update with ansible-core installed)", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func normalizeJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
