package modules

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/module"
)

// TestTemplateVarsAnsibleNames: the template module defines every variable
// Ansible's does (ansible-core's special_vars target renders them all),
// datetimes printed as Python's str() prints them.
func TestTemplateVarsAnsibleNames(t *testing.T) {
	f := filepath.Join(t.TempDir(), "t.j2")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 600_000, time.Local)
	if err := os.Chtimes(f, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	v := templateVars(&module.Host{}, f, fi, "/etc/x.conf")
	for _, k := range []string{"template_host", "template_path", "template_fullpath", "template_uid", "template_run_date", "template_mtime", "template_destpath", "ansible_managed"} {
		if _, ok := v[k]; !ok {
			t.Errorf("%s is not defined", k)
		}
	}
	if v["template_mtime"] != "2026-01-02 03:04:05.000600" || v["template_destpath"] != "/etc/x.conf" {
		t.Errorf("template_mtime %q, template_destpath %q", v["template_mtime"], v["template_destpath"])
	}
	if got := pyDatetime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)); got != "2026-01-02 03:04:05" {
		t.Errorf("whole seconds: %q", got)
	}
}
