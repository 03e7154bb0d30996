package inventory

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	iniSectionRE   = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	iniGroupNameRE = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// pendingDecl is a group used in [g:vars] or [p:children] before being
// declared, as tracked by Ansible's INI plugin.
type pendingDecl struct {
	line    int
	state   string // "vars" or "children"
	parents []string
}

// loadINI parses an Ansible INI inventory. name is the path for messages,
// abs the absolute path recorded as inventory_file.
func (inv *Inventory) loadINI(name, abs string, data []byte) error {
	text := strings.TrimPrefix(string(data), "\ufeff")
	lines := strings.Split(text, "\n")
	group, state := "ungrouped", "hosts"
	pending := map[string]*pendingDecl{}
	var pendingOrder []string
	addPending := func(g string, d *pendingDecl) {
		pending[g] = d
		pendingOrder = append(pendingOrder, g)
	}
	var resolveChildren func(g string) error
	resolveChildren = func(g string) error {
		d := pending[g]
		delete(pending, g)
		for _, parent := range d.parents {
			if err := inv.addChild(parent, g); err != nil {
				return err
			}
			if pd, ok := pending[parent]; ok && pd.state == "children" {
				if err := resolveChildren(parent); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i, raw := range lines {
		lineno := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := iniSectionRE.FindStringSubmatch(line); m != nil {
			group, state = m[1], m[2]
			if state == "" {
				state = "hosts"
			}
			if state != "hosts" && state != "vars" && state != "children" {
				return parseErrorf(name, lineno, "section [%s:%s] has unknown type %q: expected hosts, vars or children", m[1], m[2], m[2])
			}
			if _, ok := inv.groups[group]; !ok {
				// [g:vars] alone does not declare a group; remember it and
				// complain at the end unless g is declared later.
				if _, isPending := pending[group]; state == "vars" && !isPending {
					addPending(group, &pendingDecl{line: lineno, state: "vars"})
				}
				inv.addGroup(group)
			}
			if d, ok := pending[group]; ok && state != "vars" {
				if d.state == "children" {
					if err := resolveChildren(group); err != nil {
						return parseErrorf(name, lineno, "%v", err)
					}
				} else {
					delete(pending, group)
				}
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return parseErrorf(name, lineno, "invalid section header %s: expected [group], [group:vars] or [group:children] with no spaces", line)
		}
		switch state {
		case "hosts":
			if err := inv.iniHostLine(name, abs, lineno, line, group); err != nil {
				return err
			}
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return parseErrorf(name, lineno, "expected key=value in [%s:vars], got %q", group, line)
			}
			inv.setGroupVar(group, strings.TrimSpace(k), parseINIValue(strings.TrimSpace(v)))
		case "children":
			m := iniGroupNameRE.FindStringSubmatch(line)
			if m == nil {
				return parseErrorf(name, lineno, "expected a group name in [%s:children], got %q", group, line)
			}
			child := m[1]
			if _, ok := inv.groups[child]; ok {
				if err := inv.addChild(group, child); err != nil {
					return parseErrorf(name, lineno, "%v", err)
				}
			} else if d, ok := pending[child]; ok {
				d.parents = append(d.parents, group)
			} else {
				addPending(child, &pendingDecl{line: lineno, state: "children", parents: []string{group}})
			}
		}
	}
	for _, g := range pendingOrder {
		d, ok := pending[g]
		if !ok {
			continue
		}
		switch d.state {
		case "vars":
			return parseErrorf(name, d.line, "section [%s:vars] is for undefined group %s: declare it with [%s] or as a child", g, g, g)
		case "children":
			// ansible-core 2.14 rejects a child group that is never
			// declared; tend creates it empty, as later Ansible documents
			// "a group that appears only as a child" may be.
			inv.warnf("%s:%d: group %s is only named as a child of %s; created it empty", name, d.line, g, strings.Join(d.parents, ", "))
			inv.addGroup(g)
			if err := resolveChildren(g); err != nil {
				return parseErrorf(name, d.line, "%v", err)
			}
		}
	}
	return nil
}

// iniHostLine parses "pattern k=v ..." and adds the hosts to group.
func (inv *Inventory) iniHostLine(name, abs string, lineno int, line, group string) error {
	tokens, err := shlexSplit(line)
	if err != nil {
		return parseErrorf(name, lineno, "cannot parse host line %q: %v", line, err)
	}
	if len(tokens) == 0 {
		return nil // only a comment after whitespace
	}
	hosts, port, hasPort, err := expandHostPattern(tokens[0])
	if err != nil {
		return parseErrorf(name, lineno, "%v", err)
	}
	type kv struct {
		k string
		v any
	}
	vars := make([]kv, 0, len(tokens)-1)
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return parseErrorf(name, lineno, "expected key=value host variable after %s, got %q", tokens[0], t)
		}
		vars = append(vars, kv{k, parseINIValue(v)})
	}
	for _, h := range hosts {
		if err := inv.addHost(h, group, port, hasPort, abs); err != nil {
			return parseErrorf(name, lineno, "%v", err)
		}
		for _, e := range vars {
			inv.setHostVar(h, e.k, e.v)
		}
	}
	return nil
}

// expandHostPattern splits an optional :port off a host pattern and expands
// its ranges, like Ansible's _expand_hostpattern.
func expandHostPattern(pattern string) (hosts []string, port int, hasPort bool, err error) {
	host, port, hasPort, ok := parseAddress(pattern, true)
	if !ok {
		host, port, hasPort = pattern, 0, false
	}
	if strings.HasSuffix(strings.TrimSpace(pattern), ":") && !hasPort {
		return nil, 0, false, fmt.Errorf("invalid host pattern %q: a trailing ':' must be followed by a port number", pattern)
	}
	hosts, err = expandHostRange(host)
	if err != nil {
		return nil, 0, false, err
	}
	for _, h := range hosts {
		if strings.TrimSpace(h) == "---" {
			return nil, 0, false, fmt.Errorf("invalid host pattern %q: '---' is normally a sign this is a YAML file", pattern)
		}
	}
	return hosts, port, hasPort, nil
}
