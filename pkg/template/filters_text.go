package template

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
	"github.com/tend-dev/tend/pkg/pyre"
	"gopkg.in/yaml.v3"
)

// compileRegex compiles a Python regular expression (pkg/pyre) with the
// flags Ansible's filters and tests take as arguments.
func compileRegex(pattern string, ignorecase, multiline bool) (*pyre.Regexp, error) {
	var flags pyre.Flags
	if ignorecase {
		flags |= pyre.IgnoreCase
	}
	if multiline {
		flags |= pyre.Multiline
	}
	return pyre.Compile(pattern, flags)
}

func regexFlags(args []any, kw map[string]any, pos int) (bool, bool) {
	return argBool(args, kw, pos, "ignorecase", false), argBool(args, kw, pos+1, "multiline", false)
}

func regexFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"regex_replace": filterRegexReplace,
		"regex_search":  filterRegexSearch,
		"regex_findall": filterRegexFindall,
		"regex_escape":  filterRegexEscape,
	}
}

// filterRegexReplace is regex_replace(pattern, replacement, ignorecase,
// multiline, count, mandatory_count): Python's re.subn, where count > 0
// replaces only the first count matches and a mandatory_count other than
// the number of replacements is an error.
func filterRegexReplace(_ *state, in any, args []any, kw map[string]any) (any, error) {
	pattern := argStr(args, kw, 0, "pattern", "")
	repl := argStr(args, kw, 1, "replacement", "")
	ic, ml := regexFlags(args, kw, 2)
	re, err := compileRegex(pattern, ic, ml)
	if err != nil {
		return nil, err
	}
	count := toInt(arg(args, kw, 4, "count", 0), 0, 10)
	str := toStr(in)
	out, n, err := re.Subn(str, repl, count)
	if err != nil {
		return nil, err
	}
	if want := toInt(arg(args, kw, 5, "mandatory_count", 0), 0, 10); want != 0 && want != n {
		return nil, fmt.Errorf("'%s' should match %d times, but matches %d times in '%s'", pattern, want, n, str)
	}
	return out, nil
}

// filterRegexSearch is regex_search(pattern, '\1', '\g<name>'...): the
// first match, or with group references the list of those groups; None
// when nothing matches.
func filterRegexSearch(_ *state, in any, args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("regex_search needs a pattern")
	}
	ic, ml := toBool(kw["ignorecase"]), toBool(kw["multiline"])
	re, err := compileRegex(toStr(args[0]), ic, ml)
	if err != nil {
		return nil, err
	}
	str := toStr(in)
	m, err := re.Search(str)
	if m == nil || err != nil {
		return nil, err
	}
	if len(args) == 1 {
		return str[m[0]:m[1]], nil
	}
	out := []any{}
	for _, g := range args[1:] {
		ref := toStr(g)
		idx, err := regexGroupIndex(re, ref)
		if err != nil {
			return nil, err
		}
		if idx < 0 || 2*idx+1 >= len(m) {
			return nil, fmt.Errorf("no such group %q", ref)
		}
		if m[2*idx] < 0 {
			out = append(out, nil)
		} else {
			out = append(out, str[m[2*idx]:m[2*idx+1]])
		}
	}
	return out, nil
}

