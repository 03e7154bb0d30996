package modules

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/template"
)

// testTemplar renders with tend's real template engine.
type testTemplar struct {
	e    *template.Engine
	vars map[string]any
}

func (t testTemplar) Render(s string) (string, error)    { return t.e.RenderString(s, t.vars) }
func (t testTemplar) Eval(expr string) (any, error)      { return t.e.Render("{{ "+expr+" }}", t.vars) }
func (t testTemplar) Condition(expr string) (any, error) { return t.e.EvalCondition(expr, t.vars) }
func (t testTemplar) Value(expr string) (any, error)     { return t.e.EvalValue(expr, t.vars) }
func (t testTemplar) RenderWith(s string, extra map[string]any) (string, error) {
	v := map[string]any{}
	for k, x := range t.vars {
		v[k] = x
	}
	for k, x := range extra {
		v[k] = x
	}
	return t.e.RenderFile(s, v)
}

// dirFinder finds controller files under a directory laid out like a
// role (files/, templates/) and then in the directory itself.
type dirFinder string

func (d dirFinder) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err != nil {
			return "", err
		}
		return name, nil
	}
	for _, p := range []string{filepath.Join(string(d), kind, name), filepath.Join(string(d), name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, d)
}

// testHost is a module.Host on the controller itself.
func testHost(ctrlDir string, conn connection.Connection) *module.Host {
	vars := map[string]any{"greeting": "hello", "port": 8080}
	return &module.Host{
		Name: "localhost", Conn: conn, Vars: vars,
		Templar: testTemplar{e: template.New(template.Options{}), vars: vars},
		Files:   dirFinder(ctrlDir),
		Warn:    func(string) {},
	}
}

// runModule does what the engine does with a task: validate the arguments,
// plan, and apply unless in check mode.
func runModule(t *testing.T, h *module.Host, name string, raw map[string]any, check bool) (module.Result, *module.Plan) {
	t.Helper()
	m, ok := fileRegistry().Lookup(name)
	if !ok {
		t.Fatalf("module %s not registered", name)
	}
	args, err := m.Spec().Validate(raw, false)
	if err != nil {
		t.Fatalf("%s: validate: %v", name, err)
	}
	plan, err := m.Plan(context.Background(), h, args)
	if err != nil {
		t.Fatalf("%s: plan: %v", name, err)
	}
	res := module.Result{}
	for k, v := range plan.Result {
		res[k] = v
	}
	if plan.Changed && !check {
		if plan.Apply == nil {
			t.Fatalf("%s: changed plan without Apply", name)
		}
		r, err := plan.Apply(context.Background())
		if err != nil {
			t.Fatalf("%s: apply: %v", name, err)
		}
		if r != nil {
			res = r
		}
	}
	if _, set := res["changed"]; !set {
		res["changed"] = plan.Changed
	}
	if res["failed"] == true {
		t.Fatalf("%s failed: %v", name, res["msg"])
	}
	return res, plan
}

func fileRegistry() *module.Registry { return module.NewRegistry(fileModules()...) }

// snapshot records every path under dir with its type, mode and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			v += " -> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		out[p] = v
		return nil
	})
	return out
}

type behaviourCase struct {
	name  string
	setup func(t *testing.T, dir, ctrl string)
	args  func(dir string) map[string]any
	// verify checks the host after the first real run.
	verify func(t *testing.T, dir string, res module.Result)
	// diff, if set, must appear in the check-mode plan's diffs.
	diff string
	// alwaysChanged marks modules that report changed every run (touch).
	alwaysChanged bool
}

func write(t *testing.T, p, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, p, content string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content {
		t.Errorf("%s content = %q, want %q", p, b, content)
	}
	fi, _ := os.Stat(p)
	if mode != 0 && fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != mode {
		t.Errorf("%s mode = %v, want %v", p, fi.Mode(), mode)
	}
}

