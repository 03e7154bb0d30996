package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/odict"
)

func mustLoad(t *testing.T, sources ...string) *Inventory {
	t.Helper()
	inv, err := Load(sources)
	if err != nil {
		t.Fatalf("Load(%q): %v", sources, err)
	}
	return inv
}

func hostNames(hosts []*Host) []string {
	out := []string{}
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

func TestImplicitLocalhost(t *testing.T) {
	for _, sources := range [][]string{nil, {"testdata/does-not-exist"}} {
		inv := mustLoad(t, sources...)
		if len(inv.Hosts()) != 0 {
			t.Errorf("Load(%q) hosts = %q, want none", sources, hostNames(inv.Hosts()))
		}
		for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
			h, ok := inv.Host(name)
			if !ok {
				t.Fatalf("Host(%q) not found", name)
			}
			if h.Name != name || h.Vars["ansible_connection"] != "local" || len(h.Groups) != 0 {
				t.Errorf("Host(%q) = %+v, want implicit localhost with ansible_connection=local and no groups", name, h)
			}
			sel, err := inv.Select(name)
			if err != nil || len(sel) != 1 || sel[0] != h {
				t.Errorf("Select(%q) = %q, %v; want the implicit localhost", name, hostNames(sel), err)
			}
		}
		if _, ok := inv.Host("otherhost"); ok {
			t.Error("Host(otherhost) found in an empty inventory")
		}
		if sel, _ := inv.Select("all"); len(sel) != 0 {
			t.Errorf("Select(all) = %q, want nothing (the implicit localhost is not in all)", hostNames(sel))
		}
		if g := inv.GroupNames(); !cmp.Equal(g, []string{"all", "ungrouped"}) {
			t.Errorf("GroupNames() = %q", g)
		}
	}
	inv := mustLoad(t, "testdata/does-not-exist")
	if w := inv.Warnings(); len(w) != 1 || !strings.Contains(w[0], "testdata/does-not-exist") {
		t.Errorf("Warnings() = %q, want one about the missing source", w)
	}
}

func TestImplicitLocalhostVars(t *testing.T) {
	// group_vars/all and host_vars/localhost apply to the implicit localhost.
	inv := mustLoad(t, "testdata/oracle/precedence/inventory/hosts")
	got := inv.HostVars("localhost")
	if got["ansible_connection"] != "local" || got["lh"] != "from-host-vars" || got["k0"] != "all-inline" || got["k1"] != "all-file" {
		t.Errorf("HostVars(localhost) = %v", got)
	}
	if _, ok := got["who"]; !ok {
		t.Errorf("HostVars(localhost) lacks all-group var who: %v", got)
	}
	if dir, file := inv.Source("localhost"); dir != "" || file != "" {
		t.Errorf("Source(localhost) = %q, %q; want empty", dir, file)
	}
}

func TestDefinedLocalhostIsReused(t *testing.T) {
	inv := mustLoad(t, "localhost,web1,")
	h, _ := inv.Host("127.0.0.1")
	if h.Name != "localhost" {
		t.Errorf("Host(127.0.0.1) = %s, want the defined localhost", h.Name)
	}
	if got := inv.GroupNamesOf("localhost"); !cmp.Equal(got, []string{"ungrouped"}) {
		t.Errorf("GroupNamesOf(localhost) = %q", got)
	}
}

func TestHostList(t *testing.T) {
	inv := mustLoad(t, "web1, web2:2222,[::1]:22,web1,")
	if got := hostNames(inv.Hosts()); !cmp.Equal(got, []string{"web1", "web2", "::1"}) {
		t.Errorf("hosts = %q", got)
	}
	h, _ := inv.Host("web2")
	if h.Vars["ansible_port"] != 2222 {
		t.Errorf("web2 vars = %v, want ansible_port 2222 (int)", h.Vars)
	}
	if dir, file := inv.Source("web1"); dir != "" || file != "web1, web2:2222,[::1]:22,web1," {
		t.Errorf("Source(web1) = %q, %q", dir, file)
	}
}