// regexGroupIndex reads a group reference of regex_search: \N, \g<N> or
// \g<name>.
func regexGroupIndex(re *pyre.Regexp, ref string) (int, error) {
	switch {
	case strings.HasPrefix(ref, `\g<`) && strings.HasSuffix(ref, ">"):
		name := ref[3 : len(ref)-1]
		if idx := re.GroupIndex(name); idx >= 0 {
			return idx, nil
		}
		idx, err := strconv.Atoi(name)
		if err != nil {
			return 0, fmt.Errorf("unknown group %q", name)
		}
		return idx, nil
	case strings.HasPrefix(ref, `\`):
		idx, err := strconv.Atoi(ref[1:])
		if err != nil {
			return 0, fmt.Errorf("bad group reference %q", ref)
		}
		return idx, nil
	}
	return 0, fmt.Errorf("unknown argument %q", ref)
}

// filterRegexFindall is regex_findall(pattern, multiline, ignorecase):
// every match, as Python's re.findall returns them (the match, its one
// group, or a list of groups; an unmatched group is "").
func filterRegexFindall(_ *state, in any, args []any, kw map[string]any) (any, error) {
	ml := argBool(args, kw, 1, "multiline", false)
	ic := argBool(args, kw, 2, "ignorecase", false)
	re, err := compileRegex(argStr(args, kw, 0, "pattern", ""), ic, ml)
	if err != nil {
		return nil, err
	}
	str := toStr(in)
	ms, err := re.FindAll(str)
	if err != nil {
		return nil, err
	}
	group := func(m []int, i int) string {
		if m[2*i] < 0 {
			return ""
		}
		return str[m[2*i]:m[2*i+1]]
	}
	out := []any{}
	for _, m := range ms {
		switch re.NumGroups() {
		case 0:
			out = append(out, group(m, 0))
		case 1:
			out = append(out, group(m, 1))
		default:
			gs := make([]string, re.NumGroups())
			for i := range gs {
				gs[i] = group(m, i+1)
			}
			out = append(out, strsToList(gs))
		}
	}
	return out, nil
}

// filterRegexEscape is regex_escape(re_type='python'|'posix_basic').
func filterRegexEscape(_ *state, in any, args []any, kw map[string]any) (any, error) {
	switch t := argStr(args, kw, 0, "re_type", "python"); t {
	case "python":
		return pyre.Escape(toStr(in)), nil
	case "posix_basic":
		var b strings.Builder
		for _, r := range toStr(in) {
			if strings.ContainsRune(`.[]\*^$`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return b.String(), nil
	case "posix_extended":
		return nil, fmt.Errorf("regex_escape: regex type (%s) not yet implemented", t)
	default:
		return nil, fmt.Errorf("regex_escape: invalid regex type (%s)", t)
	}
}

// pyJSON encodes like Python's json.dumps (keys sorted: a Go map has no
// order to keep). A value of a type with no JSON form fails as in Python.
func pyJSON(v any, indent int, ensureASCII, keepOrder bool, itemSep, keySep string) (string, error) {
	return pyfmt.JSON(v, pyfmt.JSONOptions{
		Indent: indent, ItemSep: itemSep, KeySep: keySep, EnsureASCII: ensureASCII, KeepOrder: keepOrder,
		Other: func(v any) (any, error) {
			if d, ok := v.(pyDatetime); ok {
				return d.isoformat(), nil
			}
			n := normalize(v)
			if fmt.Sprintf("%T", n) == fmt.Sprintf("%T", v) {
				//lint:ignore ST1005 Python's json.dumps message, word for word
				return nil, fmt.Errorf("Object of type %T is not JSON serializable", v)
			}
			return n, nil
		},
	})
}

// normalizeDeep converts decoded JSON/YAML to the evaluator's types.
func normalizeDeep(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
		f, _ := n.Float64()
		return f
	}
	v = normalize(v)
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeDeep(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeDeep(e)
		}
		return out
	}
	return v
}

func yamlNode(v any, flowLeaves bool) *yaml.Node {
	switch x := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: formatFloat(x)}
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
		if strings.Contains(x, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		leaf := true
		for _, e := range x {
			c := yamlNode(e, flowLeaves)
			if c.Kind != yaml.ScalarNode || c.Style == yaml.LiteralStyle {
				leaf = false
			}
			n.Content = append(n.Content, c)
		}
		if flowLeaves && (leaf || len(x) == 0) {
			n.Style = yaml.FlowStyle
		}
		return n
	case map[string]any, *odict.Dict:
		// PyYAML's dump sorts keys (sort_keys=True by default).
		_, m, _ := odict.As(x)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		leaf := true
		for _, k := range sortedKeys(m) {
			c := yamlNode(m[k], flowLeaves)
			if c.Kind != yaml.ScalarNode || c.Style == yaml.LiteralStyle {
				leaf = false
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, c)
		}
		if flowLeaves && (leaf || len(m) == 0) {
			n.Style = yaml.FlowStyle
		}
		return n
	}
	return yamlNode(toStr(v), flowLeaves)
}

func toYAML(v any, indent int, flowLeaves bool) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(indent)
	if err := enc.Encode(yamlNode(v, flowLeaves)); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

func hashString(name, data string) (string, error) {
	var h hash.Hash
	switch strings.ToLower(name) {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha224":
		h = sha256.New224()
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return "", fmt.Errorf("unsupported hash type %q", name)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// shellQuote is Python's shlex.quote, which Ansible's quote filter uses.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// pyURLQuote is Python's urllib.parse.quote with the given safe characters.
func pyURLQuote(s, safe string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~", c) >= 0 || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// pyQuotePlus encodes a query-string component (spaces become '+'), as
// Jinja2's urlencode does for dicts.
func pyQuotePlus(s string) string {
	return strings.ReplaceAll(pyURLQuote(s, " "), " ", "+")
}

func encodingFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"to_json": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			indent := -1
			if i, ok := kw["indent"]; ok && i != nil {
				indent = toInt(i, -1, 10)
			}
			itemSep := ", "
			if indent >= 0 {
				itemSep = ","
			}
			ascii := true
			if a, ok := kw["ensure_ascii"]; ok {
				ascii = toBool(a)
			}
			// Ansible's to_json is json.dumps without sort_keys: dicts
			// keep their order.
			return pyJSON(in, indent, ascii, true, itemSep, ": ")
		},
		"to_nice_json": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			indent := toInt(arg(args, kw, 0, "indent", 4), 4, 10)
			ascii := true
			if a, ok := kw["ensure_ascii"]; ok {
				ascii = toBool(a)
			}
			// to_nice_json passes sort_keys=True.
			return pyJSON(in, indent, ascii, false, ",", ": ")
		},
		"from_json": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			v, err := decodeJSONOrdered(toStr(in))
			if err != nil {
				return nil, fmt.Errorf("from_json: %w", err)
			}
			return v, nil
		},
		"to_yaml": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			return toYAML(in, toInt(arg(args, kw, -1, "indent", 2), 2, 10), true)
		},
		"to_nice_yaml": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			return toYAML(in, toInt(arg(args, kw, 0, "indent", 4), 4, 10), false)
		},
		"from_yaml": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(toStr(in)), &n); err != nil {
				return nil, fmt.Errorf("from_yaml: %w", err)
			}
			v, err := yamlOrdered(&n)
			if err != nil {
				return nil, fmt.Errorf("from_yaml: %w", err)
			}
			return v, nil
		},
		"from_yaml_all": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			dec := yaml.NewDecoder(strings.NewReader(toStr(in)))
			out := []any{}
			for {
				var n yaml.Node
				err := dec.Decode(&n)
				if err != nil {
					if err.Error() == "EOF" {
						return out, nil
					}
					return nil, fmt.Errorf("from_yaml_all: %w", err)
				}
				v, err := yamlOrdered(&n)
				if err != nil {
					return nil, fmt.Errorf("from_yaml_all: %w", err)
				}
				out = append(out, v)
			}
		},
		"b64encode": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			return base64.StdEncoding.EncodeToString([]byte(toStr(in))), nil
		},
		"b64decode": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			s := strings.TrimSpace(toStr(in))
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
					return nil, fmt.Errorf("b64decode: %w", err)
				}
			}
			if !utf8.Valid(b) {
				return strings.ToValidUTF8(string(b), "\uFFFD"), nil
			}
			return string(b), nil
		},
		"hash": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			return hashString(argStr(args, kw, 0, "hashtype", "sha1"), toStr(in))
		},
		"checksum": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			return hashString("sha1", toStr(in))
		},
		"md5": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			return hashString("md5", toStr(in))
		},
		"sha1": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			return hashString("sha1", toStr(in))
		},
		"password_hash": filterPasswordHash,
		"quote": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			return shellQuote(toStr(in)), nil
		},
		"urlencode": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			switch x := in.(type) {
			case map[string]any, *odict.Dict:
				keys, m, _ := odict.As(x)
				parts := []string{}
				for _, k := range keys {
					parts = append(parts, pyQuotePlus(k)+"="+pyQuotePlus(toStr(m[k])))
				}
				return strings.Join(parts, "&"), nil
			case []any:
				parts := []string{}
				for _, e := range x {
					pair, ok := e.([]any)
					if !ok || len(pair) != 2 {
						return nil, fmt.Errorf("urlencode: expected key/value pairs")
					}
					parts = append(parts, pyQuotePlus(toStr(pair[0]))+"="+pyQuotePlus(toStr(pair[1])))
				}
				return strings.Join(parts, "&"), nil
			}
			return pyURLQuote(toStr(in), "/"), nil
		},
		"urlsplit": filterURLSplit,
		"to_uuid": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			// uuid5 in Ansible's namespace 361E6D51-FAEC-444A-9079-341386DA8E2E.
			ns := []byte{0x36, 0x1e, 0x6d, 0x51, 0xfa, 0xec, 0x44, 0x4a, 0x90, 0x79, 0x34, 0x13, 0x86, 0xda, 0x8e, 0x2e}
			h := sha1.New()
			h.Write(ns)
			h.Write([]byte(toStr(in)))
			sum := h.Sum(nil)[:16]
			sum[6] = (sum[6] & 0x0f) | 0x50
			sum[8] = (sum[8] & 0x3f) | 0x80
			x := hex.EncodeToString(sum)
			return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:], nil
		},
		"strftime": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			t := time.Now()
			if sec := arg(args, kw, 0, "second", nil); sec != nil {
				f := toFloat(sec, 0)
				t = time.Unix(int64(f), int64((f-math.Floor(f))*1e9))
			}
			if toBool(arg(args, kw, 1, "utc", false)) {
				t = t.UTC()
			}
			return strftime(toStr(in), t), nil
		},
	}
}

func filterURLSplit(_ *state, in any, args []any, kw map[string]any) (any, error) {
	u, err := url.Parse(toStr(in))
	if err != nil {
		return nil, fmt.Errorf("urlsplit: %w", err)
	}
	var port any
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	var user, pass any
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pass = p
		}
	}
	var host any
	if h := u.Hostname(); h != "" {
		host = strings.ToLower(h)
	}
	parts := map[string]any{
		"scheme": u.Scheme, "netloc": u.Host, "path": u.EscapedPath(), "query": u.RawQuery,
		"fragment": u.Fragment, "hostname": host, "port": port, "username": user, "password": pass,
	}
	if u.User != nil {
		parts["netloc"] = u.User.String() + "@" + u.Host
	}
	if q := arg(args, kw, 0, "query", nil); q != nil {
		v, ok := parts[toStr(q)]
		if !ok {
			return nil, fmt.Errorf("urlsplit: unknown URL component %q", toStr(q))
		}
		return v, nil
	}
	return parts, nil
}

const saltChars = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func filterPasswordHash(_ *state, in any, args []any, kw map[string]any) (any, error) {
	scheme := argStr(args, kw, 0, "hashtype", "sha512")
	salt := ""
	if sv := arg(args, kw, 1, "salt", nil); sv != nil {
		salt = toStr(sv)
	}
	rounds := toInt(arg(args, kw, 2, "rounds", 0), 0, 10)
	if salt == "" {
		buf := make([]byte, 16)
		for i := range buf {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(saltChars))))
			if err != nil {
				return nil, err
			}
			buf[i] = saltChars[n.Int64()]
		}
		salt = string(buf)
	}
	switch scheme {
	case "sha512", "sha512_crypt":
		return shaCrypt(toStr(in), salt, rounds, true), nil
	case "sha256", "sha256_crypt":
		return shaCrypt(toStr(in), salt, rounds, false), nil
	}
	return nil, fmt.Errorf("password_hash: unsupported scheme %q (use sha512 or sha256)", scheme)
}

func filterRandom(_ *state, in any, args []any, kw map[string]any) (any, error) {
	r := newRand(kw["seed"])
	switch x := in.(type) {
	case int:
		start := toInt(arg(args, kw, 0, "start", 0), 0, 10)
		step := toInt(arg(args, kw, 1, "step", 1), 1, 10)
		if _, ok := kw["start"]; !ok && len(args) == 0 {
			start = 0
		}
		if step <= 0 || x <= start {
			return nil, fmt.Errorf("random: empty range")
		}
		n := (x - start + step - 1) / step
		return start + r.IntN(n)*step, nil
	case []any:
		if len(x) == 0 {
			return nil, fmt.Errorf("random: empty sequence")
		}
		return x[r.IntN(len(x))], nil
	case string:
		runes := []rune(x)
		if len(runes) == 0 {
			return nil, fmt.Errorf("random: empty sequence")
		}
		return string(runes[r.IntN(len(runes))]), nil
	}
	return nil, fmt.Errorf("random: cannot pick from %s", typeName(in))
}

func filterShuffle(_ *state, in any, _ []any, kw map[string]any) (any, error) {
	list, err := asList(in, "shuffle")
	if err != nil {
		return nil, err
	}
	out := append([]any{}, list...)
	r := newRand(kw["seed"])
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// newRand returns a generator that is reproducible when a seed is given
// (the same seed gives the same choice on every run, as Ansible promises).
func newRand(seed any) *mrand.Rand {
	if seed == nil {
		return mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
	}
	sum := sha256.Sum256([]byte(toStr(seed)))
	var a, b uint64
	for i := 0; i < 8; i++ {
		a = a<<8 | uint64(sum[i])
		b = b<<8 | uint64(sum[8+i])
	}
	return mrand.New(mrand.NewPCG(a, b))
}

// strftime implements the common C strftime directives.
func strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		if f, ok := strftimeDirectives[format[i]]; ok {
			b.WriteString(f(t))
		} else {
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// strftimeDirectives are what each %X of strftime prints.
var strftimeDirectives = map[byte]func(t time.Time) string{
	'Y': func(t time.Time) string { return fmt.Sprintf("%04d", t.Year()) },
	'y': func(t time.Time) string { return fmt.Sprintf("%02d", t.Year()%100) },
	'm': func(t time.Time) string { return fmt.Sprintf("%02d", int(t.Month())) },
	'd': func(t time.Time) string { return fmt.Sprintf("%02d", t.Day()) },
	'H': func(t time.Time) string { return fmt.Sprintf("%02d", t.Hour()) },
	'I': func(t time.Time) string {
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return fmt.Sprintf("%02d", h)
	},
	'M': func(t time.Time) string { return fmt.Sprintf("%02d", t.Minute()) },
	'S': func(t time.Time) string { return fmt.Sprintf("%02d", t.Second()) },
	'f': func(t time.Time) string { return fmt.Sprintf("%06d", t.Nanosecond()/1000) },
	'p': func(t time.Time) string {
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	},
	'a': func(t time.Time) string { return t.Weekday().String()[:3] },
	'A': func(t time.Time) string { return t.Weekday().String() },
	'b': func(t time.Time) string { return t.Month().String()[:3] },
	'h': func(t time.Time) string { return t.Month().String()[:3] },
	'B': func(t time.Time) string { return t.Month().String() },
	'j': func(t time.Time) string { return fmt.Sprintf("%03d", t.YearDay()) },
	'z': func(t time.Time) string { return t.Format("-0700") },
	'Z': func(t time.Time) string { return t.Format("MST") },
	's': func(t time.Time) string { return fmt.Sprintf("%d", t.Unix()) },
	'e': func(t time.Time) string { return fmt.Sprintf("%2d", t.Day()) },
	'w': func(t time.Time) string { return fmt.Sprintf("%d", int(t.Weekday())) },
	'u': func(t time.Time) string {
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return fmt.Sprintf("%d", wd)
	},
	'F': func(t time.Time) string { return t.Format("2006-01-02") },
	'T': func(t time.Time) string { return t.Format("15:04:05") },
	'%': func(time.Time) string { return "%" },
}

// nowFunc implements Ansible's now(utc=False, fmt=None). Without fmt it
// returns the time printed like Python's str(datetime).
func nowFunc(kw map[string]any) (any, error) {
	t := time.Now()
	if toBool(kw["utc"]) {
		t = t.UTC()
	}
	if f, ok := kw["fmt"]; ok && f != nil {
		return strftime(toStr(f), t), nil
	}
	return strftime("%Y-%m-%d %H:%M:%S.%f", t), nil
}

func pathFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"basename": strFilter(func(p string) string {
			if i := strings.LastIndexByte(p, '/'); i >= 0 {
				return p[i+1:]
			}
			return p
		}),
		"dirname": strFilter(func(p string) string {
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				return ""
			}
			head := p[:i+1]
			if strings.Trim(head, "/") != "" {
				head = strings.TrimRight(head, "/")
			}
			return head
		}),
		"expanduser": strFilter(func(p string) string {
			if p == "~" || strings.HasPrefix(p, "~/") {
				if home, err := os.UserHomeDir(); err == nil {
					return home + p[1:]
				}
			}
			return p
		}),
		"expandvars": strFilter(func(p string) string {
			return os.Expand(p, func(name string) string {
				if v, ok := os.LookupEnv(name); ok {
					return v
				}
				return "$" + name
			})
		}),
		"realpath": strFilter(func(p string) string {
			abs, err := filepath.Abs(p)
			if err != nil {
				return p
			}
			if r, err := filepath.EvalSymlinks(abs); err == nil {
				return r
			}
			return abs
		}),
		"relpath": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			start := argStr(args, kw, 0, "start", ".")
			return filepath.Rel(start, toStr(in))
		},
		"splitext": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			p := toStr(in)
			base := p[strings.LastIndexByte(p, '/')+1:]
			trimmed := strings.TrimLeft(base, ".")
			i := strings.LastIndexByte(trimmed, '.')
			if i < 0 {
				return []any{p, ""}, nil
			}
			cut := len(p) - len(trimmed) + i
			return []any{p[:cut], p[cut:]}, nil
		},
		"path_join": func(_ *state, in any, _ []any, _ map[string]any) (any, error) {
			parts, ok := in.([]any)
			if !ok {
				return toStr(in), nil
			}
			out := ""
			for _, p := range parts {
				ps := toStr(p)
				switch {
				case strings.HasPrefix(ps, "/"), out == "":
					out = ps
				case strings.HasSuffix(out, "/"):
					out += ps
				default:
					out += "/" + ps
				}
			}
			return out, nil
		},
		"fileglob": func(s *state, in any, _ []any, _ map[string]any) (any, error) {
			matches, err := filepath.Glob(s.e.resolvePath(toStr(in)))
			if err != nil {
				return nil, err
			}
			out := []any{}
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
					out = append(out, m)
				}
			}
			return out, nil
		},
	}
}
