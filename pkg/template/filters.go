package template

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/tend-dev/tend/pkg/odict"
)

// filterFunc implements a filter: in | name(args..., kw=...).
type filterFunc func(s *state, in any, args []any, kw map[string]any) (any, error)

// undefinedOK lists the filters that accept an undefined input.
var undefinedOK = map[string]bool{"default": true, "d": true, "mandatory": true, testFilter: true}

// testFilter is the filter a test with keyword arguments is rewritten to.
const testFilter = "__test__"

func (s *state) applyFilterCall(f *nodes.FilterCall, v any) (any, error) {
	if name := strings.TrimPrefix(f.Name, "ansible.builtin."); (name == "default" || name == "d") && len(f.Args) > 0 {
		return s.applyDefault(f, v)
	}
	if name := strings.TrimPrefix(f.Name, "ansible.builtin."); name == "format" && len(f.Kwargs) == 0 {
		return s.applyFormat(f, v)
	}
	args, kw, err := s.evalArgs(f.Args, f.Kwargs)
	if err != nil {
		return nil, err
	}
	return s.applyFilter(f.Name, v, args, kw)
}

// applyFormat runs "%r" | format(x), whose arguments may be undefined:
// as in Jinja2, an undefined value is an error only when it is used, and
// its repr is Ansible's undefined object (pyFormat).
func (s *state) applyFormat(f *nodes.FilterCall, v any) (any, error) {
	args := make([]any, 0, len(f.Args))
	for _, a := range f.Args {
		x, err := s.eval(a)
		if err != nil {
			return nil, err
		}
		if _, undef := x.(*undefined); !undef {
			if x, err = s.deepResolve(x, 0); err != nil {
				return nil, err
			}
		}
		args = append(args, x)
	}
	return s.applyFilter(f.Name, v, args, nil)
}

// applyDefault runs default/d, whose default value may itself be
// undefined, as in Jinja2: `x | default(y.missing) | default('z')` is
// 'z', and the undefined value is an error only when it is used.
func (s *state) applyDefault(f *nodes.FilterCall, v any) (any, error) {
	first, err := s.eval(f.Args[0])
	if err != nil {
		return nil, err
	}
	if _, undef := first.(*undefined); !undef {
		if first, err = s.deepResolve(first, 0); err != nil {
			return nil, err
		}
	}
	rest, kw, err := s.evalArgs(f.Args[1:], f.Kwargs)
	if err != nil {
		return nil, err
	}
	return s.applyFilter(f.Name, v, append([]any{first}, rest...), kw)
}

func (s *state) applyFilter(name string, v any, args []any, kw map[string]any) (any, error) {
	for _, c := range []string{"ansible.builtin.", "ansible.utils.", "ansible.netcommon."} {
		name = strings.TrimPrefix(name, c)
	}
	fn, ok := s.e.filters[name]
	if !ok {
		return nil, fmt.Errorf("no filter named '%s'", name)
	}
	// map, select and their kind call a filter or test per item, so this
	// is where a long chain of them notices an interruption.
	if err := s.canceled(); err != nil {
		return nil, err
	}
	if u, isUndef := v.(*undefined); isUndef {
		if !undefinedOK[name] {
			return nil, u.err("")
		}
	} else {
		var err error
		if v, err = s.deepResolve(v, 0); err != nil {
			return nil, err
		}
	}
	out, err := fn(s, v, args, kw)
	if err != nil {
		if _, isUndef := err.(*UndefinedError); isUndef {
			return nil, err
		}
		return nil, fmt.Errorf("filter %s: %w", name, err)
	}
	return s.seal(out), nil
}

// arg returns positional argument i, else keyword name, else def.
func arg(args []any, kw map[string]any, i int, name string, def any) any {
	if i >= 0 && i < len(args) {
		return args[i]
	}
	if v, ok := kw[name]; ok {
		return v
	}
	return def
}

func argStr(args []any, kw map[string]any, i int, name string, def string) string {
	return toStr(arg(args, kw, i, name, def))
}

func argBool(args []any, kw map[string]any, i int, name string, def bool) bool {
	return toBool(arg(args, kw, i, name, def))
}

func asList(v any, what string) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case map[string]any, *odict.Dict, string:
		return iterate(x)
	case nil:
		return nil, fmt.Errorf("%s: expected a list, got None", what)
	}
	return nil, fmt.Errorf("%s: expected a list, got %s", what, typeName(v))
}

