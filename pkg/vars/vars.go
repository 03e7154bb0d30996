// Package vars holds variable values the way Ansible sees them: YAML
// decoded with YAML 1.1 scalar rules (yes/no are booleans, 0644 is octal),
// vars files loaded from disk, and layers merged by precedence.
//
// Values are plain Go: string, int, float64, bool, nil, []any and, for
// mappings, *odict.Dict, which keeps the keys in the order they were
// written (a namespace of variable names is a map[string]any).
package vars

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/template"
	"github.com/tend-dev/tend/pkg/vault"
)

// PosError is an error at a position in a file.
type PosError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *PosError) Error() string {
	if e.Line > 0 {
		if e.Col > 0 {
			return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
		}
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Decrypter decrypts vault-encrypted data read from file; the name (or
// "file:line:col" for an inline value) is only used in errors.
// *vault.Keyring implements it.
type Decrypter interface {
	Decrypt(file string, data []byte) ([]byte, error)
}

// Loader reads YAML sources and vars files, decrypting vault-encrypted
// files and inline "!vault" values with Vault. With a nil Vault, vault data
// is an error naming the file and telling to pass --vault-password-file or
// --ask-vault-pass. A Loader is safe for concurrent use when its Vault is.
type Loader struct {
	Vault Decrypter
	// Warn, if set, receives warnings about the input (a key given twice
	// in a mapping), each starting with file:line:col.
	Warn func(msg string)
}

func (l Loader) vault() Decrypter {
	if l.Vault == nil {
		return (*vault.Keyring)(nil)
	}
	return l.Vault
}

// ParseYAML parses YAML source into a node, reporting syntax errors with
// the file name and line. Vault data is refused; see Loader.ParseYAML.
func ParseYAML(file string, src []byte) (*yaml.Node, error) {
	return Loader{}.ParseYAML(file, src)
}

// ParseYAML parses YAML source into a node, reporting syntax errors with
// the file name and line. A vault-encrypted source is decrypted first, and
// inline "!vault" scalars are replaced by their plaintext as strings.
func (l Loader) ParseYAML(file string, src []byte) (*yaml.Node, error) {
	if vault.IsEncrypted(src) {
		plain, err := l.vault().Decrypt(file, src)
		if err != nil {
			return nil, err
		}
		src = plain
	}
	var doc yaml.Node
	if err := decodeSingle(src, &doc); err != nil {
		var pe *PosError
		if errors.As(err, &pe) {
			pe.File = file
			return nil, pe
		}
		return nil, yamlError(file, src, err)
	}
	if err := CheckAliases(file, &doc); err != nil {
		return nil, err
	}
	if err := resolveAliases(file, &doc, map[*yaml.Node]bool{}); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	if err := l.decryptInline(file, doc.Content[0], 0); err != nil {
		return nil, err
	}
	l.dedupeKeys(file, doc.Content[0], 0)
	return doc.Content[0], nil
}

// decryptInline replaces "!vault" scalars below n with their plaintext.
// Aliases are skipped: their anchors are visited where they are defined.
func (l Loader) decryptInline(file string, n *yaml.Node, depth int) error {
	if depth > 10000 {
		return &PosError{File: file, Line: n.Line, Col: n.Column, Msg: "document nested too deeply"}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!vault" && n.Tag != "!vault-encrypted" {
			return nil
		}
		plain, err := l.vault().Decrypt(fmt.Sprintf("%s:%d:%d", file, n.Line, n.Column), []byte(n.Value))
		if err != nil {
			return err
		}
		// Ansible's decrypted values are always strings.
		n.Value, n.Tag, n.Style = string(plain), "!!str", yaml.DoubleQuotedStyle
	case yaml.SequenceNode, yaml.MappingNode, yaml.DocumentNode:
		if n.Tag == "!vault" || n.Tag == "!vault-encrypted" {
			return &PosError{File: file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("!vault tags a %s: it must tag the vault text (!vault |, then the $ANSIBLE_VAULT lines)", KindName(n))}
		}
		for _, c := range n.Content {
			if err := l.decryptInline(file, c, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, src []byte, err error) error {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := "YAML syntax error: " + m[2]
		// The YAML parser reports where the enclosing block starts; the
		// first line at which the document stops parsing is what to fix.
		if bad := firstBadLine(src, line); bad > line {
			text += fmt.Sprintf(" (in the block starting at line %d; check the indentation of line %d)", line, bad)
			line = bad
		}
		return &PosError{File: file, Line: line, Msg: text}
	}
	text := "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")
	line, col := locateYAMLProblem(src, msg)
	return &PosError{File: file, Line: line, Col: col, Msg: text}
}

// dedupeKeys keeps only the last value of a key given twice in a mapping,
// with a warning, as Ansible does ("found a duplicate dict key ... Using
// last defined value only"). Aliases are skipped: their anchors are
// visited where they are defined.
func (l Loader) dedupeKeys(file string, n *yaml.Node, depth int) {
	if depth > 10000 {
		return
	}
	if n.Kind == yaml.MappingNode {
		last := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value != "<<" {
				last[k.Value] = i
			}
		}
		if len(last)*2 < len(n.Content) {
			kept := n.Content[:0:0]
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if j, ok := last[k.Value]; ok && k.Kind == yaml.ScalarNode && j != i {
					if l.Warn != nil {
						later := n.Content[j]
						l.Warn(fmt.Sprintf("%s:%d:%d: found a duplicate key %q (also at line %d); using the last value only",
							file, later.Line, later.Column, k.Value, k.Line))
					}
					continue
				}
				kept = append(kept, k, n.Content[i+1])
			}
			n.Content = kept
		}
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode || n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			l.dedupeKeys(file, c, depth+1)
		}
	}
}

