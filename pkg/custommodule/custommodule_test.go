package custommodule

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	write(t, filepath.Join(a, "mod.py"), "x")
	write(t, filepath.Join(a, "notes.txt"), "x")
	write(t, filepath.Join(a, "other.yml"), "x")
	write(t, filepath.Join(a, "__init__.py"), "")
	write(t, filepath.Join(b, "mod"), "x")
	write(t, filepath.Join(b, "script.sh"), "x")
	write(t, filepath.Join(b, "notes"), "x")
	if err := os.MkdirAll(filepath.Join(b, "dironly"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
	}{
		{"mod", filepath.Join(a, "mod.py")}, // first directory wins
		{"mod.py", filepath.Join(a, "mod.py")},
		{"script", filepath.Join(b, "script.sh")},
		{"notes", filepath.Join(b, "notes")}, // notes.txt is ignored
		{"other", ""},                        // .yml is ignored
		{"__init__", ""},
		{"dironly", ""},
		{"../a/mod", ""},
		{"missing", ""},
	} {
		got, ok := Find([]string{a, b}, c.name)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
}

func TestCollectionModule(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "ansible_collections/ns/coll/plugins/modules/thing.py"), "x")
	p, fqn, ok := CollectionModule([]string{t.TempDir(), root}, "ns.coll.thing")
	if !ok || fqn != "ansible_collections.ns.coll.plugins.modules.thing" || !strings.HasSuffix(p, "thing.py") {
		t.Fatalf("got %q %q %v", p, fqn, ok)
	}
	if _, _, ok := CollectionModule([]string{root}, "ns.coll.other"); ok {
		t.Fatal("found a module that does not exist")
	}
}

