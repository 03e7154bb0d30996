package conf

import (
	"fmt"
	"strings"
)

// KV is a parsed Workbench key=value file (rserver.conf, rsession.conf,
// database.conf, repos.conf): one "key=value" per line, '#' starts a
// comment line, blank lines ignored. Keys keep their order.
type KV struct {
	Keys   []string
	Values map[string]string
	Lines  map[string]int
}

// ParseKV parses key=value text. A line without '=', an empty key or a
// key given twice is an error, as Workbench's option parser reports them.
func ParseKV(file string, data []byte) (*KV, error) {
	kv := &KV{Values: map[string]string{}, Lines: map[string]int{}}
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("expected key=value, got %q", s)}
		}
		if k == "" || strings.ContainsAny(k, " \t") {
			return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("invalid key %q", k)}
		}
		if prev, dup := kv.Lines[k]; dup {
			return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("option %q given twice (first on line %d)", k, prev)}
		}
		kv.Keys = append(kv.Keys, k)
		kv.Values[k] = v
		kv.Lines[k] = i + 1
	}
	return kv, nil
}

// Get returns the value of key and whether it is set.
func (kv *KV) Get(key string) (string, bool) {
	v, ok := kv.Values[key]
	return v, ok
}

// INI is a parsed INI file with [section] headers and key=value (or
// "key: value") lines; lines that are a bare word (the old load-balancer
// [nodes] list) are kept as keys with an empty value. Comments start with
// '#' or ';'.
type INI struct {
	Sections map[string]map[string]string
	Order    []string
}

// ParseINI parses INI text; keys before any section go to section "".
func ParseINI(file string, data []byte) (*INI, error) {
	ini := &INI{Sections: map[string]map[string]string{}}
	cur := ""
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		if s[0] == '[' {
			if !strings.HasSuffix(s, "]") || len(s) < 3 {
				return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("invalid section header %q", s)}
			}
			cur = strings.TrimSpace(s[1 : len(s)-1])
			if _, ok := ini.Sections[cur]; !ok {
				ini.Sections[cur] = map[string]string{}
				ini.Order = append(ini.Order, cur)
			}
			continue
		}
		if _, ok := ini.Sections[cur]; !ok {
			ini.Sections[cur] = map[string]string{}
			ini.Order = append(ini.Order, cur)
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			k, v, ok = strings.Cut(s, ":")
		}
		k = strings.TrimSpace(k)
		if !ok && strings.ContainsAny(k, " \t") {
			return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("expected key=value, got %q", s)}
		}
		if k == "" {
			return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("empty key in %q", s)}
		}
		ini.Sections[cur][k] = strings.TrimSpace(v)
	}
	return ini, nil
}

// Get returns the value of key in section.
func (ini *INI) Get(section, key string) (string, bool) {
	v, ok := ini.Sections[section][key]
	return v, ok
}
