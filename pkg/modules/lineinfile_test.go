package modules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/pyre"
)

var update = flag.Bool("update", false, "regenerate golden files (edit_cases.golden.json needs ansible-core for /usr/bin/python3)")

// editCase is one case of testdata/files/edit_cases.json: a file content
// and the arguments of lineinfile, blockinfile, replace or ini_file.
type editCase struct {
	Name    string         `json:"name"`
	Module  string         `json:"module"`
	Content *string        `json:"content"`
	Args    map[string]any `json:"args"`
}

// editResult is what Ansible (the golden file) or tend made of a case.
type editResult struct {
	Content *string `json:"content"`
	Changed bool    `json:"changed"`
	Msg     string  `json:"msg"`
	Failed  bool    `json:"failed"`
}

func loadEditCases(t *testing.T) []editCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "files", "edit_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []editCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("edit_cases.json: %v", err)
	}
	return cases
}

// TestEditFunctionsAgainstAnsible runs every case through tend's pure edit
// functions and compares with the results Ansible's own module code gave
// (recorded in edit_cases.golden.json by -update, which runs
// testdata/files/oracle.py).
func TestEditFunctionsAgainstAnsible(t *testing.T) {
	cases := loadEditCases(t)
	golden := filepath.Join("testdata", "files", "edit_cases.golden.json")
	if *update {
		in, _ := json.Marshal(cases)
		cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "files", "oracle.py"))
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("oracle: %v", err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, out, "", " "); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var want []editResult
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(cases) {
		t.Fatalf("golden has %d results for %d cases; run with -update", len(want), len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.Module+"/"+tc.Name, func(t *testing.T) {
			got, err := runEditCase(tc)
			if err != nil {
				t.Fatal(err)
			}
			w := want[i]
			if (got.Content == nil) != (w.Content == nil) || got.Content != nil && *got.Content != *w.Content {
				t.Errorf("content:\n got %s\nwant %s", strp(got.Content), strp(w.Content))
			}
			if got.Changed != w.Changed || got.Msg != w.Msg {
				t.Errorf("changed, msg = %v, %q; ansible: %v, %q", got.Changed, got.Msg, w.Changed, w.Msg)
			}
		})
	}
}

func strp(s *string) string {
	if s == nil {
		return "<no file>"
	}
	return fmt.Sprintf("%q", *s)
}

func argp(a map[string]any, k string) *string {
	v, ok := a[k]
	if !ok || v == nil {
		return nil
	}
	s := fmt.Sprint(v)
	return &s
}

func argb(a map[string]any, k string, def bool) bool {
	if v, ok := a[k].(bool); ok {
		return v
	}
	return def
}

func args(a map[string]any, k, def string) string {
	if v, ok := a[k]; ok {
		return fmt.Sprint(v)
	}
	return def
}

