package playbook

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseKV(t *testing.T) {
	allowed := func(k string) bool { return k == "chdir" || k == "creates" }
	tests := []struct {
		in       string
		freeForm bool
		want     map[string]any
		wantFree string
		wantErr  bool
	}{
		{in: "a=1 b='two words' c=\"x y\"", want: map[string]any{"a": "1", "b": "two words", "c": "x y"}},
		{in: "msg={{ a | default('x y') }} v=2", want: map[string]any{"msg": "{{ a | default('x y') }}", "v": "2"}},
		{in: "nokey", wantErr: true},
		// set_fact's keys may be templates, rendered when the task runs.
		{in: "{{ k }}_dir=/x {{ k }}=1", want: map[string]any{"{{ k }}_dir": "/x", "{{ k }}": "1"}},
		{in: "echo {{ x }}=1", freeForm: true, want: map[string]any{}, wantFree: "echo {{ x }}=1"},
		{in: "ls -l /tmp chdir=/ creates=/x", freeForm: true, want: map[string]any{"chdir": "/", "creates": "/x"}, wantFree: "ls -l /tmp"},
		{in: "echo a=b", freeForm: true, want: map[string]any{}, wantFree: "echo a=b"},
		// A multi-line script keeps its lines and spacing.
		{in: "set -e\nif true; then\n  echo  'two  spaces'\nfi\n", freeForm: true, want: map[string]any{}, wantFree: "set -e\nif true; then\n  echo  'two  spaces'\nfi\n"},
		{in: "chdir=/srv\nmake  install", freeForm: true, want: map[string]any{"chdir": "/srv"}, wantFree: "make  install"},
		{in: "echo 'unbalanced", freeForm: true, wantErr: true},
		// Python escapes are decoded in key=value words, as Ansible's
		// parse_kv does (ansible-core's replace target: regexp='\b' is a
		// backspace, '\\b' a word boundary); free-form text keeps them.
		{in: `a='\b(.+)\b' b="\\b x\x41\u00e9 \101 say \"hi\""`, want: map[string]any{"a": "\b(.+)\b", "b": `\b xAé \101 say "hi"`}},
		{in: `echo a\tb chdir=C:\temp`, freeForm: true, want: map[string]any{"chdir": "C:\temp"}, wantFree: `echo a\tb`},
		// Free-form text as Ansible's parse_kv(check_raw=True) gives it
		// (outputs taken from ansible-core 2.14): a YAML block's final
		// newline stays, a lone backslash continues the line, the newline
		// after a key=value word goes with it.
		{in: "echo hi \n", freeForm: true, want: map[string]any{}, wantFree: "echo hi \n"},
		{in: "echo a creates=/x", freeForm: true, want: map[string]any{"creates": "/x"}, wantFree: "echo a"},
		{in: "creates=/x\necho hi\n", freeForm: true, want: map[string]any{"creates": "/x"}, wantFree: "echo hi\n"},
		{in: "echo a \\\n  b \\\n\"c d\"\n", freeForm: true, want: map[string]any{}, wantFree: "echo a  b \"c d\"\n"},
	}
	for _, tc := range tests {
		got, free, err := ParseKV(tc.in, tc.freeForm, allowed)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseKV(%q): want an error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseKV(%q): %v", tc.in, err)
		}
		if d := cmp.Diff(tc.want, got); d != "" || free != tc.wantFree {
			t.Errorf("ParseKV(%q): args diff %s; free %q, want %q", tc.in, d, free, tc.wantFree)
		}
	}
}
