package inventory

import "gopkg.in/yaml.v3"

func isYAMLMapping(doc *yaml.Node) bool {
	return doc != nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode
}

// yamlKindName names a node's type for messages, with its article.
func yamlKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a dictionary"
	case yaml.ScalarNode:
		switch resolveYAML11(n.Value).(type) {
		case bool:
			return "a boolean"
		case int:
			return "an integer"
		case float64:
			return "a float"
		}
		return "a string"
	}
	return "a value"
}

func isNull(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return n.Tag == "!!null"
	}
	return n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && resolveYAML11(n.Value) == nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 100 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// yamlInvLoader reads one YAML inventory file, following Ansible's yaml
// inventory plugin: top-level keys are groups, each a mapping with optional
// hosts, vars and children.
type yamlInvLoader struct {
	inv  *Inventory
	name string // path for messages
	abs  string
	conv *yamlConverter
}

func (inv *Inventory) loadYAML(name, abs string, doc *yaml.Node) error {
	l := &yamlInvLoader{inv: inv, name: name, abs: abs, conv: &yamlConverter{file: name, vault: inv.vault}}
	if len(doc.Content) == 0 {
		return nil // empty file: no hosts
	}
	top := deref(doc.Content[0])
	if isNull(top) {
		return nil
	}
	if top.Kind != yaml.MappingNode {
		return l.conv.errorf(top, "YAML inventory has invalid structure: expected a dictionary of groups, got %s", yamlKindName(top))
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value == "plugin" && i == 0 {
			return l.conv.errorf(k, "inventory plugin configuration files (plugin: %s) are not supported", v.Value)
		}
		if _, err := l.group(k, v, 0); err != nil {
			return err
		}
	}
	return nil
}

func (l *yamlInvLoader) keyString(k *yaml.Node) (string, error) {
	return l.conv.key(k, 0)
}

// group reads one group definition and returns its name, or "" when the
// definition was skipped (Ansible warns and goes on).
func (l *yamlInvLoader) group(k, v *yaml.Node, depth int) (string, error) {
	name, err := l.keyString(k)
	if err != nil {
		return "", err
	}
	// Aliases can make a small file describe a huge tree; share the
	// converter's node budget.
	l.conv.nodes++
	if depth > 500 || l.conv.nodes > maxYAMLNodes {
		return "", l.conv.errorf(k, "groups nested too deeply or too many groups (aliases expand to more than %d nodes)", maxYAMLNodes)
	}
	v = deref(v)
	if !isNull(v) && v.Kind != yaml.MappingNode {
		l.inv.warnf("%s:%d: skipping %q: not a valid group definition (expected a dictionary, got %s)", l.name, k.Line, name, yamlKindName(v))
		return "", nil
	}
	l.inv.addGroup(name)
	if isNull(v) {
		return name, nil
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		sk, sv := v.Content[i], deref(v.Content[i+1])
		section, err := l.keyString(sk)
		if err != nil {
			return "", err
		}
		known := section == "vars" || section == "children" || section == "hosts"
		if known && sv.Kind == yaml.ScalarNode && !isNull(sv) && resolveStr(sv) {
			// A single string is allowed and means {string: null}.
			sv = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{sv, {Kind: yaml.ScalarNode, Tag: "!!null", Value: "", Line: sv.Line, Column: sv.Column}}}
		}
		if known && !isNull(sv) && sv.Kind != yaml.MappingNode {
			return "", l.conv.errorf(sv, "invalid %q entry for group %q: expected a dictionary, got %s", section, name, yamlKindName(sv))
		}
		if !known {
			l.inv.warnf("%s:%d: skipping unexpected key %q in group %q: only \"vars\", \"children\" and \"hosts\" are valid", l.name, sk.Line, section, name)
			continue
		}
		if isNull(sv) {
			continue
		}
		switch section {
		case "vars":
			err = l.groupVars(name, sv)
		case "children":
			err = l.groupChildren(name, sv, depth)
		case "hosts":
			for j := 0; j+1 < len(sv.Content) && err == nil; j += 2 {
				err = l.host(name, sv.Content[j], deref(sv.Content[j+1]))
			}
		}
		if err != nil {
			return "", err
		}
	}
	return name, nil
}

// groupVars sets the variables of a group's vars mapping.
func (l *yamlInvLoader) groupVars(name string, sv *yaml.Node) error {
	vars, err := l.conv.mapping(sv, 0)
	if err != nil {
		return err
	}
	// Keep file order for ansible_group_priority handling.
	for j := 0; j+1 < len(sv.Content); j += 2 {
		key, err := l.keyString(sv.Content[j])
		if err != nil {
			return err
		}
		if val, ok := vars[key]; ok {
			l.inv.setGroupVar(name, key, val)
		}
	}
	return nil
}

// groupChildren reads the groups of a children mapping and makes them
// children of name.
func (l *yamlInvLoader) groupChildren(name string, sv *yaml.Node, depth int) error {
	for j := 0; j+1 < len(sv.Content); j += 2 {
		child, err := l.group(sv.Content[j], sv.Content[j+1], depth+1)
		if err != nil {
			return err
		}
		if child == "" {
			continue
		}
		if err := l.inv.addChild(name, child); err != nil {
			return l.conv.errorf(sv.Content[j], "%v", err)
		}
	}
	return nil
}

// resolveStr reports whether a scalar node holds a string.
func resolveStr(n *yaml.Node) bool {
	if n.Style&yaml.TaggedStyle != 0 {
		return n.Tag == "!!str"
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return true
	}
	_, ok := resolveYAML11(n.Value).(string)
	return ok
}

func (l *yamlInvLoader) host(group string, k, v *yaml.Node) error {
	pattern, err := l.keyString(k)
	if err != nil {
		return err
	}
	hosts, port, hasPort, err := expandHostPattern(pattern)
	if err != nil {
		return l.conv.errorf(k, "%v", err)
	}
	var vars map[string]any
	if !isNull(v) {
		if v.Kind != yaml.MappingNode {
			return l.conv.errorf(v, "invalid variables for host %s: expected a dictionary, got %s", pattern, yamlKindName(v))
		}
		if vars, err = l.conv.mapping(v, 0); err != nil {
			return err
		}
	}
	l.conv.nodes += len(hosts)
	if l.conv.nodes > maxYAMLNodes {
		return l.conv.errorf(k, "too many hosts (aliases or ranges expand to more than %d nodes)", maxYAMLNodes)
	}
	for _, h := range hosts {
		if err := l.inv.addHost(h, group, port, hasPort, l.abs); err != nil {
			return l.conv.errorf(k, "%v", err)
		}
		for key, val := range vars {
			// Each host gets its own copy so later edits cannot alias.
			l.inv.setHostVar(h, key, deepCopy(val))
		}
	}
	return nil
}
