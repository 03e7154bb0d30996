package report

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tend-dev/tend/pkg/pyfmt"
)

// This file reproduces the two ways Ansible turns values into text, so
// that tend's output matches ansible-playbook byte for byte:
//
//   - json.dumps(v, sort_keys=True, ensure_ascii=False, indent=None|4),
//     used for results after "=>";
//   - Python's str()/repr(), used for loop item labels "(item=...)".
//
// encoding/json differs from Python in separators (", " and ": "), float
// formatting (1.0, 1e+16), HTML escaping and NaN handling, hence a small
// encoder of our own. Values of types it does not know (structs...) go
// through encoding/json first and are re-encoded from the generic form.

// jsonMode selects the dialect of encodeJSON.
type jsonMode struct {
	indent int  // 0: one line with ", " and ": "; >0: Python's indent=N
	strict bool // true: RFC 8259 output (NaN/Inf become null), for the JSON reporters
}

// pyDumps is Python's json.dumps(v, sort_keys=True, ensure_ascii=False,
// indent=indent) as Ansible's callbacks call it.
func pyDumps(v any, indent int) string {
	var b strings.Builder
	encodeJSON(&b, v, jsonMode{indent: indent}, 0)
	return b.String()
}

// strictJSON encodes v as compact, valid JSON with sorted keys. Values
// encoding/json cannot represent (NaN, channels, functions) become null or
// strings instead of failing, so one odd value never loses a document.
func strictJSON(v any) []byte {
	var b strings.Builder
	encodeJSON(&b, v, jsonMode{strict: true}, 0)
	return []byte(b.String())
}

func encodeJSON(b *strings.Builder, v any, m jsonMode, depth int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		writeJSONFloat(b, x, m)
	case json.Number:
		b.WriteString(x.String())
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeObject(b, keys, func(k string) any { return x[k] }, m, depth)
	case []any:
		writeArray(b, len(x), func(i int) any { return x[i] }, m, depth)
	case []string:
		writeArray(b, len(x), func(i int) any { return x[i] }, m, depth)
	case error:
		writeJSONString(b, x.Error())
	case json.Marshaler:
		encodeGeneric(b, v, m, depth)
	default:
		encodeReflect(b, v, m, depth)
	}
}

// encodeReflect handles the remaining kinds: other numbers, typed maps and
// slices (map[string]string, []int...), pointers; anything else goes
// through encodeGeneric.
func encodeReflect(b *strings.Builder, v any, m jsonMode, depth int) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32:
		writeJSONFloat(b, rv.Float(), m)
	case reflect.Float64:
		writeJSONFloat(b, rv.Float(), m)
	case reflect.String:
		writeJSONString(b, rv.String())
	case reflect.Bool:
		encodeJSON(b, rv.Bool(), m, depth)
	case reflect.Map:
		keys := make([]string, 0, rv.Len())
		vals := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := fmt.Sprint(iter.Key().Interface())
			keys = append(keys, k)
			vals[k] = iter.Value().Interface()
		}
		sort.Strings(keys)
		writeObject(b, keys, func(k string) any { return vals[k] }, m, depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			b.WriteString("null")
			return
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			// []byte: command output; show it as text like Ansible would.
			writeJSONString(b, string(rv.Bytes()))
			return
		}
		writeArray(b, rv.Len(), func(i int) any { return rv.Index(i).Interface() }, m, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			b.WriteString("null")
			return
		}
		encodeGeneric(b, v, m, depth)
	default:
		encodeGeneric(b, v, m, depth)
	}
}

// encodeGeneric marshals v with encoding/json and re-encodes the generic
// value so separators and key order stay in our dialect.
func encodeGeneric(b *strings.Builder, v any, m jsonMode, depth int) {
	raw, err := json.Marshal(v)
	if err != nil {
		writeJSONString(b, fmt.Sprint(v))
		return
	}
	var generic any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		writeJSONString(b, fmt.Sprint(v))
		return
	}
	encodeJSON(b, generic, m, depth)
}

func writeObject(b *strings.Builder, keys []string, get func(string) any, m jsonMode, depth int) {
	if len(keys) == 0 {
		b.WriteString("{}")
		return
	}
	b.WriteByte('{')
	for i, k := range keys {
		writeSep(b, i, m, depth+1)
		writeJSONString(b, k)
		if m.strict {
			b.WriteByte(':')
		} else {
			b.WriteString(": ")
		}
		encodeJSON(b, get(k), m, depth+1)
	}
	writeClose(b, m, depth)
	b.WriteByte('}')
}

func writeArray(b *strings.Builder, n int, get func(int) any, m jsonMode, depth int) {
	if n == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		writeSep(b, i, m, depth+1)
		encodeJSON(b, get(i), m, depth+1)
	}
	writeClose(b, m, depth)
	b.WriteByte(']')
}

// writeSep writes what precedes element i: Python uses ", " on one line
// and "," plus a newline and indentation when indenting; strict mode is
// compact JSON.
func writeSep(b *strings.Builder, i int, m jsonMode, depth int) {
	switch {
	case m.indent > 0:
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", m.indent*depth))
	case i > 0 && m.strict:
		b.WriteByte(',')
	case i > 0:
		b.WriteString(", ")
	}
}

func writeClose(b *strings.Builder, m jsonMode, depth int) {
	if m.indent > 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", m.indent*depth))
	}
}

// writeJSONString escapes like Python's json with ensure_ascii=False:
// quotes, backslashes and control characters only. Invalid UTF-8 becomes
// U+FFFD so the output stays valid text.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r) // RuneError for invalid bytes: U+FFFD
		}
	}
	b.WriteByte('"')
}

func writeJSONFloat(b *strings.Builder, f float64, m jsonMode) {
	switch {
	case math.IsNaN(f):
		if m.strict {
			b.WriteString("null")
		} else {
			b.WriteString("NaN")
		}
	case math.IsInf(f, 1):
		if m.strict {
			b.WriteString("null")
		} else {
			b.WriteString("Infinity")
		}
	case math.IsInf(f, -1):
		if m.strict {
			b.WriteString("null")
		} else {
			b.WriteString("-Infinity")
		}
	default:
		b.WriteString(pyFloat(f))
	}
}

// pyFloat is Python's repr(float): the shortest digits that round-trip,
// fixed notation with at least one decimal for exponents in [-4, 16),
// scientific with a signed, at least two-digit exponent otherwise.
func pyFloat(f float64) string { return pyfmt.Float(f) }

// pyStr is Python's str(v) for the values a loop item can hold: strings
// as they are, containers in repr form. Python keeps a dict's insertion
// order; Go maps have none, so keys are sorted.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) { pyfmt.WriteRepr(b, v) }
