package modules

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    string // Mode.String()
		octal   uint32 // Apply(0) result for octal modes
		wantErr string
	}{
		{name: "nil is unset", in: nil, want: ""},
		{name: "yaml 0644 arrives as 420", in: 420, want: "0644", octal: 0o644},
		{name: "yaml 644 is decimal like ansible", in: 644, want: "01204", octal: 0o1204},
		{name: "string with leading zero", in: "0644", want: "0644", octal: 0o644},
		{name: "string without leading zero is octal", in: "644", want: "0644", octal: 0o644},
		{name: "python 0o prefix", in: "0o750", want: "0750", octal: 0o750},
		{name: "sticky dir", in: "1777", want: "01777", octal: 0o1777},
		{name: "float from json", in: float64(384), want: "0600", octal: 0o600},
		{name: "zero", in: "0", want: "0000", octal: 0},
		{name: "symbolic", in: "u+rwX,g-w,o=", want: "u+rwX,g-w,o="},
		{name: "too big int", in: 0o17777, wantErr: "only permission bits"},
		{name: "too big string", in: "17777", wantErr: "only permission bits"},
		{name: "negative", in: -1, wantErr: "only permission bits"},
		{name: "not octal digits nor symbolic", in: "0999", wantErr: "octal or symbolic"},
		{name: "bad who", in: "z+x", wantErr: "bad symbolic permission"},
		{name: "bad perm", in: "u+q", wantErr: "bad symbolic permission"},
		{name: "a mixed with u", in: "au+x", wantErr: "bad symbolic permission"},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "list", in: []any{"0644"}, wantErr: "octal or symbolic"},
		{name: "fractional float", in: 1.5, wantErr: "not an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMode(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseMode(%#v) error = %v, want containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseMode(%#v): %v", tc.in, err)
			}
			if got := m.String(); got != tc.want {
				t.Errorf("parseMode(%#v).String() = %q, want %q", tc.in, got, tc.want)
			}
			if m.IsSet() && !m.IsSymbolic() {
				got, err := m.Apply(0o777, false, 0o22)
				if err != nil || got != tc.octal {
					t.Errorf("Apply = %04o, %v; want %04o", got, err, tc.octal)
				}
			}
		})
	}
}

// symbolicCases are checked against symbolicMode's expectations and, when
// Ansible is installed, against Ansible's own implementation.
var symbolicCases = []struct {
	mode  string
	cur   uint32
	isDir bool
	want  uint32
}{
	{"u+rwX,g-w,o=", 0o644, false, 0o640},
	{"u+rwX,g-w,o=", 0o644, true, 0o740},
	{"u+rwX,g-w,o=", 0o744, false, 0o740},
	{"a+X", 0o644, false, 0o644},
	{"a+X", 0o744, false, 0o755},
	{"u=rw,g=r,o=r", 0o777, false, 0o644},
	{"a=r", 0o755, false, 0o444},
	{"+x", 0o644, false, 0o755},
	{"+w", 0o444, false, 0o644},
	{"=rw", 0o000, false, 0o644},
	{"-r", 0o644, false, 0o200},
	{"u+s", 0o755, false, 0o4755},
	{"g+s", 0o755, true, 0o2755},
	{"o+t", 0o777, true, 0o1777},
	{"+t", 0o777, true, 0o1777},
	{"u=rw+x", 0o000, false, 0o700},
	{"u=rwx,g=u-w,o=", 0o644, false, 0o740},
	{"g=u", 0o640, false, 0o660},
	{"o=g", 0o650, false, 0o655},
	{"u-s", 0o4755, false, 0o755},
	{"u=rw", 0o4755, false, 0o655},
	{"ug+w,o-rwx", 0o755, false, 0o770},
	{"u+x,u+x", 0o600, false, 0o700},
	{"a-x,u+X", 0o755, false, 0o744},
	{"go=", 0o777, false, 0o700},
}

func TestSymbolicMode(t *testing.T) {
	for _, tc := range symbolicCases {
		t.Run(fmt.Sprintf("%s on %04o dir=%v", tc.mode, tc.cur, tc.isDir), func(t *testing.T) {
			got, err := symbolicMode(tc.mode, tc.cur, tc.isDir, 0o22)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("symbolicMode(%q, %04o) = %04o, want %04o", tc.mode, tc.cur, got, tc.want)
			}
		})
	}
}

