package inventory

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var shlexInputs = []string{
	`a b  c`,
	`web1 k="quoted v" k2='single v'`,
	`a=b#c d=e`,
	`a=b #c`,
	`#all comment`,
	`a="x#y" b='#'`,
	`a=\#b`,
	`a="x\"y" b="x\ny" c="x\\y"`,
	`a='x\y'`,
	`a=x\ y`,
	`a="" b=''`,
	`a="b"c'd'`,
	`a="unterminated`,
	`a=\`,
	"tab\tsep",
	`é=ü "ñ"`,
}

func TestShlexSplitOracle(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	const script = `
import json, shlex, sys
out = []
for s in json.load(sys.stdin):
    try: out.append(shlex.split(s, comments=True, posix=True))
    except ValueError as e: out.append(None)
print(json.dumps(out))
`
	in, _ := json.Marshal(shlexInputs)
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var want [][]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, s := range shlexInputs {
		got, err := shlexSplit(s)
		if want[i] == nil {
			if err == nil {
				t.Errorf("shlexSplit(%q) = %q, python raised ValueError", s, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("shlexSplit(%q): %v, python gave %q", s, err, want[i])
			continue
		}
		if got == nil {
			got = []string{}
		}
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("shlexSplit(%q) (-python +tend):\n%s", s, diff)
		}
	}
}

func TestExpandHostRange(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "plain", want: []string{"plain"}},
		{in: "web[01:03]", want: []string{"web01", "web02", "web03"}},
		{in: "web[1:10:4]", want: []string{"web1", "web5", "web9"}},
		{in: "web[:2]", want: []string{"web0", "web1", "web2"}},
		{in: "db-[a:c]", want: []string{"db-a", "db-b", "db-c"}},
		{in: "x[y:B]", want: []string{"xy", "xz", "xA", "xB"}},
		{in: "r[1:2]n[a:b].lan", want: []string{"r1na.lan", "r1nb.lan", "r2na.lan", "r2nb.lan"}},
		{in: "web[08:10]", want: []string{"web08", "web09", "web10"}},
		{in: "web[01:xx]", wantErr: `invalid host range "web[01:xx]": expected numbers or letters`},
		{in: "web[1]", wantErr: `invalid host range "web[1]": expected [begin:end] or [begin:end:step]`},
		{in: "web[1:2", wantErr: `invalid host range "web[1:2": missing ']'`},
		{in: "web[1:]", wantErr: `invalid host range "web[1:]": missing end value`},
		{in: "web[01:100]", wantErr: `invalid host range "web[01:100]": begin and end must have the same length when begin has leading zeros`},
		{in: "web[1:5:0]", wantErr: `invalid host range "web[1:5:0]": step must be a positive number`},
		{in: "web[5:1]", wantErr: `invalid host range "web[5:1]": begin 5 is greater than end 1`},
		{in: "web[c:a]", wantErr: `invalid host range "web[c:a]": begin "c" comes after end "a"`},
		{in: "web[0:999999]", wantErr: `invalid host range "web[0:999999]": expands to more than 100000 hosts`},
		{in: "a[0:999]b[0:999]", wantErr: `invalid host range "a[0:999]b[0:999]": expands to more than 100000 hosts`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expandHostRange(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("expandHostRange(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("expandHostRange(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		ranges  bool
		host    string
		port    int
		hasPort bool
		ok      bool
	}{
		{"web1", false, "web1", 0, false, true},
		{"web1:2222", false, "web1", 2222, true, true},
		{"10.0.0.1:22", false, "10.0.0.1", 22, true, true},
		{"[::1]:22", false, "::1", 22, true, true},
		{"fe80::1", false, "fe80::1", 0, false, true},
		{"web[1:3]:22", true, "web[1:3]", 22, true, true},
		{"web[1:3]", false, "", 0, false, false},
		{"g1:g2", true, "", 0, false, false},
		{"bad_", false, "", 0, false, false},
		{"a.b-c.example.com", false, "a.b-c.example.com", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, hasPort, ok := parseAddress(tt.in, tt.ranges)
			if host != tt.host || port != tt.port || hasPort != tt.hasPort || ok != tt.ok {
				t.Errorf("parseAddress(%q, %v) = %q, %d, %v, %v; want %q, %d, %v, %v", tt.in, tt.ranges,
					host, port, hasPort, ok, tt.host, tt.port, tt.hasPort, tt.ok)
			}
		})
	}
}

func TestSplitHostPattern(t *testing.T) {
	tests := map[string][]string{
		"all":              {"all"},
		"web:db":           {"web", "db"},
		"web:&db:!staging": {"web", "&db", "!staging"},
		"web, db ,,x":      {"web", "db", "x"},
		"web[1:3]":         {"web[1:3]"},
		"web1:22":          {"web1:22"},
		"fe80::1":          {"fe80::1"},
		"web*:db[0]":       {"web*", "db[0]"},
		"  ":               {},
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, splitHostPattern(in)); diff != "" {
			t.Errorf("splitHostPattern(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestRangeValues(t *testing.T) {
	tests := []struct {
		spec    string
		want    []string
		wantErr string
	}{
		{spec: "1:3", want: []string{"1", "2", "3"}},
		{spec: ":2", want: []string{"0", "1", "2"}},
		{spec: "01:10:4", want: []string{"01", "05", "09"}},
		{spec: "x:B", want: []string{"x", "y", "z", "A", "B"}},
		{spec: "a:e:2", want: []string{"a", "c", "e"}},
		{spec: "1", wantErr: "expected [begin:end] or [begin:end:step]"},
		{spec: "1:3:0", wantErr: "step must be a positive number"},
		{spec: "1:", wantErr: "missing end value"},
		{spec: "c:a", wantErr: `begin "c" comes after end "a"`},
		{spec: "1:b", wantErr: "expected numbers or letters"},
		{spec: "01:100", wantErr: "same length"},
		{spec: "3:1", wantErr: "begin 3 is greater than end 1"},
		{spec: "0:100000", wantErr: "expands to more than"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := rangeValues("h["+tt.spec+"]", tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("rangeValues(%q) error %v, want one containing %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(got, tt.want) {
				t.Errorf("rangeValues(%q) = %q, want %q", tt.spec, got, tt.want)
			}
		})
	}
}