func TestStructure(t *testing.T) {
	inv := mustLoad(t, "testdata/oracle/ini_basic/hosts")
	abs, err := filepath.Abs("testdata/oracle/ini_basic/hosts")
	if err != nil {
		t.Fatal(err)
	}
	beta, ok := inv.Host("beta")
	if !ok {
		t.Fatal("beta missing")
	}
	if want := []string{"all", "prod", "staging", "web"}; !cmp.Equal(beta.Groups, want) {
		t.Errorf("beta.Groups = %q, want %q", beta.Groups, want)
	}
	if got := inv.GroupNamesOf("beta"); !cmp.Equal(got, []string{"prod", "staging", "web"}) {
		t.Errorf("GroupNamesOf(beta) = %q", got)
	}
	solo, _ := inv.Host("lonely.example.com")
	if !cmp.Equal(solo.Groups, []string{"all", "ungrouped"}) {
		t.Errorf("ungrouped host groups = %q", solo.Groups)
	}
	prod, _ := inv.Group("prod")
	if !cmp.Equal(prod.Children, []string{"web", "db", "staging"}) || !cmp.Equal(prod.Parents, []string{"all"}) {
		t.Errorf("prod = %+v", prod)
	}
	web, _ := inv.Group("web")
	if !cmp.Equal(web.Parents, []string{"prod"}) || web.Hosts[0] != "web01.example.com" {
		t.Errorf("web = %+v", web)
	}
	if dir, file := inv.Source("beta"); file != abs || dir != filepath.Dir(abs) {
		t.Errorf("Source(beta) = %q, %q; want %q", dir, file, abs)
	}
	groups := inv.GroupsVar()
	if got := groups["prod"].([]string); len(got) != 12 || got[0] != "web01.example.com" {
		t.Errorf("groups[prod] = %q, want the 12 hosts of web, db and staging, web first", got)
	}
	if got := groups["ungrouped"].([]string); !cmp.Equal(got, []string{"lonely.example.com", "jumper"}) {
		t.Errorf("groups[ungrouped] = %q", got)
	}
	if got := groups["all"].([]string); len(got) != len(inv.Hosts()) {
		t.Errorf("groups[all] has %d hosts, want %d", len(got), len(inv.Hosts()))
	}
	// Typed INI values.
	bv := beta.Vars
	want := map[string]any{"sudo": true, "user": "root", "count": 16, "ratio": 1.5, "neg": -3,
		"list": []any{1, "two", 3.0}, "dict": map[string]any{"a": 1, "b": []any{true, nil}}}
	if diff := cmp.Diff(want, bv); diff != "" {
		t.Errorf("beta.Vars (-want +got):\n%s", diff)
	}
	jumper, _ := inv.Host("jumper")
	if jumper.Vars["ansible_port"] != 2222 {
		t.Errorf("jumper ansible_port = %#v, want int 2222", jumper.Vars["ansible_port"])
	}
}

func TestHostVarsPrecedence(t *testing.T) {
	inv := mustLoad(t, "testdata/oracle/precedence/inventory/hosts")
	got := inv.HostVars("h1")
	checks := map[string]any{
		"who":  "c", // c is the deepest group (depth 3); x's priority only orders it among depth-1 groups
		"k0":   "all-inline",
		"k1":   "all-file",  // group_vars/all beats inline [c:vars] (Ansible's order)
		"k2":   "a-file",    // group_vars/a beats inline [c:vars]
		"k3":   "b-sub",     // the group_vars/b/ directory, merged in name order, deeper than a
		"k4":   "c-file",    // group_vars/c (no extension) beats group_vars/all
		"k5":   "host-file", // host_vars beats inline host vars
		"k6":   "x-json",
		"k7":   "host-file",
		"dict": map[string]any{"c": 3}, // replaced, not merged
	}
	for k, want := range checks {
		if diff := cmp.Diff(want, odict.Plain(got[k])); diff != "" {
			t.Errorf("HostVars(h1)[%s] (-want +got):\n%s", k, diff)
		}
	}
	if _, ok := got["c_yml"]; ok {
		t.Error("group_vars/c.yml was loaded although group_vars/c exists (first match wins)")
	}
	if _, ok := got["ansible_group_priority"]; ok {
		t.Error("ansible_group_priority leaked into host vars")
	}
	// Playbook-side vars override inventory-side ones at the same level.
	if err := inv.AddVarsDir("testdata/oracle/precedence/playbook"); err != nil {
		t.Fatal(err)
	}
	got = inv.HostVars("h1")
	for k, want := range map[string]any{"k2": "play-a", "k4": "c-file", "k7": "play-host"} {
		if got[k] != want {
			t.Errorf("after AddVarsDir: HostVars(h1)[%s] = %v, want %v", k, got[k], want)
		}
	}
	h1, _ := inv.Host("h1")
	if h1.Vars["k7"] != "play-host" || h1.Vars["inline_h"] != "h1" {
		t.Errorf("h1.Vars = %v, want inline + host_vars files", h1.Vars)
	}
	a, _ := inv.Group("a")
	if a.Vars["k2"] != "play-a" || a.Vars["k1"] != "a-inline" {
		t.Errorf("group a Vars = %v", a.Vars)
	}
	// A fresh deep copy every call.
	got["dict"].(*odict.Dict).Set("c", 99)
	if c, _ := inv.HostVars("h1")["dict"].(*odict.Dict).Get("c"); c != 3 {
		t.Error("HostVars returned shared state")
	}
	if err := inv.AddVarsDir("testdata/nope"); err == nil {
		t.Error("AddVarsDir(missing dir) succeeded")
	}
}

