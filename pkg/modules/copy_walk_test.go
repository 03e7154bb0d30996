package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWalkCopySource lists a tree shaped like the copy target's
// files/subdir (links to a file, to a directory in the copy, to itself,
// dangling, absolute ones out of the copy, one back up the tree) as
// Ansible's copy action's _walk_dirs does.
func TestWalkCopySource(t *testing.T) {
	dir := t.TempDir()
	top := filepath.Join(dir, "subdir")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{top + "/subdir1", top + "/subdir2/subdir3", outside + "/d"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{top + "/bar.txt", top + "/subdir2/subdir3/qux.txt", outside + "/f", outside + "/d/inner"} {
		if err := os.WriteFile(f, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"subdir1/bar.txt":  "../bar.txt",
		"subdir1/subdir3":  "../subdir2/subdir3",
		"subdir1/invalid":  "invalid",
		"subdir1/invalid2": "../invalid",
		"subdir1/abs":      outside + "/f",
		"subdir1/absdir":   outside + "/d",
		"subdir1/up":       "..",
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(top, l)); err != nil {
			t.Fatal(err)
		}
	}
	show := func(es []copySource) []string {
		var out []string
		for _, e := range es {
			switch {
			case e.dir:
				out = append(out, e.rel+"/")
			case e.isLink:
				out = append(out, e.rel+" -> "+e.link)
			default:
				out = append(out, e.rel+" = "+strings.TrimPrefix(e.local, dir+"/"))
			}
		}
		return out
	}
	got, err := walkCopySource(top, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"./", "bar.txt = subdir/bar.txt", "subdir1/",
		"subdir1/abs -> " + outside + "/f", "subdir1/absdir -> " + outside + "/d",
		"subdir1/bar.txt -> ../bar.txt", "subdir1/invalid -> invalid", "subdir1/invalid2 -> ../invalid",
		"subdir1/subdir3 -> ../subdir2/subdir3", "subdir1/up -> ..",
		"subdir2/", "subdir2/subdir3/", "subdir2/subdir3/qux.txt = subdir/subdir2/subdir3/qux.txt"}
	if d := cmp.Diff(want, show(got)); d != "" {
		t.Errorf("local_follow=false (-want +got):\n%s", d)
	}
	got, err = walkCopySource(top, true)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"./", "bar.txt = subdir/bar.txt", "subdir1/",
		"subdir1/abs = subdir/subdir1/abs", "subdir1/absdir/", "subdir1/absdir/inner = outside/d/inner",
		"subdir1/bar.txt = subdir/subdir1/bar.txt", "subdir1/invalid -> invalid", "subdir1/invalid2 -> ../invalid",
		"subdir1/subdir3/", "subdir1/subdir3/qux.txt = subdir/subdir2/subdir3/qux.txt", "subdir1/up -> ..",
		"subdir2/", "subdir2/subdir3/", "subdir2/subdir3/qux.txt = subdir/subdir2/subdir3/qux.txt"}
	if d := cmp.Diff(want, show(got)); d != "" {
		t.Errorf("local_follow=true (-want +got):\n%s", d)
	}
}

func TestWalkOrder(t *testing.T) {
	var srcs []copySource
	for _, r := range []string{".", "a", "a/z", "a/b/c", "b", "folder/nested", "readme.txt", "vault-file"} {
		srcs = append(srcs, copySource{rel: r})
	}
	var got []string
	for _, i := range walkOrder(srcs) {
		got = append(got, srcs[i].rel)
	}
	// os.walk: a directory's entries, then each subdirectory's in turn.
	want := []string{".", "a", "b", "readme.txt", "vault-file", "a/z", "a/b/c", "folder/nested"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
