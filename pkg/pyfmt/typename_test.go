package pyfmt

import (
	"math/big"
	"testing"

	"github.com/tend-dev/tend/pkg/odict"
)

func TestTypeName(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "NoneType"}, {true, "bool"}, {3, "int"}, {big.NewInt(1), "int"}, {1.5, "float"}, {"s", "str"},
		{[]any{1}, "list"}, {map[string]any{}, "dict"}, {odict.New(0), "dict"}, {struct{}{}, "struct {}"},
	} {
		if got := TypeName(c.v); got != c.want {
			t.Errorf("TypeName(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