// TestModulesOnLocalHost runs every file module against the controller
// as a real host: check mode predicts the change and touches nothing, the
// first run changes, the second is ok.
func TestModulesOnLocalHost(t *testing.T) {
	cases := map[string][]behaviourCase{
		"copy": {
			{name: "content with mode",
				args: func(d string) map[string]any {
					return map[string]any{"content": "a=1\n", "dest": d + "/app.conf", "mode": "0600"}
				},
				verify: func(t *testing.T, d string, r module.Result) { wantFile(t, d+"/app.conf", "a=1\n", 0o600) },
				diff:   "a=1\n"},
			{name: "src into directory",
				setup: func(t *testing.T, d, c string) { write(t, c+"/files/motd", "welcome\n", 0o640) },
				args: func(d string) map[string]any {
					return map[string]any{"src": "motd", "dest": d + "/etc/", "mode": "preserve"}
				},
				verify: func(t *testing.T, d string, r module.Result) { wantFile(t, d+"/etc/motd", "welcome\n", 0o640) }},
			{name: "replace differing content keeps mode",
				setup: func(t *testing.T, d, c string) { write(t, d+"/x", "old\n", 0o604) },
				args: func(d string) map[string]any {
					return map[string]any{"content": "new\n", "dest": d + "/x", "backup": true}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/x", "new\n", 0o604)
					if b, _ := r["backup_file"].(string); b == "" {
						t.Errorf("no backup_file in %v", r)
					} else {
						wantFile(t, b, "old\n", 0o604)
					}
				}},
			{name: "attributes only",
				setup: func(t *testing.T, d, c string) { write(t, d+"/x", "same\n", 0o644) },
				args: func(d string) map[string]any {
					return map[string]any{"content": "same\n", "dest": d + "/x", "mode": "u=rw,go="}
				},
				verify: func(t *testing.T, d string, r module.Result) { wantFile(t, d+"/x", "same\n", 0o600) },
				diff:   `"mode": "0600"`},
			{name: "recursive directory",
				setup: func(t *testing.T, d, c string) {
					write(t, c+"/files/site/index.html", "<p>hi</p>\n", 0o644)
					write(t, c+"/files/site/css/a.css", "p{}\n", 0o644)
				},
				args: func(d string) map[string]any { return map[string]any{"src": "site/", "dest": d + "/www"} },
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/www/index.html", "<p>hi</p>\n", 0)
					wantFile(t, d+"/www/css/a.css", "p{}\n", 0)
				}},
			{name: "validate passes",
				args: func(d string) map[string]any {
					return map[string]any{"content": "ok\n", "dest": d + "/v", "validate": "grep -q ok %s"}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/v", "ok\n", 0)
					if m, _ := filepath.Glob(d + "/.tend-*"); len(m) > 0 {
						t.Errorf("temporary files left: %v", m)
					}
				}},
		},
		"template": {
			{name: "render with vars and ansible_managed",
				setup: func(t *testing.T, d, c string) {
					write(t, c+"/templates/app.conf.j2", "# {{ ansible_managed }}\n{% if port > 80 %}\nport={{ port }}\n{% endif %}\nsay={{ greeting }}\n", 0o644)
				},
				args: func(d string) map[string]any {
					return map[string]any{"src": "app.conf.j2", "dest": d + "/app.conf", "mode": 0o640}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/app.conf", "# Ansible managed\nport=8080\nsay=hello\n", 0o640)
				}},
		},
		"lineinfile": {
			{name: "replace a line",
				setup: func(t *testing.T, d, c string) { write(t, d+"/selinux", "# c\nSELINUX=disabled\n", 0o644) },
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/selinux", "regexp": "^SELINUX=", "line": "SELINUX=enforcing"}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/selinux", "# c\nSELINUX=enforcing\n", 0o644)
				},
				diff: "SELINUX=enforcing"},
			{name: "create with mode",
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/sub/new.conf", "line": "x=1", "create": true, "mode": "0640"}
				},
				verify: func(t *testing.T, d string, r module.Result) { wantFile(t, d+"/sub/new.conf", "x=1\n", 0o640) }},
			{name: "follows a symlink",
				setup: func(t *testing.T, d, c string) {
					write(t, d+"/real", "a\n", 0o644)
					os.Symlink("real", d+"/link")
				},
				args: func(d string) map[string]any { return map[string]any{"path": d + "/link", "line": "b"} },
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/real", "a\nb\n", 0o644)
					if fi, _ := os.Lstat(d + "/link"); fi.Mode()&fs.ModeSymlink == 0 {
						t.Error("link was replaced by a file")
					}
				}},
		},
		"blockinfile": {
			{name: "insert block",
				setup: func(t *testing.T, d, c string) { write(t, d+"/hosts", "127.0.0.1 localhost\n", 0o644) },
				args:  func(d string) map[string]any { return map[string]any{"path": d + "/hosts", "block": "192.0.2.1 db1\n"} },
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/hosts", "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n192.0.2.1 db1\n# END ANSIBLE MANAGED BLOCK\n", 0)
				}},
		},
		"replace": {
			{name: "replace all",
				setup: func(t *testing.T, d, c string) { write(t, d+"/h", "old.example a\nold.example b\n", 0o644) },
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/h", "regexp": `old\.example`, "replace": "new.example"}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/h", "new.example a\nnew.example b\n", 0)
				}},
		},
		"ini_file": {
			{name: "gcfg subsection",
				setup: func(t *testing.T, d, c string) {
					write(t, d+"/pm.gcfg", "[Server]\n\tAddress = x\n[Database \"main\"]\n\tProvider = sqlite\n", 0o644)
				},
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/pm.gcfg", "gcfg": true, "section": `database "main"`, "option": "provider", "value": "postgres", "mode": "0600"}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/pm.gcfg", "[Server]\n\tAddress = x\n[Database \"main\"]\n\tProvider = postgres\n", 0o600)
				}},
		},
		"file": {
			{name: "directory with symbolic mode",
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/a/b", "state": "directory", "mode": "u=rwx,g=rx,o="}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					if fi, err := os.Stat(d + "/a/b"); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
						t.Errorf("directory: %v %v", fi, err)
					}
				}},
			{name: "mode of existing file",
				setup:  func(t *testing.T, d, c string) { write(t, d+"/f", "x", 0o644) },
				args:   func(d string) map[string]any { return map[string]any{"path": d + "/f", "mode": "0600"} },
				verify: func(t *testing.T, d string, r module.Result) { wantFile(t, d+"/f", "x", 0o600) },
				diff:   `"mode": "0644"`},
			{name: "symlink",
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/cur", "src": "releases/1", "state": "link", "force": true}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					if l, _ := os.Readlink(d + "/cur"); l != "releases/1" {
						t.Errorf("link -> %q", l)
					}
				}},
			{name: "absent tree",
				setup: func(t *testing.T, d, c string) { write(t, d+"/gone/x/y", "x", 0o644) },
				args:  func(d string) map[string]any { return map[string]any{"path": d + "/gone", "state": "absent"} },
				verify: func(t *testing.T, d string, r module.Result) {
					_, err := os.Stat(d + "/gone")
					if !os.IsNotExist(err) {
						t.Error("still there")
					}
				}},
			{name: "recurse mode",
				setup: func(t *testing.T, d, c string) { write(t, d+"/r/s/f", "x", 0o644); os.Chmod(d+"/r/s", 0o755) },
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/r", "state": "directory", "recurse": true, "mode": "u=rwX,go="}
				},
				verify: func(t *testing.T, d string, r module.Result) {
					wantFile(t, d+"/r/s/f", "x", 0o600)
					if fi, _ := os.Stat(d + "/r/s"); fi.Mode().Perm() != 0o700 {
						t.Errorf("dir mode %v", fi.Mode())
					}
				}},
			{name: "touch", alwaysChanged: true,
				args: func(d string) map[string]any {
					return map[string]any{"path": d + "/t", "state": "touch", "mode": "0640"}
				},
				verify: func(t *testing.T, d string, r module.Result) { wantFile(t, d+"/t", "", 0o640) }},
		},
	}
	for mod, cs := range cases {
		for _, tc := range cs {
			t.Run(mod+"/"+tc.name, func(t *testing.T) {
				root := t.TempDir()
				dir, ctrl := filepath.Join(root, "host"), filepath.Join(root, "ctrl")
				os.MkdirAll(dir, 0o755)
				os.MkdirAll(ctrl, 0o755)
				if tc.setup != nil {
					tc.setup(t, dir, ctrl)
				}
				h := testHost(ctrl, connection.Local{})
				h.Diff = true
				before := snapshot(t, dir)
				res, plan := runModule(t, h, mod, tc.args(dir), true)
				if res["changed"] != true {
					t.Fatalf("check mode predicted no change: %v", res)
				}
				if after := snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("check mode changed the host:\nbefore %v\nafter  %v", before, after)
				}
				if tc.diff != "" {
					var all strings.Builder
					for _, d := range plan.Diff {
						all.WriteString(d.Before + "\x00" + d.After)
					}
					if !strings.Contains(all.String(), tc.diff) {
						t.Errorf("diff %q does not contain %q", all.String(), tc.diff)
					}
				}
				res, _ = runModule(t, h, mod, tc.args(dir), false)
				if res["changed"] != true {
					t.Fatalf("first run reported no change: %v", res)
				}
				if tc.verify != nil {
					tc.verify(t, dir, res)
				}
				res, _ = runModule(t, h, mod, tc.args(dir), false)
				if res["changed"] != tc.alwaysChanged {
					t.Errorf("second run changed=%v, want %v: %v", res["changed"], tc.alwaysChanged, res)
				}
			})
		}
	}
}