// asMap returns a dict's entries, unordered; the caller must not modify
// them.
func asMap(v any, what string) (map[string]any, error) {
	m, ok := odict.AsMap(v)
	if !ok {
		return nil, fmt.Errorf("%s: expected a dict, got %s", what, typeName(v))
	}
	return m, nil
}

// asDict returns a dict's keys in order and its entries; the caller must
// not modify them.
func asDict(v any, what string) ([]string, map[string]any, error) {
	keys, m, ok := odict.As(v)
	if !ok {
		return nil, nil, fmt.Errorf("%s: expected a dict, got %s", what, typeName(v))
	}
	return keys, m, nil
}

func builtinFilters() map[string]filterFunc {
	f := map[string]filterFunc{
		"default":              filterDefault,
		"d":                    filterDefault,
		"mandatory":            filterMandatory,
		"bool":                 filterBool,
		"json_query":           filterJSONQuery,
		"int":                  filterInt,
		"float":                filterFloat,
		"string":               func(_ *state, in any, _ []any, _ map[string]any) (any, error) { return toStr(in), nil },
		"length":               filterLength,
		"count":                filterLength,
		"join":                 filterJoin,
		"split":                filterSplit,
		"lower":                strFilter(strings.ToLower),
		"upper":                strFilter(strings.ToUpper),
		"capitalize":           filterCapitalize,
		"title":                filterTitle,
		"trim":                 filterTrim,
		"replace":              filterReplace,
		"list":                 filterList,
		"dict":                 filterDict,
		"abs":                  filterAbs,
		"round":                filterRound,
		"sum":                  filterSum,
		"first":                filterFirst,
		"last":                 filterLast,
		"min":                  filterMinMax(-1),
		"max":                  filterMinMax(1),
		"sort":                 filterSort,
		"reverse":              filterReverse,
		"unique":               filterUnique,
		"union":                filterUnion,
		"difference":           filterDifference,
		"intersect":            filterIntersect,
		"symmetric_difference": filterSymDiff,
		"flatten":              filterFlatten,
		"zip":                  filterZip,
		"zip_longest":          filterZipLongest,
		"product":              filterProduct,
		"items":                filterItems,
		"dictsort":             filterDictsort,
		"indent":               filterIndent,
		"center":               filterCenter,
		"wordcount":            filterWordcount,
		"comment":              filterComment,
		"type_debug":           func(_ *state, in any, _ []any, _ map[string]any) (any, error) { return typeName(in), nil },
		"ternary":              filterTernary,
		"format":               filterFormat,
		"truncate":             filterTruncate,
		"safe":                 identity,
		"escape":               filterEscape,
		"e":                    filterEscape,
		"attr":                 filterAttr,
		"batch":                filterBatch,
		"groupby":              filterGroupby,
		"map":                  filterMap,
		"select":               filterSelect(true, false),
		"reject":               filterSelect(false, false),
		"selectattr":           filterSelect(true, true),
		"rejectattr":           filterSelect(false, true),
		"combine":              filterCombine,
		"dict2items":           filterDict2Items,
		"items2dict":           filterItems2Dict,
		"extract":              filterExtract,
		"subelements":          filterSubelements,
		"random":               filterRandom,
		"shuffle":              filterShuffle,
		"any":                  filterAnyAll(true),
		"all":                  filterAnyAll(false),
		"string_to_list":       filterList,
	}
	f[testFilter] = func(s *state, in any, args []any, kw map[string]any) (any, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("missing test name")
		}
		negate := toBool(kw["__negate"])
		delete(kw, "__negate")
		ok, err := s.applyTest(toStr(args[0]), in, args[1:], kw)
		return ok != negate, err
	}
	for k, v := range regexFilters() {
		f[k] = v
	}
	for k, v := range encodingFilters() {
		f[k] = v
	}
	for k, v := range pathFilters() {
		f[k] = v
	}
	for _, more := range []map[string]filterFunc{mathFilters(), miscFilters(), ipFilters()} {
		for k, v := range more {
			f[k] = v
		}
	}
	return f
}

func identity(_ *state, in any, _ []any, _ map[string]any) (any, error) { return in, nil }

func strFilter(fn func(string) string) filterFunc {
	return func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
		return fn(toStr(in)), nil
	}
}

func filterDefault(_ *state, in any, args []any, kw map[string]any) (any, error) {
	def := arg(args, kw, 0, "default_value", "")
	useFalsy := argBool(args, kw, 1, "boolean", false)
	if _, ok := in.(*undefined); ok {
		return def, nil
	}
	if useFalsy {
		if t, _ := truthy(in); !t {
			return def, nil
		}
	}
	return in, nil
}

