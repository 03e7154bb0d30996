package template

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyre"
)

// testFunc implements a test: value is name(args..., kw=...).
type testFunc func(s *state, v any, args []any, kw map[string]any) (bool, error)

// multiArgTests take several arguments; gonja parses `is t(a, b)` as one
// tuple argument, which is spread for them.
var multiArgTests = map[string]bool{
	"version": true, "version_compare": true, "match": true, "search": true, "regex": true,
}

func (s *state) applyTestCall(tc *nodes.TestCall, v any) (any, error) {
	argNodes := tc.Args
	if len(argNodes) == 1 && multiArgTests[tc.Name] {
		if tuple, ok := argNodes[0].(*nodes.Tuple); ok {
			argNodes = tuple.Val
		}
	}
	args, kw, err := s.evalArgs(argNodes, tc.Kwargs)
	if err != nil {
		return nil, err
	}
	return s.applyTest(tc.Name, v, args, kw)
}

// PluginLoadError is a filter or test name that names no plugin. Ansible
// raises it as a TemplateSyntaxError saying the name "could not load",
// and whether the name is not a valid plugin name at all.
type PluginLoadError struct {
	Kind, Name string
}

// pluginNameRe is a name Ansible's plugin loader accepts (a Python
// identifier, or dotted ones for a collection's plugin).
var pluginNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func (e *PluginLoadError) Error() string {
	return fmt.Sprintf("no %s named '%s'", e.Kind, e.Name)
}

// Ansible is the error's message as Ansible words it.
func (e *PluginLoadError) Ansible() string {
	why := e.Name
	if !pluginNameRe.MatchString(e.Name) {
		why = "invalid plugin name: ansible.builtin." + e.Name
	}
	return fmt.Sprintf("Could not load \"%s\": '%s'", e.Name, why)
}

func (s *state) applyTest(name string, v any, args []any, kw map[string]any) (bool, error) {
	name = strings.TrimPrefix(name, "ansible.builtin.")
	fn, ok := s.e.tests[name]
	if !ok {
		return false, &PluginLoadError{Kind: "test", Name: name}
	}
	if err := s.canceled(); err != nil {
		return false, err
	}
	switch name {
	case "defined", "undefined", "none":
	default:
		if u, ok := v.(*undefined); ok {
			return false, u.err("")
		}
		var err error
		if v, err = s.deepResolve(v, 0); err != nil {
			return false, err
		}
	}
	ok, err := fn(s, v, args, kw)
	if err != nil {
		return false, fmt.Errorf("test %s: %w", name, err)
	}
	return ok, nil
}

func builtinTests() map[string]testFunc {
	t := map[string]testFunc{}
	for _, group := range []map[string]testFunc{valueTests(), typeTests(), resultTests(), pathTests(), collectionTests(), comparisonTests()} {
		maps.Copy(t, group)
	}
	aliases := map[string]string{
		"change": "changed", "failure": "failed", "success": "succeeded", "successful": "succeeded",
		"skip": "skipped", "is_file": "file", "is_dir": "directory", "is_link": "link", "is_abs": "abs",
		"issubset": "subset", "issuperset": "superset", "mapping_type": "mapping", "isnan": "nan",
	}
	for alias, name := range aliases {
		t[alias] = t[name]
	}
	return t
}

// valueTests are the tests on a value itself: defined, truthy, membership,
// matching a pattern, a version...
func valueTests() map[string]testFunc {
	return map[string]testFunc{
		"defined": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			_, undef := v.(*undefined)
			return !undef, nil
		},
		"undefined": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			_, undef := v.(*undefined)
			return undef, nil
		},
		"none": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) { return v == nil, nil },
		"truthy": func(_ *state, v any, args []any, kw map[string]any) (bool, error) {
			if argBool(args, kw, 0, "convert_bool", false) {
				if b, ok := boolWord(toStr(v)); ok {
					return b, nil
				}
			}
			return truthy(v)
		},
		"falsy": func(_ *state, v any, args []any, kw map[string]any) (bool, error) {
			if argBool(args, kw, 0, "convert_bool", false) {
				if b, ok := boolWord(toStr(v)); ok {
					return !b, nil
				}
			}
			t, err := truthy(v)
			return !t, err
		},
		"version":         testVersion,
		"version_compare": testVersion,
		"match":           regexTest((*pyre.Regexp).Match),
		"search":          regexTest((*pyre.Regexp).Search),
		"regex":           testRegex,
		"in": func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			if len(args) == 0 {
				return false, fmt.Errorf("in needs a container")
			}
			return contains(args[0], v)
		},
		"contains": func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			if len(args) == 0 {
				return false, fmt.Errorf("contains needs a value")
			}
			return contains(v, args[0])
		},
		"divisibleby": func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			n := toInt(firstArg(args), 0, 10)
			if n == 0 {
				return false, fmt.Errorf("division by zero")
			}
			return toInt(v, 0, 10)%n == 0, nil
		},
	}
}

