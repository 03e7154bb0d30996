package template

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLookupPassword: a new password is written to its file and read back
// by the next lookup; /dev/null gives a fresh one each time, never written;
// length and chars are honoured (ansible-core's setup_test_user target uses
// lookup('password', '/dev/null')).
func TestLookupPassword(t *testing.T) {
	dir := t.TempDir()
	e := New(Options{BaseDir: dir})
	render := func(src string) string {
		t.Helper()
		v, err := e.Render(src, map[string]any{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return v.(string)
	}
	first := render("{{ lookup('password', 'creds/db length=12 chars=digits') }}")
	if len(first) != 12 || strings.Trim(first, "0123456789") != "" {
		t.Errorf("password %q: want 12 digits", first)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "creds", "db")); err != nil || strings.TrimSpace(string(b)) != first {
		t.Errorf("file holds %q (%v), want %q", b, err, first)
	}
	if again := render("{{ lookup('password', 'creds/db length=12 chars=digits') }}"); again != first {
		t.Errorf("second lookup %q, want the stored %q", again, first)
	}
	a, b := render("{{ lookup('password', '/dev/null') }}"), render("{{ lookup('password', '/dev/null') }}")
	if len(a) != 20 || a == b {
		t.Errorf("/dev/null passwords %q, %q: want two different ones of 20 characters", a, b)
	}
	if _, err := e.Render("{{ lookup('password', '/dev/null encrypt=sha512_crypt') }}", nil); err == nil {
		t.Error("encrypt=: no error, want one saying it is not supported")
	}
	names, err := e.Render("{{ lookup('varnames', '^q.+', wantlist=True) }}", map[string]any{"qa": 1, "qb": 2, "x": 3})
	if err != nil || len(names.([]any)) != 2 {
		t.Errorf("varnames: %v, %v", names, err)
	}
}