func filterMandatory(_ *state, in any, args []any, kw map[string]any) (any, error) {
	if u, ok := in.(*undefined); ok {
		if msg := argStr(args, kw, 0, "msg", ""); msg != "" {
			return nil, &UndefinedError{Name: u.name, Hint: msg}
		}
		return nil, &UndefinedError{Name: u.name, Hint: fmt.Sprintf("Mandatory variable '%s' not defined.", u.name)}
	}
	return in, nil
}

func filterInt(_ *state, in any, args []any, kw map[string]any) (any, error) {
	def := toInt(arg(args, kw, 0, "default", 0), 0, 10)
	base := toInt(arg(args, kw, 1, "base", 10), 10, 10)
	if b, ok := in.(*big.Int); ok {
		return b, nil
	}
	return toInt(in, def, base), nil
}

func filterFloat(_ *state, in any, args []any, kw map[string]any) (any, error) {
	return toFloat(in, toFloat(arg(args, kw, 0, "default", 0.0), 0)), nil
}

func filterLength(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	return length(in)
}

func filterJoin(s *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "join")
	if err != nil {
		return nil, err
	}
	sep := argStr(args, kw, 0, "d", "")
	attr, hasAttr := kw["attribute"]
	parts := make([]string, len(list))
	for i, e := range list {
		if hasAttr {
			if e, err = s.attrPath(e, toStr(attr)); err != nil {
				return nil, err
			}
		}
		parts[i] = toStr(e)
	}
	return strings.Join(parts, sep), nil
}

func filterSplit(_ *state, in any, args []any, kw map[string]any) (any, error) {
	str := toStr(in)
	sep := arg(args, kw, 0, "sep", nil)
	maxsplit := toInt(arg(args, kw, 1, "maxsplit", -1), -1, 10)
	if sep == nil {
		fields := strings.Fields(str)
		if maxsplit >= 0 && len(fields) > maxsplit+1 {
			// Re-split keeping the remainder intact, as Python does.
			rest := strings.TrimLeft(str, " \t\n\r\v\f")
			var out []string
			for i := 0; i < maxsplit; i++ {
				idx := strings.IndexAny(rest, " \t\n\r\v\f")
				out = append(out, rest[:idx])
				rest = strings.TrimLeft(rest[idx:], " \t\n\r\v\f")
			}
			fields = append(out, rest)
		}
		return strsToList(fields), nil
	}
	n := -1
	if maxsplit >= 0 {
		n = maxsplit + 1
	}
	if toStr(sep) == "" {
		return nil, fmt.Errorf("empty separator")
	}
	return strsToList(strings.SplitN(str, toStr(sep), n)), nil
}

func filterCapitalize(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	r := []rune(strings.ToLower(toStr(in)))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r), nil
}

func filterTitle(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	var b strings.Builder
	prevLetter := false
	for _, r := range toStr(in) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			if prevLetter {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			prevLetter = true
		} else {
			b.WriteRune(r)
			prevLetter = false
		}
	}
	return b.String(), nil
}

func filterTrim(_ *state, in any, args []any, kw map[string]any) (any, error) {
	if chars := arg(args, kw, 0, "chars", nil); chars != nil {
		return strings.Trim(toStr(in), toStr(chars)), nil
	}
	return strings.TrimSpace(toStr(in)), nil
}

func filterReplace(_ *state, in any, args []any, kw map[string]any) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("replace needs old and new")
	}
	n := toInt(arg(args, kw, 2, "count", -1), -1, 10)
	return strings.Replace(toStr(in), toStr(args[0]), toStr(args[1]), n), nil
}

func filterList(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	if l, ok := in.([]any); ok {
		return append([]any{}, l...), nil
	}
	return iterate(in)
}

func filterDict(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case *odict.Dict:
		return x, nil
	case map[string]any:
		return odict.FromMap(x), nil
	case []any:
		out := odict.New(len(x))
		for _, e := range x {
			pair, ok := e.([]any)
			if !ok || len(pair) != 2 {
				return nil, fmt.Errorf("dict: element %s is not a key/value pair", repr(e))
			}
			out.Set(toStr(pair[0]), pair[1])
		}
		return out, nil
	}
	return nil, fmt.Errorf("dict: cannot convert %s", typeName(in))
}

func filterAbs(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case int:
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, fmt.Errorf("bad operand type for abs(): '%s'", typeName(in))
}