// TestSymbolicModeOracle runs the same cases through Ansible's
// AnsibleModule._symbolic_mode_to_octal (Debian's ansible-core) with umask
// 022 and compares.
func TestSymbolicModeOracle(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import ansible.module_utils.basic").Run(); err != nil {
		t.Skip("ansible-core for /usr/bin/python3 is not installed; oracle skipped")
	}
	var script strings.Builder
	script.WriteString("import os, stat\nos.umask(0o22)\nfrom ansible.module_utils.basic import AnsibleModule\nclass S: pass\n")
	for _, tc := range symbolicCases {
		typ := "stat.S_IFREG"
		if tc.isDir {
			typ = "stat.S_IFDIR"
		}
		fmt.Fprintf(&script, "s=S(); s.st_mode=%s|0o%o; print('%%04o' %% AnsibleModule._symbolic_mode_to_octal(s, %q))\n", typ, tc.cur, tc.mode)
	}
	out, err := exec.Command(py, "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(symbolicCases) {
		t.Fatalf("oracle printed %d lines for %d cases:\n%s", len(lines), len(symbolicCases), out)
	}
	for i, tc := range symbolicCases {
		got, _ := symbolicMode(tc.mode, tc.cur, tc.isDir, 0o22)
		if fmt.Sprintf("%04o", got) != lines[i] {
			t.Errorf("%q on %04o dir=%v: tend %04o, ansible %s", tc.mode, tc.cur, tc.isDir, got, lines[i])
		}
	}
}

func TestPlanAttrs(t *testing.T) {
	st := &RemoteStat{Exists: true, Type: "file", Mode: 0o644, UID: 1000, GID: 1000, Owner: "alice", Group: "staff", Umask: 0o22}
	tests := []struct {
		name                string
		owner, group        string
		mode                any
		wantChanged         bool
		wantCmd             string
		wantBefore, wantAft map[string]any
	}{
		{name: "nothing asked", wantCmd: ""},
		{name: "same by name", owner: "alice", group: "staff", mode: "0644"},
		{name: "same by id", owner: "1000", group: "1000", mode: "u=rw,go=r"},
		{name: "owner and mode differ", owner: "root", mode: 0o600, wantChanged: true,
			wantCmd:    "chown -- root /tmp/a b && chmod -- 0600 /tmp/a b",
			wantBefore: map[string]any{"owner": "alice", "mode": "0644"}, wantAft: map[string]any{"owner": "root", "mode": "0600"}},
		{name: "group only", group: "adm", wantChanged: true, wantCmd: "chown -- :adm /tmp/a b",
			wantBefore: map[string]any{"group": "staff"}, wantAft: map[string]any{"group": "adm"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMode(tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			p, err := planAttrs(st, tc.owner, tc.group, m)
			if err != nil {
				t.Fatal(err)
			}
			if p.Changed() != tc.wantChanged {
				t.Errorf("Changed = %v, want %v", p.Changed(), tc.wantChanged)
			}
			cmd := p.Command("/tmp/a b", false)
			want := strings.ReplaceAll(tc.wantCmd, "/tmp/a b", "'/tmp/a b'")
			if cmd != want {
				t.Errorf("Command = %q, want %q", cmd, want)
			}
			if tc.wantChanged {
				if fmt.Sprint(p.Before) != fmt.Sprint(tc.wantBefore) || fmt.Sprint(p.After) != fmt.Sprint(tc.wantAft) {
					t.Errorf("diff = %v -> %v, want %v -> %v", p.Before, p.After, tc.wantBefore, tc.wantAft)
				}
			}
		})
	}
}

func TestAttrCommand(t *testing.T) {
	got := attrCommand("-x", "u", "g", 0o4755, true, true, true)
	want := "chown -h -R -- u:g -x && chmod -R -- 4755 -x"
	if got != want {
		t.Errorf("attrCommand = %q, want %q", got, want)
	}
	if got := attrCommand("/a", "", "", 0, false, false, false); got != "" {
		t.Errorf("attrCommand with nothing asked = %q, want empty", got)
	}
}

func TestDictDiffText(t *testing.T) {
	got := dictDiffText("/etc/x", map[string]any{"mode": "0644", "state": "file"})
	want := "{\n    \"mode\": \"0644\",\n    \"path\": \"/etc/x\",\n    \"state\": \"file\"\n}\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
