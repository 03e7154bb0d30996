package module

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// expandEnv is the environment of the ExpandVars cases.
var expandEnv = map[string]string{
	"HOME":   "/home/u",
	"A":      "x",
	"A_B":    "ab",
	"1":      "one",
	"DOLLAR": "$HOME",
	"WEIRD":  "$(touch /tmp/pwned)`id`;",
	"A B":    "spaced",
	"EMPTY":  "",
	"É":      "accent",
}

// expandCases hold what Python's os.path.expandvars returns with
// expandEnv as os.environ (TestExpandVarsPython checks them with python3).
var expandCases = []struct{ in, want string }{
	{"", ""},
	{"/etc/hosts", "/etc/hosts"},
	{"$HOME", "/home/u"},
	{"${HOME}", "/home/u"},
	{"$HOME/.ssh/authorized_keys", "/home/u/.ssh/authorized_keys"},
	{"${HOME}/x", "/home/u/x"},
	{"$UNKNOWN", "$UNKNOWN"},
	{"${UNKNOWN}/x", "${UNKNOWN}/x"},
	{"$", "$"},
	{"$$", "$$"},
	{"$$HOME", "$/home/u"},
	{"a$", "a$"},
	{"$/x", "$/x"},
	{"$1", "one"},
	{"$12", "$12"},
	{"a$HOMEb", "a$HOMEb"},
	{"a${HOME}b", "a/home/ub"},
	{"$A_B", "ab"},
	{"$A-B", "x-B"},
	{"$A.B", "x.B"},
	{"${A B}", "spaced"},
	{"${}", "${}"},
	{"${", "${"},
	{"${HOME", "${HOME"},
	{"${HOME${A}}", "${HOME${A}}"},
	{"${A${B}", "${A${B}"},
	{"$DOLLAR", "$HOME"},
	{"$DOLLAR$HOME", "$HOME/home/u"},
	{"$WEIRD", "$(touch /tmp/pwned)`id`;"},
	{"$(id)", "$(id)"},
	{"`id`", "`id`"},
	{"${HOME:-/x}", "${HOME:-/x}"},
	{"$EMPTY/x", "/x"},
	{"$É", "$É"},
	{"${É}", "accent"},
	{"~/$A", "~/x"},
	{"$HOME$A$A_B", "/home/uxab"},
}

func TestExpandVars(t *testing.T) {
	for _, c := range expandCases {
		if got := ExpandVars(c.in, expandEnv); got != c.want {
			t.Errorf("ExpandVars(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestExpandVarsPython checks the cases against Python's own
// os.path.expandvars, the function Ansible's path arguments go through.
func TestExpandVarsPython(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	var ins []string
	for _, c := range expandCases {
		ins = append(ins, c.in)
	}
	input, _ := json.Marshal(map[string]any{"env": expandEnv, "in": ins})
	script := `import json, os, sys
d = json.load(sys.stdin)
os.environ.clear()
os.environ.update(d["env"])
json.dump([os.path.expandvars(s) for s in d["in"]], sys.stdout)`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python3: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range expandCases {
		if c.want != want[i] {
			t.Errorf("case %q: table says %q, Python says %q", c.in, c.want, want[i])
		}
		if got := ExpandVars(c.in, expandEnv); got != want[i] {
			t.Errorf("ExpandVars(%q) = %q, Python says %q", c.in, got, want[i])
		}
	}
}

func TestExpandPaths(t *testing.T) {
	spec := &Spec{Name: "t", Args: []Arg{
		{Name: "path", Type: Path, Expand: true},
		{Name: "paths", Type: List, Expand: true},
		{Name: "src", Type: Path, Expand: true, ExpandIf: "remote_src"},
		{Name: "remote_src", Type: Bool},
		{Name: "content", Type: String},
	}}
	env := map[string]string{"HOME": "/root"}
	tests := []struct {
		name  string
		args  Args
		want  Args
		reads int
	}{
		{"no dollar: no read", Args{"path": "~/x", "content": "$HOME"}, Args{"path": "~/x", "content": "$HOME"}, 0},
		{"path", Args{"path": "$HOME/x", "content": "$HOME"}, Args{"path": "/root/x", "content": "$HOME"}, 1},
		{"list", Args{"paths": []any{"$HOME", "/etc", "${HOME}/a"}}, Args{"paths": []any{"/root", "/etc", "/root/a"}}, 1},
		{"src of the controller", Args{"src": "$HOME/f", "remote_src": false}, Args{"src": "$HOME/f", "remote_src": false}, 0},
		{"src on the host", Args{"src": "$HOME/f", "path": "$HOME", "remote_src": true}, Args{"src": "/root/f", "path": "/root", "remote_src": true}, 1},
	}
	for _, tt := range tests {
		reads := 0
		got, err := spec.ExpandPaths(tt.args, func() (map[string]string, error) { reads++; return env, nil })
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, d)
		}
		if reads != tt.reads {
			t.Errorf("%s: environment read %d times, want %d", tt.name, reads, tt.reads)
		}
	}
	orig := Args{"path": "$HOME"}
	if _, err := spec.ExpandPaths(orig, func() (map[string]string, error) { return env, nil }); err != nil || orig["path"] != "$HOME" {
		t.Errorf("ExpandPaths changed its argument: %v %v", orig, err)
	}
	boom := errors.New("boom")
	if _, err := spec.ExpandPaths(Args{"path": "$HOME"}, func() (map[string]string, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("error of the environment read: got %v", err)
	}
}

func TestParseEnv(t *testing.T) {
	got := ParseEnv([]byte("HOME=/root\x00MULTI=a\nb=c\x00EMPTY=\x00=bad\x00noequals\x00"))
	want := map[string]string{"HOME": "/root", "MULTI": "a\nb=c", "EMPTY": ""}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// TestExpandUser checks the cases against Python's os.path.expanduser
// with HOME set (users are not looked up: ~user stays).
func TestExpandUser(t *testing.T) {
	tests := []struct {
		in, home, want string
	}{
		{"~", "/home/u", "/home/u"},
		{"~/x", "/home/u", "/home/u/x"},
		{"~/x", "/home/u/", "/home/u/x"},
		{"~", "/", "/"},
		{"~/x", "/", "/x"},
		{"~x", "/home/u", "~x"},
		{"a~", "/home/u", "a~"},
		{"/~", "/home/u", "/~"},
		{"", "/home/u", ""},
	}
	for _, tt := range tests {
		if got := ExpandUser(tt.in, map[string]string{"HOME": tt.home}); got != tt.want {
			t.Errorf("ExpandUser(%q) with HOME=%q = %q, want %q", tt.in, tt.home, got, tt.want)
		}
	}
	if got := ExpandUser("~/x", map[string]string{}); got != "~/x" {
		t.Errorf("without HOME: %q", got)
	}
}