func filterRound(_ *state, in any, args []any, kw map[string]any) (any, error) {
	f, ok := toNumber(in)
	if !ok {
		return nil, fmt.Errorf("round: %s is not a number", typeName(in))
	}
	prec := toInt(arg(args, kw, 0, "precision", 0), 0, 10)
	method := argStr(args, kw, 1, "method", "common")
	p := math.Pow(10, float64(prec))
	switch method {
	case "ceil":
		f = math.Ceil(f*p) / p
	case "floor":
		f = math.Floor(f*p) / p
	default:
		// Python's round() rounds half to even: round(2.5) == 2.0.
		f = math.RoundToEven(f*p) / p
	}
	return f, nil
}

func filterSum(s *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "sum")
	if err != nil {
		return nil, err
	}
	var total any = arg(args, kw, 1, "start", 0)
	attr := arg(args, kw, 0, "attribute", nil)
	for _, e := range list {
		if attr != nil {
			if e, err = s.attrPath(e, toStr(attr)); err != nil {
				return nil, err
			}
		}
		if total, err = arith("+", total, e); err != nil {
			return nil, err
		}
	}
	return total, nil
}

func filterFirst(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	list, err := asList(in, "first")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return &undefined{name: "first", hint: "No first item, sequence was empty."}, nil
	}
	return list[0], nil
}

func filterLast(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	list, err := asList(in, "last")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return &undefined{name: "last", hint: "No last item, sequence was empty."}, nil
	}
	return list[len(list)-1], nil
}

func filterMinMax(sign int) filterFunc {
	return func(s *state, in any, args []any, kw map[string]any) (any, error) {
		list, err := asList(in, "min/max")
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return &undefined{name: "min/max", hint: "No aggregated item, sequence was empty."}, nil
		}
		attr := arg(args, kw, -1, "attribute", nil)
		key := func(v any) (any, error) {
			if attr != nil {
				return s.attrPath(v, toStr(attr))
			}
			return v, nil
		}
		best := list[0]
		bk, err := key(best)
		if err != nil {
			return nil, err
		}
		for _, e := range list[1:] {
			k, err := key(e)
			if err != nil {
				return nil, err
			}
			c, err := compare(k, bk)
			if err != nil {
				return nil, err
			}
			if c*sign > 0 {
				best, bk = e, k
			}
		}
		return best, nil
	}
}

