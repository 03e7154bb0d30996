package inventory

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/pyre"
)

// Select resolves an Ansible host pattern and returns the matching hosts.
//
// A pattern is a list of parts separated by ',' (or by ':' when the whole
// pattern is not a host:port address). Each part is a host or group name,
// "all", a shell glob ("web*", "db[12]"), a regular expression "~re"
// (matched at the start of names, Python syntax), optionally subscripted
// ("web[0]", "web[1:3]", "web[-1]"), or "@file" naming a file with one
// pattern per line (such as a .retry file). Parts starting with '&'
// intersect and parts starting with '!' exclude; as in Ansible, all plain
// parts are applied first (union, in order of first appearance), then every
// '&', then every '!'. Hosts come out in inventory order within each part.
//
// Names that match nothing add nothing (Ansible only warns), nor does a
// subscript beyond the matched hosts. Errors are returned only for an
// invalid regular expression or glob and for an unreadable @file.
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	parts, err := expandAtFiles(splitHostPattern(pattern))
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return []*Host{}, nil
	}
	var regular, and, not []string
	for _, p := range parts {
		switch p[0] {
		case '&':
			and = append(and, p)
		case '!':
			not = append(not, p)
		default:
			regular = append(regular, p)
		}
	}
	if len(regular) == 0 {
		regular = []string{"all"}
	}
	var hosts []*Host
	seen := map[*Host]bool{}
	for _, p := range regular {
		if h, ok := inv.hostIdx[p]; ok {
			// A plain host name is taken as is, even if a group has the
			// same name (Ansible's shortcut).
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
			continue
		}
		matched, err := inv.matchOne(p)
		if err != nil {
			return nil, err
		}
		for _, h := range matched {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	for _, p := range slices.Concat(and, not) {
		matched, err := inv.matchOne(p[1:])
		if err != nil {
			return nil, err
		}
		set := map[*Host]bool{}
		for _, h := range matched {
			set[h] = true
		}
		keep := p[0] == '&'
		hosts = slices.DeleteFunc(hosts, func(h *Host) bool { return set[h] != keep })
	}
	if hosts == nil {
		hosts = []*Host{}
	}
	return hosts, nil
}

// splitHostPattern splits a pattern like Ansible's split_host_pattern.
func splitHostPattern(pattern string) []string {
	var parts []string
	if strings.Contains(pattern, ",") {
		parts = strings.Split(pattern, ",")
	} else if _, _, _, ok := parseAddress(strings.TrimSpace(pattern), true); ok {
		// A host, maybe with :port or ranges.
		parts = []string{pattern}
	} else {
		parts = colonSplitRE.FindAllString(pattern, -1)
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// colonSplitRE finds ':'-separated parts, keeping [..] brackets whole.
var colonSplitRE = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)

// expandAtFiles replaces "@file" parts with the lines of file.
func expandAtFiles(parts []string) ([]string, error) {
	var out []string
	for _, p := range parts {
		if !strings.HasPrefix(p, "@") {
			out = append(out, p)
			continue
		}
		data, err := os.ReadFile(p[1:])
		if err != nil {
			return nil, fmt.Errorf("host pattern %s: reading limit file: %w", p, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

// subscriptRE matches a pattern with a trailing [i] or [i:j] subscript.
var subscriptRE = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$`)

// matchOne resolves one pattern part without its &/! prefix.
func (inv *Inventory) matchOne(pattern string) ([]*Host, error) {
	if pattern == "" {
		return []*Host{}, nil // a bare "&" or "!"
	}
	expr := pattern
	var idx, start, end int
	var hasIdx, hasRange bool
	if pattern[0] != '~' {
		if m := subscriptRE.FindStringSubmatch(pattern); m != nil {
			expr = m[1]
			if m[2] != "" {
				idx, _ = strconv.Atoi(m[2])
				hasIdx = true
			} else {
				start, _ = strconv.Atoi(m[3])
				end = -1
				if m[5] != "" {
					end, _ = strconv.Atoi(m[5])
				}
				hasRange = true
			}
		}
	}
	hosts, err := inv.enumerate(expr)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return hosts, nil
	}
	switch {
	case hasIdx || (hasRange && end == 0):
		// Ansible treats [x:0] as the single index x.
		if !hasIdx {
			idx = start
		}
		if idx < 0 {
			idx += len(hosts)
		}
		if idx < 0 || idx >= len(hosts) {
			// ansible 2.14 selects nothing here rather than failing.
			return []*Host{}, nil
		}
		return hosts[idx : idx+1], nil
	case hasRange:
		if end == -1 || end >= len(hosts) {
			end = len(hosts) - 1
		}
		if start > end {
			return []*Host{}, nil
		}
		return hosts[start : end+1], nil
	}
	return hosts, nil
}

// enumerate returns the hosts a pattern names: hosts of matching groups
// (with their children) and, for globs, regexes or when no group matched,
// the matching hosts themselves.
func (inv *Inventory) enumerate(pattern string) ([]*Host, error) {
	match, err := compileHostPattern(pattern)
	if err != nil {
		return nil, err
	}
	var out []*Host
	seen := map[*Host]bool{}
	add := func(h *Host) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	matchedGroup := false
	for _, g := range inv.groupList {
		ok, err := match(g.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			matchedGroup = true
			for _, h := range inv.groupHosts(g.Name) {
				add(inv.hostIdx[h])
			}
		}
	}
	if !matchedGroup || pattern[0] == '~' || strings.ContainsAny(pattern, ".?*[") {
		for _, h := range inv.hosts {
			ok, err := match(h.Name)
			if err != nil {
				return nil, err
			}
			if ok {
				add(h)
			}
		}
	}
	if len(out) == 0 {
		if h, ok := inv.host(pattern); ok && slices.Contains(localhostNames, pattern) {
			out = append(out, h)
		}
	}
	return out, nil
}

// compileHostPattern turns "~regex" (a Python regular expression matched
// at the start, re.match, as Ansible does) or a shell glob (anchored at
// both ends, like fnmatch) into a matcher of names.
func compileHostPattern(pattern string) (func(string) (bool, error), error) {
	if pattern[0] == '~' {
		re, err := pyre.Compile(pattern[1:], 0)
		if err != nil {
			return nil, fmt.Errorf("invalid host pattern %q: %w", pattern, err)
		}
		return func(s string) (bool, error) {
			m, err := re.Match(s)
			return m != nil, err
		}, nil
	}
	re, err := regexp.Compile(globToRegexp(pattern))
	if err != nil {
		return nil, fmt.Errorf("invalid host pattern %q: %w", pattern, err)
	}
	return func(s string) (bool, error) { return re.MatchString(s), nil }, nil
}

// globToRegexp ports Python's fnmatch.translate for *, ?, [seq] and [!seq].
func globToRegexp(glob string) string {
	var sb strings.Builder
	sb.WriteString(`(?s)^`)
	for i := 0; i < len(glob); {
		c := glob[i]
		i++
		switch c {
		case '*':
			for i < len(glob) && glob[i] == '*' {
				i++
			}
			sb.WriteString(`.*`)
		case '?':
			sb.WriteString(`.`)
		case '[':
			j := i
			if j < len(glob) && glob[j] == '!' {
				j++
			}
			if j < len(glob) && glob[j] == ']' {
				j++
			}
			for j < len(glob) && glob[j] != ']' {
				j++
			}
			if j >= len(glob) {
				sb.WriteString(`\[`)
				continue
			}
			stuff := glob[i:j]
			i = j + 1
			negate := strings.HasPrefix(stuff, "!")
			if negate {
				stuff = stuff[1:]
			}
			if stuff == "" {
				if negate {
					sb.WriteString(`.`) // [!] matches any character
				} else {
					sb.WriteString(`[^\x00-\x{10FFFF}]`) // [] matches nothing
				}
				continue
			}
			sb.WriteByte('[')
			if negate {
				sb.WriteByte('^')
			}
			for _, r := range stuff {
				switch r {
				case '\\', '[', ']', '^':
					sb.WriteByte('\\')
				}
				sb.WriteRune(r)
			}
			sb.WriteByte(']')
		default:
			sb.WriteString(regexp.QuoteMeta(glob[i-1 : i]))
		}
	}
	sb.WriteString(`$`)
	return sb.String()
}
