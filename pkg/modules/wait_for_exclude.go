package modules

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// waitForExcludes resolves exclude_hosts on the host (as Ansible's
// getaddrinfo there) and returns the addresses as /proc/net/tcp{,6} print
// them; a non-nil result is the task's failure.
func waitForExcludes(ctx context.Context, h *module.Host, args module.Args) ([]string, module.Result, error) {
	hosts := args.List("exclude_hosts")
	if !args.Has("exclude_hosts") {
		return nil, nil, nil
	}
	if args.String("state") != "drained" {
		return nil, module.Result{"failed": true, "msg": "exclude_hosts should only be with state=drained", "elapsed": 0}, nil
	}
	var addrs []netip.Addr
	for _, name := range hosts {
		if a, err := netip.ParseAddr(name); err == nil {
			addrs = append(addrs, a)
			continue
		}
		res, err := h.Run(ctx, "getent ahosts "+shell.Quote(name))
		if err != nil {
			return nil, nil, fmt.Errorf("wait_for on %s: resolving %s: %w", h.Name, name, err)
		}
		if res.ExitCode != 0 {
			return nil, module.Result{"failed": true, "msg": fmt.Sprintf("exclude_hosts: cannot resolve %s on the host", name), "elapsed": 0}, nil
		}
		for _, line := range strings.Split(string(res.Stdout), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				if a, err := netip.ParseAddr(f[0]); err == nil {
					addrs = append(addrs, a)
				}
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		for _, hx := range procNetHex(a) {
			if !seen[hx] {
				seen[hx] = true
				out = append(out, hx)
			}
		}
	}
	return out, nil, nil
}

// procNetHex is an address as /proc/net/tcp (IPv4) or tcp6 prints it:
// each 32-bit word in host (little-endian) order. An IPv4 address also
// yields its IPv4-mapped IPv6 form.
func procNetHex(a netip.Addr) []string {
	words := func(b []byte) string {
		var s strings.Builder
		for i := 0; i+4 <= len(b); i += 4 {
			fmt.Fprintf(&s, "%08X", binary.LittleEndian.Uint32(b[i:i+4]))
		}
		return s.String()
	}
	if a.Is4() {
		b4 := a.As4()
		b16 := netip.AddrFrom16(a.As16()).As16() // ::ffff:a.b.c.d
		return []string{words(b4[:]), words(b16[:])}
	}
	b16 := a.As16()
	return []string{words(b16[:])}
}