func filterSort(s *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "sort")
	if err != nil {
		return nil, err
	}
	reverse := argBool(args, kw, 0, "reverse", false)
	caseSensitive := argBool(args, kw, 1, "case_sensitive", false)
	attr := arg(args, kw, 2, "attribute", nil)
	keys := make([]any, len(list))
	for i, e := range list {
		k := e
		if attr != nil {
			if k, err = s.attrPath(e, toStr(attr)); err != nil {
				return nil, err
			}
		}
		if str, ok := k.(string); ok && !caseSensitive {
			k = strings.ToLower(str)
		}
		keys[i] = k
	}
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	var cmpErr error
	sort.SliceStable(idx, func(a, b int) bool {
		c, err := compare(keys[idx[a]], keys[idx[b]])
		if err != nil {
			cmpErr = err
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	out := make([]any, len(list))
	for i, j := range idx {
		out[i] = list[j]
	}
	return out, nil
}

func filterReverse(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	if str, ok := in.(string); ok {
		r := []rune(str)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r), nil
	}
	list, err := asList(in, "reverse")
	if err != nil {
		return nil, err
	}
	out := make([]any, len(list))
	for i, e := range list {
		out[len(list)-1-i] = e
	}
	return out, nil
}

func uniqueList(list []any) []any {
	out := []any{}
	for _, e := range list {
		found := false
		for _, o := range out {
			if equal(o, e) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}

func listContains(list []any, v any) bool {
	for _, e := range list {
		if equal(e, v) {
			return true
		}
	}
	return false
}

func filterUnique(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	list, err := asList(in, "unique")
	if err != nil {
		return nil, err
	}
	return uniqueList(list), nil
}

func twoLists(in any, args []any, what string) ([]any, []any, error) {
	a, err := asList(in, what)
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("%s needs a list argument", what)
	}
	b, err := asList(args[0], what)
	return a, b, err
}

func filterUnion(_ *state, in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args, "union")
	if err != nil {
		return nil, err
	}
	return uniqueList(append(append([]any{}, a...), b...)), nil
}

func filterDifference(_ *state, in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args, "difference")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range uniqueList(a) {
		if !listContains(b, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func filterIntersect(_ *state, in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args, "intersect")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range uniqueList(a) {
		if listContains(b, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func filterSymDiff(_ *state, in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args, "symmetric_difference")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range uniqueList(append(append([]any{}, a...), b...)) {
		if listContains(a, e) != listContains(b, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func filterFlatten(_ *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "flatten")
	if err != nil {
		return nil, err
	}
	levels := toInt(arg(args, kw, 0, "levels", -1), -1, 10)
	skipNulls := argBool(args, kw, 1, "skip_nulls", true)
	var walk func(l []any, depth int) []any
	walk = func(l []any, depth int) []any {
		out := []any{}
		for _, e := range l {
			if e == nil && skipNulls {
				continue
			}
			if str, ok := e.(string); ok && skipNulls && str == "None" {
				continue
			}
			if sub, ok := e.([]any); ok && (levels < 0 || depth < levels) {
				out = append(out, walk(sub, depth+1)...)
				continue
			}
			out = append(out, e)
		}
		return out
	}
	return walk(list, 0), nil
}

func zipLists(in any, args []any, longest bool, fill any) (any, error) {
	lists := make([][]any, 0, len(args)+1)
	for _, v := range append([]any{in}, args...) {
		l, err := asList(v, "zip")
		if err != nil {
			return nil, err
		}
		lists = append(lists, l)
	}
	n := -1
	for _, l := range lists {
		if n < 0 || (!longest && len(l) < n) || (longest && len(l) > n) {
			n = len(l)
		}
	}
	out := make([]any, 0, max(n, 0))
	for i := 0; i < n; i++ {
		row := make([]any, len(lists))
		for j, l := range lists {
			if i < len(l) {
				row[j] = l[i]
			} else {
				row[j] = fill
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func filterZip(_ *state, in any, args []any, _ map[string]any) (any, error) {
	return zipLists(in, args, false, nil)
}

func filterZipLongest(_ *state, in any, args []any, kw map[string]any) (any, error) {
	return zipLists(in, args, true, kw["fillvalue"])
}

func filterProduct(s *state, in any, args []any, _ map[string]any) (any, error) {
	result := [][]any{{}}
	for _, v := range append([]any{in}, args...) {
		l, err := asList(v, "product")
		if err != nil {
			return nil, err
		}
		if tooLong(len(result), len(l)) {
			return nil, fmt.Errorf("product too large (MemoryError): more than %d items", maxRepeat)
		}
		// Each row is built item by item: charge the render's work budget.
		if err := s.spend(len(result) * len(l)); err != nil {
			return nil, err
		}
		var next [][]any
		for _, prefix := range result {
			for _, e := range l {
				row := append(append([]any{}, prefix...), e)
				next = append(next, row)
			}
		}
		result = next
	}
	out := make([]any, len(result))
	for i, r := range result {
		out[i] = r
	}
	return out, nil
}

func filterItems(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	keys, m, err := asDict(in, "items")
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(m))
	for _, k := range keys {
		out = append(out, []any{k, m[k]})
	}
	return out, nil
}

// filterDictsort is Jinja2's dictsort: (key, value) pairs sorted by key
// (by="value": by value), case-insensitively unless case_sensitive.
func filterDictsort(s *state, in any, args []any, kw map[string]any) (any, error) {
	items, err := filterItems(s, in, nil, nil)
	if err != nil {
		return nil, err
	}
	pairs := items.([]any)
	caseSensitive := argBool(args, kw, 0, "case_sensitive", false)
	pos := 0
	if toStr(arg(args, kw, 1, "by", "key")) == "value" {
		pos = 1
	}
	reverse := argBool(args, kw, 2, "reverse", false)
	keyOf := func(i int) any {
		v := pairs[i].([]any)[pos]
		if str, ok := v.(string); ok && !caseSensitive {
			return strings.ToLower(str)
		}
		return v
	}
	var cmpErr error
	sort.SliceStable(pairs, func(a, b int) bool {
		c, err := compare(keyOf(a), keyOf(b))
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	return pairs, cmpErr
}

func filterIndent(_ *state, in any, args []any, kw map[string]any) (any, error) {
	width := arg(args, kw, 0, "width", 4)
	w := toInt(width, 4, 10)
	if w > 1<<16 {
		return nil, fmt.Errorf("indent width too large")
	}
	pad := strings.Repeat(" ", max(w, 0))
	if ws, ok := width.(string); ok {
		pad = ws
	}
	first := argBool(args, kw, 1, "first", false)
	blank := argBool(args, kw, 2, "blank", false)
	lines := strings.Split(toStr(in), "\n")
	for i, l := range lines {
		if i == 0 && !first {
			continue
		}
		if l == "" && !blank {
			continue
		}
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n"), nil
}

func filterCenter(_ *state, in any, args []any, kw map[string]any) (any, error) {
	str := toStr(in)
	width := toInt(arg(args, kw, 0, "width", 80), 80, 10)
	if width > maxRepeat {
		return nil, fmt.Errorf("center width too large")
	}
	n := len([]rune(str))
	if n >= width {
		return str, nil
	}
	total := width - n
	left := total / 2
	if total%2 == 1 && width%2 == 1 {
		left++
	}
	return strings.Repeat(" ", left) + str + strings.Repeat(" ", total-left), nil
}

func filterWordcount(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	return len(strings.Fields(toStr(in))), nil
}

func filterComment(_ *state, in any, args []any, kw map[string]any) (any, error) {
	style := argStr(args, kw, 0, "style", "plain")
	prefix, begin, end := "# ", "#", "#"
	switch style {
	case "c":
		prefix, begin, end = "// ", "//", "//"
	case "cblock":
		prefix, begin, end = " * ", "/*", " */"
	case "erlang":
		prefix, begin, end = "% ", "%", "%"
	case "xml":
		prefix, begin, end = " - ", "<!--", "-->"
	}
	if p, ok := kw["prefix"]; ok {
		prefix = toStr(p)
	}
	if d, ok := kw["decoration"]; ok {
		prefix = toStr(d)
	}
	var b strings.Builder
	b.WriteString(begin + "\n")
	for _, l := range strings.Split(toStr(in), "\n") {
		b.WriteString(strings.TrimRight(prefix+l, " ") + "\n")
	}
	b.WriteString(end)
	return b.String(), nil
}

func filterTernary(_ *state, in any, args []any, kw map[string]any) (any, error) {
	t := arg(args, kw, 0, "true_val", nil)
	f := arg(args, kw, 1, "false_val", nil)
	if len(args) > 2 || kw["none_val"] != nil {
		if in == nil {
			return arg(args, kw, 2, "none_val", nil), nil
		}
	}
	ok, err := truthy(in)
	if err != nil {
		return nil, err
	}
	if ok {
		return t, nil
	}
	return f, nil
}

func filterFormat(_ *state, in any, args []any, kw map[string]any) (any, error) {
	if len(kw) > 0 {
		return strFormat(toStr(in), args, kw)
	}
	if len(args) == 1 {
		return pyFormat(toStr(in), []any{args[0]})
	}
	return pyFormat(toStr(in), args)
}

func filterTruncate(_ *state, in any, args []any, kw map[string]any) (any, error) {
	str := []rune(toStr(in))
	n := toInt(arg(args, kw, 0, "length", 255), 255, 10)
	killwords := argBool(args, kw, 1, "killwords", false)
	end := argStr(args, kw, 2, "end", "...")
	leeway := toInt(arg(args, kw, 3, "leeway", 5), 5, 10)
	if len(str) <= n+leeway {
		return string(str), nil
	}
	cut := max(n-len([]rune(end)), 0)
	if killwords {
		return string(str[:cut]) + end, nil
	}
	head := string(str[:cut])
	if i := strings.LastIndexByte(head, ' '); i >= 0 {
		head = head[:i]
	}
	return head + end, nil
}

func filterEscape(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(toStr(in)), nil
}

// attrPath follows a dotted attribute path ("a.b.0") the way Jinja2's
// attribute= arguments do.
func (s *state) attrPath(v any, path string) (any, error) {
	for _, part := range strings.Split(path, ".") {
		var next any
		switch x := v.(type) {
		case map[string]any, *odict.Dict:
			m, _ := odict.AsMap(x)
			r, ok := m[part]
			if !ok {
				return &undefined{name: path, hint: fmt.Sprintf("'dict object' has no attribute '%s'", part)}, nil
			}
			next = r
		case []any:
			i := toInt(part, -1, 10)
			if i < 0 || i >= len(x) {
				return &undefined{name: path, hint: fmt.Sprintf("list object has no element %s", part)}, nil
			}
			next = x[i]
		default:
			return &undefined{name: path, hint: fmt.Sprintf("'%s object' has no attribute '%s'", typeName(v), part)}, nil
		}
		var err error
		if v, err = s.deepResolve(next, 0); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func filterAttr(s *state, in any, args []any, _ map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("attr needs a name")
	}
	m, ok := odict.AsMap(in)
	if !ok {
		return &undefined{name: toStr(args[0])}, nil
	}
	if v, ok := m[toStr(args[0])]; ok {
		return v, nil
	}
	return &undefined{name: toStr(args[0]), hint: fmt.Sprintf("'dict object' has no attribute '%s'", toStr(args[0]))}, nil
}

func filterBatch(_ *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "batch")
	if err != nil {
		return nil, err
	}
	n := toInt(arg(args, kw, 0, "linecount", 1), 1, 10)
	if n <= 0 {
		return nil, fmt.Errorf("batch size must be positive")
	}
	fill, hasFill := kw["fill_with"]
	if len(args) > 1 {
		fill, hasFill = args[1], true
	}
	out := []any{}
	for i := 0; i < len(list); i += n {
		row := append([]any{}, list[i:min(i+n, len(list))]...)
		for hasFill && len(row) < n {
			row = append(row, fill)
		}
		out = append(out, row)
	}
	return out, nil
}

func filterGroupby(s *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "groupby")
	if err != nil {
		return nil, err
	}
	attr := argStr(args, kw, 0, "attribute", "")
	var keys []any
	groups := map[string][]any{}
	for _, e := range list {
		k, err := s.attrPath(e, attr)
		if err != nil {
			return nil, err
		}
		if u, ok := k.(*undefined); ok {
			return nil, u.err("")
		}
		ks := repr(k)
		if _, seen := groups[ks]; !seen {
			keys = append(keys, k)
		}
		groups[ks] = append(groups[ks], e)
	}
	sorted, err := filterSort(s, keys, nil, map[string]any{"case_sensitive": true})
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, k := range sorted.([]any) {
		out = append(out, []any{k, groups[repr(k)]})
	}
	return out, nil
}

func filterMap(s *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "map")
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(list))
	if attr, ok := kw["attribute"]; ok {
		def, hasDef := kw["default"]
		for _, e := range list {
			v, err := s.attrPath(e, toStr(attr))
			if err != nil {
				return nil, err
			}
			if u, isUndef := v.(*undefined); isUndef {
				if !hasDef {
					return nil, u.err("")
				}
				v = def
			}
			out = append(out, v)
		}
		return out, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("map needs a filter name or attribute=")
	}
	name := toStr(args[0])
	for _, e := range list {
		v, err := s.applyFilter(name, e, args[1:], kw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func filterSelect(keep, byAttr bool) filterFunc {
	return func(s *state, in any, args []any, kw map[string]any) (any, error) {
		list, err := asList(in, "select")
		if err != nil {
			return nil, err
		}
		var attr string
		if byAttr {
			if len(args) == 0 {
				return nil, fmt.Errorf("selectattr/rejectattr need an attribute")
			}
			attr, args = toStr(args[0]), args[1:]
		}
		test := ""
		if len(args) > 0 {
			test, args = toStr(args[0]), args[1:]
		}
		out := []any{}
		for _, e := range list {
			v := e
			if byAttr {
				if v, err = s.attrPath(e, attr); err != nil {
					return nil, err
				}
			}
			var ok bool
			if test == "" {
				if _, isUndef := v.(*undefined); isUndef {
					ok = false
				} else if ok, err = truthy(v); err != nil {
					return nil, err
				}
			} else if ok, err = s.applyTest(test, v, args, nil); err != nil {
				return nil, err
			}
			if ok == keep {
				out = append(out, e)
			}
		}
		return out, nil
	}
}

// combineMaps is Ansible's merge_hash: a's keys in a's order, then b's new
// keys in b's order.
func combineMaps(a, b any, recursive bool, listMerge string) (*odict.Dict, error) {
	akeys, am, _ := odict.As(a)
	bkeys, bm, _ := odict.As(b)
	out := odict.New(len(akeys) + len(bkeys))
	for _, k := range akeys {
		out.Set(k, am[k])
	}
	for _, k := range bkeys {
		bv := bm[k]
		av, exists := out.Get(k)
		if !exists {
			out.Set(k, bv)
			continue
		}
		if recursive && odict.IsDict(av) && odict.IsDict(bv) {
			m, err := combineMaps(av, bv, recursive, listMerge)
			if err != nil {
				return nil, err
			}
			out.Set(k, m)
			continue
		}
		al, aIsList := av.([]any)
		bl, bIsList := bv.([]any)
		if aIsList && bIsList {
			switch listMerge {
			case "replace", "":
				out.Set(k, bv)
			case "keep":
				out.Set(k, av)
			case "append":
				out.Set(k, append(append([]any{}, al...), bl...))
			case "prepend":
				out.Set(k, append(append([]any{}, bl...), al...))
			case "append_rp":
				merged := []any{}
				for _, e := range al {
					if !listContains(bl, e) {
						merged = append(merged, e)
					}
				}
				out.Set(k, append(merged, bl...))
			case "prepend_rp":
				merged := append([]any{}, bl...)
				for _, e := range al {
					if !listContains(bl, e) {
						merged = append(merged, e)
					}
				}
				out.Set(k, merged)
			default:
				return nil, fmt.Errorf("combine: unknown list_merge %q", listMerge)
			}
			continue
		}
		out.Set(k, bv)
	}
	return out, nil
}

func filterCombine(_ *state, in any, args []any, kw map[string]any) (any, error) {
	recursive := toBool(kw["recursive"])
	listMerge := "replace"
	if lm, ok := kw["list_merge"]; ok {
		listMerge = toStr(lm)
	}
	var dicts []any
	if l, ok := in.([]any); ok {
		dicts = append(dicts, l...)
	} else {
		dicts = append(dicts, in)
	}
	for _, a := range args {
		if l, ok := a.([]any); ok {
			dicts = append(dicts, l...)
		} else {
			dicts = append(dicts, a)
		}
	}
	out := odict.New(0)
	for _, d := range dicts {
		if _, err := asMap(d, "combine"); err != nil {
			return nil, err
		}
		var err error
		if out, err = combineMaps(out, d, recursive, listMerge); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func filterDict2Items(_ *state, in any, args []any, kw map[string]any) (any, error) {
	keys, m, err := asDict(in, "dict2items")
	if err != nil {
		return nil, err
	}
	kn := argStr(args, kw, 0, "key_name", "key")
	vn := argStr(args, kw, 1, "value_name", "value")
	out := make([]any, 0, len(m))
	for _, k := range keys {
		item := odict.New(2)
		item.Set(kn, k)
		item.Set(vn, m[k])
		out = append(out, item)
	}
	return out, nil
}

func filterItems2Dict(_ *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "items2dict")
	if err != nil {
		return nil, err
	}
	kn := argStr(args, kw, 0, "key_name", "key")
	vn := argStr(args, kw, 1, "value_name", "value")
	out := odict.New(len(list))
	for _, e := range list {
		m, err := asMap(e, "items2dict")
		if err != nil {
			return nil, err
		}
		k, ok := m[kn]
		if !ok {
			return nil, fmt.Errorf("items2dict: item %s has no key %q", repr(e), kn)
		}
		v, ok := m[vn]
		if !ok {
			return nil, fmt.Errorf("items2dict: item %s has no key %q", repr(e), vn)
		}
		out.Set(toStr(k), v)
	}
	return out, nil
}

func filterExtract(s *state, in any, args []any, _ map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("extract needs a container")
	}
	v, err := s.getItem(nil, args[0], in)
	if err != nil {
		return nil, err
	}
	if len(args) > 1 {
		keys, ok := args[1].([]any)
		if !ok {
			keys = []any{args[1]}
		}
		for _, k := range keys {
			if v, err = s.getItem(nil, v, k); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

func filterSubelements(s *state, in any, args []any, kw map[string]any) (any, error) {
	list, err := asList(in, "subelements")
	if err != nil {
		return nil, err
	}
	path := argStr(args, kw, 0, "subelements", "")
	skipMissing := argBool(args, kw, 1, "skip_missing", false)
	out := []any{}
	for _, e := range list {
		sub, err := s.attrPath(e, path)
		if err != nil {
			return nil, err
		}
		if u, ok := sub.(*undefined); ok {
			if skipMissing {
				continue
			}
			return nil, u.err("")
		}
		l, err := asList(sub, "subelements")
		if err != nil {
			return nil, err
		}
		for _, x := range l {
			out = append(out, []any{e, x})
		}
	}
	return out, nil
}

func filterAnyAll(isAny bool) filterFunc {
	return func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
		list, err := asList(in, "any/all")
		if err != nil {
			return nil, err
		}
		for _, e := range list {
			t, err := truthy(e)
			if err != nil {
				return nil, err
			}
			if t == isAny {
				return isAny, nil
			}
		}
		return !isAny, nil
	}
}

// filterBool is Ansible's bool filter; None passes through, as in Ansible.
func filterBool(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	if in == nil {
		return nil, nil
	}
	return toBool(in), nil
}