// TestBadArguments checks argument errors are clear, before or at Plan.
func TestBadArguments(t *testing.T) {
	dir := t.TempDir()
	h := testHost(dir, connection.Local{})
	tests := []struct {
		mod  string
		raw  map[string]any
		want string
	}{
		// Ansible's copy action's own messages, which the copy target asserts.
		{"copy", map[string]any{"dest": dir + "/x"}, "src (or content) is required"},
		{"copy", map[string]any{"src": "", "dest": dir + "/x"}, "src (or content) is required"},
		{"copy", map[string]any{"src": "foo.txt"}, "dest is required"},
		{"copy", map[string]any{"content": "a", "src": "b", "dest": dir + "/x"}, "src and content are mutually exclusive"},
		{"copy", map[string]any{"content": "a", "dest": dir + "/x", "mode": "0999"}, "octal or symbolic"},
		{"copy", map[string]any{"content": "a", "dest": dir + "/x", "validate": "true"}, "validate must contain %s"},
		{"copy", map[string]any{"content": "a", "dest": dir + "/"}, "can not use content with a dir as dest"},
		{"copy", map[string]any{"content": "a", "dest": dir + "/missing/x"}, "Destination directory"},
		{"copy", map[string]any{"content": "a", "dest": dir + "/x", "bogus": 1}, `unsupported argument "bogus"`},
		{"lineinfile", map[string]any{"path": dir + "/none", "line": "x"}, "does not exist"},
		{"lineinfile", map[string]any{"path": dir, "line": "x"}, "is a directory"},
		{"lineinfile", map[string]any{"path": dir + "/f", "line": "x", "backrefs": true, "create": true}, "regexp is required with backrefs"},
		{"lineinfile", map[string]any{"path": dir + "/f", "regexp": "(?<=a", "line": "x", "create": true}, "regexp: regular expression \"(?<=a\""},
		{"lineinfile", map[string]any{"path": dir + "/f", "state": "absent"}, "one of line, search_string, or regexp"},
		{"ini_file", map[string]any{"path": dir + "/i", "section": "s", "option": "o"}, "must be defined"},
		{"file", map[string]any{"path": dir + "/nope"}, "is absent, cannot continue"},
		{"file", map[string]any{"path": dir + "/l", "state": "link"}, "src is required"},
		{"file", map[string]any{"path": dir, "state": "directory", "mode": "u+q"}, "bad symbolic permission"},
		{"template", map[string]any{"src": "nope.j2", "dest": dir + "/x"}, "Could not find"},
		{"stat", map[string]any{"path": dir, "checksum_algorithm": "crc32"}, "not one of"},
	}
	for _, tc := range tests {
		t.Run(tc.mod+"/"+tc.want, func(t *testing.T) {
			m, _ := fileRegistry().Lookup(tc.mod)
			args, err := m.Spec().Validate(tc.raw, false)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("validate error %q does not contain %q", err, tc.want)
				}
				return
			}
			plan, err := m.Plan(context.Background(), h, args)
			if err != nil {
				t.Fatalf("plan error %v (want a failed result)", err)
			}
			if plan.Result["failed"] != true || !strings.Contains(fmt.Sprint(plan.Result["msg"]), tc.want) {
				t.Errorf("result %v does not fail with %q", plan.Result, tc.want)
			}
			if plan.Changed {
				t.Error("a failed plan must not be changed")
			}
		})
	}
}

