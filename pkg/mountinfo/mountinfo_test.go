package mountinfo

import "testing"

func TestUnescape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`/a\040b\134c`, `/a b\c`},
		{`/plain`, `/plain`},
		{`/a\04`, `/a\04`},     // too short: kept
		{`/a\999b`, `/a\999b`}, // not octal: kept
		{`\046x`, `&x`},
	} {
		if got := Unescape(tt.in); got != tt.want {
			t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
