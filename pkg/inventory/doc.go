// Package inventory loads Ansible-compatible inventories: INI files, YAML (and
// JSON) files, directories of such files, and comma-separated host lists, plus
// the group_vars/ and host_vars/ directories that sit next to them or next to
// a playbook.
//
// The interpretation follows ansible-core 2.14 (ansible-inventory was used as
// an oracle; see testdata/oracle): INI values are parsed as Python literals,
// YAML uses YAML 1.1 scalar resolution (yes/no are booleans, 0755 is octal),
// host ranges such as web[01:20] are expanded, and host variables are merged
// in Ansible's default precedence order with hash_behaviour=replace.
//
// Every variable value is plain Go data: string, int, float64, bool, nil,
// []any or map[string]any.
//
// An Inventory is safe for concurrent reads once Load (and any AddVarsDir
// calls) have returned; AddVarsDir must not run concurrently with readers.
package inventory
