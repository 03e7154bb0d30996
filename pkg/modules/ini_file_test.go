package modules

import "testing"

// TestIniApplyGcfg covers the tend-specific gcfg mode: quoted
// subsections, case rules, repeated keys and kept comments/indentation.
func TestIniApplyGcfg(t *testing.T) {
	const conf = "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\n[Database \"main\"]\n\tProvider = sqlite # inline\n[Database \"Other\"]\n\tProvider = sqlite\n[CRAN]\n\tSource = cran\n\tSource = bioc\n"
	s := func(v string) *string { return &v }
	tests := []struct {
		name        string
		edit        IniEdit
		want        string
		wantChanged bool
	}{
		{
			name:        "quoted subsection, case-insensitive section and key",
			edit:        IniEdit{Section: s(`database "main"`), Option: s("provider"), Values: []string{"postgres"}, Exclusive: true, Gcfg: true},
			want:        "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\n[Database \"main\"]\n\tProvider = postgres\n[Database \"Other\"]\n\tProvider = sqlite\n[CRAN]\n\tSource = cran\n\tSource = bioc\n",
			wantChanged: true,
		},
		{
			name:        "subsection name is case-sensitive",
			edit:        IniEdit{Section: s(`Database "other"`), Option: s("Provider"), Values: []string{"sqlite"}, Exclusive: true, Gcfg: true},
			want:        conf + "[Database \"other\"]\n\tProvider = sqlite\n",
			wantChanged: true,
		},
		{
			name: "already converged",
			edit: IniEdit{Section: s(`SERVER`), Option: s("address"), Values: []string{"http://a"}, Exclusive: true, Gcfg: true},
			want: conf,
		},
		{
			name: "repeated keys converged",
			edit: IniEdit{Section: s("cran"), Option: s("Source"), Values: []string{"cran", "bioc"}, Exclusive: true, Gcfg: true},
			want: conf,
		},
		{
			name:        "repeated keys: add one, keep others (exclusive=false)",
			edit:        IniEdit{Section: s("CRAN"), Option: s("Source"), Values: []string{"internal"}, Gcfg: true},
			want:        "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\n[Database \"main\"]\n\tProvider = sqlite # inline\n[Database \"Other\"]\n\tProvider = sqlite\n[CRAN]\n\tSource = cran\n\tSource = bioc\n\tSource = internal\n",
			wantChanged: true,
		},
		{
			name:        "repeated keys exclusive replaces the set",
			edit:        IniEdit{Section: s("CRAN"), Option: s("source"), Values: []string{"bioc"}, Exclusive: true, Gcfg: true},
			want:        "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\n[Database \"main\"]\n\tProvider = sqlite # inline\n[Database \"Other\"]\n\tProvider = sqlite\n[CRAN]\n\tSource = bioc\n",
			wantChanged: true,
		},
		{
			name:        "remove one of repeated values",
			edit:        IniEdit{Section: s("CRAN"), Option: s("Source"), Values: []string{"cran"}, Absent: true, Gcfg: true},
			want:        "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\n[Database \"main\"]\n\tProvider = sqlite # inline\n[Database \"Other\"]\n\tProvider = sqlite\n[CRAN]\n\tSource = bioc\n",
			wantChanged: true,
		},
		{
			name:        "new option indented with a tab after last option",
			edit:        IniEdit{Section: s("Server"), Option: s("Launcher"), Values: []string{"true"}, Exclusive: true, Gcfg: true},
			want:        "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\tLauncher = true\n\n[Database \"main\"]\n\tProvider = sqlite # inline\n[Database \"Other\"]\n\tProvider = sqlite\n[CRAN]\n\tSource = cran\n\tSource = bioc\n",
			wantChanged: true,
		},
		{
			name:        "remove a subsection",
			edit:        IniEdit{Section: s(`Database "Other"`), Absent: true, Gcfg: true},
			want:        "; Posit Package Manager\n[Server]\n\tAddress = http://a\n\n[Database \"main\"]\n\tProvider = sqlite # inline\n[CRAN]\n\tSource = cran\n\tSource = bioc\n",
			wantChanged: true,
		},
		{
			name:        "without gcfg, matching stays exact like Ansible",
			edit:        IniEdit{Section: s("server"), Option: s("Address"), Values: []string{"http://a"}, Exclusive: true},
			want:        conf + "[server]\nAddress = http://a\n",
			wantChanged: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, msg := iniApply(conf, tc.edit)
			if got != tc.want {
				t.Errorf("content:\n got %q\nwant %q", got, tc.want)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v (%s), want %v", changed, msg, tc.wantChanged)
			}
		})
	}
}

// TestFindIniSection covers the section lookup iniApply's edits work in:
// the last header wins, a header ends at the next one, gcfg headers may be
// indented and match case-insensitively.
func TestFindIniSection(t *testing.T) {
	tests := []struct {
		name       string
		content    string
		section    string
		gcfg       bool
		start, end int
		within     bool
	}{
		{name: "before first header", content: "a=1\n[s]\nb=2\n", section: fakeSection, start: 0, end: 2, within: true},
		{name: "named", content: "a=1\n[s]\nb=2\n", section: "s", start: 2, end: 4, within: true},
		{name: "missing", content: "[t]\nb=2\n", section: "s", start: 0, end: 0},
		{name: "last of two", content: "[s]\na=1\n[s]\nb=2\n[t]\n", section: "s", start: 3, end: 5, within: true},
		{name: "indented header ends section only with gcfg", content: "[s]\na=1\n  [t]\nb=2\n", section: "s", start: 1, end: 5, within: true},
		{name: "gcfg indented header", content: "[s]\na=1\n  [t]\nb=2\n", section: "s", gcfg: true, start: 1, end: 3, within: true},
		{name: "gcfg case and subsection", content: "[Server \"x\"]\na=1\n[SERVER \"main\"]\nb=2\n", section: `server "main"`, gcfg: true, start: 3, end: 5, within: true},
		{name: "gcfg subsection is case-sensitive", content: "[Server \"Main\"]\nb=2\n", section: `server "main"`, gcfg: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, _ := iniLines(tc.content)
			start, end, within := findIniSection(lines, iniHeaderMatcher(tc.gcfg, tc.section), tc.gcfg)
			if start != tc.start || end != tc.end || within != tc.within {
				t.Errorf("findIniSection(%q, %q) = %d, %d, %v; want %d, %d, %v", tc.content, tc.section, start, end, within, tc.start, tc.end, tc.within)
			}
		})
	}
}

// TestIniApplyAbsentWithoutSectionOrOption covers state=absent with
// neither section nor option: do_ini drops the lines before the first
// section and then deletes the first and last lines with Python's del,
// which does nothing on an empty list. A file without sections once made
// iniApply panic here.
func TestIniApplyAbsentWithoutSectionOrOption(t *testing.T) {
	tests := []struct {
		name, content, want string
		changed             bool
		msg                 string
	}{
		{name: "no sections", content: "a=1\nb=2\n", want: "", changed: true, msg: "section removed"},
		{name: "empty file", content: "", want: "", changed: true, msg: "section removed"},
		// As in Ansible, the del of the first line then takes the first
		// section's header.
		{name: "with a section", content: "a=1\n[s]\nb=2\n", want: "b=2\n", changed: true, msg: "section removed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, msg := iniApply(tc.content, IniEdit{Absent: true, Exclusive: true})
			if got != tc.want || changed != tc.changed || msg != tc.msg {
				t.Errorf("iniApply(%q) = %q, %v, %q; want %q, %v, %q", tc.content, got, changed, msg, tc.want, tc.changed, tc.msg)
			}
		})
	}
}