// typeTests are the tests on a value's type and simple properties.
func typeTests() map[string]testFunc {
	return map[string]testFunc{
		"string": typeTest(func(v any) bool { _, ok := v.(string); return ok }),
		"number": typeTest(func(v any) bool {
			switch v.(type) {
			case int, float64:
				return true
			}
			return false
		}),
		"integer": typeTest(func(v any) bool { _, ok := v.(int); return ok }),
		"float":   typeTest(func(v any) bool { _, ok := v.(float64); return ok }),
		"mapping": typeTest(odict.IsDict),
		"dict":    typeTest(odict.IsDict),
		"list":    typeTest(func(v any) bool { _, ok := v.([]any); return ok }),
		"iterable": typeTest(func(v any) bool {
			switch v.(type) {
			case string, []any, map[string]any, *odict.Dict:
				return true
			}
			return false
		}),
		"sequence": typeTest(func(v any) bool {
			switch v.(type) {
			case string, []any, map[string]any, *odict.Dict:
				return true
			}
			return false
		}),
		"boolean":  typeTest(func(v any) bool { _, ok := v.(bool); return ok }),
		"callable": typeTest(func(v any) bool { _, ok := v.(*macro); return ok }),
		"true":     typeTest(func(v any) bool { b, ok := v.(bool); return ok && b }),
		"false":    typeTest(func(v any) bool { b, ok := v.(bool); return ok && !b }),
		"lower":    typeTest(func(v any) bool { s := toStr(v); return s == strings.ToLower(s) }),
		"upper":    typeTest(func(v any) bool { s := toStr(v); return s == strings.ToUpper(s) }),
		"odd":      typeTest(func(v any) bool { return toInt(v, 0, 10)%2 != 0 }),
		"even":     typeTest(func(v any) bool { return toInt(v, 0, 10)%2 == 0 }),
	}
}

// resultTests are the tests on a registered task result.
func resultTests() map[string]testFunc {
	return map[string]testFunc{
		"changed":     resultTest("changed", false),
		"succeeded":   resultTest("failed", true),
		"failed":      resultTest("failed", false),
		"skipped":     resultTest("skipped", false),
		"unreachable": resultTest("unreachable", false),
		"finished": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			m, err := asMap(v, "finished")
			if err != nil {
				return false, err
			}
			f, ok := m["finished"]
			return !ok || toBool(f), nil
		},
	}
}

// pathTests are the tests on controller paths.
func pathTests() map[string]testFunc {
	return map[string]testFunc{
		"file":      statTest(func(fi os.FileInfo) bool { return fi.Mode().IsRegular() }, false),
		"directory": statTest(func(fi os.FileInfo) bool { return fi.IsDir() }, false),
		"exists":    statTest(func(os.FileInfo) bool { return true }, false),
		"link":      statTest(func(fi os.FileInfo) bool { return fi.Mode()&os.ModeSymlink != 0 }, true),
		"abs": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			return filepath.IsAbs(toStr(v)), nil
		},
		"same_file": func(s *state, v any, args []any, _ map[string]any) (bool, error) {
			a, err1 := os.Stat(s.e.resolvePath(toStr(v)))
			b, err2 := os.Stat(s.e.resolvePath(toStr(firstArg(args))))
			if err1 != nil || err2 != nil {
				return false, nil
			}
			return os.SameFile(a, b), nil
		},
	}
}

// collectionTests are the tests between collections: subset, superset,
// sameas, any, all.
func collectionTests() map[string]testFunc {
	return map[string]testFunc{
		// Ansible's mathstuff "nan": a float that is NaN; anything that is
		// not a number is not NaN.
		"nan": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			f, ok := v.(float64)
			return ok && math.IsNaN(f), nil
		},
		"subset": func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			a, b, err := twoLists(v, args, "subset")
			if err != nil {
				return false, err
			}
			for _, e := range a {
				if !listContains(b, e) {
					return false, nil
				}
			}
			return true, nil
		},
		"superset": func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			a, b, err := twoLists(v, args, "superset")
			if err != nil {
				return false, err
			}
			for _, e := range b {
				if !listContains(a, e) {
					return false, nil
				}
			}
			return true, nil
		},
		"sameas": func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			o := firstArg(args)
			switch v.(type) {
			case nil, bool:
				return v == o, nil
			}
			return equal(v, o) && fmt.Sprintf("%T", v) == fmt.Sprintf("%T", o), nil
		},
		"any": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			r, err := filterAnyAll(true)(nil, v, nil, nil)
			return r == true, err
		},
		"all": func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
			r, err := filterAnyAll(false)(nil, v, nil, nil)
			return r == true, err
		},
	}
}

