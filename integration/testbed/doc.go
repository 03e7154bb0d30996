// Package testbed boots real Debian 12 hosts on this machine for
// integration tests and demos: each host is a systemd-nspawn container with
// systemd as PID 1, its own network namespace on a per-bed bridge, its own
// host keys, and an SSH server that accepts the bed's key.
//
// A bed is a set of hosts that are booted and torn down together. Up boots
// one, Down removes everything it created (containers, overlay mounts,
// network namespaces, veth pairs, bridge, apt proxy); Start wraps both for
// Go tests. The bed's state is kept in a JSON file in its directory so a
// bed booted by one process (the testbed command) can be inspected and torn
// down by another.
//
// Everything needs root and Debian packages: debootstrap, systemd-container,
// openssh-client, tinyproxy and iproute2. See README.md for numbers and
// limits.
package testbed
