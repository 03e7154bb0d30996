// Package pyfmt prints values the way Python does: str(), repr(), the
// float format and json.dumps. Ansible's output and Jinja2's templates are
// Python's, so the reporter and the template engine both print through
// this package.
package pyfmt

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// Reprer is implemented by values with their own Python repr (the template
// engine's Undefined).
type Reprer interface {
	PyRepr() string
}

// Str is Python's str(v): strings as they are, None/True/False, numbers as
// Python prints them, containers in repr form. Python keeps a dict's
// insertion order; Go maps have none, so keys are sorted.
func Str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return Float(x)
	}
	return Repr(v)
}

// Repr is Python's repr(v).
func Repr(v any) string {
	var b strings.Builder
	WriteRepr(&b, v)
	return b.String()
}

// WriteRepr writes Python's repr(v) to b.
func WriteRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		WriteQuoted(b, x)
	case float64:
		b.WriteString(Float(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case json.Number:
		b.WriteString(x.String())
	case Reprer:
		b.WriteString(x.PyRepr())
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			WriteRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			WriteQuoted(b, k)
			b.WriteString(": ")
			WriteRepr(b, x[k])
		}
		b.WriteByte('}')
	case *odict.Dict:
		b.WriteByte('{')
		for i, k := range x.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			WriteQuoted(b, k)
			b.WriteString(": ")
			v, _ := x.Get(k)
			WriteRepr(b, v)
		}
		b.WriteByte('}')
	default:
		writeReflect(b, v)
	}
}

// writeReflect covers named map, slice and number types (module.Result,
// []string...).
func writeReflect(b *strings.Builder, v any) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		keys := make([]string, 0, rv.Len())
		vals := make(map[string]reflect.Value, rv.Len())
		for iter := rv.MapRange(); iter.Next(); {
			k := fmt.Sprint(iter.Key().Interface())
			keys = append(keys, k)
			vals[k] = iter.Value()
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			WriteQuoted(b, k)
			b.WriteString(": ")
			WriteRepr(b, vals[k].Interface())
		}
		b.WriteByte('}')
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			WriteRepr(b, rv.Index(i).Interface())
		}
		b.WriteByte(']')
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fmt.Fprint(b, v)
	case reflect.Float32:
		b.WriteString(Float(rv.Float()))
	case reflect.String:
		WriteQuoted(b, rv.String())
	default:
		fmt.Fprint(b, v)
	}
}

// Quote is Python's repr of a str: single quotes unless s holds a single
// quote and no double quote; backslash, quote and control characters
// escaped.
func Quote(s string) string {
	var b strings.Builder
	WriteQuoted(&b, s)
	return b.String()
}

// WriteQuoted writes Quote(s) to b.
func WriteQuoted(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
}

// Float is Python's repr of a float: the shortest digits that round-trip,
// positional notation for exponents from -4 to 15, otherwise d.ddde+XX.
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // "-d.ddde±XX"
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}
