package report

import (
	"errors"
	"math"
	"testing"
)

// Expected strings are what CPython 3 prints for json.dumps(v,
// sort_keys=True, ensure_ascii=False[, indent=4]) and str(v).
func TestPyDumps(t *testing.T) {
	tests := []struct {
		name   string
		v      any
		indent int
		want   string
	}{
		{"empty map", map[string]any{}, 0, `{}`},
		{"sorted keys and separators", map[string]any{"b": 1, "a": []any{true, nil}}, 0, `{"a": [true, null], "b": 1}`},
		{"indent", map[string]any{"a": []any{1, map[string]any{}}, "b": []any{}}, 4, "{\n    \"a\": [\n        1,\n        {}\n    ],\n    \"b\": []\n}"},
		{"escapes", "q\" b\\ n\n t\t \x01 \x1b é <&> \u2028", 0, `"q\" b\\ n\n t\t \u0001 \u001b é <&> ` + "\u2028" + `"`},
		{"invalid utf8", "a\xffb", 0, "\"a\uFFFDb\""},
		{"floats", []any{1.0, 2.5, 1e16, 1.5e16, 123456789012345.6, 0.0001, 0.00001, math.Copysign(0, -1), 1e-7, 3.14159}, 0,
			`[1.0, 2.5, 1e+16, 1.5e+16, 123456789012345.6, 0.0001, 1e-05, -0.0, 1e-07, 3.14159]`},
		{"nan and inf", []any{math.NaN(), math.Inf(1), math.Inf(-1)}, 0, `[NaN, Infinity, -Infinity]`},
		{"typed containers", map[string]string{"z": "1", "a": "2"}, 0, `{"a": "2", "z": "1"}`},
		{"ints", []any{int32(-3), uint8(7), int64(1) << 40}, 0, `[-3, 7, 1099511627776]`},
		{"string slice", []string{"a", "b"}, 0, `["a", "b"]`},
		{"bytes as text", []byte("out\n"), 0, `"out\n"`},
		{"error", errors.New("boom"), 0, `"boom"`},
		{"struct via encoding/json", struct {
			B int    `json:"b"`
			A string `json:"a"`
		}{1, "x"}, 0, `{"a": "x", "b": 1}`},
		{"nil slice", []int(nil), 0, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pyDumps(tt.v, tt.indent); got != tt.want {
				t.Errorf("pyDumps = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestStrictJSONIsValid(t *testing.T) {
	got := string(strictJSON(map[string]any{"n": math.NaN(), "c": make(chan int), "l": []any{1, "x"}}))
	want := `{"c":"0x` // a channel falls back to its fmt form
	if len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("strictJSON = %s", got)
	}
	if got := string(strictJSON(map[string]any{"n": math.Inf(1), "a": 1.5})); got != `{"a":1.5,"n":null}` {
		t.Errorf("strictJSON = %s", got)
	}
}

func TestPyStr(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"string as is", "it's", "it's"},
		{"none", nil, "None"},
		{"bools", []any{true, false}, "[True, False]"},
		{"int", 42, "42"},
		{"float", 2.0, "2.0"},
		{"dict sorted", map[string]any{"state": "latest", "name": "vim"}, "{'name': 'vim', 'state': 'latest'}"},
		{"quotes", []any{"it's", `say "hi"`, `both ' "`}, `["it's", 'say "hi"', 'both \' "']`},
		{"escapes", []any{"a\nb\\c\x01"}, `['a\nb\\c\x01']`},
		{"nested", map[string]any{"l": []any{1, map[string]any{}}}, "{'l': [1, {}]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pyStr(tt.v); got != tt.want {
				t.Errorf("pyStr = %s, want %s", got, tt.want)
			}
		})
	}
}
