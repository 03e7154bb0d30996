package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.prom")
	for _, tt := range []struct {
		content string
		mode    os.FileMode
	}{{"first\n", 0o644}, {"second\n", 0o600}} {
		if err := Write(p, []byte(tt.content), tt.mode); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != tt.content {
			t.Errorf("file holds %q, want %q", b, tt.content)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != tt.mode {
			t.Errorf("mode %v (%v), want %v", st.Mode().Perm(), err, tt.mode)
		}
	}
	if err := Write(filepath.Join(t.TempDir(), "no", "such", "dir", "r"), nil, 0o644); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %q", m)
	}
}
