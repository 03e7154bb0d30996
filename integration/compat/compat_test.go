package compat

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
)

// TestCorpusFiles checks the corpus without hosts: every role has its
// metadata, its files and its licence file, the saved results belong to
// the pinned commits, and docs/compatibility.md is what the corpus and
// the results render to (regenerate with `go run ./integration/cmd/compat -docs`).
func TestCorpusFiles(t *testing.T) {
	roles, err := LoadCorpus("corpus")
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) < 25 {
		t.Errorf("the corpus has %d roles, want at least 25", len(roles))
	}
	for _, r := range roles {
		if _, err := os.Stat(filepath.Join(r.RoleDir(), "tasks", "main.yml")); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		lic, _ := filepath.Glob(filepath.Join(r.RoleDir(), "LICEN[CS]E*"))
		if len(lic) == 0 {
			t.Errorf("%s: no licence file in %s", r.Name, r.RoleDir())
		}
	}
	rs, err := ReadResults("results.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if res, ok := rs[r.Name]; ok && res.Commit != r.Commit {
			t.Errorf("%s: results are for commit %s, the corpus pins %s: rerun `go run ./integration/cmd/compat -roles %s`", r.Name, res.Commit, r.Commit, r.Name)
		}
	}
	want := Render(roles, rs)
	got, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/compatibility.md is stale: run `go run ./integration/cmd/compat -docs` from the repository's root")
	}
}

// TestCorpus runs the fast subset of the corpus (roles with ci: true in
// their compat.yml; TEND_COMPAT_ROLES=a,b picks others) under
// ansible-playbook and tend on twin hosts and requires each to pass: same
// recaps on both runs, the second changing nothing, the same end state.
// The whole corpus, which also rewrites docs/compatibility.md, is
// `go run ./integration/cmd/compat`.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("boots hosts")
	}
	if err := testbed.CheckPrerequisites(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testbed: %v", err)
		}
		t.Skipf("testbed: %v", err)
	}
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ansible-playbook not found: %v", err)
		}
		t.Skipf("ansible-playbook not found: %v", err)
	}
	roles, err := LoadCorpus("corpus")
	if err != nil {
		t.Fatal(err)
	}
	pick := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("TEND_COMPAT_ROLES"), ",") {
		if n != "" {
			pick[n] = true
		}
	}
	work := t.TempDir()
	tend := filepath.Join(work, "tend")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel) // after the parallel subtests, which run once this function returns
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", tend, "../../cmd/tend").CombinedOutput(); err != nil {
		t.Fatalf("build tend: %v\n%s", err, out)
	}
	for _, r := range roles {
		if (len(pick) > 0 && !pick[r.Name]) || (len(pick) == 0 && !r.CI) {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			res := RunRole(ctx, r, Options{Tend: tend, Ansible: ap, Work: work, Log: testLog{t}, Timeout: 10 * time.Minute})
			if v := Verdict(refiltered([]*Role{r}, Results{r.Name: res})[r.Name]); v != "pass" {
				t.Errorf("%s: %s\nansible-playbook: %s\ntend: %s\nend-state differences:\n%s\n(logs in %s)", r.Name, v,
					runsText(res.Ansible), runsText(res.Tend), strings.Join(res.StateDiff, "\n"), filepath.Join(work, r.Name))
			}
		})
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
