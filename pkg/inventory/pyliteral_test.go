package inventory

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseINIValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"22", 22},
		{"-3", -3},
		{"+3", 3},
		{"- 3", -3},
		{"-(3)", -3},
		{"--3", "--3"},
		{"-True", "-True"},
		{"0x10", 16},
		{"0o17", 15},
		{"0b101", 5},
		{"1_000", 1000},
		{"1__000", "1__000"},
		{"007", "007"},
		{"000", 0},
		{"1.5", 1.5},
		{"1e3", 1000.0},
		{".5", 0.5},
		{"5.", 5.0},
		{"1_0.5e1_0", 10.5e10},
		{"1e_5", "1e_5"},
		{"1j", "1j"},
		{"1+2j", "1+2j"},
		{"99999999999999999999999", "99999999999999999999999"}, // Python int; Go keeps the text
		{"True", true},
		{"False", false},
		{"None", nil},
		{"yes", "yes"},
		{"true", "true"},
		{"'x'", "x"},
		{`"a\tb"`, "a\tb"},
		{`'\x41\101\u00e9'`, "AAé"},
		{`r'\n'`, `\n`},
		{`b'raw'`, "raw"},
		{`'a' "b"`, "ab"},
		{`'a' b'b'`, `'a' b'b'`},
		{`f'x'`, `f'x'`},
		{`'''tri'''`, "tri"},
		{`'unterminated`, `'unterminated`},
		{"[1, 'two', 3.0]", []any{1, "two", 3.0}},
		{"[1, 2,]", []any{1, 2}},
		{"[]", []any{}},
		{"(1)", 1},
		{"(1,)", []any{1}},
		{"()", []any{}},
		{"1,2", []any{1, 2}},
		{"1,", []any{1}},
		{"{'a': 1, 'b': [True, None]}", map[string]any{"a": 1, "b": []any{true, nil}}},
		{"{1: 'x', True: 'y'}", map[string]any{"1": "x", "true": "y"}},
		{"{}", map[string]any{}},
		{"{1, 2, 2}", []any{1, 2}},
		{"set()", []any{}},
		{"{[1]: 2}", "{[1]: 2}"},
		{"1 # comment", 1},
		{"foo # comment", "foo # comment"},
		{"a b", "a b"},
		{"hello world", "hello world"},
		{"/usr/bin/python3", "/usr/bin/python3"},
		{"1.2.3.4", "1.2.3.4"},
		{"", ""},
		{"[[[[[[[[[[", "[[[[[[[[[["},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := parseINIValue(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseINIValue(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// pyOracleInputs are checked against python3's ast.literal_eval (which is
// what Ansible's INI parser calls) when python3 is installed.
var pyOracleInputs = []string{
	"0", "00", "0_0", "01", "1_", "_1", "0x", "0xg", "0X1F", "0B11", "0O7", "0o8", "1e", "1e+", "1e+5", "1E-2", "1.e2",
	".e2", "1._5", "1_.5", "0.0_1", "inf", "nan", "-inf", "+.5", "-.5e-3", "1.5.", "0x1e+5",
	"'a\\'b'", `"a\"b"`, `'\q'`, `'\0'`, `'\1234'`, `"\x4"`, `'\u12'`, `'\U0001F600'`, `u'x'`, `U"x"`, `R'\d'`, `Rb'x'`,
	`br'\x'`, `bu'x'`, "'a''b'", "'''a'b'''", `"""x"""`, "'", `"`, "''", `""`,
	"[1,,2]", "[,]", "(,)", "(1 2)", "{'a'}", "{'a':}", "{:1}", "{'a':1,}", "{'a':1,,}", "{1:2, 3}", "{1, 2:3}",
	"[1, [2, [3, {'k': (4, 5)}]]]", "((1))", "((1,),)", "[True, False, None]", "Truex", "None1", "set( )", "set(1)",
	"-0", "-0.0", "+-1", "-+1", "- (1)", "-(1,)", "-[1]", "- 'a'", "1 if 2 else 3", "x=1", "a=b", "{'a': 1}  ", "  12",
	"\t12", "12\t", "[1,\n2]", "1\n2", "'a' # c", "# only", "[1, # c\n 2]", "1;2", "[1];", "…", "'é'", "b'é'",
}

func TestParsePyLiteralOracle(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed; the static table in TestParseINIValue still runs")
	}
	const script = `
import ast, json, sys
out = []
for s in json.load(sys.stdin):
    try:
        v = ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        out.append({"ok": False}); continue
    def ok(x):
        if isinstance(x, (complex, type(Ellipsis))): return False
        if isinstance(x, bool) or x is None or isinstance(x, (str, float)): return True
        if isinstance(x, int): return -2**63 <= x < 2**63
        if isinstance(x, bytes): return True
        if isinstance(x, (list, tuple, set, frozenset)): return all(ok(e) for e in x)
        if isinstance(x, dict): return all(ok(k) and ok(e) for k, e in x.items())
        return False
    if not ok(v):
        out.append({"ok": False, "unsupported": True}); continue
    def conv(x):
        if isinstance(x, bytes): return x.decode("utf-8", "surrogateescape")
        if isinstance(x, (list, tuple)): return [conv(e) for e in x]
        if isinstance(x, (set, frozenset)): return sorted((conv(e) for e in x), key=repr)
        if isinstance(x, dict): return {json.dumps(k) if not isinstance(k, (str, bytes)) else conv(k): conv(e) for k, e in x.items()}
        return x
    out.append({"ok": True, "v": conv(v)})
print(json.dumps(out))
`
	in, _ := json.Marshal(pyOracleInputs)
	cmd := exec.Command(python, "-W", "ignore", "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var results []struct {
		OK bool `json:"ok"`
		V  any  `json:"v"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatal(err)
	}
	for i, s := range pyOracleInputs {
		want := results[i]
		got, ok := parsePyLiteral(s)
		if ok != want.OK {
			t.Errorf("parsePyLiteral(%q): ok=%v, python literal_eval ok=%v (%v)", s, ok, want.OK, want.V)
			continue
		}
		if !ok {
			continue
		}
		if diff := cmp.Diff(normalizeForPy(want.V), normalizeForPy(toJSONish(got))); diff != "" {
			t.Errorf("parsePyLiteral(%q) (-python +tend):\n%s", s, diff)
		}
	}
}

// toJSONish makes Go values comparable with decoded JSON.
func toJSONish(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

func normalizeForPy(v any) any {
	switch t := v.(type) {
	case float64:
		if t == 0 {
			return 0.0 // -0.0 and 0 compare equal in Python
		}
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return t
		}
	}
	return v
}