func TestStatModule(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/f", "abc", 0o640)
	os.Symlink("f", dir+"/l")
	h := testHost(dir, connection.Local{})
	res, _ := runModule(t, h, "stat", map[string]any{"path": dir + "/f"}, false)
	st := res["stat"].(map[string]any)
	if st["exists"] != true || st["isreg"] != true || st["mode"] != "0640" || st["size"] != int64(3) ||
		st["checksum"] != "a9993e364706816aba3e25717850c26c9cd0d89d" || st["rgrp"] != true || st["woth"] != false {
		t.Errorf("stat = %v", st)
	}
	res, _ = runModule(t, h, "stat", map[string]any{"path": dir + "/l"}, false)
	if st := res["stat"].(map[string]any); st["islnk"] != true || st["lnk_target"] != "f" || st["lnk_source"] != dir+"/f" {
		t.Errorf("stat link = %v", st)
	}
	res, _ = runModule(t, h, "stat", map[string]any{"path": dir + "/missing"}, false)
	if st := res["stat"].(map[string]any); st["exists"] != false || res["changed"] != false {
		t.Errorf("stat missing = %v", res)
	}
}

func TestFileWantedState(t *testing.T) {
	tests := []struct {
		name, state, prev string
		recurse           bool
		src               string
		want, fail        string
	}{
		{name: "given", state: "directory", prev: "file", want: "directory"},
		{name: "keeps what is there", prev: "directory", want: "directory"},
		{name: "a link kept keeps its target (Ansible reads it)", prev: "link", want: "link"},
		{name: "a hard link kept keeps its target", prev: "hard", want: "hard"},
		{name: "missing is a file", prev: "absent", want: "file"},
		{name: "missing with recurse is a directory", prev: "absent", recurse: true, want: "directory"},
		{name: "missing with src and no state is refused, as Ansible", prev: "absent", src: "/x", want: "file", fail: "src option requires state to be 'link' or 'hard'"},
		{name: "recurse needs a directory", state: "file", prev: "absent", recurse: true, want: "file", fail: "recurse option requires state to be 'directory'"},
		{name: "src needs a link", state: "file", prev: "absent", src: "/x", want: "file", fail: "src option requires state to be 'link' or 'hard'"},
		{name: "link needs src", state: "link", prev: "absent", want: "link", fail: "src is required for creating new symlinks"},
		{name: "hard needs src", state: "hard", prev: "file", want: "hard", fail: "src is required for creating new hardlinks"},
		{name: "hard with src", state: "hard", prev: "file", src: "/x", want: "hard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, fail := fileWantedState(tt.state, tt.prev, tt.recurse, tt.src)
			if want != tt.want || fail != tt.fail {
				t.Errorf("fileWantedState(%q, %q, %v, %q) = %q, %q; want %q, %q", tt.state, tt.prev, tt.recurse, tt.src, want, fail, tt.want, tt.fail)
			}
		})
	}
}

