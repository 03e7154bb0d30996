package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/odict"
)

// decodeJSONOrdered decodes one JSON document, objects becoming dicts
// that keep their keys' order, as Python's json.loads does.
func decodeJSONOrdered(src string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	v, err := decodeJSONValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("extra data after the JSON value")
	}
	return v, nil
}

func decodeJSONValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 10000 {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out := odict.New(0)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				out.Set(k, v)
			}
			_, err := dec.Token() // '}'
			return out, err
		case '[':
			out := []any{}
			for dec.More() {
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token() // ']'
			return out, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return normalizeDeep(t), nil
	}
	return tok, nil
}

// yamlOrdered converts a YAML node to the evaluator's values, mappings
// becoming dicts that keep their keys' order, as PyYAML's loader does.
// Aliases are expanded, within a bound: a document may become at most
// maxYAMLExpansion values larger than it is written (an "alias bomb", each
// anchor a list of aliases to the previous one, grows exponentially).
func yamlOrdered(n *yaml.Node) (any, error) {
	w := &yamlWalk{budget: countYAMLNodes(n) + maxYAMLExpansion}
	return w.node(n, 0)
}

// maxYAMLExpansion is how many more values than written alias expansion may
// produce (the same bound as vars.MaxAliasExpansion for files).
const maxYAMLExpansion = 1 << 20

// countYAMLNodes counts the nodes of a document as written (aliases not
// followed).
func countYAMLNodes(n *yaml.Node) int {
	c := 1
	if n.Kind != yaml.AliasNode {
		for _, k := range n.Content {
			c += countYAMLNodes(k)
		}
	}
	return c
}

type yamlWalk struct{ budget int }

func (w *yamlWalk) node(n *yaml.Node, depth int) (any, error) {
	if depth > 10000 {
		return nil, errors.New("document nested too deeply")
	}
	if w.budget--; w.budget < 0 {
		return nil, errors.New("document contains excessive aliasing")
	}
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return w.node(n.Content[0], depth+1)
	case yaml.AliasNode:
		return w.node(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := w.node(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := odict.New(len(n.Content) / 2)
		var merged []*odict.Dict
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				m, err := w.node(vn, depth+1)
				if err != nil {
					return nil, err
				}
				switch x := m.(type) {
				case *odict.Dict:
					merged = append(merged, x)
				case []any:
					for _, e := range x {
						if d, ok := e.(*odict.Dict); ok {
							merged = append(merged, d)
						}
					}
				}
				continue
			}
			kv, err := w.node(k, depth+1)
			if err != nil {
				return nil, err
			}
			v, err := w.node(vn, depth+1)
			if err != nil {
				return nil, err
			}
			out.Set(toStr(kv), v)
		}
		for _, d := range merged {
			for k, v := range d.All() {
				if _, ok := out.Get(k); !ok {
					out.Set(k, v)
				}
			}
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return normalizeDeep(v), nil
}