func TestExpandConfigured(t *testing.T) {
	d := t.TempDir()
	for _, s := range []string{"x/y", "z"} {
		if err := os.MkdirAll(filepath.Join(d, s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := ExpandConfigured([]string{d})
	want := []string{filepath.Join(d, "x"), filepath.Join(d, "z"), filepath.Join(d, "x/y"), d}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		src  string
		want Style
	}{
		{"#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n", NewPython},
		{"#!/usr/bin/python\nimport ansible.module_utils.basic\n", NewPython},
		{"#!/usr/bin/python\nfrom ..module_utils.foo import bar\n", NewPython},
		{"#!/usr/bin/python\nfrom ansible_collections.ns.c.plugins.module_utils.x import y\n", NewPython},
		{"#!/usr/bin/python\n#<<INCLUDE_ANSIBLE_MODULE_COMMON>>\n", NewPython},
		{"#!powershell\n#Requires -Module Ansible.ModuleUtils.Legacy\n", PowerShell},
		{"#!/bin/sh\necho '<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>'\n", JSONArgs},
		{"#!/bin/sh\n# WANT_JSON\ncat $1\n", WantJSON},
		{"#!/bin/sh\n. $1\n", Old},
		{"\x7fELF\x02\x01\x01\x00\x00", Binary},
	} {
		if got := Classify([]byte(c.src)); got != c.want {
			t.Errorf("Classify(%q) = %v, want %v", c.src, got, c.want)
		}
	}
}

func TestShebang(t *testing.T) {
	i, a := Shebang([]byte("#!/usr/bin/env python3 -u\nx"))
	if i != "/usr/bin/env" || !reflect.DeepEqual(a, []string{"python3", "-u"}) {
		t.Fatalf("got %q %q", i, a)
	}
	if i, _ := Shebang([]byte("echo\n")); i != "" {
		t.Fatalf("got %q", i)
	}
}

func TestFilterNonJSON(t *testing.T) {
	out, warns, err := FilterNonJSON("motd line\n  {\"a\": 1,\n \"b\": \"}\"}\ntrailing junk\n")
	if err != nil || out != "  {\"a\": 1,\n \"b\": \"}\"}" || len(warns) != 1 || !strings.Contains(warns[0], "junk after the JSON data: trailing junk") {
		t.Fatalf("got %q %q %v", out, warns, err)
	}
	if _, _, err := FilterNonJSON("[1, 2]\n"); err == nil {
		t.Fatal("a JSON list is not a module result")
	}
	if _, _, err := FilterNonJSON("{ no end\n"); err == nil {
		t.Fatal("no closing brace must be an error")
	}
}

func TestParseOutput(t *testing.T) {
	res, warns := ParseOutput("junk\n{\"changed\": true, \"rc\": 2, \"n\": 1.5, \"i\": 3, \"stdout\": \"a\\nb\", \"_ansible_no_log\": false, \"results\": \"x\", \"warnings\": []}\n", "", 0, "/usr/bin/python3")
	want := map[string]any{"changed": true, "rc": 2, "n": 1.5, "i": 3, "stdout": "a\nb", "stdout_lines": []any{"a", "b"},
		"failed": true, "ansible_module_results": "x"}
	if !reflect.DeepEqual(map[string]any(res), want) {
		t.Errorf("got %#v\nwant %#v", res, want)
	}
	if len(warns) != 2 {
		t.Errorf("warnings %q", warns)
	}
	res, _ = ParseOutput("{\"failed\": false, \"rc\": 1}", "", 0, "")
	if res["failed"] != false {
		t.Errorf("failed given by the module wins over rc: %v", res)
	}
	// Not JSON: Ansible's MODULE FAILURE.
	res, _ = ParseOutput("oops\n", "Traceback (most recent call last):\n", 1, "/usr/bin/python3")
	want = map[string]any{"failed": true, "module_stdout": "oops\n", "module_stderr": "Traceback (most recent call last):\n", "rc": 1,
		"exception": "Traceback (most recent call last):\n", "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error"}
	if !reflect.DeepEqual(map[string]any(res), want) {
		t.Errorf("got %#v\nwant %#v", res, want)
	}
	res, _ = ParseOutput("", "/bin/sh: 1: /usr/bin/python9: not found\n", 127, "/usr/bin/python9")
	if !strings.HasPrefix(res["msg"].(string), "The module failed to execute correctly, you probably need to set the interpreter.") {
		t.Errorf("got %v", res["msg"])
	}
}

func TestScanImports(t *testing.T) {
	src := `#!/usr/bin/python
"""Doc: import notthis
from nope import x
"""
import os, ansible.module_utils.a as a
from ansible.module_utils.basic import (AnsibleModule,
    env_fallback as ef)
from . import sib; from ..up import thing
x = "from fake import y"  # import comment
s = r'\' from q import z'
try:
    from ansible.module_utils.opt import o
except ImportError:
    pass
def f(): import inner.mod
y = [1,
  2]; import after.bracket
raise ValueError() from None
`
	got := scanImports([]byte(src))
	want := []pyImport{
		{Module: "os"},
		{Module: "ansible.module_utils.a"},
		{From: true, Module: "ansible.module_utils.basic", Names: []string{"AnsibleModule", "env_fallback"}},
		{From: true, Level: 1, Names: []string{"sib"}},
		{From: true, Level: 2, Module: "up", Names: []string{"thing"}},
		{From: true, Module: "ansible.module_utils.opt", Names: []string{"o"}, Nested: true},
		{Module: "inner.mod", Nested: true},
		{Module: "after.bracket"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestSubmodulesRelative(t *testing.T) {
	src := []byte("from .sib import a\nfrom .. import up\nfrom .six import _six\n")
	var got []string
	for _, e := range submodules("ansible.module_utils.common.text", src, false) {
		got = append(got, strings.Join(e.parts, "."))
	}
	want := []string{"ansible.module_utils.common.sib.a", "ansible.module_utils.up"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// In a package's __init__, "." is the package itself.
	got = nil
	for _, e := range submodules("ansible.module_utils.common", []byte("from .x import y\n"), true) {
		got = append(got, strings.Join(e.parts, "."))
	}
	if !reflect.DeepEqual(got, []string{"ansible.module_utils.common.x.y"}) {
		t.Fatalf("got %v", got)
	}
}

// TestFindDeps packs only what a module imports, recursively, with the
// __init__.py of each package; the content's module_utils shadow
// ansible-core's; a missing required import is an error, a missing
// optional one is not.
func TestFindDeps(t *testing.T) {
	core, own, coll := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, filepath.Join(core, "basic.py"), "from ansible.module_utils.common.text import converters\nimport json\n")
	write(t, filepath.Join(core, "common/__init__.py"), "")
	write(t, filepath.Join(core, "common/text/__init__.py"), "")
	write(t, filepath.Join(core, "common/text/converters.py"), "from ansible.module_utils.six import PY3\n")
	write(t, filepath.Join(core, "six/__init__.py"), "PY3 = True\n")
	write(t, filepath.Join(core, "unused.py"), "")
	write(t, filepath.Join(core, "helper.py"), "CORE = 1\n")
	write(t, filepath.Join(own, "helper.py"), "from ansible.module_utils.basic import AnsibleModule\n")
	write(t, filepath.Join(coll, "ansible_collections/ns/c/plugins/module_utils/cu.py"), "")
	src := []byte(`from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.helper import thing
from ansible_collections.ns.c.plugins.module_utils.cu import q
try:
    from ansible.module_utils.optional_missing import z
except ImportError:
    pass
`)
	f := &depFinder{muPaths: []string{own, core}, collRoots: []string{coll}, version: "2.14.0"}
	files, err := f.findDeps("ansible.modules.m", src)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range files {
		paths = append(paths, p.path)
		if p.path == "ansible/module_utils/helper.py" && !bytes.Contains(p.data, []byte("AnsibleModule")) {
			t.Error("helper.py must come from the content's module_utils")
		}
	}
	sort.Strings(paths)
	want := []string{
		"ansible/__init__.py", "ansible/module_utils/__init__.py", "ansible/module_utils/basic.py",
		"ansible/module_utils/common/__init__.py", "ansible/module_utils/common/text/__init__.py",
		"ansible/module_utils/common/text/converters.py", "ansible/module_utils/helper.py", "ansible/module_utils/six/__init__.py",
		"ansible_collections/__init__.py", "ansible_collections/ns/__init__.py", "ansible_collections/ns/c/__init__.py",
		"ansible_collections/ns/c/plugins/__init__.py", "ansible_collections/ns/c/plugins/module_utils/__init__.py",
		"ansible_collections/ns/c/plugins/module_utils/cu.py",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("got  %v\nwant %v", paths, want)
	}
	z, err := buildZip("ansible.modules.m", src, files)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, zf := range zr.File {
		names[zf.Name] = true
	}
	if !names["ansible/modules/m.py"] || !names["ansible/modules/__init__.py"] || len(names) != len(want)+2 {
		t.Fatalf("archive holds %v", names)
	}

	_, err = f.findDeps("ansible.modules.m", []byte("from ansible.module_utils.missing import x\n"))
	if err == nil || !strings.Contains(err.Error(), "Could not find imported module support code for ansible.modules.m") {
		t.Fatalf("got %v", err)
	}
}

// FuzzScanImports: any text, however broken, is scanned without a panic
// or a hang.
func FuzzScanImports(f *testing.F) {
	for _, s := range []string{"import a.b as c, d\n", "from . import (x,\n y)\n", "'''unterminated", "r'\\", "from", "import", "x = [\n", "\\\n\\", "from .. import", "if x: from a import b; import c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, imp := range scanImports(src) {
			_ = submodules("ansible.modules.x", []byte("from "+imp.Module+" import y\n"), imp.Nested)
		}
		_ = submodules("a.b", src, true)
	})
}