// runEditCase applies a case with tend's functions.
func runEditCase(tc editCase) (editResult, error) {
	a := tc.Args
	content := ""
	if tc.Content != nil {
		content = *tc.Content
	}
	switch tc.Module {
	case "lineinfile":
		e := LineEdit{SearchString: argp(a, "search_string"), Line: argp(a, "line"),
			InsertAfter: argp(a, "insertafter"), InsertBefore: argp(a, "insertbefore"),
			Backrefs: argb(a, "backrefs", false), FirstMatch: argb(a, "firstmatch", false)}
		if re := argp(a, "regexp"); re != nil {
			r, err := compilePyRegexp("regexp", *re, bytesPattern)
			if err != nil {
				return editResult{}, err
			}
			e.Regexp = r
		}
		if args(a, "state", "present") == "absent" {
			out, n, err := lineAbsent(content, e)
			if err != nil {
				return editResult{}, err
			}
			msg := ""
			if n > 0 {
				msg = fmt.Sprintf("%d line(s) removed", n)
			}
			return editResult{Content: &out, Changed: n > 0, Msg: msg}, nil
		}
		out, changed, msg, err := linePresent(content, e)
		return editResult{Content: &out, Changed: changed, Msg: msg}, err
	case "blockinfile":
		out, msg, err := blockApply(content, tc.Content != nil, BlockEdit{
			Present: args(a, "state", "present") == "present", Block: args(a, "block", ""),
			Marker: args(a, "marker", "# {mark} ANSIBLE MANAGED BLOCK"), MarkerBegin: args(a, "marker_begin", "BEGIN"), MarkerEnd: args(a, "marker_end", "END"),
			InsertAfter: argp(a, "insertafter"), InsertBefore: argp(a, "insertbefore"),
		})
		return editResult{Content: &out, Changed: msg != "", Msg: msg}, err
	case "replace":
		out, n, msg, err := replaceApply(content, args(a, "regexp", ""), args(a, "replace", ""), argp(a, "after"), argp(a, "before"))
		changed := out != content
		if changed {
			msg = fmt.Sprintf("%d replacements made", n)
		}
		return editResult{Content: &out, Changed: changed, Msg: msg}, err
	case "ini_file":
		var values []string
		if v, ok := a["values"].([]any); ok {
			for _, x := range v {
				values = append(values, fmt.Sprint(x))
			}
		}
		if v := argp(a, "value"); v != nil {
			values = []string{*v}
		}
		out, changed, msg := iniApply(content, IniEdit{Section: argp(a, "section"), Option: argp(a, "option"), Values: values,
			Absent: args(a, "state", "present") == "absent", Exclusive: argb(a, "exclusive", true),
			AllowNoValue: argb(a, "allow_no_value", false), NoExtraSpaces: argb(a, "no_extra_spaces", false)})
		return editResult{Content: &out, Changed: changed, Msg: msg}, nil
	}
	return editResult{}, fmt.Errorf("unknown module %q", tc.Module)
}

