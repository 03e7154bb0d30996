package vars

import "testing"

func TestBoolean(t *testing.T) {
	good := map[any]bool{
		true: true, false: false, 1: true, 0: false, 1.0: true, 0.0: false, int64(1): true,
		"y": true, "Yes": true, "ON": true, "1": true, "true": true, "T": true, " yes ": true,
		"n": false, "NO": false, "off": false, "0": false, "False": false, "f": false,
	}
	for in, want := range good {
		got, err := Boolean(in)
		if err != nil || got != want {
			t.Errorf("Boolean(%#v) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []any{nil, "", "ture", "yes please", 2, -1, 0.5, "2", []any{true}, map[string]any{}} {
		if got, err := Boolean(in); err == nil {
			t.Errorf("Boolean(%#v) = %v, want an error", in, got)
		}
	}
}
