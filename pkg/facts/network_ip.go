package facts

import (
	"net"
	"strconv"
	"strings"
)

// ifaceKey is the fact name of an interface: Ansible replaces ":" in the
// name, and its fact namespace "-", with "_".
func ifaceKey(name string) string {
	return strings.NewReplacer("-", "_", ":", "_").Replace(name)
}

// interfaceTypes maps /sys/class/net/*/type to Ansible's names.
var interfaceTypes = map[string]string{"1": "ether", "32": "infiniband", "512": "ppp", "772": "loopback", "65534": "tunnel"}

// sysInterfaces reads the sysnet section ("I NAME" then "attr value"
// lines) into Ansible's per-interface facts, in the order listed.
func sysInterfaces(lines []string) ([]string, map[string]map[string]any) {
	var order []string
	ifs := map[string]map[string]any{}
	var cur map[string]any
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		if k == "I" {
			cur = map[string]any{"device": v}
			ifs[v] = cur
			order = append(order, v)
			continue
		}
		if cur == nil {
			continue
		}
		switch k {
		case "address":
			if v != "" && v != "00:00:00:00:00:00" {
				cur["macaddress"] = v
			}
		case "mtu":
			cur["mtu"] = atoi(v)
		case "operstate":
			cur["active"] = v != "down"
		case "module", "pciid":
			cur[k] = v
		case "type":
			if t, ok := interfaceTypes[v]; ok {
				cur["type"] = t
			} else {
				cur["type"] = "unknown"
			}
		case "bridge":
			cur["type"] = "bridge"
			cur["interfaces"] = []any{}
		case "brif":
			cur["interfaces"] = append(cur["interfaces"].([]any), v)
		case "bridge_id":
			cur["id"] = v
		case "stp_state":
			cur["stp"] = v == "1"
		case "bonding":
			cur["type"] = "bonding"
			cur["slaves"] = []any{}
		case "slaves":
			cur["slaves"] = strList(strings.Fields(v))
		case "mode", "miimon", "lacp_rate":
			cur[k] = strings.Fields(v + " ")[0]
		case "primary":
			if v != "" {
				cur["primary"] = v
			}
		case "all_slaves_active":
			if _, ok := cur["primary"]; ok {
				cur["all_slaves_active"] = v == "1"
			}
		case "perm_hwaddr":
			cur["perm_macaddress"] = v
		case "speed":
			if n, err := strconv.Atoi(v); err == nil {
				cur["speed"] = n
			}
		case "flags":
			if n, err := strconv.ParseInt(strings.TrimPrefix(v, "0x"), 16, 64); err == nil {
				cur["promisc"] = n&0x100 != 0
			}
		}
	}
	return order, ifs
}

// sysnetOrder is the order in which sysInterfaces wants an interface's
// attributes.
var sysnetOrder = []string{"address", "mtu", "operstate", "type", "speed", "flags", "pciid", "module",
	"bridge", "bridge_id", "stp_state", "brif", "bonding", "slaves", "mode", "miimon", "lacp_rate", "primary",
	"all_slaves_active", "perm_hwaddr"}

// sysnetLines turns the sysnet section (the names of the interfaces of
// the host's network namespace, from /proc/net/dev; then for each, after
// "@attr", grep's "NAME/ATTR:VALUE" lines for its /sys/class/net files
// and after "@ls" ls -ld of its device links and bridge or bonding
// directories) into "I NAME" lines each followed by "ATTR VALUE" lines.
func sysnetLines(lines []string) []string {
	var names []string
	attrs := map[string]map[string][]string{}
	add := func(name, k, v string) {
		if attrs[name] != nil {
			attrs[name][k] = append(attrs[name][k], v)
		}
	}
	part := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "@") {
			part = l
			continue
		}
		switch part {
		case "":
			if l != "" && attrs[l] == nil {
				names = append(names, l)
				attrs[l] = map[string][]string{}
			}
		case "@attr":
			p, v, ok := strings.Cut(l, ":")
			name, attr, ok2 := strings.Cut(p, "/")
			if ok && ok2 {
				add(name, attr[strings.LastIndex(attr, "/")+1:], v)
			}
		case "@ls":
			// ls -ld: "... NAME/device -> TARGET" for links, "... NAME/bridge"
			// for directories.
			p, target, link := strings.Cut(l, " -> ")
			p = p[strings.LastIndex(p, " ")+1:]
			name, rest, _ := strings.Cut(p, "/")
			base := target[strings.LastIndex(target, "/")+1:]
			switch {
			case link && rest == "device":
				add(name, "pciid", base)
			case link && rest == "device/driver/module":
				add(name, "module", base)
			case rest == "bridge" || rest == "bonding":
				add(name, rest, "")
			case strings.HasPrefix(rest, "brif/"):
				add(name, "brif", strings.TrimPrefix(rest, "brif/"))
			}
		}
	}
	var out []string
	for _, n := range names {
		out = append(out, "I "+n)
		for _, k := range sysnetOrder {
			for _, v := range attrs[n][k] {
				out = append(out, k+" "+v)
			}
		}
	}
	return out
}

// routeGet reads the first line of `ip route get ADDR` as Ansible does.
func routeGet(l, target string) map[string]any {
	m := map[string]any{}
	w := strings.Fields(l)
	if len(w) == 0 || w[0] != target {
		return m
	}
	for i := 0; i+1 < len(w); i++ {
		switch w[i] {
		case "dev":
			m["interface"] = w[i+1]
		case "src":
			m["address"] = w[i+1]
		case "via":
			if w[i+1] != target {
				m["gateway"] = w[i+1]
			}
		}
	}
	return m
}

