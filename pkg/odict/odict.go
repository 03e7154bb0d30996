// Package odict is the ordered dictionary of tend's variable values: a
// mapping that remembers the order in which its keys were first set, as
// Python's dict (and so Ansible's) does. YAML mappings, template dict
// literals and the filters that build dicts (combine, items2dict,
// from_json...) produce one, so that with_dict, dict.items(), loop labels
// and to_json list keys in the order the author wrote them.
//
// Values from elsewhere (facts, module results) stay plain
// map[string]any; code that reads dicts accepts both through As, where a
// plain map's keys come sorted.
package odict

import (
	"bytes"
	"encoding/json"
	"iter"
	"sort"
)

// Dict is an ordered map from string keys to values. Like a Go map it is a
// reference: copies of the pointer share their contents. The zero value
// is not ready for use; call New.
type Dict struct {
	keys []string
	m    map[string]any
}

// New returns an empty Dict with room for n keys.
func New(n int) *Dict {
	return &Dict{keys: make([]string, 0, n), m: make(map[string]any, n)}
}

// FromMap returns a Dict holding m's entries, keys sorted. The map is
// copied (shallowly).
func FromMap(m map[string]any) *Dict {
	d := New(len(m))
	for _, k := range SortedKeys(m) {
		d.keys = append(d.keys, k)
		d.m[k] = m[k]
	}
	return d
}

// Set sets key k to v; a new key goes last, an existing one keeps its place.
func (d *Dict) Set(k string, v any) {
	if _, ok := d.m[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[k] = v
}

// Get returns the value of k and whether it is set.
func (d *Dict) Get(k string) (any, bool) {
	v, ok := d.m[k]
	return v, ok
}

// Delete removes k.
func (d *Dict) Delete(k string) {
	if _, ok := d.m[k]; !ok {
		return
	}
	delete(d.m, k)
	for i, key := range d.keys {
		if key == k {
			d.keys = append(d.keys[:i:i], d.keys[i+1:]...)
			break
		}
	}
}

// Len returns the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in order. The caller must not modify the slice.
func (d *Dict) Keys() []string { return d.keys }

// Map returns the entries as a Go map, which the caller must not modify.
func (d *Dict) Map() map[string]any { return d.m }

// Clone returns a shallow copy.
func (d *Dict) Clone() *Dict {
	out := &Dict{keys: append([]string(nil), d.keys...), m: make(map[string]any, len(d.m))}
	for k, v := range d.m {
		out.m[k] = v
	}
	return out
}

// MarshalJSON encodes the entries in order.
func (d *Dict) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range d.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(d.m[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// SortedKeys returns m's keys sorted.
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// As reports whether v is a dict (a *Dict or a map[string]any) and returns
// its keys in order (sorted for a plain map) and its entries, which the
// caller must not modify.
func As(v any) (keys []string, m map[string]any, ok bool) {
	switch x := v.(type) {
	case *Dict:
		return x.keys, x.m, true
	case map[string]any:
		return SortedKeys(x), x, true
	}
	return nil, nil, false
}

// AsMap returns v's entries when v is a dict (a *Dict or a
// map[string]any), without ordering; the caller must not modify them.
func AsMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case *Dict:
		return x.m, true
	case map[string]any:
		return x, true
	}
	return nil, false
}

// IsDict reports whether v is a *Dict or a map[string]any.
func IsDict(v any) bool {
	switch v.(type) {
	case *Dict, map[string]any:
		return true
	}
	return false
}

// Plain returns v with every *Dict in it, at any depth, turned into a
// map[string]any, for code that only knows Go maps (modules). Lists and
// maps without a Dict inside are returned as they are.
func Plain(v any) any {
	out, _ := plain(v)
	return out
}

// plain is Plain that also reports whether anything was converted.
func plain(v any) (any, bool) {
	switch x := v.(type) {
	case *Dict:
		out := make(map[string]any, len(x.m))
		for k, e := range x.m {
			out[k], _ = plain(e)
		}
		return out, true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			p, changed := plain(e)
			if !changed {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			out[k] = p
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			p, changed := plain(e)
			if !changed {
				continue
			}
			if out == nil {
				out = append([]any(nil), x...)
			}
			out[i] = p
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}

// All iterates over the entries in order.
func (d *Dict) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, k := range d.keys {
			if !yield(k, d.m[k]) {
				return
			}
		}
	}
}

// Update returns d with fn applied to every value, in order: a new Dict
// when fn changed any value (reported by its second result), d itself
// otherwise. The first error stops it.
func (d *Dict) Update(fn func(v any) (any, bool, error)) (*Dict, bool, error) {
	var out *Dict
	for i, k := range d.keys {
		r, changed, err := fn(d.m[k])
		if err != nil {
			return nil, false, err
		}
		if changed && out == nil {
			out = &Dict{keys: d.keys[:i:i], m: make(map[string]any, len(d.m))}
			for _, k2 := range d.keys[:i] {
				out.m[k2] = d.m[k2]
			}
		}
		if out != nil {
			out.keys = append(out.keys, k)
			out.m[k] = r
		}
	}
	if out == nil {
		return d, false, nil
	}
	return out, true, nil
}

// MapValues returns a new Dict, in d's order, holding fn of every value.
func (d *Dict) MapValues(fn func(v any) any) *Dict {
	out := &Dict{keys: append([]string(nil), d.keys...), m: make(map[string]any, len(d.m))}
	for k, v := range d.m {
		out.m[k] = fn(v)
	}
	return out
}