// TestFileResultDiff: Ansible's file module returns diff (before/after
// dicts) in its result whether or not diff mode is on.
func TestFileResultDiff(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	write(t, f, "x", 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(f, link); err != nil {
		t.Fatal(err)
	}
	side := func(r module.Result, which string) map[string]any {
		d, _ := r["diff"].(map[string]any)
		m, _ := d[which].(map[string]any)
		return m
	}
	r := execModule(t, h, "file", map[string]any{"path": f, "state": "file"}, false)
	if b, a := side(r, "before"), side(r, "after"); len(b) != 1 || b["path"] != f || len(a) != 1 {
		t.Errorf("unchanged file: diff %v", r["diff"])
	}
	for _, check := range []bool{true, false} {
		r = execModule(t, h, "file", map[string]any{"path": link, "src": "f", "state": "link"}, check)
		if b, a := side(r, "before"), side(r, "after"); b["src"] != f || a["src"] != "f" || b["path"] != link {
			t.Errorf("link src change (check %v): diff %v", check, r["diff"])
		}
		if r["dest"] != link || r["src"] != "f" {
			t.Errorf("link result (check %v): dest %v src %v, want Ansible's keys", check, r["dest"], r["src"])
		}
	}
	r = execModule(t, h, "file", map[string]any{"path": f, "mode": "0600"}, false)
	if b, a := side(r, "before"), side(r, "after"); b["mode"] != "0644" || a["mode"] != "0600" {
		t.Errorf("mode change: diff %v", r["diff"])
	}
	sub := filepath.Join(dir, "d", "e")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(sub, "g"), "y", 0o644)
	r = execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "d"), "state": "absent"}, false)
	pc, _ := side(r, "before")["path_content"].(map[string]any)
	if b, a := side(r, "before"), side(r, "after"); b["state"] != "directory" || a["state"] != "absent" ||
		fmt.Sprint(pc["directories"]) != "["+sub+"]" || fmt.Sprint(pc["files"]) != "["+filepath.Join(sub, "g")+"]" {
		t.Errorf("directory removed: diff %v", r["diff"])
	}
	r = execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "ghost"), "state": "file"}, false)
	if r["failed"] != true || r["state"] != "absent" || r["msg"] != "file ("+filepath.Join(dir, "ghost")+") is absent, cannot continue" {
		t.Errorf("state=file of a missing file: %v", r)
	}
	r = execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "d"), "state": "absent"}, false)
	if _, ok := r["diff"]; ok {
		t.Errorf("absent stays absent: no diff, got %v", r["diff"])
	}
}

