package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// SSHArgs returns the OpenSSH client arguments (before the command) that
// log in to host as root with the bed's key, checking the host key against
// the bed's known_hosts file and ignoring the user's ssh configuration.
func (b *Bed) SSHArgs(host string) ([]string, error) {
	h, err := b.host(host)
	if err != nil {
		return nil, err
	}
	return []string{
		"-F", "/dev/null",
		"-i", b.KeyFile, "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + b.KnownHostsFile, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		"-p", fmt.Sprint(h.Port),
		h.User + "@" + h.Addr,
	}, nil
}

// SSH runs command on host through the OpenSSH client and returns its
// standard output. A non-zero exit (255: ssh itself failed) is an error
// that carries the standard error.
func (b *Bed) SSH(ctx context.Context, host, command string) (string, error) {
	args, err := b.SSHArgs(host)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "ssh", append(args, "--", command)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("ssh %s %q: %w: %s", host, command, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// writeKnownHosts writes one line per host key, valid for the host's
// address and name, so clients keep host-key checking on.
func (b *Bed) writeKnownHosts() error {
	var kh strings.Builder
	for _, h := range b.Hosts {
		keys, err := h.hostKeys()
		if err != nil {
			return fmt.Errorf("bed %s: known_hosts: %w", b.Name, err)
		}
		for _, k := range keys {
			fmt.Fprintf(&kh, "%s,%s %s\n", h.Addr, h.Name, k)
		}
	}
	if err := os.WriteFile(b.KnownHostsFile, []byte(kh.String()), 0o644); err != nil {
		return fmt.Errorf("bed %s: known_hosts: %w", b.Name, err)
	}
	return nil
}

var groupName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validGroup reports whether role can be an inventory group name that both
// Ansible and tend accept without warnings.
func validGroup(role string) bool {
	return groupName.MatchString(role) && role != "all" && role != "ungrouped"
}

// hostVars are the connection variables of a host, in a stable order.
func (b *Bed) hostVars(h *Host) [][2]string {
	v := [][2]string{
		{"ansible_host", h.Addr},
		{"ansible_port", fmt.Sprint(h.Port)},
		{"ansible_user", h.User},
		{"ansible_ssh_private_key_file", b.KeyFile},
		{"ansible_ssh_common_args", "-o UserKnownHostsFile=" + b.KnownHostsFile},
	}
	if h.Python {
		v = append(v, [2]string{"ansible_python_interpreter", "/usr/bin/python3"})
	}
	return v
}

func (b *Bed) groups() (map[string][]string, []string) {
	groups := map[string][]string{}
	for _, h := range b.Hosts {
		if h.Role != "" {
			groups[h.Role] = append(groups[h.Role], h.Name)
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return groups, names
}

// INI returns the bed's inventory in Ansible's INI format.
func (b *Bed) INI() string {
	var s strings.Builder
	fmt.Fprintf(&s, "# tend testbed %q: hosts log in as root with the bed's key\n", b.Name)
	for _, h := range b.Hosts {
		s.WriteString(h.Name)
		for _, kv := range b.hostVars(h) {
			v := kv[1]
			if strings.ContainsAny(v, " \t'\"") {
				v = "'" + v + "'"
			}
			s.WriteString(" " + kv[0] + "=" + v)
		}
		s.WriteString("\n")
	}
	groups, names := b.groups()
	for _, g := range names {
		fmt.Fprintf(&s, "\n[%s]\n%s\n", g, strings.Join(groups[g], "\n"))
	}
	return s.String()
}

// YAML returns the bed's inventory in Ansible's YAML format.
func (b *Bed) YAML() string {
	var s strings.Builder
	fmt.Fprintf(&s, "# tend testbed %q: hosts log in as root with the bed's key\nall:\n  hosts:\n", b.Name)
	for _, h := range b.Hosts {
		fmt.Fprintf(&s, "    %s:\n", h.Name)
		for _, kv := range b.hostVars(h) {
			fmt.Fprintf(&s, "      %s: %s\n", kv[0], yamlString(kv[1]))
		}
	}
	groups, names := b.groups()
	if len(names) > 0 {
		s.WriteString("  children:\n")
		for _, g := range names {
			fmt.Fprintf(&s, "    %s:\n      hosts:\n", g)
			for _, h := range groups[g] {
				fmt.Fprintf(&s, "        %s:\n", h)
			}
		}
	}
	return s.String()
}

// yamlString quotes s as a YAML double-quoted scalar (a JSON string is one).
func yamlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (b *Bed) writeInventories() error {
	if err := os.WriteFile(b.InventoryINI, []byte(b.INI()), 0o644); err != nil {
		return fmt.Errorf("bed %s: inventory: %w", b.Name, err)
	}
	if err := os.WriteFile(b.InventoryYAML, []byte(b.YAML()), 0o644); err != nil {
		return fmt.Errorf("bed %s: inventory: %w", b.Name, err)
	}
	return nil
}
