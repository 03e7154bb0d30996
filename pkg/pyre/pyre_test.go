package pyre

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// golden is one case of testdata/python.json: what Python's re answered
// (testdata/gen.py writes it).
type golden struct {
	Op      string      `json:"op"`
	Pattern string      `json:"pattern"`
	Flags   string      `json:"flags"`
	Input   string      `json:"input"`
	Repl    string      `json:"repl"`
	Groups  []*string   `json:"groups"`
	Matches [][]*string `json:"matches"`
	Result  string      `json:"result"`
	Count   int         `json:"count"`
	Error   string      `json:"error"`
}

func parseFlags(s string) Flags {
	var f Flags
	for _, c := range s {
		f |= map[rune]Flags{'i': IgnoreCase, 'm': Multiline, 's': DotAll, 'x': Verbose, 'a': ASCII}[c]
	}
	return f
}

// groupStrings is Python's [m.group(0)] + m.groups() for submatch offsets.
func groupStrings(s string, m []int) []*string {
	if m == nil {
		return nil
	}
	out := make([]*string, len(m)/2)
	for i := range out {
		if m[2*i] >= 0 {
			g := s[m[2*i]:m[2*i+1]]
			out[i] = &g
		}
	}
	return out
}

func TestAgainstPython(t *testing.T) {
	data, err := os.ReadFile("testdata/python.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []golden
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		name := c.Op + " " + c.Pattern + " " + c.Repl
		t.Run(name, func(t *testing.T) {
			if c.Op == "escape" {
				if got := Escape(c.Input); got != c.Result {
					t.Errorf("Escape(%q) = %q, Python %q", c.Input, got, c.Result)
				}
				return
			}
			got, err := run(c)
			if c.Error != "" {
				if err == nil {
					t.Errorf("%s(%q, %q): no error, Python: %s", c.Op, c.Pattern, c.Input, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s(%q, %q): %v", c.Op, c.Pattern, c.Input, err)
			}
			var want any
			switch c.Op {
			case "findall":
				want = c.Matches
			case "sub":
				want = []any{c.Result, c.Count}
			default:
				want = c.Groups
			}
			if !reflect.DeepEqual(show(got), show(want)) {
				t.Errorf("%s(%q, flags %q, %q) = %s, Python %s", c.Op, c.Pattern, c.Flags, c.Input, show(got), show(want))
			}
		})
	}
}

func run(c golden) (any, error) {
	re, err := Compile(c.Pattern, parseFlags(c.Flags))
	if err != nil {
		return nil, err
	}
	switch c.Op {
	case "search":
		m, err := re.Search(c.Input)
		return groupStrings(c.Input, m), err
	case "match":
		m, err := re.Match(c.Input)
		return groupStrings(c.Input, m), err
	case "fullmatch":
		m, err := re.FullMatch(c.Input)
		return groupStrings(c.Input, m), err
	case "findall":
		ms, err := re.FindAll(c.Input)
		var out [][]*string
		for _, m := range ms {
			out = append(out, groupStrings(c.Input, m))
		}
		return out, err
	case "sub":
		s, n, err := re.Subn(c.Input, c.Repl, 0)
		return []any{s, n}, err
	}
	return nil, errors.New("unknown op " + c.Op)
}

// show renders string pointers so that results compare and print by value.
func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGroupsByName(t *testing.T) {
	re := MustCompile(`(a)(?P<n>b)(c)`, 0)
	if re.NumGroups() != 3 || re.GroupIndex("n") != 2 || re.GroupIndex("x") != -1 {
		t.Errorf("groups: %d, n=%d, x=%d; want 3, 2, -1", re.NumGroups(), re.GroupIndex("n"), re.GroupIndex("x"))
	}
	if got := re.GroupNames(); !reflect.DeepEqual(got, []string{"", "", "n", ""}) {
		t.Errorf("GroupNames = %q", got)
	}
}

func TestCountLimitsSubn(t *testing.T) {
	re := MustCompile(`a`, 0)
	if s, n, err := re.Subn("aaa", "b", 2); s != "bba" || n != 2 || err != nil {
		t.Errorf("Subn count 2 = %q, %d, %v; want bba, 2", s, n, err)
	}
}

func TestInvalidUTF8IsData(t *testing.T) {
	s := "caf\xe9 = 1\n"
	re := MustCompile(`= (\d)`, 0)
	m, err := re.Search(s)
	if err != nil || m == nil || s[m[2]:m[3]] != "1" {
		t.Fatalf("Search on Latin-1 bytes = %v, %v; want group 1 = \"1\"", m, err)
	}
	out, _, err := re.Subn(s, `= \g<1>0`, 0)
	if err != nil || out != "caf\xe9 = 10\n" {
		t.Errorf("Subn on Latin-1 bytes = %q, %v", out, err)
	}
}

func TestCatastrophicPatternTimesOut(t *testing.T) {
	re := MustCompile(`^(a+)+$`, 0)
	re.re.MatchTimeout = 50 * time.Millisecond // Timeout, shortened for the test
	_, err := re.Search(strings.Repeat("a", 40) + "!")
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), `"^(a+)+$"`) {
		t.Fatalf("err = %v, want a timeout naming the pattern", err)
	}
}

// TestSyntaxErrorsAsPython: a broken pattern's error says what Python's re
// says, which content matches on ("'nothing to repeat' in result.msg").
func TestSyntaxErrorsAsPython(t *testing.T) {
	for pattern, want := range map[string]string{
		"*":    "nothing to repeat",
		"a(b":  "missing ), unterminated subpattern",
		"a)":   "unbalanced parenthesis",
		"[ab":  "unterminated character set",
		"a**":  "multiple repeat",
		"(?P<": "",
	} {
		_, err := Compile(pattern, 0)
		if err == nil {
			t.Errorf("Compile(%q) succeeded", pattern)
			continue
		}
		if want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) error %q does not say %q", pattern, err, want)
		}
	}
}
