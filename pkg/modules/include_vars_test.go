package modules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/odict"
)

func TestIncludeVarsDir(t *testing.T) {
	dir := t.TempDir()
	vd := filepath.Join(dir, "vars", "conf")
	os.MkdirAll(vd, 0o755)
	for name, content := range map[string]string{"a.yml": "a: 1\n", "b.yaml": "b: 2\n", "notes.txt": "x\n", "c.yml.bak": "c: 3\n", "skip.yml": "s: 1\n"} {
		os.WriteFile(filepath.Join(vd, name), []byte(content), 0o644)
	}
	h := testHost(dir, connection.Local{})
	r := execModule(t, h, "include_vars", map[string]any{"dir": "conf"}, false)
	if r["failed"] != true || !strings.Contains(r["message"].(string), "does not have a valid extension: json, yaml, yml") {
		t.Errorf("unknown extension: %v", r)
	}
	r = execModule(t, h, "include_vars", map[string]any{"dir": "conf", "ignore_unknown_extensions": true, "ignore_files": []any{"skip.yml", "ml.bak"}}, false)
	f, _ := r["ansible_facts"].(map[string]any)
	if r["failed"] == true || len(f) != 2 || f["a"] != 1 || f["b"] != 2 {
		t.Errorf("ignore_unknown_extensions: %v", r)
	}
	// ignore_files patterns are anchored at the end of the name.
	r = execModule(t, h, "include_vars", map[string]any{"dir": "conf", "ignore_unknown_extensions": true, "ignore_files": []any{"skip"}}, false)
	if f, _ := r["ansible_facts"].(map[string]any); f["s"] != 1 {
		t.Errorf("ignore_files 'skip' must not match skip.yml: %v", r)
	}
	r = execModule(t, h, "include_vars", map[string]any{"dir": "conf", "files_matching": "^[ab]\\.", "extensions": []any{"yml"}, "ignore_unknown_extensions": true}, false)
	if f, _ := r["ansible_facts"].(map[string]any); len(f) != 1 || f["a"] != 1 {
		t.Errorf("files_matching and extensions: %v", r)
	}
}

// TestIncludeVarsDirOrder: as Ansible, a file without an extension is
// loaded when extensions lists "", the directories are read sorted by
// path (a directory's own files before its subdirectories'), and a
// failure is in message.
func TestIncludeVarsDirOrder(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"vars/tree/z.yml":        "v: z\n",
		"vars/tree/a/deep/x.yml": "v: deep\n",
		"vars/tree/a/b.yml":      "v: ab\n",
		"vars/tree/b/noext":      "v: noext\nnoext: 1\n",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	h := testHost(dir, connection.Local{})
	r := execModule(t, h, "include_vars", map[string]any{"dir": "tree", "extensions": []any{"", "yml"}}, false)
	f, _ := r["ansible_facts"].(map[string]any)
	files, _ := r["ansible_included_var_files"].([]any)
	var rel []string
	for _, p := range files {
		r, _ := filepath.Rel(filepath.Join(dir, "vars", "tree"), p.(string))
		rel = append(rel, r)
	}
	if got, want := strings.Join(rel, " "), "z.yml a/b.yml a/deep/x.yml b/noext"; got != want || f["noext"] != 1 || f["v"] != "noext" {
		t.Errorf("files %q, want %q; facts %v (%v)", got, want, f, r)
	}
	r = execModule(t, h, "include_vars", map[string]any{"dir": "tree", "depth": 2, "ignore_unknown_extensions": true}, false)
	if files, _ := r["ansible_included_var_files"].([]any); len(files) != 2 {
		t.Errorf("depth 2 reads the first two directories: %v", r)
	}
	r = execModule(t, h, "include_vars", map[string]any{"dir": "tree"}, false)
	if m, _ := r["message"].(string); r["failed"] != true || !strings.HasSuffix(m, "b/noext does not have a valid extension: json, yaml, yml") {
		t.Errorf("unknown extension: %v", r)
	}
}

// TestIncludeVarsHashMerge: hash_behaviour=merge merges each variable
// recursively into its current value, as Ansible's combine_vars.
func TestIncludeVarsHashMerge(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "vars"), 0o755)
	os.WriteFile(filepath.Join(dir, "vars", "h2.yml"), []byte("config:\n  key1: 1\n  key2: {b: 22}\n  key3: 3\n"), 0o644)
	h := testHost(dir, connection.Local{})
	h.Vars = map[string]any{"config": map[string]any{"key0": 0, "key1": 0, "key2": map[string]any{"a": 21}}}
	r := execModule(t, h, "include_vars", map[string]any{"file": "h2.yml", "hash_behaviour": "merge"}, false)
	f, _ := r["ansible_facts"].(map[string]any)
	c, ok := f["config"].(*odict.Dict)
	if !ok {
		t.Fatalf("config = %#v (%v)", f["config"], r)
	}
	k2, _ := c.Get("key2")
	if got := fmt.Sprint(c.Keys(), " ", odict.Plain(k2)); got != "[key0 key1 key2 key3] map[a:21 b:22]" {
		t.Errorf("merged: %s", got)
	}
	h.Vars = map[string]any{}
	r = execModule(t, h, "include_vars", map[string]any{"file": "h2.yml", "hash_behaviour": "merge"}, false)
	if m, _ := r["message"].(string); r["failed"] != true || !strings.Contains(m, "expected dicts but got a 'NoneType' and a 'dict'") {
		t.Errorf("merge into an undefined variable: %v", r)
	}
}

// TestIncludeVarsFreeFormNewline: `include_vars: >` gives the file name a
// final newline, which Ansible's include_vars action strips.
func TestIncludeVarsFreeFormNewline(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "vars", "services"), 0o755)
	os.WriteFile(filepath.Join(dir, "vars", "services", "v.yml"), []byte("svc: 1\n"), 0o644)
	h := testHost(dir, connection.Local{})
	r := execModule(t, h, "include_vars", map[string]any{"_raw_params": "services/v.yml\n"}, false)
	if f, _ := r["ansible_facts"].(map[string]any); r["failed"] == true || f["svc"] != 1 {
		t.Errorf("free-form file with a final newline: %v", r)
	}
}
