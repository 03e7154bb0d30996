package template

import (
	"testing"

	"github.com/nikolalohinski/gonja/v2/config"
)

func TestNormalizeTagSpaces(t *testing.T) {
	cfg := config.New()
	tests := []struct{ in, want string }{
		{"plain {{ x }}", "plain {{ x }}"},
		{"{{\u00a0x }}", "{{  x }}"},
		{"a\u00a0b", "a\u00a0b"},
		{"{{ 'a\u00a0b' ~ \"c\u00a0\\\"\u00a0\" }}\u00a0", "{{ 'a\u00a0b' ~ \"c\u00a0\\\"\u00a0\" }}\u00a0"},
		{"{%\u3000if x %}", "{%   if x %}"},
		{"{% raw %}{{\u00a0x }}{% endraw %}{{\u00a0y}}", "{% raw %}{{\u00a0x }}{% endraw %}{{  y}}"},
		{"{%- raw -%}{{\u00a0x }}", "{%- raw -%}{{\u00a0x }}"},
		{"{#\u00a0c #}{{\u2028x}}", "{#\u00a0c #}{{   x}}"},
		{"{#\u00a0unterminated", "{#\u00a0unterminated"},
		{"{{\u00a0x", "{{  x"},
		{"{{ 'open\u00a0", "{{ 'open\u00a0"},
		{"{{ é }}", "{{ é }}"},
	}
	for _, tt := range tests {
		if got := normalizeTagSpaces(tt.in, cfg); got != tt.want {
			t.Errorf("normalizeTagSpaces(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := normalizeTagSpaces(tt.in, cfg); len(got) != len(tt.in) {
			t.Errorf("normalizeTagSpaces(%q) changed the length", tt.in)
		}
	}
}
