package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
)

// TestOptionLikeValuesAreNotOptions runs modules with paths and prefixes
// that look like options ("-rf", "-c") on the local host: each must act on
// a file of that name and do nothing else.
func TestOptionLikeValuesAreNotOptions(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // relative paths are the host's working directory's
	t.Setenv("TMPDIR", dir)
	h := testHost(dir, connection.Local{})
	only := func(t *testing.T, want ...string) {
		t.Helper()
		ents, _ := os.ReadDir(dir)
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("directory holds %q, want %q", got, want)
		}
	}
	clean := func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}

	t.Run("tempfile prefix=-rf", func(t *testing.T) {
		defer clean()
		for _, raw := range []map[string]any{{"prefix": "-rf"}, {"prefix": "-rf", "path": dir}, {"prefix": "-d", "state": "directory"}} {
			res, _ := runModule(t, h, "tempfile", raw, false)
			name := filepath.Base(res["path"].(string))
			if !strings.HasPrefix(name, raw["prefix"].(string)) {
				t.Fatalf("created %q", res["path"])
			}
			only(t, name)
			clean()
		}
	})
	t.Run("file touch and recursive mode on -rf", func(t *testing.T) {
		defer clean()
		runModule(t, h, "file", map[string]any{"path": "-t", "state": "touch"}, false)
		only(t, "-t")
		os.Mkdir(filepath.Join(dir, "-rf"), 0o755)
		os.WriteFile(filepath.Join(dir, "-rf", "f"), nil, 0o644)
		res, _ := runModule(t, h, "file", map[string]any{"path": "-rf", "state": "directory", "mode": "0700", "recurse": true}, false)
		if res["changed"] != true {
			t.Errorf("recursive mode on -rf did not change: %v", res)
		}
		if st, err := os.Stat(filepath.Join(dir, "-rf", "f")); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("-rf/f: %v %v", st, err)
		}
		only(t, "-rf", "-t")
	})
	t.Run("find and stat in -x", func(t *testing.T) {
		defer clean()
		os.Mkdir(filepath.Join(dir, "-x"), 0o755)
		os.WriteFile(filepath.Join(dir, "-x", "f"), []byte("a"), 0o644)
		res, _ := runModule(t, h, "find", map[string]any{"paths": "-x"}, false)
		if res["matched"] != 1 {
			t.Errorf("find -x: %v", res)
		}
		res, _ = runModule(t, h, "stat", map[string]any{"path": "-x"}, false)
		if st, _ := res["stat"].(map[string]any); st["isdir"] != true {
			t.Errorf("stat -x: %v", res)
		}
	})
	t.Run("command chdir=-c", func(t *testing.T) {
		defer clean()
		os.Mkdir(filepath.Join(dir, "-c"), 0o755)
		m, _ := Registry().Lookup("command")
		args, err := m.Spec().Validate(map[string]any{"cmd": "touch made", "chdir": "-c", "creates": "made"}, false)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := m.Plan(t.Context(), h, args)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Apply(t.Context())
		if err != nil || res["rc"] != 0 {
			t.Fatalf("command in -c: %v %v", res, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "-c", "made")); err != nil {
			t.Error(err)
		}
	})
}

// TestNamesThatLookLikeOptions: names that no tool accepts with a leading
// "-" are refused with an error naming the argument, before any command
// line is built.
func TestNamesThatLookLikeOptions(t *testing.T) {
	tests := []struct {
		mod string
		raw map[string]any
		arg string
	}{
		{"user", map[string]any{"name": "-rf"}, "name"},
		{"group", map[string]any{"name": "-f"}, "name"},
		{"apt", map[string]any{"name": []any{"curl", "-oAPT::x=y"}}, "name"},
		{"dnf", map[string]any{"name": "-y"}, "name"},
		{"package", map[string]any{"name": "-y", "state": "present"}, "name"},
		{"hostname", map[string]any{"name": "-F/etc/passwd"}, "name"},
		{"sysctl", map[string]any{"name": "-p/tmp/x", "value": "1"}, "name"},
		{"timezone", map[string]any{"name": "-x"}, "name"},
		{"cron", map[string]any{"name": "job", "job": "true", "user": "-r"}, "user"},
		{"authorized_key", map[string]any{"user": "-s", "key": "ssh-ed25519 AAAA"}, "user"},
		{"service", map[string]any{"name": "--status-all", "state": "started"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.mod, func(t *testing.T) {
			m, ok := Registry().Lookup(tt.mod)
			if !ok {
				t.Fatalf("no module %s", tt.mod)
			}
			_, err := m.Spec().Validate(tt.raw, false)
			if err == nil || !strings.Contains(err.Error(), `argument "`+tt.arg+`"`) || !strings.Contains(err.Error(), `starts with "-"`) {
				t.Fatalf("err = %v, want argument %q refused for its leading -", err, tt.arg)
			}
		})
	}
}