// TestFileLinkMissingSrc: without force, a symbolic link's src must
// exist (relative to path's directory, or to path when it is a
// directory), as in Ansible; with force the link is made dangling.
func TestFileLinkMissingSrc(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	l := filepath.Join(dir, "l")
	r := execModule(t, h, "file", map[string]any{"path": l, "src": "/nonexistent", "state": "link"}, false)
	if r["failed"] != true || r["msg"] != `src file does not exist, use "force=yes" if you really want to create the link: /nonexistent` {
		t.Errorf("missing src: %v", r)
	}
	if _, err := os.Lstat(l); !os.IsNotExist(err) {
		t.Errorf("link made: %v", err)
	}
	write(t, filepath.Join(dir, "f"), "x", 0o644)
	if r := execModule(t, h, "file", map[string]any{"path": l, "src": "f", "state": "link"}, false); r["failed"] == true || r["changed"] != true {
		t.Errorf("relative src next to the link: %v", r)
	}
	if r := execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "dangling"), "src": "/nonexistent", "state": "link", "force": true}, false); r["failed"] == true {
		t.Errorf("force: %v", r)
	}
}

// TestFileLinkFollowAttrs: on an existing link, without src, follow
// (the default) sets the attributes of the link's target, as Ansible.
func TestFileLinkFollowAttrs(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	write(t, f, "x", 0o666)
	l := filepath.Join(dir, "l")
	if err := os.Symlink("./f", l); err != nil {
		t.Fatal(err)
	}
	r := execModule(t, h, "file", map[string]any{"path": l, "mode": "0644", "follow": true}, false)
	if r["failed"] == true || r["changed"] != true {
		t.Fatalf("got %v", r)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o644 {
		t.Errorf("target mode %o", st.Mode().Perm())
	}
	if target, _ := os.Readlink(l); target != "./f" {
		t.Errorf("link now points to %q", target)
	}
}

// TestFileNewLinkFollowMode: a new link made with mode (follow, the
// default) sets the mode of its target, as Ansible.
func TestFileNewLinkFollowMode(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	write(t, f, "x", 0o644)
	r := execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "l"), "src": f, "state": "link", "mode": "0700"}, false)
	if r["failed"] == true || r["changed"] != true {
		t.Fatalf("got %v", r)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o700 {
		t.Errorf("target mode %o", st.Mode().Perm())
	}
	r = execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "l2"), "src": f, "state": "link", "mode": "u-x", "follow": true}, false)
	if st, _ := os.Stat(f); r["failed"] == true || st.Mode().Perm() != 0o600 {
		t.Errorf("symbolic mode: target mode %o (%v)", st.Mode().Perm(), r)
	}
}

// TestFileLinkOverDirectory: a link replaces a directory only with force
// and only when it is empty, as in Ansible (never its content).
func TestFileLinkOverDirectory(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	write(t, f, "x", 0o644)
	sub := filepath.Join(dir, "sub")
	write(t, filepath.Join(sub, "keep"), "y", 0o644)
	args := map[string]any{"path": sub, "src": f, "state": "link"}
	if r := execModule(t, h, "file", args, false); r["msg"] != "refusing to convert from directory to symlink for "+sub {
		t.Errorf("without force: %v", r)
	}
	args["force"] = true
	if r := execModule(t, h, "file", args, false); r["msg"] != "the directory "+sub+" is not empty, refusing to convert it" {
		t.Errorf("not empty: %v", r)
	}
	if _, err := os.Stat(filepath.Join(sub, "keep")); err != nil {
		t.Fatalf("directory content removed: %v", err)
	}
	os.Remove(filepath.Join(sub, "keep"))
	if r := execModule(t, h, "file", args, false); r["failed"] == true || r["changed"] != true {
		t.Errorf("empty directory with force: %v", r)
	}
	if target, _ := os.Readlink(sub); target != f {
		t.Errorf("link to %q", target)
	}
}

