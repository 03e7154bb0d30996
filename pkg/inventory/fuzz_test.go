package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseINI feeds arbitrary bytes to the INI parser and the code that
// runs after it. It must never panic, and every error must carry a line.
func FuzzParseINI(f *testing.F) {
	var seeds []string
	for _, pat := range []string{"testdata/bad/*.ini", "testdata/oracle/*/hosts", "testdata/oracle/*/*/hosts",
		"testdata/oracle/dirsource/inv/*", "testdata/select/hosts"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	for _, s := range seeds {
		if st, err := os.Stat(s); err != nil || st.IsDir() {
			continue
		}
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("h[0:3]x[a:c] k=[{1: (2,)}] v='\\x41'\n[g:children]\nh\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv := newInventory()
		err := inv.loadINI("fuzz.ini", "/fuzz.ini", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line <= 0 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		inv.reconcile()
		inv.refreshVars()
		for _, h := range inv.Hosts() {
			_ = inv.HostVars(h.Name)
			_ = inv.GroupNamesOf(h.Name)
			if _, err := inv.Select(h.Name); err != nil {
				// Host names can contain regex or glob syntax; only make
				// sure it does not panic.
				_ = err
			}
		}
		_ = inv.GroupsVar()
		if _, err := inv.Select("all:!ungrouped:&*"); err != nil {
			t.Fatalf("Select: %v", err)
		}
	})
}

// FuzzParseYAML does the same for YAML inventories.
func FuzzParseYAML(f *testing.F) {
	for _, pat := range []string{"testdata/bad/*.yml", "testdata/oracle/*/*.yml", "testdata/oracle/*/*.json"} {
		m, _ := filepath.Glob(pat)
		for _, s := range m {
			data, err := os.ReadFile(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// Alias cycles and bombs, in groups and in vars.
	f.Add([]byte("all:\n  children: &c\n    web:\n      children: *c\n"))
	f.Add([]byte("all:\n  vars: &v {x: 1, <<: *v}\n"))
	f.Add([]byte("all:\n  hosts:\n    h[0:9]: &h\n      a: [1, 2]\n      b: [*h, *h]\n"))
	f.Add([]byte("a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nall: {vars: {d: [*c, *c, *c, *c, *c, *c, *c, *c]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang would stall the fuzzer silently; crashing saves the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("loading %q took more than 10 s", data)) })
		defer watchdog.Stop()
		inv := newInventory()
		doc, err := parseYAMLDocument("fuzz.yml", data)
		if err != nil {
			return
		}
		if err := inv.loadYAML("fuzz.yml", "/fuzz.yml", doc); err != nil {
			return
		}
		inv.reconcile()
		inv.refreshVars()
		for _, h := range inv.Hosts() {
			_ = inv.HostVars(h.Name)
		}
	})
}
