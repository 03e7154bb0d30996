package template

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// mathFilters are ansible-core's mathstuff filters tend adds to Jinja2's:
// logarithms, powers, roots, byte sizes for people, combinatorics and
// rekey_on_member (ansible/plugins/filter/mathstuff.py).
func mathFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"log":             filterLog,
		"pow":             filterPow,
		"root":            filterRoot,
		"human_readable":  filterHumanReadable,
		"human_to_bytes":  filterHumanToBytes,
		"combinations":    filterCombinations,
		"permutations":    filterPermutations,
		"rekey_on_member": filterRekeyOnMember,
	}
}

// pyRealArg is Python's math functions' reading of a number: a TypeError
// ("must be real number, not str") for anything else.
func pyRealArg(v any) (float64, error) {
	f, ok := toNumber(v)
	if !ok {
		return 0, fmt.Errorf("must be real number, not %s", typeName(v))
	}
	return f, nil
}

// mathResult is a math function's float result, or Python's errors for
// a domain error (NaN) or an overflow (infinity from finite operands).
func mathResult(f float64, operands ...float64) (float64, error) {
	if math.IsNaN(f) {
		for _, o := range operands {
			if math.IsNaN(o) {
				return f, nil
			}
		}
		return 0, fmt.Errorf("math domain error")
	}
	if math.IsInf(f, 0) {
		for _, o := range operands {
			if math.IsInf(o, 0) {
				return f, nil
			}
		}
		return 0, fmt.Errorf("math range error")
	}
	return f, nil
}

// filterLog is log(x, base=e): math.log10 for base 10, math.log(x, base)
// otherwise; always a float.
func filterLog(_ *state, in any, args []any, kw map[string]any) (any, error) {
	x, err := pyRealArg(in)
	if err == nil {
		var base float64
		if base, err = pyRealArg(arg(args, kw, 0, "base", math.E)); err == nil {
			if x <= 0 || base <= 0 {
				return nil, fmt.Errorf("math domain error")
			}
			if base == 10 {
				return pyLog10(x), nil
			}
			if base == 1 {
				return nil, fmt.Errorf("float division by zero")
			}
			return logOf(in, x) / pyLog(base), nil
		}
	}
	return nil, fmt.Errorf("log() can only be used on numbers: %v", err)
}

// logOf is the natural logarithm of v, exact for integers beyond float's
// range as Python's math.log is.
func logOf(v any, f float64) float64 {
	if b, ok := v.(*big.Int); ok && math.IsInf(f, 0) {
		shift := b.BitLen() - 64
		return pyLog(bigToFloat(new(big.Int).Rsh(b, uint(shift)))) + float64(shift)*math.Ln2
	}
	return pyLog(f)
}

// filterPow is pow(x, y), Python's math.pow: a float.
func filterPow(_ *state, in any, args []any, kw map[string]any) (any, error) {
	x, err := pyRealArg(in)
	if err == nil {
		var y float64
		if y, err = pyRealArg(arg(args, kw, 0, "y", nil)); err == nil {
			if x == 0 && y < 0 {
				return nil, fmt.Errorf("math domain error")
			}
			return mathResult(pyPow(x, y), x, y)
		}
	}
	return nil, fmt.Errorf("pow() can only be used on numbers: %v", err)
}

// filterRoot is root(x, base=2): math.sqrt, or x ** (1/base).
func filterRoot(_ *state, in any, args []any, kw map[string]any) (any, error) {
	x, err := pyRealArg(in)
	if err == nil {
		base := arg(args, kw, 0, "base", 2)
		var b float64
		if b, err = pyRealArg(base); err == nil {
			var r float64
			if equal(base, 2) {
				r = math.Sqrt(x)
			} else if b == 0 {
				return nil, fmt.Errorf("float division by zero")
			} else {
				r = pyPow(x, 1/b)
			}
			if r, err = mathResult(r, x, b); err == nil {
				return r, nil
			}
		}
	}
	return nil, fmt.Errorf("root() can only be used on numbers: %v", err)
}

