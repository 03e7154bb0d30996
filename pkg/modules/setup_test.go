package modules

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func runSetup(t *testing.T, raw map[string]any) map[string]any {
	t.Helper()
	m := &Setup{}
	args, err := m.Spec().Validate(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := m.Plan(context.Background(), localHost(), args)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changed || plan.Apply != nil {
		t.Fatalf("setup plans a change: %+v", plan)
	}
	return plan.Result
}

// TestSetupFilterAndShape: facts come back under ansible_facts with the
// ansible_ prefix (gather_subset and module_setup without), filtered.
func TestSetupFilterAndShape(t *testing.T) {
	res := runSetup(t, map[string]any{"gather_subset": []any{"!all"}, "filter": []any{"ansible_distribution", "hostname"}})
	f, ok := res["ansible_facts"].(map[string]any)
	if !ok {
		t.Fatalf("no ansible_facts in %v", res)
	}
	var keys []string
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"ansible_distribution", "ansible_hostname"} // the filter drops gather_subset and module_setup too
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	all := runSetup(t, map[string]any{"gather_subset": []any{"!all"}})["ansible_facts"].(map[string]any)
	if d := cmp.Diff([]any{"!all"}, all["gather_subset"]); d != "" {
		t.Errorf("gather_subset (-want +got):\n%s", d)
	}
	if all["module_setup"] != true || all["ansible_distribution"] == nil {
		t.Errorf("unfiltered setup: module_setup %v, ansible_distribution %v", all["module_setup"], all["ansible_distribution"])
	}
}

func TestSetupLocalFacts(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.fact"), []byte(`{"port": 8080}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen.fact"), []byte("#!/bin/sh\necho '[main]'\necho 'name = web'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := runSetup(t, map[string]any{"gather_subset": "!all,!min", "fact_path": dir, "filter": "ansible_local"})
	res2 := runSetup(t, map[string]any{"gather_subset": []any{"!all"}, "fact_path": dir, "filter": []any{"ansible_local"}})
	if len(res["ansible_facts"].(map[string]any)) != 0 {
		t.Errorf("!min gathered facts: %v", res["ansible_facts"])
	}
	want := map[string]any{"app": map[string]any{"port": float64(8080)}, "gen": map[string]any{"main": map[string]any{"name": "web"}}}
	if d := cmp.Diff(want, res2["ansible_facts"].(map[string]any)["ansible_local"]); d != "" {
		t.Errorf("ansible_local (-want +got):\n%s", d)
	}
}

func TestSetupBadSubset(t *testing.T) {
	res := runSetup(t, map[string]any{"gather_subset": []any{"hardware2"}})
	if res["failed"] != true {
		t.Errorf("unknown subset: %v", res)
	}
}
