package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
)

// Unsafe is a string that is never rendered as a template, like Ansible's
// AnsibleUnsafe: registered command output or lookup results that happen to
// contain "{{" stay literal. Inside the engine it behaves as a string.
type Unsafe string

// Lazy is a variable whose value is computed only when a template uses it
// (hostvars: costly to build, rarely used). The function must be safe for
// concurrent use and cheap to call again.
type Lazy func() any

// undefined is the value of a missing variable or attribute. It is only
// allowed to flow into default/mandatory and the defined/undefined tests;
// any other use turns it into an UndefinedError.
type undefined struct {
	name string // dotted name, e.g. "x" or "x.y"
	hint string // message replacing "'name' is undefined", e.g. "'dict object' has no attribute 'y'"
}

func (u *undefined) err(expr string) *UndefinedError {
	return &UndefinedError{Name: u.name, Expr: expr, Hint: u.hint}
}

// UndefinedError reports the use of an undefined variable or attribute.
type UndefinedError struct {
	Name string // variable name, dotted for attributes ("result.stdout")
	Expr string // template or expression being rendered
	Hint string // Ansible's message when it is not "'Name' is undefined"
}

func (e *UndefinedError) Error() string {
	msg := e.Hint
	if msg == "" {
		msg = fmt.Sprintf("'%s' is undefined", e.Name)
	}
	if e.Expr != "" {
		msg += " in " + strconv.Quote(truncate(e.Expr, 200))
	}
	return msg
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// normalize converts the Go types a caller may hand us (yaml/json decoders,
// typed slices) to the small set the evaluator works on. It is shallow.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, string, int, *big.Int, float64, bool, []any, map[string]any, *odict.Dict, pyDatetime, pyTimedelta:
		return v
	case Lazy:
		return normalize(x())
	case Unsafe:
		return string(x)
	case Held:
		return string(x)
	case int8:
		return int(x)
	case int16:
		return int(x)
	case int32:
		return int(x)
	case int64:
		return int(x)
	case uint:
		return int(x)
	case uint8:
		return int(x)
	case uint16:
		return int(x)
	case uint32:
		return int(x)
	case uint64:
		return int(x)
	case float32:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[fmt.Sprint(k)] = s
		}
		return out
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	return plainValue(v)
}

// plainValue converts other typed values (a module's typed slices, maps
// and structs in a registered result, such as a diff) to the evaluator's
// types: slices and arrays to lists, maps with string keys to dicts
// (shallow, like normalize) and structs to dicts of their JSON form, so
// that templates see what Ansible would have registered.
func plainValue(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = it.Value().Interface()
		}
		return out
	case reflect.Struct, reflect.Pointer:
		if rv.Kind() == reflect.Pointer && (rv.IsNil() || rv.Elem().Kind() != reflect.Struct) {
			return v
		}
		b, err := json.Marshal(v)
		if err != nil {
			return v
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var out any
		if dec.Decode(&out) != nil {
			return v
		}
		return jsonNumbers(out)
	}
	return v
}

// jsonNumbers replaces json.Number values with ints or floats.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(string(x)); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = jsonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonNumbers(x[k])
		}
	}
	return v
}

// truthy implements Python truthiness.
func truthy(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case int:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string:
		return x != "", nil
	case []any:
		return len(x) > 0, nil
	case map[string]any:
		return len(x) > 0, nil
	case *odict.Dict:
		return x.Len() > 0, nil
	case *undefined:
		return false, x.err("")
	}
	return true, nil
}

// typeName returns the Python type name Ansible prints (type_debug).
func typeName(v any) string {
	switch v.(type) {
	case *undefined:
		return "AnsibleUndefined"
	case pyDatetime:
		return "datetime"
	case pyTimedelta:
		return "timedelta"
	}
	return pyfmt.TypeName(v)
}

// toStr converts a value the way Python's str() does, which is how Jinja2
// prints values in templates.
func toStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case *big.Int:
		return x.String()
	case float64:
		return formatFloat(x)
	case pyStrer:
		return x.PyStr()
	}
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// repr converts a value the way Python's repr() does.
func repr(v any) string { return pyfmt.Repr(v) }

func writeRepr(b *strings.Builder, v any) { pyfmt.WriteRepr(b, v) }

// pyQuote quotes s like Python's repr of a str.
func pyQuote(s string) string { return pyfmt.Quote(s) }

