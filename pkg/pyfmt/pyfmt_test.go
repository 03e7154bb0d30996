package pyfmt

import (
	"math"
	"os/exec"
	"strings"
	"testing"
)

func TestRepr(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "None"}, {true, "True"}, {3, "3"}, {2.5, "2.5"}, {1.0, "1.0"}, {1e16, "1e+16"}, {1e-5, "1e-05"},
		{0.0001, "0.0001"}, {123456789012345.0, "123456789012345.0"}, {math.Inf(-1), "-inf"},
		{"it's", `"it's"`}, {`a"b'c`, `'a"b\'c'`}, {"tab\there\n", `'tab\there\n'`},
		{[]any{1, "a", nil}, "[1, 'a', None]"}, {map[string]any{"b": 1, "a": []any{}}, "{'a': [], 'b': 1}"},
		{[]string{"x"}, "['x']"},
	}
	for _, tc := range tests {
		if got := Repr(tc.in); got != tc.want {
			t.Errorf("Repr(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if Str("plain") != "plain" || Str(0.5) != "0.5" {
		t.Error("Str of a string or float")
	}
}

// TestFloatMatchesPython asks python3 when it is installed.
func TestFloatMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	vals := []float64{0.1, 1.5, 100, 1e15, 1e16, 1.2345e-5, 0.0001, 123.456, -2.5e20, 3.0e-7}
	var args []string
	for _, v := range vals {
		args = append(args, strings.TrimSpace(Float(v)))
	}
	out, err := exec.Command(py, append([]string{"-c", "import sys; print(' '.join(repr(float(a)) for a in sys.argv[1:]))"}, args...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != strings.Join(args, " ") {
		t.Fatalf("python prints %s, tend %s", got, strings.Join(args, " "))
	}
}
