package modules

import (
	"os"
	"path/filepath"
	"strings"
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

// TestEncodeOutput: output_encoding as Python's codecs name them; text
// the encoding cannot hold is an error.
func TestEncodeOutput(t *testing.T) {
	for _, c := range []struct{ name, text, want, err string }{
		{"", "é", "\xc3\xa9", ""},
		{"utf-8", "é", "\xc3\xa9", ""},
		{"windows-1252", "é€", "\xe9\x80", ""},
		{"iso-8859-1", "é", "\xe9", ""},
		{"latin1", "é", "\xe9", ""},
		{"windows-1252", "☃", "", "output_encoding"},
		{"no-such-codec", "x", "", "unknown encoding"},
	} {
		got, err := encodeOutput(c.text, c.name)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %q, %v; want error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}