// TestFileDiffPeek: _diff_peek (used by Ansible's action plugins) only
// says whether the file looks binary.
func TestFileDiffPeek(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	write(t, dir+"/text", "hello\n", 0o644)
	write(t, dir+"/bin", "a\x00b", 0o644)
	for name, want := range map[string]bool{"text": false, "bin": true, "missing": false} {
		r := execModule(t, h, "file", map[string]any{"path": dir + "/" + name, "_diff_peek": true}, false)
		if r["appears_binary"] != want || r["changed"] != false || r["failed"] == true {
			t.Errorf("%s: %v", name, r)
		}
	}
}

// TestFileTimes: modification_time and access_time in a strptime format,
// read in the host's time zone, as Ansible; converged once set.
func TestFileTimes(t *testing.T) {
	if _, err := strptimeLocal("202001011200.0", "%Y%m%d%H%M.%S"); err != nil {
		t.Fatal(err)
	}
	if got, _ := strptimeLocal("202202081414.00", "%Y%m%d%H%M.%S"); got != "2022-02-08 14:14:00" {
		t.Errorf("strptimeLocal = %q", got)
	}
	if _, err := strptimeLocal("2022-13", "%Y-%m"); err == nil {
		t.Error("month 13 accepted")
	}
	h := localHost()
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	write(t, f, "x", 0o644)
	want := time.Date(2022, 2, 8, 14, 14, 0, 0, time.Local)
	args := map[string]any{"path": f, "modification_time": "202202081414.00", "modification_time_format": "%Y%m%d%H%M.%S"}
	r := execModule(t, h, "file", args, true)
	if st, _ := os.Stat(f); r["changed"] != true || st.ModTime().Equal(want) {
		t.Fatalf("check mode: %v", r)
	}
	if a, _ := r["diff"].(map[string]any)["after"].(map[string]any); len(a) < 2 {
		t.Errorf("diff %v", r["diff"])
	}
	if r = execModule(t, h, "file", args, false); r["changed"] != true {
		t.Fatalf("first run: %v", r)
	}
	if st, _ := os.Stat(f); !st.ModTime().Equal(want) {
		t.Errorf("mtime %v, want %v", st.ModTime(), want)
	}
	if r = execModule(t, h, "file", args, false); r["changed"] != false {
		t.Errorf("second run: %v", r)
	}
	if a, _ := r["diff"].(map[string]any)["after"].(map[string]any); len(a) != 1 {
		t.Errorf("second run diff %v", r["diff"])
	}
	g := filepath.Join(dir, "g")
	r = execModule(t, h, "file", map[string]any{"path": g, "state": "touch", "modification_time": "202001011200.0", "mode": "0640"}, false)
	if r["state"] != "file" || r["mode"] != "0640" {
		t.Errorf("touch result has the file's attributes: %v", r)
	}
	if st, err := os.Stat(g); err != nil || r["changed"] != true || !st.ModTime().Equal(time.Date(2020, 1, 1, 12, 0, 0, 0, time.Local)) {
		t.Errorf("touch with a time: %v (%v)", r, err)
	}
}

// TestFileTouchRemovedOnFailure: a file touch created is removed when
// its attributes cannot be set (here: chown to root as nobody).
func TestFileTouchRemovedOnFailure(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (su to nobody)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	nobody := &module.Host{Name: "localhost", Conn: connection.Local{}, Become: &connection.Become{Method: "su", User: "nobody", Flags: "-s /bin/sh"}}
	p := filepath.Join(dir, "baz.txt")
	m, _ := Registry().Lookup("file")
	args, err := m.Spec().Validate(map[string]any{"path": p, "state": "touch", "owner": "root"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, _, err := module.Execute(context.Background(), m, nobody, args, false); err == nil && r["failed"] != true {
		t.Errorf("chown to root as nobody: %v", r)
	}
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Errorf("the file touch made is left: %v", err)
	}
}

// TestFileHardLinkAttrs: an existing hard link without src gets its
// attributes, as Ansible's ensure_hardlink.
func TestFileHardLinkAttrs(t *testing.T) {
	h := localHost()
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	write(t, f, "x", 0o644)
	if err := os.Link(f, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	r := execModule(t, h, "file", map[string]any{"path": filepath.Join(dir, "hard"), "mode": "0701"}, false)
	if st, _ := os.Stat(f); r["failed"] == true || r["changed"] != true || st.Mode().Perm() != 0o701 {
		t.Errorf("got %v", r)
	}
}
