package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
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
	if r["failed"] != true || !strings.Contains(r["msg"].(string), "does not have a valid extension: json, yaml, yml") {
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