// decodeSingle decodes the one YAML document of src into doc. A second
// document is an error, as in Ansible (PyYAML's single-document loader),
// rather than being ignored.
func decodeSingle(src []byte, doc *yaml.Node) error {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	err := dec.Decode(doc)
	// PyYAML reads "\/" in a double-quoted scalar as "/" (YAML 1.2's
	// JSON-compatible escape); gopkg.in/yaml.v3 refuses it. Each scalar
	// the parser stops at gets its "\/" rewritten, then the file is read
	// again from the start.
	for tries := 0; err != nil && tries < 100; tries++ {
		m := badEscapeRe.FindStringSubmatch(err.Error())
		if m == nil {
			break
		}
		// No line: the scalar starts on the first line (yaml.v3 counts
		// from 0 and prints no line 0).
		line := 1
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		fixed, ok := unescapeSlashes(src, line)
		if !ok {
			if fixed, ok = unescapeSlashes(src, 1); !ok {
				break
			}
		}
		src = fixed
		*doc = yaml.Node{}
		dec = yaml.NewDecoder(bytes.NewReader(src))
		err = dec.Decode(doc)
	}
	if err != nil {
		if err == io.EOF {
			*doc = yaml.Node{}
			return nil
		}
		return err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	return &PosError{Line: next.Line, Col: next.Column, Msg: "a second YAML document (after ---): a playbook, task or vars file holds exactly one"}
}

var badEscapeRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?found unknown escape character`)

// unescapeSlashes rewrites "\/" as "/" in the first double-quoted scalar
// starting on the given line (1-based) that holds one, and reports
// whether it found one.
func unescapeSlashes(src []byte, line int) ([]byte, bool) {
	start := 0
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(src[start:], '\n')
		if j < 0 {
			return nil, false
		}
		start += j + 1
	}
	end := len(src)
	if j := bytes.IndexByte(src[start:], '\n'); j >= 0 {
		end = start + j
	}
	for q := start; q < end; q++ {
		if src[q] != '"' {
			continue
		}
		// Walk the scalar from its opening quote to its closing one.
		var out []byte
		found := false
		i := q + 1
		for ; i < len(src) && src[i] != '"'; i++ {
			if src[i] == '\\' && i+1 < len(src) {
				if src[i+1] == '/' {
					if out == nil {
						out = append(out, src[:i]...)
					}
					out = append(out, '/')
					found = true
					i++
					continue
				}
				if out != nil {
					out = append(out, src[i])
				}
				i++
			}
			if out != nil {
				out = append(out, src[i])
			}
		}
		if found {
			return append(out, src[i:]...), true
		}
		q = i
	}
	return nil, false
}

var unknownAnchorRe = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)

// locateYAMLProblem finds the line and column of the errors the YAML
// parser reports without a position: characters YAML does not allow,
// invalid UTF-8 and aliases to undefined anchors. It returns 0, 0 when it
// cannot tell.
func locateYAMLProblem(src []byte, msg string) (line, col int) {
	off := -1
	switch {
	case strings.Contains(msg, "control characters are not allowed"):
		off = bytes.IndexFunc(src, func(r rune) bool {
			return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
		})
	case strings.Contains(msg, "UTF-8"), strings.Contains(msg, "UTF-16"):
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				off = i
				break
			}
			i += n
		}
	default:
		if m := unknownAnchorRe.FindStringSubmatch(msg); m != nil {
			re := regexp.MustCompile(`\*` + regexp.QuoteMeta(m[1]) + `([\s,\]}]|$)`)
			if loc := re.FindIndex(src); loc != nil {
				off = loc[0]
			}
		}
	}
	if off < 0 {
		return 0, 0
	}
	line = 1 + bytes.Count(src[:off], []byte("\n"))
	col = 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:off], '\n')+1:off])
	return line, col
}

// firstBadLine returns the first line n >= from such that the document's
// first n lines no longer parse, or 0.
func firstBadLine(src []byte, from int) int {
	lines := bytes.SplitAfter(src, []byte("\n"))
	if len(lines) > 5000 {
		return 0
	}
	var prefix []byte
	for i, l := range lines {
		prefix = append(prefix, l...)
		if i+1 < from {
			continue
		}
		var n yaml.Node
		if yaml.Unmarshal(prefix, &n) != nil {
			return i + 1
		}
	}
	return 0
}

// Decode converts a YAML node to a plain Go value with YAML 1.1 scalar
// rules, as Ansible's loader does. Mappings become *odict.Dict, keeping
// their keys' order. Merge keys (<<) are honoured.
func Decode(file string, n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return Decode(file, n.Content[0])
	case yaml.AliasNode:
		return Decode(file, n.Alias)
	case yaml.ScalarNode:
		return Scalar(n), nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := Decode(file, c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := odict.New(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" || (k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0) {
				if err := mergeInto(file, out, v); err != nil {
					return nil, err
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, &PosError{File: file, Line: k.Line, Col: k.Column, Msg: "mapping keys must be scalars"}
			}
			val, err := Decode(file, v)
			if err != nil {
				return nil, err
			}
			out.Set(KeyString(k), val)
		}
		return out, nil
	}
	return nil, &PosError{File: file, Line: n.Line, Col: n.Column, Msg: "unsupported YAML node"}
}

func mergeInto(file string, out *odict.Dict, v *yaml.Node) error {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	var srcs []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	} else {
		srcs = []*yaml.Node{v}
	}
	for _, s := range srcs {
		m, err := Decode(file, s)
		if err != nil {
			return err
		}
		mm, ok := m.(*odict.Dict)
		if !ok {
			return &PosError{File: file, Line: s.Line, Col: s.Column, Msg: "merge key << needs a mapping"}
		}
		for k, val := range mm.All() {
			if _, exists := out.Get(k); !exists {
				out.Set(k, val)
			}
		}
	}
	return nil
}

// KeyString returns a mapping key as a string ("1" for the int key 1).
func KeyString(k *yaml.Node) string {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	return k.Value
}

var (
	intRe   = regexp.MustCompile(`^[-+]?(0|[1-9][0-9_]*)$`)
	octRe   = regexp.MustCompile(`^[-+]?0[0-7_]+$`)
	oct12Re = regexp.MustCompile(`^0o[0-7_]+$`)
	hexRe   = regexp.MustCompile(`^[-+]?0x[0-9a-fA-F_]+$`)
	floatRe = regexp.MustCompile(`^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$|^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$`)
)

// Scalar resolves a scalar node with YAML 1.1 rules.
func Scalar(n *yaml.Node) any {
	v := n.Value
	if n.Tag == "!unsafe" {
		// Never rendered as a template, as Ansible's AnsibleUnsafeText.
		return template.Unsafe(v)
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return v
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!int", "!!float", "!!bool", "!!null":
			return ResolvePlain(v)
		}
		// !!str, !vault and other explicit tags keep the text.
		return v
	}
	return ResolvePlain(v)
}

// ResolvePlain resolves an unquoted YAML 1.1 scalar.
func ResolvePlain(v string) any {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true
	case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1)
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1)
	case ".nan", ".NaN", ".NAN":
		return math.NaN()
	}
	c := v[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return v
	}
	clean := strings.ReplaceAll(v, "_", "")
	switch {
	case intRe.MatchString(v):
		if i, err := strconv.ParseInt(clean, 10, 64); err == nil {
			return int(i)
		}
	case hexRe.MatchString(v):
		neg := strings.HasPrefix(clean, "-")
		s := strings.TrimLeft(clean, "+-")
		if i, err := strconv.ParseInt(s[2:], 16, 64); err == nil {
			if neg {
				i = -i
			}
			return int(i)
		}
	case oct12Re.MatchString(v):
		if i, err := strconv.ParseInt(clean[2:], 8, 64); err == nil {
			return int(i)
		}
	case octRe.MatchString(v):
		neg := strings.HasPrefix(clean, "-")
		s := strings.TrimLeft(clean, "+-")
		if i, err := strconv.ParseInt(s, 8, 64); err == nil {
			if neg {
				i = -i
			}
			return int(i)
		}
	case floatRe.MatchString(v) && v != ".":
		if f, err := strconv.ParseFloat(clean, 64); err == nil {
			return f
		}
	}
	return v
}

// LoadFile reads a YAML or JSON vars file; it must hold a mapping (or be
// empty). Vault data is refused; see Loader.LoadFile.
func LoadFile(path string) (map[string]any, error) {
	return Loader{}.LoadFile(path)
}

// LoadFile reads a YAML or JSON vars file, which may be vault-encrypted or
// hold inline vault values; it must hold a mapping (or be empty).
func (l Loader) LoadFile(path string) (map[string]any, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read vars file: %w", err)
	}
	n, err := l.ParseYAML(path, src)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return map[string]any{}, nil
	}
	v, err := Decode(path, n)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(*odict.Dict)
	if !ok {
		return nil, &PosError{File: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("a vars file must hold a mapping of variable names to values, not a %s", KindName(n))}
	}
	return m.Map(), nil
}

// LoadDirOrFile loads a vars file, or every file in a vars directory in
// name order (hidden files and backups skipped), merged. Vault data is
// refused; see Loader.LoadDirOrFile.
func LoadDirOrFile(path string) (map[string]any, error) {
	return Loader{}.LoadDirOrFile(path)
}

// LoadDirOrFile is LoadFile for a file, or every file in a vars directory
// in name order (hidden files and backups skipped), merged.
func (l Loader) LoadDirOrFile(path string) (map[string]any, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return l.LoadFile(path)
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != path && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && !strings.HasSuffix(name, "~") && !strings.HasSuffix(name, ".orig") && !strings.HasSuffix(name, ".retry") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string]any{}
	for _, f := range files {
		m, err := l.LoadFile(f)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, nil
}

// KindName names a node's kind for error messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "value"
}

// Merge returns a new map with the layers applied in order: later layers
// win. Dictionaries are replaced, not merged (hash_behaviour=replace).
func Merge(layers ...map[string]any) map[string]any {
	n := 0
	for _, l := range layers {
		n += len(l)
	}
	out := make(map[string]any, n)
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

// ValidName reports whether s is a valid variable name.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
