// Package facts gathers Ansible's facts about a host in one round trip,
// with POSIX sh and tools (uname, id, date, grep, ls, stat...) and, when
// present, ip, findmnt, lsblk, capsh, nproc, getconf, vgs and python3 -V:
// no Python is needed on the target.
//
// Script returns the shell script for a set of gather_subset entries,
// Parse turns its output into a map keyed like Ansible's ansible_facts
// ("hostname", "distribution", "default_ipv4", "mounts", ...), and Gather
// (or Collect, with setup's options) does both over a connection and
// applies gather_subset and filter. The executor exposes each fact as
// ansible_<name> and as ansible_facts.<name>. The facts are those of
// Ansible 2.14's Linux collectors; integration/facts compares them with
// Ansible's on the same host.
package facts
