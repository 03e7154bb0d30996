package template

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/pyre"
)

// Character sets of Python's string module, by the names Ansible's
// password lookup accepts in chars=.
var passwordCharsets = map[string]string{
	"ascii_letters":   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
	"ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"digits":          "0123456789",
	"hexdigits":       "0123456789abcdefABCDEF",
	"octdigits":       "01234567",
	"punctuation":     "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
}

// lookupPassword is Ansible's password lookup: the password stored in the
// controller file named by each term (its first word), or a new random one
// (length=20, chars=ascii_letters,digits,".,:-_" by default) written there
// first, its directory created; /dev/null is never written, so each use
// gives a new password. Options come after the path in the term
// ("path length=12 chars=digits") or as keyword arguments. A relative path
// is relative to the playbook's directory. encrypt= is not supported.
func (s *state) lookupPassword(terms []any, kw map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range pyFlatten(terms) {
		path, opts, err := passwordTerm(toStr(t), kw)
		if err != nil {
			return nil, err
		}
		if _, ok := opts["encrypt"]; ok {
			return nil, fmt.Errorf("lookup password: encrypt is not supported by tend; use the password_hash filter on the result")
		}
		if !filepath.IsAbs(path) {
			base := s.e.opts.BaseDir
			if d, ok := s.vars["playbook_dir"].(string); ok && d != "" {
				base = d
			}
			path = filepath.Join(base, path)
		}
		if path != os.DevNull {
			if b, err := os.ReadFile(path); err == nil {
				word, _, _ := strings.Cut(strings.TrimRight(string(b), "\r\n"), " ")
				out = append(out, word)
				continue
			} else if !os.IsNotExist(err) {
				return nil, fmt.Errorf("lookup password: %w", err)
			}
		}
		length := 20
		if v, ok := opts["length"]; ok {
			if length, err = strconv.Atoi(v); err != nil || length < 0 {
				return nil, fmt.Errorf("lookup password: length=%q is not a number", v)
			}
		}
		chars := `ascii_letters,digits,.,:-_`
		if v, ok := opts["chars"]; ok {
			chars = v
		}
		pw, err := randomPassword(length, passwordChars(chars))
		if err != nil {
			return nil, err
		}
		if path != os.DevNull {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("lookup password: %w", err)
			}
			if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("lookup password: %w", err)
			}
		}
		out = append(out, pw)
	}
	return out, nil
}

// passwordTerm splits "path k=v k=v" and merges keyword arguments.
func passwordTerm(term string, kw map[string]any) (string, map[string]string, error) {
	opts := map[string]string{}
	for k, v := range kw {
		if k == "wantlist" || k == "errors" {
			continue
		}
		opts[k] = toStr(v)
	}
	fields := strings.Fields(term)
	if len(fields) == 0 {
		return "", nil, fmt.Errorf("lookup password: no path given")
	}
	// The path may contain spaces: it ends where the first k=v begins.
	i := 1
	for i < len(fields) && !strings.Contains(fields[i], "=") {
		i++
	}
	path := strings.Join(fields[:i], " ")
	for _, f := range fields[i:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return "", nil, fmt.Errorf("lookup password: expected key=value, got %q", f)
		}
		switch k {
		case "length", "chars", "encrypt", "ident", "seed":
			opts[k] = v
		default:
			return "", nil, fmt.Errorf("lookup password: unknown option %q", k)
		}
	}
	return path, opts, nil
}

var doubleComma = regexp.MustCompile(`,,`)

// passwordChars expands chars= ("ascii_letters,digits,,": named sets,
// literal characters, ",," for a comma) into the alphabet, deduplicated
// and sorted so the draw does not depend on the order written.
func passwordChars(spec string) []rune {
	comma := strings.Contains(spec, ",,")
	spec = doubleComma.ReplaceAllString(spec, ",")
	seen := map[rune]bool{}
	if comma {
		seen[','] = true
	}
	for _, part := range strings.Split(spec, ",") {
		if set, ok := passwordCharsets[part]; ok {
			part = set
		}
		for _, r := range part {
			seen[r] = true
		}
	}
	out := make([]rune, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func randomPassword(n int, alphabet []rune) (string, error) {
	if len(alphabet) == 0 {
		return "", fmt.Errorf("lookup password: chars gives no characters")
	}
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("lookup password: %w", err)
		}
		b.WriteRune(alphabet[i.Int64()])
	}
	return b.String(), nil
}

// VarOrderKey is the variable under which the caller may put a VarOrder
// (a name no template can write).
const VarOrderKey = "\x00varorder"

// VarOrder orders variable names as they were defined.
type VarOrder func(names []string) []string

// lookupVarnames lists the names of the variables matching each term, a
// regular expression searched anywhere in the name (Python's re.search, as
// Ansible's varnames lookup). Within each term names come in the order the
// variables were defined when the variables carry a VarOrder, else sorted.
func (s *state) lookupVarnames(terms []any, _ map[string]any) ([]any, error) {
	names := make([]string, 0, len(s.vars))
	for k := range s.vars {
		if k != VarOrderKey {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if order, ok := s.vars[VarOrderKey].(VarOrder); ok {
		names = order(names)
	}
	out := []any{}
	for _, t := range pyFlatten(terms) {
		if _, ok := normalize(t).(string); !ok {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("Invalid setting identifier, \"%s\" is not a string, it is a <class '%s'>", toStr(t), typeName(normalize(t)))
		}
		re, err := pyre.Compile(toStr(t), 0)
		if err != nil {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("Unable to use \"%s\" as a search parameter: %w", toStr(t), err)
		}
		for _, n := range names {
			ok, err := re.MatchString(n)
			if err != nil {
				return nil, fmt.Errorf("lookup varnames: %w", err)
			}
			if ok {
				out = append(out, n)
			}
		}
	}
	return out, nil
}
