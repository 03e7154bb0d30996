package template

import (
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
)

// maxLiteral bounds the text pyLiteral tries to read as a container.
const maxLiteral = 1 << 20

// pyLiteral is the last step of Ansible's rendering of a value
// (ansible_eval_concat, without jinja2_native): text that starts with "{"
// or "[" and is a Python literal (with JSON's null, true and false) becomes
// that list or dict, and "True" or "False" a boolean. Anything else, or
// anything that is not only literals (names, calls, filters, operators),
// stays the text it is: the text is never evaluated as an expression.
func (e *Engine) pyLiteral(out string) (any, bool) {
	switch out {
	case "True":
		return true, true
	case "False":
		return false, true
	}
	// Text holding template markup stays text: a list or dict made of it
	// would be templated again when read.
	if !strings.HasPrefix(out, "{") && !strings.HasPrefix(out, "[") || len(out) > maxLiteral ||
		strings.Contains(out, "{{") || strings.Contains(out, "{%") || strings.Contains(out, "{#") || strings.Contains(out, "\x00") {
		return nil, false
	}
	c, err := parse("\x00{ "+out+" }\x00", false, e.shared.literalCfg, e.shared.cs)
	if err != nil || c.single == nil || len(c.root.Nodes) != 1 || c.single.Condition != nil {
		return nil, false
	}
	return literalValue(c.single.Expression, 0)
}

// literalValue is the value of a literal expression: strings, numbers,
// booleans, None/null, lists, tuples (as lists) and dicts with string keys.
func literalValue(x nodes.Expression, depth int) (any, bool) {
	if depth > 100 {
		return nil, false
	}
	switch n := x.(type) {
	case *nodes.String:
		return n.Val, true
	case *nodes.Integer:
		return n.Val, true
	case *nodes.Float:
		return n.Val, true
	case *nodes.Bool:
		return n.Val, true
	case *nodes.None:
		return nil, true
	case *nodes.Name:
		switch n.Name.Val {
		case "None", "null":
			return nil, true
		case "True", "true":
			return true, true
		case "False", "false":
			return false, true
		}
	case *nodes.UnaryExpression:
		switch t := n.Term.(type) {
		case *nodes.Integer:
			if n.Negative {
				return -t.Val, true
			}
			return t.Val, true
		case *nodes.Float:
			if n.Negative {
				return -t.Val, true
			}
			return t.Val, true
		}
	case *nodes.List:
		return literalList(n.Val, depth)
	case *nodes.Tuple:
		return literalList(n.Val, depth)
	case *nodes.Dict:
		out := make(map[string]any, len(n.Pairs))
		for _, p := range n.Pairs {
			k, ok := p.Key.(*nodes.String)
			if !ok {
				return nil, false
			}
			v, ok := literalValue(p.Value, depth+1)
			if !ok {
				return nil, false
			}
			out[k.Val] = v
		}
		return out, true
	}
	return nil, false
}

func literalList(items []nodes.Expression, depth int) (any, bool) {
	out := make([]any, len(items))
	for i, it := range items {
		v, ok := literalValue(it, depth+1)
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}
