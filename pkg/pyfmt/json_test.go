package pyfmt

import (
	"errors"
	"math"
	"testing"
)

// Expected strings are what CPython 3's json.dumps prints with the same
// arguments (and sort_keys=True).
func TestJSON(t *testing.T) {
	oneLine := JSONOptions{Indent: -1, ItemSep: ", ", KeySep: ": "}
	tests := []struct {
		name string
		v    any
		o    JSONOptions
		want string
	}{
		{"one line", map[string]any{"b": 1, "a": []any{true, nil, 1.0}}, oneLine, `{"a": [true, null, 1.0], "b": 1}`},
		{"indent 0 still breaks lines", []any{1, []any{}}, JSONOptions{Indent: 0, ItemSep: ",", KeySep: ": "}, "[\n1,\n[]\n]"},
		{"indent 2", map[string]any{"a": []any{1}}, JSONOptions{Indent: 2, ItemSep: ",", KeySep: ": "}, "{\n  \"a\": [\n    1\n  ]\n}"},
		{"ensure_ascii", "é\u2028😀\x01", JSONOptions{Indent: -1, EnsureASCII: true}, `"\u00e9\u2028\ud83d\ude00\u0001"`},
		{"not ascii", "é\x7f", oneLine, "\"é\x7f\""},
		{"nan", []any{math.NaN(), math.Inf(-1)}, oneLine, `[NaN, -Infinity]`},
		{"strict", []any{math.NaN(), math.Inf(1), 2.5}, JSONOptions{Indent: -1, ItemSep: ",", KeySep: ":", Strict: true}, `[null,null,2.5]`},
		{"plain by default", map[int]uint{2: 1, 1: 2}, oneLine, `{"1": 2, "2": 1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JSON(tt.v, tt.o)
			if err != nil || got != tt.want {
				t.Errorf("JSON = %s, %v\nwant   %s", got, err, tt.want)
			}
		})
	}
}

func TestJSONOtherFails(t *testing.T) {
	boom := errors.New("no JSON form")
	o := JSONOptions{Indent: -1, Other: func(any) (any, error) { return nil, boom }}
	if _, err := JSON([]any{1, struct{}{}}, o); !errors.Is(err, boom) {
		t.Errorf("error %v, want %v", err, boom)
	}
}