func TestBackrefsExpand(t *testing.T) {
	re, err := compilePyRegexp("regexp", `^(?P<k>\w+)=(\w+)?(x)?$`, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := "key=val\n"
	m, err := re.Search(s)
	if err != nil || m == nil {
		t.Fatalf("Search(%q) = %v, %v", s, m, err)
	}
	tests := []struct{ tmpl, want, err string }{
		{tmpl: `\1:\2`, want: "key:val"},
		{tmpl: `\g<k>\g<2>`, want: "keyval"},
		{tmpl: `[\3]`, want: "[]"},
		{tmpl: `a\tb\\c\.d$1`, want: "a\tb\\c\\.d$1"},
		{tmpl: `\q`, err: "bad escape"},
		{tmpl: `\9`, err: "invalid group reference"},
		{tmpl: `\g<nope>`, err: "unknown group name"},
	}
	for _, tc := range tests {
		got, err := re.Expand(tc.tmpl, s, m)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Expand(%q) error %v, want %q", tc.tmpl, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
	if _, err := compilePyRegexp("regexp", `(?<=a)b(`, 0); err == nil || !strings.Contains(err.Error(), "regexp: ") {
		t.Errorf("a bad pattern should give an error naming the argument, got %v", err)
	}
}

// TestFindLine covers the search step of linePresent: regexp or
// search_string matches win over an equal line, the last one counts unless
// firstmatch, and the anchor is found only without such a match.
func TestFindLine(t *testing.T) {
	lines := splitLinesKeep("a=1\n[s]\nb=2\na=3\n[s]\n")
	str := func(s string) *string { return &s }
	tests := []struct {
		name          string
		e             LineEdit
		line, ins     string
		index, anchor int
		matched       bool
	}{
		{name: "regexp last match", e: LineEdit{Regexp: pyre.MustCompile(`^a=`, 0)}, line: "a=9", index: 3, anchor: -1, matched: true},
		{name: "regexp first match", e: LineEdit{Regexp: pyre.MustCompile(`^a=`, 0), FirstMatch: true}, line: "a=9", index: 0, anchor: -1, matched: true},
		{name: "search string", e: LineEdit{SearchString: str("b=")}, line: "b=9", index: 2, anchor: -1, matched: true},
		{name: "equal line", e: LineEdit{}, line: "b=2", index: 2, anchor: -1},
		{name: "insertafter last anchor", e: LineEdit{InsertAfter: str(`^\[s\]`)}, line: "c=1", ins: `^\[s\]`, index: -1, anchor: 5},
		{name: "insertafter first anchor", e: LineEdit{InsertAfter: str(`^\[s\]`), FirstMatch: true}, line: "c=1", ins: `^\[s\]`, index: -1, anchor: 2},
		{name: "insertbefore", e: LineEdit{InsertBefore: str(`^\[s\]`)}, line: "c=1", ins: `^\[s\]`, index: -1, anchor: 4},
		{name: "regexp miss finds the anchor", e: LineEdit{Regexp: pyre.MustCompile(`^c=`, 0), InsertBefore: str(`^\[s\]`), FirstMatch: true}, line: "c=1", ins: `^\[s\]`, index: -1, anchor: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ins *pyre.Regexp
			if tt.ins != "" {
				ins = pyre.MustCompile(tt.ins, 0)
			}
			f, err := findLine(lines, tt.e, tt.line, ins)
			if err != nil {
				t.Fatal(err)
			}
			if f.index != tt.index || f.anchor != tt.anchor || f.matched != tt.matched {
				t.Errorf("findLine = index %d anchor %d matched %v; want %d %d %v", f.index, f.anchor, f.matched, tt.index, tt.anchor, tt.matched)
			}
		})
	}
}

// TestBlockInsertAt covers where blockApply puts a block that is not in
// the file yet.
func TestBlockInsertAt(t *testing.T) {
	content := "a\n[s]\nb\n[s]\nc\n"
	lines := splitLinesKeep(content)
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		e     BlockEdit
		insRe string
		want  int
	}{
		{name: "end", e: BlockEdit{InsertAfter: str("EOF")}, want: 5},
		{name: "top", e: BlockEdit{InsertBefore: str("BOF")}, want: 0},
		{name: "after last match", e: BlockEdit{InsertAfter: str(`^\[s\]`)}, insRe: `^\[s\]`, want: 4},
		{name: "before last match", e: BlockEdit{InsertBefore: str(`^\[s\]`)}, insRe: `^\[s\]`, want: 3},
		{name: "no match is the end", e: BlockEdit{InsertBefore: str(`^x`)}, insRe: `^x`, want: 5},
		{name: "multiline after first match", e: BlockEdit{InsertAfter: str(`(?m)^\[s\]\n`)}, insRe: `(?m)^\[s\]\n`, want: 3},
		{name: "multiline before first match", e: BlockEdit{InsertBefore: str(`(?m)^\[s\]`)}, insRe: `(?m)^\[s\]`, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var re *pyre.Regexp
			if tt.insRe != "" {
				re = pyre.MustCompile(tt.insRe, 0)
			}
			if got, err := blockInsertAt(content, lines, re, tt.e); err != nil || got != tt.want {
				t.Errorf("blockInsertAt = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestLineinfileEmptyPatternWarnings: Ansible's warnings about an empty
// regexp or search_string are in the result, where content reads them.
func TestLineinfileEmptyPatternWarnings(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/f", "a\n", 0o644)
	h := testHost(dir, connection.Local{})
	for arg, want := range map[string]string{"regexp": "The regular expression is an empty string", "search_string": "The search string is an empty string"} {
		res, _ := runModule(t, h, "lineinfile", map[string]any{"path": dir + "/f", arg: "", "line": "b"}, true)
		w, _ := res["warnings"].([]any)
		if len(w) != 1 || !strings.HasPrefix(fmt.Sprint(w[0]), want) {
			t.Errorf("%s '': warnings %v, want one starting %q", arg, res["warnings"], want)
		}
	}
}
