// Package facts gathers Ansible's facts about a host in one round trip,
// with POSIX tools only (sh, uname, cat, grep, id, date, env and, when
// present, ip): no Python on the target.
//
// Script returns the shell script for a set of gather_subset entries,
// Parse turns its output into a map keyed like Ansible's ansible_facts
// ("hostname", "distribution", "default_ipv4", ...), and Gather does both
// over a connection and applies gather_subset and filter. The executor
// exposes each fact as ansible_<name> and as ansible_facts.<name>.
package facts
