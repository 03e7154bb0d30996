package template

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
)

// listify is Ansible's listify_lookup_plugin_terms after templating: a
// list or a mapping stays as it is, anything else (a string, a number,
// None) becomes a list of that one value.
func listify(v any) any {
	switch v.(type) {
	case []any:
		return v
	}
	if _, _, ok := odict.As(v); ok {
		return v
	}
	return []any{v}
}

// pyFlatten is Ansible's LookupBase._flatten: list elements are spliced
// in, one level deep.
func pyFlatten(l []any) []any {
	out := []any{}
	for _, e := range l {
		if sub, ok := e.([]any); ok {
			out = append(out, sub...)
		} else {
			out = append(out, e)
		}
	}
	return out
}

// pyIter is what Python's iteration gives for a lookup's terms: a list's
// elements, a mapping's keys, a string's characters.
func pyIter(v any) []any {
	if keys, _, ok := odict.As(v); ok {
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out
	}
	if s, ok := v.(string); ok {
		var out []any
		for _, r := range s {
			out = append(out, string(r))
		}
		return out
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// loopLookups are the lookup plugins that only reshape their terms, as
// Ansible's of the same name do: the same code runs lookup('nested', a, b)
// and with_nested: [a, b]; the errors are Ansible's messages.
var loopLookups = map[string]func(terms any) ([]any, error){
	"items": func(raw any) ([]any, error) { return pyFlatten(pyIter(raw)), nil },
	"list": func(raw any) ([]any, error) {
		l, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("with_list expects a list")
		}
		return l, nil
	},
	"flattened": func(raw any) ([]any, error) { return flattenDeep(pyIter(raw)), nil },
	"indexed_items": func(raw any) ([]any, error) {
		l, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("with_indexed_items expects a list")
		}
		out := []any{}
		for i, e := range pyFlatten(l) {
			out = append(out, []any{i, e})
		}
		return out, nil
	},
	"sequence":    func(raw any) ([]any, error) { return Sequence(pyIter(raw)) },
	"dict":        withDict,
	"together":    withTogether,
	"nested":      withNested,
	"subelements": withSubelements,
	"random_choice": func(raw any) ([]any, error) {
		l := pyIter(raw)
		if len(l) == 0 {
			return []any{}, nil
		}
		return []any{l[rand.Intn(len(l))]}, nil
	},
}

// LoopLookup runs the lookup plugin name for with_<name>: raw is the
// task's rendered with_<name> value, made a list as Ansible's
// listify_lookup_plugin_terms does; vars are the task's variables, which
// the lookups reading files or running commands use (role_path,
// ansible_search_path). What those return (file contents, command
// output) is data, marked Unsafe as Ansible wraps loop items.
func (e *Engine) LoopLookup(name string, raw any, vars map[string]any) ([]any, error) {
	terms := listify(raw)
	if f, ok := loopLookups[name]; ok {
		return f(terms)
	}
	if _, ok := e.lookups[name]; !ok {
		return nil, fmt.Errorf("lookup plugin '%s' not found", name)
	}
	list, ok := terms.([]any)
	if !ok {
		list = pyIter(terms)
	}
	s := e.newState(vars, "")
	out, err := s.runLookup(name, list, nil)
	if err != nil {
		return nil, err
	}
	return MarkUnsafe(out).([]any), nil
}

// IsLookup reports whether tend has the lookup plugin name (short or
// fully qualified), for with_<name>.
func IsLookup(name string) bool {
	name = LookupName(name)
	if _, ok := loopLookups[name]; ok {
		return true
	}
	_, ok := builtinLookups()[name]
	return ok
}

// flattenDeep flattens nested lists all the way down.
func flattenDeep(l []any) []any {
	out := []any{}
	for _, e := range l {
		if sub, ok := e.([]any); ok {
			out = append(out, flattenDeep(sub)...)
		} else {
			out = append(out, e)
		}
	}
	return out
}

// withDict is with_dict: {key, value} items of each mapping, in its order.
func withDict(raw any) ([]any, error) {
	terms, ok := raw.([]any)
	if !ok {
		terms = []any{raw}
	}
	var out []any
	for _, t := range terms {
		keys, m, ok := odict.As(t)
		if !ok {
			return nil, fmt.Errorf("with_dict expects a dict")
		}
		out = appendDictItems(out, keys, m)
	}
	return out, nil
}