// sizeRanges are Ansible's SIZE_RANGES, largest first (the order
// bytes_to_human tries them in).
var sizeRanges = []struct {
	suffix string
	limit  float64
}{
	{"Y", 1 << 80}, {"Z", 1 << 70}, {"E", 1 << 60}, {"P", 1 << 50}, {"T", 1 << 40},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

// filterHumanReadable is human_readable(size, isbits=False, unit=None):
// '%.2f %s' of the size in the largest unit it reaches (or unit).
func filterHumanReadable(_ *state, in any, args []any, kw map[string]any) (any, error) {
	isbits := argBool(args, kw, 0, "isbits", false)
	unit := arg(args, kw, 1, "unit", nil)
	size, ok := toNumber(in)
	if !ok {
		if unit == nil {
			return nil, fmt.Errorf("human_readable() failed on bad input: '>=' not supported between instances of '%s' and 'int'", typeName(in))
		}
		return nil, fmt.Errorf("human_readable() failed on bad input: unsupported operand type(s) for /: '%s' and 'int'", typeName(in))
	}
	base := "Bytes"
	if isbits {
		base = "bits"
	}
	var suffix string
	var limit float64
	for _, r := range sizeRanges {
		suffix, limit = r.suffix, r.limit
		if (unit == nil && size >= limit) || (unit != nil && strings.ToUpper(toStr(unit)) == r.suffix) {
			break
		}
	}
	if limit != 1 {
		suffix += base[:1]
	} else {
		suffix = base
	}
	return strconv.FormatFloat(size/limit, 'f', 2, 64) + " " + suffix, nil
}

var humanSizeRE = regexp.MustCompile(`^[ \t\n\r\f\v]*(\d*\.?\d*)[ \t\n\r\f\v]*([A-Za-z]+)?`)

// filterHumanToBytes is human_to_bytes(size, default_unit=None,
// isbits=False): '2K' is 2048; '1Mb' an error unless isbits.
func filterHumanToBytes(_ *state, in any, args []any, kw map[string]any) (any, error) {
	bad := fmt.Errorf("human_to_bytes() can't interpret following string: %s", toStr(in))
	defUnit := arg(args, kw, 0, "default_unit", nil)
	isbits := argBool(args, kw, 1, "isbits", false)
	m := humanSizeRE.FindStringSubmatch(toStr(in))
	num, err := strconv.ParseFloat(m[1], 64)
	if m[1] == "" || err != nil {
		return nil, bad
	}
	unit := m[2]
	if unit == "" {
		if defUnit == nil {
			return pyRoundInt(num), nil
		}
		u, ok := defUnit.(string)
		if !ok {
			return nil, fmt.Errorf("human_to_bytes() failed on bad input: '%s' object is not subscriptable", typeName(defUnit))
		}
		if u == "" {
			return nil, bad
		}
		unit = u
	}
	key := strings.ToUpper(unit[:1])
	var limit float64
	for _, r := range sizeRanges {
		if r.suffix == key {
			limit = r.limit
		}
	}
	if limit == 0 {
		return nil, bad
	}
	class, className := "B", "byte"
	if isbits {
		class, className = "b", "bit"
	}
	if len(unit) > 1 && !strings.Contains(strings.ToLower(unit), className) && unit[1:2] != class {
		return nil, bad
	}
	return pyRoundInt(num * limit), nil
}

// pyRoundInt is Python's int(round(f)): half to even, an integer of any
// size.
func pyRoundInt(f float64) any {
	f = math.RoundToEven(f)
	if math.Abs(f) < 1<<62 {
		return int(f)
	}
	b, _ := big.NewFloat(f).Int(nil)
	return b
}

// filterCombinations is combinations(list, r): itertools.combinations,
// its tuples as lists.
func filterCombinations(s *state, in any, args []any, kw map[string]any) (any, error) {
	pool, err := asList(in, "combinations")
	if err != nil {
		return nil, err
	}
	rv := arg(args, kw, 0, "r", nil)
	if rv == nil {
		return nil, fmt.Errorf("combinations() missing required argument 'r' (pos 2)")
	}
	r, ok := rv.(int)
	if !ok {
		return nil, fmt.Errorf("'%s' object cannot be interpreted as an integer", typeName(rv))
	}
	if r < 0 {
		return nil, fmt.Errorf("r must be non-negative")
	}
	out := []any{}
	if r > len(pool) {
		return out, nil
	}
	idx := make([]int, r)
	for i := range idx {
		idx[i] = i
	}
	for {
		if err := s.spend(r + 1); err != nil {
			return nil, err
		}
		out = append(out, pick(pool, idx))
		i := r - 1
		for i >= 0 && idx[i] == i+len(pool)-r {
			i--
		}
		if i < 0 {
			return out, nil
		}
		idx[i]++
		for j := i + 1; j < r; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

func pick(pool []any, idx []int) []any {
	row := make([]any, len(idx))
	for i, j := range idx {
		row[i] = pool[j]
	}
	return row
}

// filterPermutations is permutations(list, r=None):
// itertools.permutations in its order, its tuples as lists.
func filterPermutations(s *state, in any, args []any, kw map[string]any) (any, error) {
	pool, err := asList(in, "permutations")
	if err != nil {
		return nil, err
	}
	n, r := len(pool), len(pool)
	if rv := arg(args, kw, 0, "r", nil); rv != nil {
		ri, ok := rv.(int)
		if !ok {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("Expected int as r")
		}
		if ri < 0 {
			return nil, fmt.Errorf("r must be non-negative")
		}
		r = ri
	}
	out := []any{}
	if r > n {
		return out, nil
	}
	// CPython's algorithm (the itertools.permutations documentation).
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	cycles := make([]int, r)
	for i := range cycles {
		cycles[i] = n - i
	}
	for {
		if err := s.spend(r + 1); err != nil {
			return nil, err
		}
		out = append(out, pick(pool, idx[:r]))
		if !nextPermutation(idx, cycles) {
			return out, nil
		}
	}
}

// nextPermutation advances permutations' index state; false when done.
func nextPermutation(idx, cycles []int) bool {
	n := len(idx)
	for i := len(cycles) - 1; i >= 0; i-- {
		cycles[i]--
		if cycles[i] == 0 {
			first := idx[i]
			copy(idx[i:], idx[i+1:])
			idx[n-1] = first
			cycles[i] = n - i
			continue
		}
		j := cycles[i]
		idx[i], idx[n-j] = idx[n-j], idx[i]
		return true
	}
	return false
}

// filterRekeyOnMember is rekey_on_member(data, key, duplicates='error'):
// a dict of the dicts of data (a list or a dict's values) by their key.
func filterRekeyOnMember(_ *state, in any, args []any, kw map[string]any) (any, error) {
	key := arg(args, kw, 0, "key", nil)
	dup := argStr(args, kw, 1, "duplicates", "error")
	if dup != "error" && dup != "overwrite" {
		return nil, fmt.Errorf("duplicates parameter to rekey_on_member has unknown value: %s", dup)
	}
	var items []any
	if keys, m, ok := odict.As(in); ok {
		for _, k := range keys {
			items = append(items, m[k])
		}
	} else if l, ok := in.([]any); ok {
		items = l
	} else {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Type is not a valid list, set, or dict")
	}
	out := odict.New(len(items))
	for _, item := range items {
		m, ok := odict.AsMap(item)
		if !ok {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("List item is not a valid dict")
		}
		v, ok := m[toStr(key)]
		if !ok {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("Key %s was not found", toStr(key))
		}
		k := toStr(v)
		if prev, seen := out.Get(k); seen && prev != nil {
			if dup == "error" {
				//lint:ignore ST1005 Ansible's own message, word for word
				return nil, fmt.Errorf("Key %s is not unique, cannot correctly turn into dict", k)
			}
		}
		out.Set(k, item)
	}
	return out, nil
}

// pyPow is C's pow(x, y) as Python's math.pow calls it: glibc's result
// is correctly rounded, Go's math.Pow can be one unit in the last place
// off (27 ** (1/3.0) is 3.0 in Python, 2.9999999999999996 in Go).
// math.Pow's result moves to a neighbour when the exact power lies
// beyond the midpoint between them, until it is the nearest (logarithms compared at 200 bits).
func pyPow(x, y float64) float64 {
	r := math.Pow(x, y)
	if !(x > 0) || r == 0 || math.IsInf(r, 0) || math.IsNaN(r) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return r
	}
	target := newBig().Mul(bigLn(newBig().SetFloat64(x)), newBig().SetFloat64(y))
	// math.Pow is within a few units in the last place.
	for i := 0; i < 8; i++ {
		if up := math.Nextafter(r, math.Inf(1)); !math.IsInf(up, 0) && target.Cmp(bigLn(bigMid(r, up))) > 0 {
			r = up
		} else if down := math.Nextafter(r, 0); down > 0 && target.Cmp(bigLn(bigMid(r, down))) < 0 {
			r = down
		} else {
			break
		}
	}
	return r
}

// pyLog is C's correctly rounded log(x) of a positive number.
func pyLog(x float64) float64 {
	f, _ := bigLn(newBig().SetFloat64(x)).Float64()
	return f
}

// pyLog10 is C's log10(x) of a positive number.
func pyLog10(x float64) float64 {
	l := bigLn(newBig().SetFloat64(x))
	f, _ := l.Quo(l, bigLn(newBig().SetInt64(10))).Float64()
	return f
}

const bigLogPrec = 200

func newBig() *big.Float { return new(big.Float).SetPrec(bigLogPrec) }

func bigMid(a, b float64) *big.Float {
	m := newBig().SetFloat64(a)
	m.Add(m, newBig().SetFloat64(b))
	return m.Quo(m, newBig().SetInt64(2))
}

// bigLn is the natural logarithm of a positive number at bigLogPrec
// bits: e·ln 2 + 2·atanh((m-1)/(m+1)) for x = m·2^e.
func bigLn(x *big.Float) *big.Float {
	m := newBig()
	e := x.MantExp(m)
	ln2 := bigAtanh2(newBig().Quo(newBig().SetInt64(1), newBig().SetInt64(3)))
	one := newBig().SetInt64(1)
	z := newBig().Sub(m, one)
	z.Quo(z, newBig().Add(m, one))
	out := bigAtanh2(z)
	return out.Add(out, ln2.Mul(ln2, newBig().SetInt64(int64(e))))
}

// bigAtanh2 is 2·atanh(z) for |z| <= 1/3 by its series.
func bigAtanh2(z *big.Float) *big.Float {
	sum := newBig()
	z2 := newBig().Mul(z, z)
	term := newBig().Set(z)
	for k := int64(0); k < 400; k++ {
		t := newBig().Quo(term, newBig().SetInt64(2*k+1))
		sum.Add(sum, t)
		if t.Sign() == 0 || t.MantExp(nil)-sum.MantExp(nil) < -bigLogPrec {
			break
		}
		term.Mul(term, z2)
	}
	return sum.Mul(sum, newBig().SetInt64(2))
}