// formatFloat prints a float like Python's repr.
func formatFloat(f float64) string { return pyfmt.Float(f) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// toNumber reports v as a float when it is a number (bools count, as in Python).
func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case *big.Int:
		return bigToFloat(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// equal implements Python ==, including 1 == 1.0 and True == 1.
func equal(a, b any) bool {
	if c, ok := compareBig(a, b); ok {
		return c == 0
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any, *odict.Dict:
		xm, _ := odict.AsMap(x)
		y, ok := odict.AsMap(b)
		if !ok || len(xm) != len(y) {
			return false
		}
		for k, v := range xm {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	fa, ok1 := toNumber(a)
	fb, ok2 := toNumber(b)
	if ok1 && ok2 {
		ia, aInt := a.(int)
		ib, bInt := b.(int)
		if aInt && bInt {
			return ia == ib
		}
		return fa == fb
	}
	return false
}

// compare implements Python ordering for numbers, strings and lists.
func compare(a, b any) (int, error) {
	if c, ok := timeCompare(a, b); ok {
		return c, nil
	}
	if c, ok := compareBig(a, b); ok {
		return c, nil
	}
	if ia, ok := a.(int); ok {
		if ib, ok := b.(int); ok {
			switch {
			case ia < ib:
				return -1, nil
			case ia > ib:
				return 1, nil
			}
			return 0, nil
		}
	}
	fa, ok1 := toNumber(a)
	fb, ok2 := toNumber(b)
	if ok1 && ok2 {
		switch {
		case fa < fb:
			return -1, nil
		case fa > fb:
			return 1, nil
		}
		return 0, nil
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.Compare(sa, sb), nil
		}
	}
	if la, ok := a.([]any); ok {
		if lb, ok := b.([]any); ok {
			for i := 0; i < len(la) && i < len(lb); i++ {
				c, err := compare(la[i], lb[i])
				if err != nil || c != 0 {
					return c, err
				}
			}
			return compare(len(la), len(lb))
		}
	}
	return 0, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", typeName(a), typeName(b))
}

// contains implements Python's `needle in haystack`.
func contains(haystack, needle any) (bool, error) {
	switch h := haystack.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		return strings.Contains(h, n), nil
	case []any:
		for _, e := range h {
			if equal(e, needle) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any, *odict.Dict:
		k, ok := needle.(string)
		if !ok {
			return false, nil
		}
		m, _ := odict.AsMap(h)
		_, found := m[k]
		return found, nil
	case *undefined:
		return false, h.err("")
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", typeName(haystack))
}

// length implements Python's len().
func length(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return len([]rune(x)), nil
	case []any:
		return len(x), nil
	case map[string]any:
		return len(x), nil
	case *odict.Dict:
		return x.Len(), nil
	case *undefined:
		return 0, x.err("")
	}
	return 0, fmt.Errorf("object of type '%s' has no len()", typeName(v))
}

// iterate returns the items a Python for loop would see: list items, string
// characters, or dict keys (in order; sorted for a plain map).
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case map[string]any, *odict.Dict:
		keys, _, _ := odict.As(x)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, nil
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case *undefined:
		return nil, x.err("")
	case nil:
		return nil, fmt.Errorf("'NoneType' object is not iterable")
	}
	return nil, fmt.Errorf("'%s' object is not iterable", typeName(v))
}

// toInt converts like Ansible's int filter: strings are parsed, floats
// truncated, failures give def.
func toInt(v any, def int, base int) int {
	switch x := v.(type) {
	case int:
		return x
	case *big.Int:
		// Out of an int's range; a filter that needs an int gets the
		// nearest one rather than a wrapped-around value.
		if x.Sign() < 0 {
			return math.MinInt
		}
		return math.MaxInt
	case float64:
		return int(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		s := strings.TrimSpace(x)
		if base == 10 {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return int(i)
			}
			// Jinja2 falls back to float parsing: "3.7" | int == 3.
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return int(f)
			}
			return def
		}
		s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(s), "0x"), "0o"), "0b")
		if i, err := strconv.ParseInt(s, base, 64); err == nil {
			return int(i)
		}
	}
	return def
}

func toFloat(v any, def float64) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f
		}
	}
	return def
}

// toBool implements Ansible's bool filter.
func toBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int:
		return x == 1
	case float64:
		return x == 1
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "on", "1", "true", "y", "t", "1.0":
			return true
		}
	}
	return false
}

// deepCopy copies maps and lists so results never alias caller data that a
// later step might mutate.
func deepCopy(v any) any {
	switch x := v.(type) {
	case Held:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case *odict.Dict:
		out := odict.New(x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			out.Set(k, deepCopy(e))
		}
		return out
	}
	return v
}

// PyRepr prints an undefined value inside a container, as Jinja2 does.
func (u *undefined) PyRepr() string { return "Undefined" }
