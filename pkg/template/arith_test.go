package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArith(t *testing.T) {
	cases := []struct {
		op          string
		left, right any
		want        any
	}{
		{"+", "a", "b", "ab"},
		{"+", []any{1}, []any{2}, []any{1, 2}},
		{"*", "ab", 2, "abab"},
		{"*", 2, "ab", "abab"},
		{"*", []any{1}, 2, []any{1, 1}},
		{"*", 3, []any{}, []any{}},
		{"*", "a", -1, ""},
		{"%", "%s-%d", []any{"x", 1}, "x-1"},
		{"+", 1, 2, 3},
		{"+", true, 1, 2},
		{"-", true, false, 1},
		{"*", true, true, 1},
		{"//", -7, 2, -4},
		{"//", true, true, 1},
		{"%", -7, 2, 1},
		{"%", 7, -2, -1},
		{"%", true, true, 0},
		{"**", true, 2, 1},
		{"**", 2, -1, 0.5},
		{"/", 1, 2, 0.5},
		{"/", true, true, 1.0},
		{"+", 1.5, 1, 2.5},
		{"-", 1, 0.5, 0.5},
		{"*", 1.5, 2, 3.0},
		{"//", 7.0, 2, 3.0},
		{"//", -7.0, 2, -4.0},
		{"%", -7.0, 2, 1.0},
		{"%", 7.5, -2, -0.5},
		{"**", 2.0, 3, 8.0},
	}
	for _, c := range cases {
		got, err := arith(c.op, c.left, c.right)
		if err != nil {
			t.Errorf("%v %s %v: %v", c.left, c.op, c.right, err)
			continue
		}
		if diff := cmp.Diff(c.want, got, dictAsMap); diff != "" {
			t.Errorf("%v %s %v (-want +got):\n%s", c.left, c.op, c.right, diff)
		}
	}
}

func TestArithErrors(t *testing.T) {
	cases := []struct {
		op          string
		left, right any
		want        string
	}{
		{"+", "a", 1, "unsupported operand type(s) for +: 'str' and 'int'"},
		{"+", []any{}, "a", "unsupported operand type(s) for +: 'list' and 'str'"},
		{"-", "a", "b", "unsupported operand type(s) for -: 'str' and 'str'"},
		{"*", "a", maxRepeat + 1, "repeated string too long (MemoryError): more than 16777216 characters"},
		{"*", []any{1}, maxRepeat + 1, "repeated list too long (MemoryError): more than 16777216 items"},
		{"/", 1, 0, "division by zero"},
		{"/", 1.0, 0.0, "division by zero"},
		{"//", true, false, "integer division or modulo by zero"},
		{"//", 1.0, 0, "integer division or modulo by zero"},
		{"%", true, false, "integer division or modulo by zero"},
		{"%", 1.0, 0, "integer division or modulo by zero"},
		{"^", 1.0, 1, `unsupported operator "^"`},
	}
	for _, c := range cases {
		_, err := arith(c.op, c.left, c.right)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v %s %v: error %v, want %q", c.left, c.op, c.right, err, c.want)
		}
	}
}
