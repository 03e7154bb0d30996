package modules

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
)

func TestFindModule(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a.log", "error here\n", 0o644)
	write(t, dir+"/b.log", "fine\n", 0o600)
	write(t, dir+"/c.txt", "error\n", 0o644)
	write(t, dir+"/.hidden.log", "error\n", 0o644)
	write(t, dir+"/sub/d.log", "error big "+string(make([]byte, 2048)), 0o644)
	old := time.Now().Add(-72 * time.Hour)
	os.Chtimes(dir+"/b.log", old, old)
	h := testHost(dir, connection.Local{})
	names := func(r map[string]any) []string {
		var out []string
		for _, f := range r["files"].([]any) {
			out = append(out, filepath.Base(f.(map[string]any)["path"].(string)))
		}
		sort.Strings(out)
		return out
	}
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"glob, one level", map[string]any{"paths": dir, "patterns": "*.log"}, "[a.log b.log]"},
		{"recurse", map[string]any{"paths": dir, "patterns": "*.log", "recurse": true}, "[a.log b.log d.log]"},
		{"hidden", map[string]any{"paths": dir, "patterns": "*.log", "hidden": true}, "[.hidden.log a.log b.log]"},
		{"excludes", map[string]any{"paths": dir, "excludes": "a.*"}, "[b.log c.txt]"},
		{"regex", map[string]any{"paths": dir, "patterns": `^[ab]\.log$`, "use_regex": true}, "[a.log b.log]"},
		{"contains", map[string]any{"paths": dir, "contains": "^error", "recurse": true}, "[a.log c.txt d.log]"},
		// Ansible matches from the start of a line (re.match)...
		{"contains from a line's start", map[string]any{"paths": dir, "contains": "here"}, "[]"},
		// ...or searches the whole file.
		{"read_whole_file", map[string]any{"paths": dir, "contains": "here", "read_whole_file": true}, "[a.log]"},
		// Python regular expressions: lookahead, and "$" before the last newline.
		{"contains with lookahead", map[string]any{"paths": dir, "contains": "error(?! here)", "recurse": true}, "[c.txt d.log]"},
		{"read_whole_file and $", map[string]any{"paths": dir, "contains": "here$", "read_whole_file": true}, "[a.log]"},
		{"regex with lookahead", map[string]any{"paths": dir, "patterns": `(?!a)\w\.log`, "use_regex": true}, "[b.log]"},
		{"read_whole_file $ not a line's end", map[string]any{"paths": dir, "contains": "error$", "read_whole_file": true}, "[c.txt]"},
		{"age older than 2d", map[string]any{"paths": dir, "age": "2d"}, "[b.log]"},
		{"age younger than 1d", map[string]any{"paths": dir, "age": "-1d"}, "[a.log c.txt]"},
		{"size at least 1k", map[string]any{"paths": dir, "size": "1k", "recurse": true}, "[d.log]"},
		{"directories", map[string]any{"paths": dir, "file_type": "directory"}, "[sub]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := runModule(t, h, "find", tc.args, false)
			if got := names(res); fmtList(got) != tc.want {
				t.Errorf("found %v, want %s", got, tc.want)
			}
			if res["changed"] != false || res["examined"].(int) == 0 {
				t.Errorf("result %v", res)
			}
		})
	}
}

// TestFindSkippedPathsAndDepth covers Ansible's report of a path that is
// not a directory and its count of examined entries with depth (the
// entries one level below depth are looked at, not kept).
func TestFindSkippedPathsAndDepth(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a/b/c/f", "x\n", 0o644)
	h := testHost(dir, connection.Local{})
	res, _ := runModule(t, h, "find", map[string]any{"paths": []any{dir, dir + "/nope"}, "file_type": "any", "recurse": true, "depth": 2}, false)
	if res["matched"] != 2 || res["examined"] != 3 {
		t.Errorf("depth 2: matched %v examined %v, want 2 and 3 (a, a/b; a/b/c looked at)", res["matched"], res["examined"])
	}
	if res["msg"] != "Not all paths examined, check warnings for details" {
		t.Errorf("msg = %q", res["msg"])
	}
	if sk, _ := res["skipped_paths"].(map[string]any); sk[dir+"/nope"] == nil {
		t.Errorf("skipped_paths = %v, want %s/nope", res["skipped_paths"], dir)
	}
}