func TestPendingChildCreated(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	if err := os.WriteFile(p, []byte("[parent:children]\nghost\n[parent]\nh1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := mustLoad(t, p)
	g, ok := inv.Group("ghost")
	if !ok || !cmp.Equal(g.Parents, []string{"parent"}) {
		t.Fatalf("group ghost = %+v, %v; want an empty child of parent", g, ok)
	}
	if len(inv.Warnings()) != 1 {
		t.Errorf("Warnings() = %q, want one about ghost", inv.Warnings())
	}
}

func TestSelectErrors(t *testing.T) {
	inv := mustLoad(t, "testdata/select/hosts")
	for _, p := range []string{"~web(", "~*web", "@testdata/select/missing.retry"} {
		if _, err := inv.Select(p); err == nil {
			t.Errorf("Select(%q) succeeded, want an error", p)
		}
	}
	for _, p := range []string{"", "nosuch", "nosuch*", "web[99]"} {
		hosts, err := inv.Select(p)
		if err != nil || len(hosts) != 0 {
			t.Errorf("Select(%q) = %q, %v; want no hosts and no error", p, hostNames(hosts), err)
		}
	}
}

func TestDirectorySource(t *testing.T) {
	inv := mustLoad(t, "testdata/oracle/dirsource/inv")
	if got := hostNames(inv.Hosts()); !cmp.Equal(got, []string{"w1", "w2", "w3", "d1", "d2"}) {
		t.Errorf("hosts = %q (ignored files must not be read)", got)
	}
	w3, _ := inv.Host("w3")
	abs, _ := filepath.Abs("testdata/oracle/dirsource/inv/02-more.yml")
	if _, file := inv.Source("w3"); file != abs {
		t.Errorf("Source(w3) file = %q, want %q", file, abs)
	}
	if v := inv.HostVars(w3.Name); v["web_file"] != true || v["from_sub"] != 1 {
		t.Errorf("HostVars(w3) = %v", v)
	}
}

func TestFormatDetection(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// No extension: YAML when it is a YAML mapping, INI otherwise.
	inv := mustLoad(t, write("yamlhosts", "web:\n  hosts:\n    w1:\n      a: yes\n"), write("inihosts", "h1 a=yes\n"))
	w1, _ := inv.Host("w1")
	h1, _ := inv.Host("h1")
	if w1.Vars["a"] != true || h1.Vars["a"] != "yes" {
		t.Errorf("w1.Vars = %v (YAML 1.1 yes is true), h1.Vars = %v (INI yes is a string)", w1.Vars, h1.Vars)
	}
	// A broken YAML file without extension reports the YAML error.
	_, err := Load([]string{write("broken", "all:\n  hosts:\n    a: [\n")})
	if err == nil || !strings.Contains(err.Error(), "invalid YAML") {
		t.Errorf("Load(broken YAML) error = %v, want the YAML error", err)
	}
}

// Dicts in inventory variables keep the order their keys are written in,
// as Ansible's do (with_dict over a group_vars dict).
func TestYAMLVarsKeepKeyOrder(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yml")
	src := "all:\n  hosts:\n    h1:\n      users: {zed: 1, amy: 2, <<: {bob: 3}}\n  vars:\n    ports: {https: 443, http: 80}\n"
	if err := os.WriteFile(inv, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	i, err := Load([]string{inv})
	if err != nil {
		t.Fatal(err)
	}
	hv := i.HostVars("h1")
	for name, want := range map[string]string{"users": "zed,amy,bob", "ports": "https,http"} {
		d, ok := hv[name].(*odict.Dict)
		if !ok || strings.Join(d.Keys(), ",") != want {
			t.Errorf("%s: %#v, want keys %s", name, hv[name], want)
		}
	}
}