// withTogether is with_together: the lists zipped, shorter ones padded
// with None.
func withTogether(raw any) ([]any, error) {
	var lists [][]any
	for _, l := range pyIter(raw) {
		lists = append(lists, pyIter(listify(l)))
	}
	if len(lists) == 0 {
		return nil, fmt.Errorf("with_together requires at least one element in each list")
	}
	n := 0
	for _, l := range lists {
		n = max(n, len(l))
	}
	var out []any
	for i := 0; i < n; i++ {
		var row []any
		for _, l := range lists {
			row = append(row, itemOrNone(l, i))
		}
		out = append(out, pyFlatten(row))
	}
	return out, nil
}

// withNested is with_nested: the cartesian product of the lists.
func withNested(raw any) ([]any, error) {
	var lists [][]any
	for _, l := range pyIter(raw) {
		lists = append(lists, pyIter(listify(l)))
	}
	if len(lists) == 0 {
		return nil, fmt.Errorf("with_nested requires at least one element in the nested list")
	}
	result := lists[0]
	for _, next := range lists[1:] {
		var combined []any
		for _, x := range result {
			for _, y := range next {
				combined = append(combined, pyFlatten([]any{x, y}))
			}
		}
		result = combined
	}
	out := []any{}
	for _, x := range result {
		out = append(out, pyFlatten(pyIter(x)))
	}
	return out, nil
}

// withSubelements is with_subelements: [list (or mapping) of mappings,
// "key.subkey", {skip_missing: bool}] gives a [mapping, element] pair for
// each element of each mapping's list at that key path. As in Ansible,
// the mapping in the pair no longer holds that list.
func withSubelements(raw any) ([]any, error) {
	termsErr := func(msg string) error {
		return fmt.Errorf("subelements lookup expects a list of two or three items, %s", msg)
	}
	terms, ok := raw.([]any)
	if !ok || len(terms) < 2 || len(terms) > 3 {
		return nil, termsErr("")
	}
	first := listify(terms[0])
	path, isStr := terms[1].(string)
	if !isStr {
		return nil, termsErr("first a dict or a list, second a string pointing to the subkey")
	}
	var elements []any
	if keys, m, ok := odict.As(first); ok {
		if s, ok := m["skipped"]; ok && s != false {
			return nil, nil
		}
		for _, k := range keys {
			elements = append(elements, m[k])
		}
	} else {
		elements = first.([]any)
	}
	skipMissing := false
	if len(terms) == 3 {
		_, flags, ok := odict.As(terms[2])
		if !ok {
			return nil, termsErr("the optional third item must be a dict with flags ['skip_missing']")
		}
		skipMissing = toBool(flags["skip_missing"])
	}
	var out []any
	for _, e := range elements {
		pairs, err := subelementPairs(e, strings.Split(path, "."), skipMissing)
		if err != nil {
			return nil, err
		}
		out = append(out, pairs...)
	}
	return out, nil
}

// subelementPairs returns the [element, sub] pairs of one element of
// with_subelements, the element without the list it was paired from.
func subelementPairs(e any, keys []string, skipMissing bool) ([]any, error) {
	_, m, ok := odict.As(e)
	if !ok {
		return nil, fmt.Errorf("subelements lookup expects a dictionary, got '%s'", pyfmt.Str(e))
	}
	if s, ok := m["skipped"]; ok && s != false {
		return nil, nil
	}
	top := copyDict(e)
	cur := top
	var sublist []any
	for i, k := range keys {
		v, ok := cur.Get(k)
		if !ok {
			if skipMissing {
				continue
			}
			return nil, fmt.Errorf("could not find '%s' key in iterated item '%s'", k, pyfmt.Str(cur))
		}
		if i < len(keys)-1 {
			if _, _, isMap := odict.As(v); !isMap {
				if skipMissing {
					continue
				}
				return nil, fmt.Errorf("the key %s should point to a dictionary, got '%s'", k, pyfmt.Str(v))
			}
			next := copyDict(v)
			cur.Set(k, next)
			cur = next
			continue
		}
		l, isList := v.([]any)
		if !isList {
			return nil, fmt.Errorf("the key %s should point to a list, got '%s'", k, pyfmt.Str(v))
		}
		sublist = l
		cur.Delete(k)
	}
	var out []any
	for _, sub := range sublist {
		out = append(out, []any{top, sub})
	}
	return out, nil
}

// copyDict is a shallow copy of a mapping as an ordered dict.
func copyDict(v any) *odict.Dict {
	keys, m, _ := odict.As(v)
	d := odict.New(len(keys))
	for _, k := range keys {
		d.Set(k, m[k])
	}
	return d
}

func itemOrNone(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}
