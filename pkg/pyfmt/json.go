package pyfmt

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// JSONOptions selects the dialect of WriteJSON: the arguments of Python's
// json.dumps, with keys always sorted (a Go map has no order to keep).
type JSONOptions struct {
	// Indent is json.dumps' indent: negative for one line, else a newline
	// and Indent spaces per level before every element (0 included).
	Indent int
	// ItemSep and KeySep are json.dumps' separators, e.g. ", " and ": ".
	ItemSep, KeySep string
	// EnsureASCII escapes every rune outside printable ASCII, as
	// ensure_ascii=True does.
	EnsureASCII bool
	// Strict writes NaN and ±Inf as null, so that the output is RFC 8259
	// JSON; Python writes NaN, Infinity and -Infinity.
	Strict bool
	// KeepOrder writes an ordered dict's keys in its order, as json.dumps
	// without sort_keys does; by default keys are sorted. Plain Go maps
	// are always sorted.
	KeepOrder bool
	// Other converts a value of a type WriteJSON does not know (anything
	// but nil, bool, int, int64, float64, json.Number, string, []any,
	// []string and map[string]any) into one it does, or fails. Nil means
	// Plain.
	Other func(v any) (any, error)
}

// JSON returns v encoded as json.dumps(v, sort_keys=True, ...) does.
func JSON(v any, o JSONOptions) (string, error) {
	var b strings.Builder
	if err := WriteJSON(&b, v, o); err != nil {
		return "", err
	}
	return b.String(), nil
}

// WriteJSON writes v to b encoded as json.dumps(v, sort_keys=True, ...)
// does. encoding/json differs from Python in separators, float format
// (1.0, 1e+16), HTML escaping and NaN, hence an encoder of its own.
func WriteJSON(b *strings.Builder, v any, o JSONOptions) error {
	if o.Other == nil {
		o.Other = Plain
	}
	return (&jsonEncoder{b: b, o: o}).encode(v, 0)
}

type jsonEncoder struct {
	b *strings.Builder
	o JSONOptions
}

func (e *jsonEncoder) encode(v any, level int) error {
	b := e.b
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
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
		e.float(x)
	case json.Number:
		b.WriteString(x.String())
	case string:
		e.string(x)
	case []any:
		return e.array(len(x), func(i int) any { return x[i] }, level)
	case []string:
		return e.array(len(x), func(i int) any { return x[i] }, level)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return e.object(keys, func(k string) any { return x[k] }, level)
	case *odict.Dict:
		keys := x.Keys()
		if !e.o.KeepOrder {
			keys = slices.Sorted(slices.Values(keys))
		}
		m := x.Map()
		return e.object(keys, func(k string) any { return m[k] }, level)
	default:
		n, err := e.o.Other(v)
		if err != nil {
			return err
		}
		return e.encode(n, level)
	}
	return nil
}

// newline starts an element or a closing bracket when indenting.
func (e *jsonEncoder) newline(level int) {
	if e.o.Indent >= 0 {
		e.b.WriteByte('\n')
		e.b.WriteString(strings.Repeat(" ", e.o.Indent*level))
	}
}

func (e *jsonEncoder) array(n int, get func(int) any, level int) error {
	if n == 0 {
		e.b.WriteString("[]")
		return nil
	}
	e.b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.b.WriteString(e.o.ItemSep)
		}
		e.newline(level + 1)
		if err := e.encode(get(i), level+1); err != nil {
			return err
		}
	}
	e.newline(level)
	e.b.WriteByte(']')
	return nil
}

func (e *jsonEncoder) object(keys []string, get func(string) any, level int) error {
	if len(keys) == 0 {
		e.b.WriteString("{}")
		return nil
	}
	e.b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			e.b.WriteString(e.o.ItemSep)
		}
		e.newline(level + 1)
		e.string(k)
		e.b.WriteString(e.o.KeySep)
		if err := e.encode(get(k), level+1); err != nil {
			return err
		}
	}
	e.newline(level)
	e.b.WriteByte('}')
	return nil
}

// string escapes like Python's json: quotes, backslashes and control
// characters, and with EnsureASCII everything outside printable ASCII
// (as UTF-16 surrogate pairs above U+FFFF). Invalid UTF-8 becomes U+FFFD
// so the output stays valid text.
func (e *jsonEncoder) string(s string) {
	b := e.b
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(b, `\u%04x`, r)
			case r > 0x7e && e.o.EnsureASCII:
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r) // RuneError for invalid bytes: U+FFFD
			}
		}
	}
	b.WriteByte('"')
}

func (e *jsonEncoder) float(f float64) {
	switch {
	case (math.IsNaN(f) || math.IsInf(f, 0)) && e.o.Strict:
		e.b.WriteString("null")
	case math.IsNaN(f):
		e.b.WriteString("NaN")
	case math.IsInf(f, 1):
		e.b.WriteString("Infinity")
	case math.IsInf(f, -1):
		e.b.WriteString("-Infinity")
	default:
		e.b.WriteString(Float(f))
	}
}

// Plain converts any value into one WriteJSON knows, and never fails:
// an error becomes its message, other numbers, typed maps and slices
// their plain form ([]byte, command output, becomes text as Ansible shows
// it), and anything else goes through encoding/json, or becomes
// fmt.Sprint's text when encoding/json cannot represent it.
func Plain(v any) (any, error) {
	switch x := v.(type) {
	case error:
		return x.Error(), nil
	case json.Marshaler:
		return viaEncodingJSON(v), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Number(strconv.FormatUint(rv.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out[fmt.Sprint(iter.Key().Interface())] = iter.Value().Interface()
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return string(rv.Bytes()), nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
	}
	return viaEncodingJSON(v), nil
}

// viaEncodingJSON marshals v with encoding/json and decodes the result
// into plain values, keeping numbers as written.
func viaEncodingJSON(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var generic any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return fmt.Sprint(v)
	}
	return generic
}
