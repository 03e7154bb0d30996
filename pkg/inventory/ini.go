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
	l := &iniLoader{inv: inv, name: name, abs: abs, group: "ungrouped", state: "hosts", pending: map[string]*pendingDecl{}}
	for i, raw := range strings.Split(text, "\n") {
		lineno := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := iniSectionRE.FindStringSubmatch(line); m != nil {
			if err := l.section(lineno, m[1], m[2]); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return parseErrorf(name, lineno, "invalid section header %s: expected [group], [group:vars] or [group:children] with no spaces", line)
		}
		if err := l.entry(lineno, line); err != nil {
			return err
		}
	}
	return l.finish()
}

// iniLoader is the state of loadINI: the current section and the groups
// used before they are declared.
type iniLoader struct {
	inv          *Inventory
	name, abs    string
	group, state string
	pending      map[string]*pendingDecl
	pendingOrder []string
}

func (l *iniLoader) addPending(g string, d *pendingDecl) {
	l.pending[g] = d
	l.pendingOrder = append(l.pendingOrder, g)
}

// resolveChildren makes the pending group g a child of the parents that
// named it, and so on up for parents that were pending children too.
func (l *iniLoader) resolveChildren(g string) error {
	d := l.pending[g]
	delete(l.pending, g)
	for _, parent := range d.parents {
		if err := l.inv.addChild(parent, g); err != nil {
			return err
		}
		if pd, ok := l.pending[parent]; ok && pd.state == "children" {
			if err := l.resolveChildren(parent); err != nil {
				return err
			}
		}
	}
	return nil
}

// section starts the section [group:kind]; it declares group unless kind
// is vars.
func (l *iniLoader) section(lineno int, group, kind string) error {
	l.group, l.state = group, kind
	if l.state == "" {
		l.state = "hosts"
	}
	if l.state != "hosts" && l.state != "vars" && l.state != "children" {
		return parseErrorf(l.name, lineno, "section [%s:%s] has unknown type %q: expected hosts, vars or children", group, kind, kind)
	}
	if _, ok := l.inv.groups[group]; !ok {
		// [g:vars] alone does not declare a group; remember it and
		// complain at the end unless g is declared later.
		if _, isPending := l.pending[group]; l.state == "vars" && !isPending {
			l.addPending(group, &pendingDecl{line: lineno, state: "vars"})
		}
		l.inv.addGroup(group)
	}
	d, ok := l.pending[group]
	if !ok || l.state == "vars" {
		return nil
	}
	if d.state != "children" {
		delete(l.pending, group)
		return nil
	}
	if err := l.resolveChildren(group); err != nil {
		return parseErrorf(l.name, lineno, "%v", err)
	}
	return nil
}

// entry reads one line of the current section.
func (l *iniLoader) entry(lineno int, line string) error {
	switch l.state {
	case "hosts":
		return l.inv.iniHostLine(l.name, l.abs, lineno, line, l.group)
	case "vars":
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return parseErrorf(l.name, lineno, "expected key=value in [%s:vars], got %q", l.group, line)
		}
		l.inv.setGroupVar(l.group, strings.TrimSpace(k), parseINIValue(strings.TrimSpace(v)))
	case "children":
		m := iniGroupNameRE.FindStringSubmatch(line)
		if m == nil {
			return parseErrorf(l.name, lineno, "expected a group name in [%s:children], got %q", l.group, line)
		}
		child := m[1]
		if _, ok := l.inv.groups[child]; ok {
			if err := l.inv.addChild(l.group, child); err != nil {
				return parseErrorf(l.name, lineno, "%v", err)
			}
		} else if d, ok := l.pending[child]; ok {
			d.parents = append(d.parents, l.group)
		} else {
			l.addPending(child, &pendingDecl{line: lineno, state: "children", parents: []string{l.group}})
		}
	}
	return nil
}

// finish deals with the groups still pending at the end of the file.
func (l *iniLoader) finish() error {
	for _, g := range l.pendingOrder {
		d, ok := l.pending[g]
		if !ok {
			continue
		}
		switch d.state {
		case "vars":
			return parseErrorf(l.name, d.line, "section [%s:vars] is for undefined group %s: declare it with [%s] or as a child", g, g, g)
		case "children":
			// ansible-core 2.14 rejects a child group that is never
			// declared; tend creates it empty, as later Ansible documents
			// "a group that appears only as a child" may be.
			l.inv.warnf("%s:%d: group %s is only named as a child of %s; created it empty", l.name, d.line, g, strings.Join(d.parents, ", "))
			l.inv.addGroup(g)
			if err := l.resolveChildren(g); err != nil {
				return parseErrorf(l.name, d.line, "%v", err)
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