// parseIPNetwork builds the network facts from /sys/class/net (every
// interface the host's sysfs lists, as Ansible does) and the addresses
// of `ip -o addr show`.
func parseIPNetwork(f map[string]any, sec map[string][]string) {
	order, ifs := sysInterfaces(sysnetLines(sec["sysnet"]))
	get := func(name string) map[string]any {
		if i, ok := ifs[name]; ok {
			return i
		}
		i := map[string]any{"device": name}
		ifs[name] = i
		order = append(order, name)
		return i
	}
	def4 := routeGet(line(sec, "ip-route", 0), "8.8.8.8")
	if len(def4) == 0 {
		// `ip route show default`, as in outputs of older scripts.
		def4 = routeGet(line(sec, "ip-route", 0), "default")
		delete(def4, "address")
		if dev, ok := def4["interface"].(string); ok {
			defer func() {
				if a, ok := ifs[dev]["ipv4"].(map[string]any); ok {
					def4["address"] = a["address"]
					for _, k := range []string{"broadcast", "netmask", "network", "prefix"} {
						def4[k] = a[k]
					}
					def4["macaddress"] = ifs[dev]["macaddress"]
					def4["mtu"] = ifs[dev]["mtu"]
					def4["type"] = typeOr(ifs[dev])
					def4["alias"] = dev
				}
			}()
		}
	}
	def6 := routeGet(line(sec, "ip-route6", 0), "2404:6800:400a:800::1012")
	all4, all6 := []any{}, []any{}
	for _, l := range sec["ip-addr"] {
		l, _, _ = strings.Cut(l, `\`)
		w := strings.Fields(l)
		if len(w) < 4 {
			continue
		}
		dev, _, _ := strings.Cut(strings.TrimSuffix(w[1], ":"), "@")
		i := get(dev)
		w = w[2:]
		switch w[0] {
		case "inet":
			addr, plen, ok := strings.Cut(w[1], "/")
			if !ok {
				plen = "32"
			}
			ip := net.ParseIP(addr).To4()
			n, err := strconv.Atoi(plen)
			if ip == nil || err != nil {
				continue
			}
			brd := ""
			if len(w) > 3 && w[2] == "brd" {
				brd = w[3]
			}
			mask := net.IP(net.CIDRMask(n, 32))
			a := map[string]any{"address": addr, "broadcast": brd, "netmask": mask.String(), "network": ip.Mask(net.IPMask(mask)).String(), "prefix": plen}
			if _, has := i["ipv4"]; has || containsWord(w, "secondary") {
				sec, _ := i["ipv4_secondaries"].([]any)
				i["ipv4_secondaries"] = append(sec, a)
			} else {
				i["ipv4"] = a
			}
			if def4["address"] == addr {
				for _, k := range []string{"broadcast", "netmask", "network", "prefix"} {
					def4[k] = a[k]
				}
				def4["macaddress"] = i["macaddress"]
				def4["mtu"] = i["mtu"]
				def4["type"] = typeOr(i)
				def4["alias"] = dev
			}
			if !strings.HasPrefix(addr, "127.") {
				all4 = append(all4, addr)
			}
		case "inet6":
			var addr, plen, scope string
			if len(w) > 5 && w[2] == "peer" {
				addr = w[1]
				_, plen, _ = strings.Cut(w[3], "/")
				scope = w[5]
			} else if len(w) > 3 {
				addr, plen, _ = strings.Cut(w[1], "/")
				scope = w[3]
			} else {
				continue
			}
			v6, _ := i["ipv6"].([]any)
			i["ipv6"] = append(v6, map[string]any{"address": addr, "prefix": plen, "scope": scope})
			if def6["address"] == addr {
				def6["prefix"] = plen
				def6["scope"] = scope
				def6["macaddress"] = i["macaddress"]
				def6["mtu"] = i["mtu"]
				def6["type"] = typeOr(i)
			}
			if addr != "::1" {
				all6 = append(all6, addr)
			}
		}
	}
	names := []any{}
	for _, n := range order {
		k := strings.ReplaceAll(n, ":", "_")
		names = append(names, k)
		f[ifaceKey(n)] = ifs[n]
	}
	f["interfaces"] = names
	f["default_ipv4"] = def4
	f["default_ipv6"] = def6
	f["all_ipv4_addresses"] = all4
	f["all_ipv6_addresses"] = all6
}

func typeOr(i map[string]any) any {
	if t, ok := i["type"]; ok {
		return t
	}
	return "unknown"
}

func containsWord(w []string, s string) bool {
	for _, x := range w {
		if x == s {
			return true
		}
	}
	return false
}

// parseStorageNetwork sets fibre_channel_wwn, iscsi_iqn and hostnqn.
func parseStorageNetwork(f map[string]any, sec map[string][]string) {
	wwn := []any{}
	for _, l := range sec["fc"] {
		if l = strings.TrimSpace(l); len(l) > 2 {
			wwn = append(wwn, l[2:])
		}
	}
	f["fibre_channel_wwn"] = wwn
	iqn := ""
	for _, l := range sec["iscsi"] {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "InitiatorName="); ok {
			iqn = v
		}
	}
	f["iscsi_iqn"] = iqn
	nqn := ""
	for _, l := range sec["nvme"] {
		if strings.HasPrefix(l, "nqn") {
			nqn = strings.TrimSpace(l)
		}
	}
	f["hostnqn"] = nqn
}