func fmtList(l []string) string {
	s := "["
	for i, x := range l {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}

func TestSlurpFetchTempfile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/host/etc/app.conf", "secret=1\n", 0o600)
	h := testHost(dir, connection.Local{})

	res, _ := runModule(t, h, "slurp", map[string]any{"src": dir + "/host/etc/app.conf"}, false)
	if b, _ := base64.StdEncoding.DecodeString(res["content"].(string)); string(b) != "secret=1\n" || res["encoding"] != "base64" {
		t.Errorf("slurp = %v", res)
	}

	args := map[string]any{"src": dir + "/host/etc/app.conf", "dest": dir + "/fetched"}
	res, _ = runModule(t, h, "fetch", args, true)
	if res["changed"] != true {
		t.Errorf("fetch check mode = %v", res)
	}
	if _, err := os.Stat(dir + "/fetched"); !os.IsNotExist(err) {
		t.Fatal("check mode fetched something")
	}
	res, _ = runModule(t, h, "fetch", args, false)
	local := filepath.Join(dir, "fetched", "localhost", dir, "host/etc/app.conf")
	if res["changed"] != true || res["dest"] != local {
		t.Errorf("fetch = %v", res)
	}
	wantFile(t, local, "secret=1\n", 0)
	if res, _ = runModule(t, h, "fetch", args, false); res["changed"] != false {
		t.Errorf("second fetch = %v", res)
	}
	runModule(t, h, "fetch", map[string]any{"src": dir + "/host/etc/app.conf", "dest": dir + "/flat/", "flat": true}, false)
	wantFile(t, dir+"/flat/app.conf", "secret=1\n", 0)

	res, _ = runModule(t, h, "tempfile", map[string]any{"path": dir, "state": "directory", "suffix": "build"}, false)
	p, _ := res["path"].(string)
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() || filepath.Dir(p) != dir || filepath.Ext(p) != "" && p[len(p)-5:] != "build" {
		t.Errorf("tempfile = %v (%v)", res, err)
	}
}

// TestFindFilter covers the filters find applies to each record.
func TestFindFilter(t *testing.T) {
	rec := func(typ, path string, size, mtime int) findRecord {
		line := fmt.Sprintf("%s\t644\t0\t0\troot\troot\t%d\t%d\t%d\t%d\t1\t1\t\t1\t%s", typ, size, mtime, mtime, mtime, path)
		r, ok := parseFindRecord(line)
		if !ok {
			t.Fatalf("parseFindRecord(%q) failed", line)
		}
		return r
	}
	const now = 100000
	tests := []struct {
		name string
		args map[string]any
		rec  findRecord
		want bool
	}{
		{name: "plain file", args: map[string]any{}, rec: rec("f", "/d/a.txt", 10, now), want: true},
		{name: "directory not a file", args: map[string]any{}, rec: rec("d", "/d/sub", 10, now), want: false},
		{name: "any type", args: map[string]any{"file_type": "any"}, rec: rec("d", "/d/sub", 10, now), want: true},
		{name: "hidden skipped", args: map[string]any{}, rec: rec("f", "/d/.x", 10, now), want: false},
		{name: "hidden kept", args: map[string]any{"hidden": true}, rec: rec("f", "/d/.x", 10, now), want: true},
		{name: "pattern matches", args: map[string]any{"patterns": "*.txt,*.md"}, rec: rec("f", "/d/a.md", 10, now), want: true},
		{name: "pattern misses", args: map[string]any{"patterns": "*.txt"}, rec: rec("f", "/d/a.md", 10, now), want: false},
		{name: "excluded", args: map[string]any{"excludes": "a.*"}, rec: rec("f", "/d/a.md", 10, now), want: false},
		{name: "older than", args: map[string]any{"age": "1h"}, rec: rec("f", "/d/a", 10, now-7200), want: true},
		{name: "not older than", args: map[string]any{"age": "1h"}, rec: rec("f", "/d/a", 10, now-60), want: false},
		{name: "newer than", args: map[string]any{"age": "-1h"}, rec: rec("f", "/d/a", 10, now-60), want: true},
		{name: "at least size", args: map[string]any{"size": "1k"}, rec: rec("f", "/d/a", 2048, now), want: true},
		{name: "below size", args: map[string]any{"size": "1k"}, rec: rec("f", "/d/a", 10, now), want: false},
		{name: "at most size", args: map[string]any{"size": "-1k"}, rec: rec("f", "/d/a", 10, now), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := map[string]any{"paths": "/d"}
			for k, v := range tt.args {
				raw[k] = v
			}
			args, err := (&Find{}).Spec().Validate(raw, false)
			if err != nil {
				t.Fatal(err)
			}
			f, fail := newFindFilter(args)
			if fail != "" {
				t.Fatal(fail)
			}
			if got := f.keep(tt.rec, now); got != tt.want {
				t.Errorf("keep(%s) = %v, want %v", tt.rec.path, got, tt.want)
			}
		})
	}
}

