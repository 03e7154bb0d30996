package template

import (
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// FirstFoundNames turns the terms of the first_found lookup (and of a
// with_first_found loop) into the file names to try, in order, and says
// whether a miss is allowed (skip), exactly as Ansible 2.14's first_found
// does: a string term is one name (commas included); a mapping's files are
// split on "," and ";" and its paths on ",", ":" and ";", every path joined
// with every file; a mapping with files but no paths replaces the names
// gathered so far; a list term is processed recursively; the last term
// processed decides skip. kw holds the lookup's keyword options, which
// apply to string terms only.
func FirstFoundNames(terms []any, kw map[string]any) ([]string, bool, error) {
	var names []string
	skip := false
	for _, term := range terms {
		var opts map[string]any
		switch x := term.(type) {
		case map[string]any:
			opts = x
		case *odict.Dict:
			opts = x.Map()
		case string, Unsafe:
			opts = kw
		case []any:
			partial, s, err := FirstFoundNames(x, kw)
			if err != nil {
				return nil, false, err
			}
			names = append(names, partial...)
			skip = s
			continue
		default:
			return nil, false, fmt.Errorf("invalid term supplied, can handle string, mapping or list of strings but got: %T for %v", term, term)
		}
		files := splitOn(optionList(opts["files"]), ",;")
		paths := splitOn(optionList(opts["paths"]), ",:;")
		skip = toBool(opts["skip"])
		switch {
		case len(paths) > 0:
			for _, p := range paths {
				for _, f := range files {
					names = append(names, pyJoin(p, f))
				}
			}
		case len(files) > 0:
			names = files
		default:
			if odict.IsDict(term) {
				return nil, false, fmt.Errorf("first_found: a mapping term needs 'files' (got %v)", term)
			}
			names = append(names, plainStr(term))
		}
	}
	return names, skip, nil
}

// optionList reads a list option as Ansible's config does: a string is
// split on commas and each part stripped.
func optionList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string, Unsafe:
		var out []string
		for _, s := range strings.Split(plainStr(x), ",") {
			out = append(out, strings.TrimSpace(s))
		}
		return out
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, plainStr(e))
		}
		return out
	case []string:
		return x
	}
	return []string{plainStr(v)}
}

// plainStr is a term's text: a name rendered from host data (facts) is
// Unsafe, which is text too, not its repr.
func plainStr(v any) string {
	if u, ok := v.(Unsafe); ok {
		return string(u)
	}
	return toStr(v)
}

// splitOn splits every value on any of chars, as first_found's _split_on
// does, but drops empty parts (Ansible would try "" and find the search
// directory itself).
func splitOn(values []string, chars string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(chars, r) })...)
	}
	return out
}

// pyJoin joins like Python's os.path.join: an absolute name stands alone.
func pyJoin(dir, name string) string {
	switch {
	case strings.HasPrefix(name, "/"):
		return name
	case dir == "" || strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}
