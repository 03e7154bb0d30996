package vars

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Limits on what a YAML document may become once its aliases are expanded.
// Every reader of a parsed document (Decode, the playbook loader, the
// inventory) expands aliases by walking into their anchors, so a document
// that refers to itself would recurse forever and an "alias bomb" (each
// anchor a list of aliases to the previous one) would grow exponentially.
// PyYAML shares one object per anchor instead; tend copies, so it bounds
// the copying. Ordinary documents stay far below both limits.
const (
	// MaxAliasExpansion is how many more values a document may have after
	// alias expansion than it has as written.
	MaxAliasExpansion = 1 << 20
	// MaxDepth is how deeply values may nest after alias expansion; the
	// YAML parser refuses documents nested deeper than this as written.
	MaxDepth = 10000
)

// CheckAliases reports an error naming file:line:col of the offending
// alias if doc refers to itself through an alias (directly, through a
// merge key "<<" or through other anchors), expands to more than
// MaxAliasExpansion extra values, or nests deeper than MaxDepth once
// expanded. It walks each anchor once, so it takes time linear in the
// size of the document as written.
func CheckAliases(file string, doc *yaml.Node) error {
	if doc == nil {
		return nil
	}
	c := aliasChecker{file: file, open: map[*yaml.Node]bool{}, done: map[*yaml.Node]expansion{}}
	written := countWritten(doc, 0)
	c.limit = written + MaxAliasExpansion
	_, err := c.walk(doc, 0)
	return err
}

// expansion is what a node becomes once its aliases are expanded.
type expansion struct {
	size  int // number of values, saturating above the limit
	depth int // levels of nesting below the node
}

type aliasChecker struct {
	file  string
	limit int
	open  map[*yaml.Node]bool // anchors being walked: an alias to one is a cycle
	done  map[*yaml.Node]expansion
}

// countWritten counts the nodes of doc as written, not following aliases.
// The parser bounds the nesting, so the recursion is bounded too.
func countWritten(n *yaml.Node, depth int) int {
	if depth > MaxDepth+1 {
		return 0
	}
	total := 1
	for _, c := range n.Content {
		total += countWritten(c, depth+1)
	}
	return total
}

func (c *aliasChecker) errorf(n *yaml.Node, format string, args ...any) error {
	return &PosError{File: c.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

func (c *aliasChecker) walk(n *yaml.Node, depth int) (expansion, error) {
	if depth > MaxDepth {
		return expansion{}, c.errorf(n, "values nested more than %d levels deep", MaxDepth)
	}
	if n.Kind == yaml.AliasNode {
		return c.alias(n, depth)
	}
	if e, ok := c.done[n]; ok {
		return e, nil
	}
	if n.Anchor != "" {
		c.open[n] = true
		defer delete(c.open, n)
	}
	e := expansion{size: 1}
	for _, child := range n.Content {
		ce, err := c.walk(child, depth+1)
		if err != nil {
			return expansion{}, err
		}
		e.size += ce.size
		e.depth = max(e.depth, ce.depth+1)
		if e.size > c.limit {
			return expansion{}, c.tooLarge(child)
		}
	}
	if n.Anchor != "" {
		c.done[n] = e
	}
	return e, nil
}

func (c *aliasChecker) alias(n *yaml.Node, depth int) (expansion, error) {
	target := n.Alias
	if target == nil {
		return expansion{}, c.errorf(n, "unknown alias *%s", n.Value)
	}
	if c.open[target] {
		return expansion{}, c.errorf(n, "alias *%s refers to the value that contains it (anchor &%s at line %d), which would repeat without end; copy the values you need instead", n.Value, target.Anchor, target.Line)
	}
	e, err := c.walk(target, depth)
	if err != nil {
		return expansion{}, err
	}
	if depth+e.depth > MaxDepth {
		return expansion{}, c.errorf(n, "alias *%s expands to values nested more than %d levels deep", n.Value, MaxDepth)
	}
	return e, nil
}

func (c *aliasChecker) tooLarge(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return c.errorf(n, "aliases expand to more than %d values (alias *%s here); a document whose anchors refer to each other over and over is refused", MaxAliasExpansion, n.Value)
	}
	return c.errorf(n, "aliases expand to more than %d values; a document whose anchors refer to each other over and over is refused", MaxAliasExpansion)
}

// resolveAliases replaces every alias below n by the node it refers to and
// flattens merge keys ("<<") into the mappings holding them, the way
// PyYAML does for Ansible: explicit keys win over merged ones, and among
// several merged mappings the first wins. Readers of the result, such as
// the playbook loader, then see plain lists and mappings wherever the
// author used an alias. Nodes an alias refers to are shared, not copied;
// CheckAliases must have accepted n, which makes the graph acyclic.
func resolveAliases(file string, n *yaml.Node, done map[*yaml.Node]bool) error {
	if done[n] {
		return nil
	}
	done[n] = true
	for i, c := range n.Content {
		for c.Kind == yaml.AliasNode && c.Alias != nil {
			c = c.Alias
		}
		n.Content[i] = c
		if err := resolveAliases(file, c, done); err != nil {
			return err
		}
	}
	if n.Kind == yaml.MappingNode {
		return flattenMerge(file, n)
	}
	return nil
}

// isMergeKey reports whether k is the merge key "<<" (not a quoted "<<").
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && (k.Tag == "!!merge" || k.Value == "<<" && k.Style == 0)
}

// flattenMerge replaces the merge keys of the mapping m, whose values are
// already resolved, by the pairs they merge.
func flattenMerge(file string, m *yaml.Node) error {
	var merged, explicit []*yaml.Node
	hasMerge := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if !isMergeKey(k) {
			explicit = append(explicit, k, v)
			continue
		}
		hasMerge = true
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		// Later pairs win below, so the first mapping merged goes last.
		for j := len(sources) - 1; j >= 0; j-- {
			s := sources[j]
			if s.Kind != yaml.MappingNode {
				return &PosError{File: file, Line: s.Line, Col: s.Column, Msg: "merge key << needs a mapping or a list of mappings"}
			}
			merged = append(merged, s.Content...)
		}
	}
	if !hasMerge {
		return nil
	}
	m.Content = lastWins(append(merged, explicit...))
	return nil
}

// lastWins keeps one pair per scalar key, with the value of its last
// occurrence, in the order keys first appear.
func lastWins(pairs []*yaml.Node) []*yaml.Node {
	at := map[string]int{}
	out := make([]*yaml.Node, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		if k.Kind == yaml.ScalarNode {
			if j, ok := at[k.Value]; ok {
				out[j+1] = v
				continue
			}
			at[k.Value] = len(out)
		}
		out = append(out, k, v)
	}
	return out
}
