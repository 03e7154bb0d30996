package testbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// subnetLock serializes subnet allocation between processes booting beds.
const subnetLock = "/run/tend-testbed/.subnet.lock"

// netPrefix is the /16 the beds' /24 subnets come from.
const netPrefix = "10.231."

// createBridge picks a free 10.231.X.0/24 (or uses want when set), creates
// the bridge with .1 and brings it up. Taking the subnet and adding the
// address happen under one cross-process lock, so parallel beds never
// pick the same subnet.
func createBridge(ctx context.Context, bridge, want, seed string) (subnet string, gw string, err error) {
	if err := os.MkdirAll(filepath.Dir(subnetLock), 0o755); err != nil {
		return "", "", fmt.Errorf("bridge %s: %w", bridge, err)
	}
	unlock, err := lockFile(ctx, subnetLock)
	if err != nil {
		return "", "", fmt.Errorf("bridge %s: %w", bridge, err)
	}
	defer unlock()
	used, err := usedSubnets()
	if err != nil {
		return "", "", fmt.Errorf("bridge %s: %w", bridge, err)
	}
	third := -1
	if want != "" {
		ip, ipn, perr := net.ParseCIDR(want)
		ones, _ := ipn.Mask.Size()
		if perr != nil || ip.To4() == nil || ones != 24 {
			return "", "", fmt.Errorf("bridge %s: subnet %q: want an IPv4 /24 such as 10.231.7.0/24", bridge, want)
		}
		b := ipn.IP.To4()
		if used[fmt.Sprintf("%d.%d.%d", b[0], b[1], b[2])] {
			return "", "", fmt.Errorf("bridge %s: subnet %s is already in use on this machine", bridge, want)
		}
		subnet = ipn.String()
		gw = fmt.Sprintf("%d.%d.%d.1", b[0], b[1], b[2])
	} else {
		// Start at a place derived from the bed name so beds tend to keep
		// their subnet from run to run, then take the first free one.
		start := 0
		for _, c := range seed {
			start = (start*31 + int(c)) % 250
		}
		for i := 0; i < 250; i++ {
			x := 1 + (start+i)%250
			if !used[netPrefix+strconv.Itoa(x)] {
				third = x
				break
			}
		}
		if third < 0 {
			return "", "", fmt.Errorf("bridge %s: no free subnet left in %s0.0/16", bridge, netPrefix)
		}
		subnet = fmt.Sprintf("%s%d.0/24", netPrefix, third)
		gw = fmt.Sprintf("%s%d.1", netPrefix, third)
	}
	if _, err := run(ctx, "ip", "link", "add", bridge, "type", "bridge"); err != nil {
		return "", "", fmt.Errorf("bridge %s: %w", bridge, err)
	}
	if _, err := run(ctx, "ip", "addr", "add", gw+"/24", "dev", bridge); err != nil {
		return "", "", fmt.Errorf("bridge %s: %w", bridge, err)
	}
	if _, err := run(ctx, "ip", "link", "set", bridge, "up"); err != nil {
		return "", "", fmt.Errorf("bridge %s: %w", bridge, err)
	}
	return subnet, gw, nil
}

// usedSubnets returns the first three octets of every IPv4 network with an
// address on this machine (root network namespace).
func usedSubnets() (map[string]bool, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	used := map[string]bool{}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil {
			continue
		}
		b := ipn.IP.To4()
		used[fmt.Sprintf("%d.%d.%d", b[0], b[1], b[2])] = true
	}
	return used, nil
}

// plugHost creates host's network namespace and a veth pair whose inner
// end is eth0 with addr/24 and a default route via gw.
func plugHost(ctx context.Context, ns, veth, bridge, addr, gw string) error {
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", bridge, "up"},
		{"-n", ns, "addr", "add", addr + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "route", "add", "default", "via", gw},
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return fmt.Errorf("network of %s: %w", ns, err)
		}
	}
	return nil
}

// listNetns returns the network namespaces under /run/netns with prefix.
func listNetns(prefix string) ([]string, error) {
	ents, err := os.ReadDir("/run/netns")
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list network namespaces: %w", err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// listLinks returns the interfaces of the root namespace with prefix.
func listLinks(prefix string) ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []string
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, prefix) {
			out = append(out, i.Name)
		}
	}
	return out, nil
}

// netnsPids returns the processes that live in network namespace ns.
func netnsPids(ctx context.Context, ns string) ([]int, error) {
	out, err := run(ctx, "ip", "netns", "pids", ns)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}
