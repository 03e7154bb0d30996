package facts

import (
	"encoding/binary"
	"encoding/hex"
	"net"
	"sort"
	"strconv"
	"strings"
)

// iface collects what ip reports about one interface.
type iface struct {
	name, mac, typ string
	mtu            int
	up             bool
	addrs          []ifaddr
}

type ifaddr struct {
	ip        net.IP
	prefix    int
	broadcast string
}

func (a ifaddr) facts() map[string]any {
	mask := net.CIDRMask(a.prefix, 32)
	m := map[string]any{
		"address": a.ip.String(),
		"netmask": net.IP(mask).String(),
		"network": a.ip.Mask(mask).String(),
		"prefix":  strconv.Itoa(a.prefix),
	}
	if a.broadcast != "" {
		m["broadcast"] = a.broadcast
	}
	return m
}

// networkFacts sets default_ipv4, all_ipv4_addresses, interfaces and one
// fact per interface (dashes in names become underscores, as in Ansible).
func networkFacts(f map[string]any, ifs map[string]*iface, order []string, gw, dev string) {
	all := []any{}
	names := []any{}
	sort.Strings(order)
	for _, n := range order {
		i := ifs[n]
		names = append(names, n)
		d := map[string]any{"device": n, "active": i.up}
		if i.mtu > 0 {
			d["mtu"] = i.mtu
		}
		if i.mac != "" {
			d["macaddress"] = i.mac
		}
		switch {
		case n == "lo" || i.typ == "loopback":
			d["type"] = "loopback"
		case i.typ == "ether":
			d["type"] = "ether"
		case i.typ != "":
			d["type"] = i.typ
		}
		if len(i.addrs) > 0 {
			d["ipv4"] = i.addrs[0].facts()
			if len(i.addrs) > 1 {
				var sec []any
				for _, a := range i.addrs[1:] {
					sec = append(sec, a.facts())
				}
				d["ipv4_secondaries"] = sec
			}
		}
		for _, a := range i.addrs {
			if !a.ip.IsLoopback() {
				all = append(all, a.ip.String())
			}
		}
		f[ifaceKey(n)] = d
	}
	f["interfaces"] = names
	f["all_ipv4_addresses"] = all
	def := map[string]any{}
	if i, ok := ifs[dev]; ok {
		def["interface"] = dev
		def["alias"] = dev
		if gw != "" {
			def["gateway"] = gw
		}
		if len(i.addrs) > 0 {
			for k, v := range i.addrs[0].facts() {
				def[k] = v
			}
		}
		if i.mac != "" {
			def["macaddress"] = i.mac
		}
		if i.mtu > 0 {
			def["mtu"] = i.mtu
		}
		if t, ok := f[ifaceKey(dev)].(map[string]any)["type"]; ok {
			def["type"] = t
		}
	}
	f["default_ipv4"] = def
}

// parseProcNetwork is the fallback for hosts without ip(8): the routing
// table in /proc/net/route and local addresses from /proc/net/fib_trie.
func parseProcNetwork(f map[string]any, sec map[string][]string) {
	type route struct {
		dev        string
		dest, mask net.IP
		gw         net.IP
	}
	var routes []route
	for _, l := range sec["proc-route"] {
		p := strings.Fields(l)
		if len(p) < 8 || p[0] == "Iface" {
			continue
		}
		routes = append(routes, route{dev: p[0], dest: hexIP(p[1]), gw: hexIP(p[2]), mask: hexIP(p[7])})
	}
	// fib_trie lists "|-- A.B.C.D" followed by "/32 host LOCAL" for local
	// addresses (once per table: deduplicate).
	var locals []net.IP
	seen := map[string]bool{}
	lines := sec["fib-trie"]
	for k := 0; k+1 < len(lines); k++ {
		l := strings.TrimSpace(lines[k])
		if !strings.HasPrefix(l, "|--") || !strings.Contains(lines[k+1], "/32 host LOCAL") {
			continue
		}
		ip := net.ParseIP(strings.TrimSpace(strings.TrimPrefix(l, "|--"))).To4()
		if ip != nil && !seen[ip.String()] {
			seen[ip.String()] = true
			locals = append(locals, ip)
		}
	}
	ifs := map[string]*iface{}
	var order []string
	for _, ip := range locals {
		dev := ""
		prefix := 32
		for _, r := range routes {
			if r.dest == nil || r.mask == nil || r.dest.Equal(net.IPv4zero) {
				continue
			}
			if ip.Mask(net.IPMask(r.mask)).Equal(r.dest) {
				dev = r.dev
				prefix, _ = net.IPMask(r.mask).Size()
				break
			}
		}
		if ip.IsLoopback() {
			dev, prefix = "lo", 8
		}
		if dev == "" {
			continue
		}
		i, ok := ifs[dev]
		if !ok {
			i = &iface{name: dev, up: true}
			ifs[dev] = i
			order = append(order, dev)
		}
		i.addrs = append(i.addrs, ifaddr{ip: ip, prefix: prefix})
	}
	gw, dev := "", ""
	for _, r := range routes {
		if r.dest != nil && r.dest.Equal(net.IPv4zero) && r.mask != nil && r.mask.Equal(net.IPv4zero) {
			gw, dev = r.gw.String(), r.dev
			break
		}
	}
	networkFacts(f, ifs, order, gw, dev)
}

// hexIP decodes an address of /proc/net/route (little-endian hex).
func hexIP(s string) net.IP {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return nil
	}
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, binary.LittleEndian.Uint32(b))
	return ip
}
