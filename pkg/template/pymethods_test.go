package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCallMethod(t *testing.T) {
	m := map[string]any{"b": 2, "a": 1}
	cases := []struct {
		name   string
		base   any
		method string
		args   []any
		kw     map[string]any
		want   any
	}{
		{"startswith", "hello", "startswith", []any{"he"}, nil, true},
		{"startswith tuple", "hello", "startswith", []any{[]any{"x", "hel"}}, nil, true},
		{"startswith tuple none", "hello", "startswith", []any{[]any{"x"}}, nil, false},
		{"endswith", "hello", "endswith", []any{"lo"}, nil, true},
		{"endswith tuple", "hello", "endswith", []any{[]any{"x", "llo"}}, nil, true},
		{"split", "a,b", "split", []any{","}, nil, []any{"a", "b"}},
		{"split whitespace", " a  b ", "split", nil, nil, []any{"a", "b"}},
		{"rsplit maxsplit", "a.b.c", "rsplit", []any{".", 1}, nil, []any{"a.b", "c"}},
		{"rsplit all", "a.b.c", "rsplit", []any{"."}, nil, []any{"a", "b", "c"}},
		{"rsplit whitespace", " a b ", "rsplit", nil, nil, []any{"a", "b"}},
		{"splitlines", "a\r\nb\n", "splitlines", nil, nil, []any{"a", "b"}},
		{"strip", "  x \n", "strip", nil, nil, "x"},
		{"strip chars", "xxaxx", "strip", []any{"x"}, nil, "a"},
		{"strip none", " a ", "strip", []any{nil}, nil, "a"},
		{"lstrip", "  x ", "lstrip", nil, nil, "x "},
		{"rstrip chars", "a//", "rstrip", []any{"/"}, nil, "a"},
		{"lower upper", "Ab", "lower", nil, nil, "ab"},
		{"upper", "Ab", "upper", nil, nil, "AB"},
		{"title", "hello world", "title", nil, nil, "Hello World"},
		{"capitalize", "hELLO", "capitalize", nil, nil, "Hello"},
		{"replace", "aaa", "replace", []any{"a", "b"}, nil, "bbb"},
		{"replace count", "aaa", "replace", []any{"a", "b", 2}, nil, "bba"},
		{"find", "abc", "find", []any{"c"}, nil, 2},
		{"find missing", "abc", "find", []any{"z"}, nil, -1},
		{"index", "abc", "index", []any{"b"}, nil, 1},
		{"count", "abab", "count", []any{"ab"}, nil, 2},
		{"join", "-", "join", []any{[]any{"a", 1}}, nil, "a-1"},
		{"format", "{} {x}", "format", []any{1}, map[string]any{"x": "y"}, "1 y"},
		{"isdigit", "123", "isdigit", nil, nil, true},
		{"isdigit empty", "", "isdigit", nil, nil, false},
		{"isalpha", "abC", "isalpha", nil, nil, true},
		{"isalpha digit", "ab1", "isalpha", nil, nil, false},
		{"zfill", "42", "zfill", []any{5}, nil, "00042"},
		{"zfill shorter", "42", "zfill", []any{1}, nil, "42"},
		{"list index", []any{"a", "b"}, "index", []any{"b"}, nil, 1},
		{"list count", []any{1, 2, 1}, "count", []any{1}, nil, 2},
		{"dict items sorted", m, "items", nil, nil, []any{[]any{"a", 1}, []any{"b", 2}}},
		{"dict keys", m, "keys", nil, nil, []any{"a", "b"}},
		{"dict values", m, "values", nil, nil, []any{1, 2}},
		{"dict get", m, "get", []any{"a"}, nil, 1},
		{"dict get default", m, "get", []any{"z", "d"}, nil, "d"},
		{"dict get missing", m, "get", []any{"z"}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := callMethod(c.base, c.method, c.args, c.kw)
			if err != nil {
				t.Fatalf("%s: %v", c.method, err)
			}
			if diff := cmp.Diff(c.want, got, dictAsMap); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.method, diff)
			}
		})
	}
}

func TestCallMethodErrors(t *testing.T) {
	cases := []struct {
		name   string
		base   any
		method string
		args   []any
		want   string
	}{
		{"str index missing", "abc", "index", []any{"z"}, "substring not found"},
		{"join not a list", ",", "join", []any{"ab"}, "join() argument must be a list"},
		{"zfill too wide", "1", "zfill", []any{maxRepeat + 1}, "zfill width too large"},
		{"list index missing", []any{1}, "index", []any{2}, "2 is not in list"},
		{"unknown str method", "a", "nope", nil, "'str object' has no attribute 'nope'"},
		{"list has no str method", []any{}, "upper", nil, "'list object' has no attribute 'upper'"},
		{"dict has no list method", map[string]any{}, "count", nil, "'dict object' has no attribute 'count'"},
		{"int has no methods", 1, "get", nil, "'int object' has no attribute 'get'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := callMethod(c.base, c.method, c.args, nil)
			if err == nil || err.Error() != c.want {
				t.Errorf("%s: error %v, want %q", c.method, err, c.want)
			}
		})
	}
}
