package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

type netDirFinder string

func (d netDirFinder) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	p := filepath.Join(string(d), kind, name)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

func TestScript(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	os.WriteFile(filepath.Join(dir, "files", "s.sh"), []byte("#!/bin/sh\necho \"args:$#:$1:$2\"; pwd; echo \"$0\" >&2; touch \"$MARK\"\n"), 0o644)
	tmp := t.TempDir()
	mark := filepath.Join(tmp, "mark")
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Files: netDirFinder(dir),
		Env: map[string]string{"MARK": mark, "TMPDIR": tmp}}

	args := map[string]any{"cmd": "s.sh 'a b' c", "chdir": tmp, "creates": mark}
	if r, p := netRun(t, h, Script{}, args, true); !p.Changed || p.Unpredictable || r["changed"] != true {
		t.Fatalf("check mode: %v", r)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("check mode ran the script")
	}
	r, _ := netRun(t, h, Script{}, args, false)
	if r["stdout"] != "args:2:a b:c\n"+tmp || netFailed(r) {
		t.Fatalf("run: %v", r)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if !strings.Contains(r["stderr"].(string), "tend-script-") {
		t.Errorf("script did not run from a temporary directory: %v", r["stderr"])
	}
	if r, _ := netRun(t, h, Script{}, args, false); r["changed"] != false || !strings.Contains(r["msg"].(string), "exists") {
		t.Fatalf("second run: %v", r)
	}
	if r, p := netRun(t, h, Script{}, map[string]any{"cmd": "s.sh", "executable": "/bin/bash"}, true); !p.Unpredictable {
		t.Fatalf("plan without creates must be unpredictable: %v", r)
	}
	if r, _ := netRun(t, h, Script{}, map[string]any{"cmd": "missing.sh"}, false); !netFailed(r) {
		t.Fatalf("missing script: %v", r)
	}
}
