package modules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSuggestSourcesFilename(t *testing.T) {
	tests := map[string]string{
		"deb http://dl.google.com/linux/chrome/deb/ stable main":                     "dl_google_com_linux_chrome_deb.list",
		"deb [arch=amd64 signed-by=/k.asc] https://user:pw@repo.example.com/apt x y": "repo_example_com_apt.list",
		"deb-src https://deb.debian.org/debian bookworm main":                        "deb_debian_org_debian.list",
	}
	for in, want := range tests {
		if got := suggestSourcesFilename(in); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func TestParseSourceLine(t *testing.T) {
	s := parseSourceLine("#  deb   http://x  bookworm main # note")
	if !s.valid || s.enabled || s.source != "deb http://x bookworm main" || s.comment != "note" {
		t.Errorf("got %+v", s)
	}
	if parseSourceLine("# plain comment").valid {
		t.Error("comment is a valid source")
	}
}

func TestEditSources(t *testing.T) {
	files := map[string][]string{
		"/etc/apt/sources.list":          {"deb http://deb.debian.org/debian bookworm main", "# deb  http://x/apt stable main"},
		"/etc/apt/sources.list.d/y.list": {"deb http://y/apt stable main"},
	}
	order := []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d/y.list"}
	tests := []struct {
		name, repo, state string
		want              map[string]string
		added, removed    []string
	}{
		{"present elsewhere", "deb http://y/apt  stable main", "present", map[string]string{}, nil, nil},
		{"enable disabled", "deb http://x/apt stable main", "present",
			map[string]string{"/etc/apt/sources.list": "deb http://deb.debian.org/debian bookworm main\ndeb http://x/apt stable main\n"}, nil, nil},
		{"add new", "deb http://z/apt stable main", "present",
			map[string]string{"/etc/apt/sources.list.d/z.list": "deb http://z/apt stable main\n"}, []string{"deb http://z/apt stable main"}, nil},
		{"remove empties file", "deb http://y/apt stable main", "absent",
			map[string]string{"/etc/apt/sources.list.d/y.list": ""}, nil, []string{"deb http://y/apt stable main"}},
		{"remove disabled is noop", "deb http://x/apt stable main", "absent", map[string]string{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, added, removed := editSources(files, order, parseSourceLine(tt.repo), tt.state, "/etc/apt/sources.list.d/z.list")
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("files (-want +got):\n%s", d)
			}
			if d := cmp.Diff([][]string{tt.added, tt.removed}, [][]string{added, removed}); d != "" {
				t.Errorf("added/removed (-want +got):\n%s", d)
			}
		})
	}
	got, _ := parseSourcesFiles("@@tend-file@@ /etc/apt/sources.list\n|deb a b c\n|\n@@tend-file@@ /e/x.list\n|# c\n")
	if d := cmp.Diff(map[string][]string{"/etc/apt/sources.list": {"deb a b c", ""}, "/e/x.list": {"# c"}}, got); d != "" {
		t.Error(d)
	}
}
