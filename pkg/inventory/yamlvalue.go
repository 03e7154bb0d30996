package inventory

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/vars"
)

// Ansible reads YAML with PyYAML, which implements YAML 1.1: yes/no/on/off
// are booleans, 0755 is octal, 1:30 is sexagesimal and 1e3 (no dot) is a
// string. yaml.v3 implements YAML 1.2, so plain scalars are resolved here
// with PyYAML's implicit resolvers instead.
var (
	yaml11Bool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yaml11Int   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yaml11Float = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yaml11Null  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
)

// maxYAMLNodes bounds the number of nodes visited while converting one
// document, so alias bombs ("billion laughs") fail instead of exhausting memory.
const maxYAMLNodes = 1 << 20

// yamlConverter turns yaml.v3 nodes into plain Go values.
type yamlConverter struct {
	file  string
	nodes int
	vault Decrypter // decrypts !vault values; nil refuses them
}

func (c *yamlConverter) errorf(n *yaml.Node, format string, args ...any) *ParseError {
	return &ParseError{File: c.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// value converts n (and everything below it) to plain Go data.
func (c *yamlConverter) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxYAMLNodes || depth > 1000 {
		return nil, c.errorf(n, "document too large or too deeply nested (aliases expand to more than %d nodes)", maxYAMLNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, c.errorf(n, "unknown alias %q", n.Value)
		}
		return c.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.orderedMapping(n, depth)
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	return nil, c.errorf(n, "unsupported YAML node")
}

// orderedMapping is mapping for a value: a dict that keeps its keys in the
// order they are written (merged keys after them, sorted), as Ansible's
// dicts do.
func (c *yamlConverter) orderedMapping(n *yaml.Node, depth int) (*odict.Dict, error) {
	m, err := c.mapping(n, depth)
	if err != nil {
		return nil, err
	}
	out := odict.New(len(m))
	// The keys were converted (and counted) already.
	defer func(nodes int) { c.nodes = nodes }(c.nodes)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" && k.Style&yaml.TaggedStyle == 0 {
			continue
		}
		if key, err := c.key(k, depth); err == nil {
			if v, ok := m[key]; ok {
				out.Set(key, v)
			}
		}
	}
	for _, k := range odict.SortedKeys(m) {
		if _, ok := out.Get(k); !ok {
			out.Set(k, m[k])
		}
	}
	return out, nil
}

func (c *yamlConverter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" && k.Style&yaml.TaggedStyle == 0 {
			if err := c.merge(out, explicit, v, depth); err != nil {
				return nil, err
			}
			continue
		}
		key, err := c.key(k, depth)
		if err != nil {
			return nil, err
		}
		val, err := c.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		// Duplicate keys: the last one wins, as with PyYAML.
		out[key] = val
		explicit[key] = true
	}
	return out, nil
}

// merge applies a "<<" merge key: keys already set explicitly win, and among
// several merged maps the first one wins.
func (c *yamlConverter) merge(out map[string]any, explicit map[string]bool, v *yaml.Node, depth int) error {
	var sources []*yaml.Node
	target := v
	if target.Kind == yaml.AliasNode && target.Alias != nil {
		target = target.Alias
	}
	if target.Kind == yaml.SequenceNode {
		sources = target.Content
	} else {
		sources = []*yaml.Node{v}
	}
	merged := map[string]bool{}
	for _, s := range sources {
		val, err := c.value(s, depth+1)
		if err != nil {
			return err
		}
		m, ok := odict.AsMap(val)
		if !ok {
			return c.errorf(s, "merge key \"<<\" expects a mapping or a list of mappings")
		}
		for k, mv := range m {
			if explicit[k] || merged[k] {
				continue
			}
			out[k] = mv
			merged[k] = true
		}
	}
	return nil
}

// key converts a mapping key to a string; non-string keys are written the
// way Ansible's JSON output writes them.
func (c *yamlConverter) key(k *yaml.Node, depth int) (string, error) {
	v, err := c.value(k, depth+1)
	if err != nil {
		return "", err
	}
	if s, ok := pyKey(v); ok {
		return s, nil
	}
	return "", c.errorf(k, "mapping key must be a scalar")
}

