package inventory

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSelectOracle resolves every pattern in testdata/select/patterns and
// compares with "ansible PATTERN --list-hosts" (recorded in
// select.golden.json; -update re-runs ansible).
func TestSelectOracle(t *testing.T) {
	dir := filepath.Join("testdata", "select")
	data, err := os.ReadFile(filepath.Join(dir, "patterns"))
	if err != nil {
		t.Fatal(err)
	}
	patterns := strings.Split(strings.TrimSpace(string(data)), "\n")
	golden := filepath.Join(dir, "select.golden.json")
	if *update {
		recordAnsibleSelect(t, dir, patterns, golden)
	}
	var want map[string][]string
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	chdir(t, dir)
	inv, err := Load([]string{"hosts"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range patterns {
		t.Run(p, func(t *testing.T) {
			hosts, err := inv.Select(p)
			if err != nil {
				t.Fatalf("Select(%q): %v", p, err)
			}
			if strings.HasPrefix(p, "@") {
				// Ansible accepts @file only in --limit, which filters the
				// play's hosts: compare the same thing.
				hosts = limitAll(t, inv, hosts)
			}
			got := []string{}
			for _, h := range hosts {
				got = append(got, h.Name)
			}
			if diff := cmp.Diff(want[p], got); diff != "" {
				t.Errorf("Select(%q) (-ansible +tend):\n%s", p, diff)
			}
		})
	}
}

func recordAnsibleSelect(t *testing.T, dir string, patterns []string, golden string) {
	t.Helper()
	bin, err := exec.LookPath("ansible")
	if err != nil {
		t.Skip("ansible not installed (apt-get install -y ansible-core); cannot regenerate " + golden)
	}
	out := map[string][]string{}
	for _, p := range patterns {
		args := []string{"-i", "hosts", "--list-hosts", "--", p}
		if strings.HasPrefix(p, "@") {
			args = []string{"-i", "hosts", "--list-hosts", "--limit", p, "all"}
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=0")
		res, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible %s --list-hosts: %v", p, err)
		}
		hosts := []string{}
		for _, line := range strings.Split(string(res), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "hosts (") {
				continue
			}
			hosts = append(hosts, line)
		}
		out[p] = hosts
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// limitAll returns the hosts of "all" that are in sel, in "all" order.
func limitAll(t *testing.T, inv *Inventory, sel []*Host) []*Host {
	t.Helper()
	all, err := inv.Select("all")
	if err != nil {
		t.Fatal(err)
	}
	in := map[*Host]bool{}
	for _, h := range sel {
		in[h] = true
	}
	var out []*Host
	for _, h := range all {
		if in[h] {
			out = append(out, h)
		}
	}
	return out
}
