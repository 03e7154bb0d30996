package pyfmt

import (
	"fmt"
	"math/big"

	"github.com/tend-dev/tend/pkg/odict"
)

// TypeName is the name of the Python type a value stands for, as
// type(v).__name__ prints it (NoneType, bool, int, float, str, list,
// dict); a Go type name for anything else.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int64, uint64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	}
	if odict.IsDict(v) {
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