func (c *yamlConverter) scalar(n *yaml.Node) (any, error) {
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!str", "!unsafe", "!!binary", "!!timestamp":
			return n.Value, nil
		case "!vault", "!vault-encrypted":
			plain, err := decrypt(c.vault, c.file, n.Line, n.Column, "value", []byte(n.Value))
			if err != nil {
				return nil, err
			}
			// Ansible's decrypted values are always strings.
			return string(plain), nil
		case "!!null":
			return nil, nil
		case "!!bool":
			if yaml11Bool.MatchString(n.Value) {
				return resolveYAML11(n.Value), nil
			}
		case "!!int":
			if yaml11Int.MatchString(n.Value) {
				if v := resolveYAML11(n.Value); v != n.Value {
					return v, nil
				}
			}
		case "!!float":
			if v := resolveYAML11(n.Value); v != n.Value {
				if i, ok := v.(int); ok {
					return float64(i), nil
				}
				return v, nil
			}
		default:
			return nil, c.errorf(n, "unknown YAML tag %s", n.Tag)
		}
		return nil, c.errorf(n, "cannot read %q as %s", n.Value, n.Tag)
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value, nil
	}
	return resolveYAML11(n.Value), nil
}

// resolveYAML11 resolves a plain scalar with PyYAML's rules. Timestamps stay
// strings (PyYAML would build date objects). Integers too large for int stay
// strings.
func resolveYAML11(s string) any {
	switch {
	case yaml11Null.MatchString(s):
		return nil
	case yaml11Bool.MatchString(s):
		switch s[0] {
		case 'y', 'Y', 't', 'T':
			return true
		case 'o', 'O':
			return s == "on" || s == "On" || s == "ON"
		}
		return false
	case yaml11Int.MatchString(s):
		if v, ok := yaml11ParseInt(s); ok {
			return v
		}
		return s
	case yaml11Float.MatchString(s):
		return yaml11ParseFloat(s)
	}
	return s
}

func yaml11ParseInt(s string) (int, bool) {
	v := strings.ReplaceAll(s, "_", "")
	sign := 1
	if v[0] == '-' || v[0] == '+' {
		if v[0] == '-' {
			sign = -1
		}
		v = v[1:]
	}
	var n int64
	var err error
	switch {
	case v == "0":
		return 0, true
	case strings.HasPrefix(v, "0b"):
		n, err = strconv.ParseInt(v[2:], 2, 64)
	case strings.HasPrefix(v, "0x"):
		n, err = strconv.ParseInt(v[2:], 16, 64)
	case v[0] == '0':
		n, err = strconv.ParseInt(v[1:], 8, 64)
	case strings.Contains(v, ":"):
		for _, part := range strings.Split(v, ":") {
			d, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil || n > math.MaxInt64/60 {
				return 0, false
			}
			n = n*60 + d
		}
	default:
		n, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil {
		return 0, false
	}
	return sign * int(n), true
}

func yaml11ParseFloat(s string) float64 {
	v := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if v[0] == '-' || v[0] == '+' {
		if v[0] == '-' {
			sign = -1
		}
		v = v[1:]
	}
	switch {
	case v == ".inf":
		return sign * math.Inf(1)
	case v == ".nan":
		return math.NaN()
	case strings.Contains(v, ":"):
		parts := strings.Split(v, ":")
		f := 0.0
		for _, part := range parts {
			d, _ := strconv.ParseFloat(part, 64)
			f = f*60 + d
		}
		return sign * f
	}
	f, _ := strconv.ParseFloat(v, 64)
	return sign * f
}

// parseYAMLDocument parses data (the content of file) into a yaml.Node,
// turning yaml.v3's "yaml: line N: msg" errors into ParseErrors.
func parseYAMLDocument(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if err := vars.CheckAliases(file, &doc); err != nil {
		var pe *vars.PosError
		if errors.As(err, &pe) {
			return nil, &ParseError{File: pe.File, Line: pe.Line, Col: pe.Col, Msg: pe.Msg}
		}
		return nil, err
	}
	return &doc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ParseError{File: file, Line: line, Msg: "invalid YAML: " + m[2], Err: err}
	}
	return &ParseError{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: "), Err: err}
}