// comparisonTests are eq, lt and their aliases (==, lessthan...).
func comparisonTests() map[string]testFunc {
	t := map[string]testFunc{}
	cmp := func(pred func(int) bool) testFunc {
		return func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
			c, err := compare(v, firstArg(args))
			return pred(c), err
		}
	}
	eq := func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
		return equal(v, firstArg(args)), nil
	}
	ne := func(_ *state, v any, args []any, _ map[string]any) (bool, error) {
		return !equal(v, firstArg(args)), nil
	}
	for _, n := range []string{"equalto", "eq", "=="} {
		t[n] = eq
	}
	for _, n := range []string{"ne", "!="} {
		t[n] = ne
	}
	for _, n := range []string{"lt", "lessthan", "<"} {
		t[n] = cmp(func(c int) bool { return c < 0 })
	}
	for _, n := range []string{"le", "<="} {
		t[n] = cmp(func(c int) bool { return c <= 0 })
	}
	for _, n := range []string{"gt", "greaterthan", ">"} {
		t[n] = cmp(func(c int) bool { return c > 0 })
	}
	for _, n := range []string{"ge", ">="} {
		t[n] = cmp(func(c int) bool { return c >= 0 })
	}
	return t
}

func typeTest(pred func(any) bool) testFunc {
	return func(_ *state, v any, _ []any, _ map[string]any) (bool, error) { return pred(v), nil }
}

// resultTest implements changed/failed/succeeded/skipped on a registered
// result; a loop result with "results" counts its items as Ansible does.
func resultTest(key string, negate bool) testFunc {
	return func(_ *state, v any, _ []any, _ map[string]any) (bool, error) {
		m, ok := odict.AsMap(v)
		if !ok {
			return false, fmt.Errorf("the test expects a dictionary (a registered result), got %s", typeName(v))
		}
		hit := toBool(m[key])
		if !hit && key != "skipped" {
			if results, ok := m["results"].([]any); ok {
				for _, r := range results {
					if rm, ok := odict.AsMap(r); ok && toBool(rm[key]) {
						hit = true
						break
					}
				}
			}
		}
		if negate {
			return !hit, nil
		}
		return hit, nil
	}
}

func statTest(pred func(os.FileInfo) bool, lstat bool) testFunc {
	return func(s *state, v any, _ []any, _ map[string]any) (bool, error) {
		p := s.e.resolvePath(toStr(v))
		var fi os.FileInfo
		var err error
		if lstat {
			fi, err = os.Lstat(p)
		} else {
			fi, err = os.Stat(p)
		}
		if err != nil {
			return false, nil
		}
		return pred(fi), nil
	}
}

// regexTest is the match and search tests: Python's re.match and
// re.search with the pattern and flags the test takes.
func regexTest(match func(*pyre.Regexp, string) ([]int, error)) testFunc {
	return func(_ *state, v any, args []any, kw map[string]any) (bool, error) {
		re, err := compileRegex(argStr(args, kw, 0, "pattern", ""), argBool(args, kw, 1, "ignorecase", false), argBool(args, kw, 2, "multiline", false))
		if err != nil {
			return false, err
		}
		m, err := match(re, toStr(v))
		return m != nil, err
	}
}

// testRegex is the regex test: match_type names the re function
// (search, match or fullmatch).
func testRegex(_ *state, v any, args []any, kw map[string]any) (bool, error) {
	re, err := compileRegex(argStr(args, kw, 0, "pattern", ""), argBool(args, kw, 1, "ignorecase", false), argBool(args, kw, 2, "multiline", false))
	if err != nil {
		return false, err
	}
	f := re.Search
	switch argStr(args, kw, 3, "match_type", "search") {
	case "match":
		f = re.Match
	case "fullmatch":
		f = re.FullMatch
	}
	m, err := f(toStr(v))
	return m != nil, err
}

var (
	looseVersionPart = regexp.MustCompile(`\d+|[a-zA-Z]+`)
	strictVersion    = regexp.MustCompile(`^\d+\.\d+(\.\d+)?([ab]\d+)?$`)
)

// compareVersions compares like distutils' LooseVersion: numeric parts as
// numbers, alphabetic parts as strings, numbers before letters.
func compareVersions(a, b string) int {
	pa := looseVersionPart.FindAllString(a, -1)
	pb := looseVersionPart.FindAllString(b, -1)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		switch {
		case errA == nil && errB == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case errA == nil:
			return -1
		case errB == nil:
			return 1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return 0
}

func testVersion(_ *state, v any, args []any, kw map[string]any) (bool, error) {
	other := argStr(args, kw, 0, "version", "")
	op := argStr(args, kw, 1, "operator", "eq")
	strict := argBool(args, kw, 2, "strict", false)
	if vt, ok := kw["version_type"]; ok && toStr(vt) == "strict" {
		strict = true
	}
	mine := toStr(v)
	if mine == "" || other == "" {
		return false, fmt.Errorf("version value cannot be empty")
	}
	if strict && (!strictVersion.MatchString(mine) || !strictVersion.MatchString(other)) {
		return false, fmt.Errorf("invalid version string for strict comparison: %q vs %q", mine, other)
	}
	c := compareVersions(mine, other)
	switch op {
	case "<", "lt":
		return c < 0, nil
	case "<=", "le":
		return c <= 0, nil
	case ">", "gt":
		return c > 0, nil
	case ">=", "ge":
		return c >= 0, nil
	case "==", "=", "eq":
		return c == 0, nil
	case "!=", "<>", "ne":
		return c != 0, nil
	}
	return false, fmt.Errorf("invalid operator %q", op)
}
