package modules

import (
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestSplitFreeForm(t *testing.T) {
	tests := []struct{ in, first, rest string }{
		{"a.sh", "a.sh", ""},
		{"  a.sh  --x 'y z' ", "a.sh", "--x 'y z'"},
		{"'my script.sh' 1 2", "my script.sh", "1 2"},
		{`"q.sh"`, "q.sh", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		f, r := splitFreeForm(tt.in)
		if f != tt.first || r != tt.rest {
			t.Errorf("splitFreeForm(%q) = %q, %q; want %q, %q", tt.in, f, r, tt.first, tt.rest)
		}
	}
}

func TestRaw(t *testing.T) {
	h := &module.Host{Name: "localhost", Conn: connection.Local{}}
	tests := []struct {
		name   string
		raw    map[string]any
		stdout string
		rc     int
	}{
		{"as written", map[string]any{"free_form": `x='a b'; echo "$x" | tr a A`}, "A b", 0},
		{"executable", map[string]any{"free_form": `echo ${BASH_VERSION:+bash}`, "executable": "/bin/bash"}, "bash", 0},
		{"failure", map[string]any{"free_form": "echo out; exit 3"}, "out", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p := netRun(t, h, Raw{}, tt.raw, false)
			if !p.Changed || r["stdout"] != tt.stdout || r["rc"] != tt.rc || netFailed(r) != (tt.rc != 0) {
				t.Errorf("result = %v", r)
			}
		})
	}
	if _, err := (Raw{}).Spec().Validate(map[string]any{"free_form": "x", "chdir": "/"}, false); err == nil {
		t.Error("unknown argument chdir accepted")
	}
}
