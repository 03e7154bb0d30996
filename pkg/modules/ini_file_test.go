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