// TestFindSkippedPath: a path that is not a directory is skipped with a
// warning and named in skipped_paths, as in Ansible.
func TestFindSkippedPath(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a", "x", 0o644)
	var warnings []string
	h := testHost(dir, connection.Local{})
	h.Warn = func(m string) { warnings = append(warnings, m) }
	missing := dir + "/nope"
	res, _ := runModule(t, h, "find", map[string]any{"paths": []any{missing, dir}}, false)
	sp, _ := res["skipped_paths"].(map[string]any)
	if res["msg"] != "Not all paths examined, check warnings for details" || res["matched"] != 1 ||
		sp[missing] != "'"+missing+"' is not a directory" || len(warnings) != 1 {
		t.Errorf("result %v, warnings %q", res, warnings)
	}
	res, _ = runModule(t, h, "find", map[string]any{"paths": dir}, false)
	if res["msg"] != "All paths examined" || len(res["skipped_paths"].(map[string]any)) != 0 {
		t.Errorf("result %v", res)
	}
}

// TestFindDepthExamined: with depth, Ansible examines (counts) the
// entries one level below depth too, and matches none of them.
func TestFindDepthExamined(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a", "x", 0o644)
	write(t, dir+"/d/b", "x", 0o644)
	write(t, dir+"/d/e/c", "x", 0o644)
	write(t, dir+"/d/e/f/g", "x", 0o644)
	h := testHost(dir, connection.Local{})
	res, _ := runModule(t, h, "find", map[string]any{"paths": dir, "recurse": true, "file_type": "any", "depth": 2}, false)
	// depth 1: a, d; depth 2: d/b, d/e; depth 3 (examined only): d/e/c, d/e/f.
	if res["matched"] != 4 || res["examined"] != 6 {
		t.Errorf("matched %v examined %v, want 4 and 6", res["matched"], res["examined"])
	}
	res, _ = runModule(t, h, "find", map[string]any{"paths": dir, "recurse": true, "file_type": "any"}, false)
	if res["matched"] != 7 || res["examined"] != 7 {
		t.Errorf("no depth: matched %v examined %v", res["matched"], res["examined"])
	}
}

// TestFindChecksum: get_checksum adds the SHA1 of regular files.
func TestFindChecksum(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a", "hello\n", 0o644)
	h := testHost(dir, connection.Local{})
	res, _ := runModule(t, h, "find", map[string]any{"paths": dir, "file_type": "any", "get_checksum": true}, false)
	files, _ := res["files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["checksum"] != "f572d396fae9206628714fb2ce00f72e94f2258f" {
		t.Errorf("result %v", res)
	}
}
