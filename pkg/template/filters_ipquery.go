package template

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// ipQueries are ipaddr's queries (ipaddr_utils.py's query_func_map). A
// nil result is Python's None.
var ipQueries map[string]func(q ipQuery) (any, error)

func init() {
	plain := func(f func(q ipQuery) any) func(q ipQuery) (any, error) {
		return func(q ipQuery) (any, error) { return f(q), nil }
	}
	ipQueries = map[string]func(q ipQuery) (any, error){
		"":                 plain(ipEmptyQuery),
		"6to4":             plain(ip6to4Query),
		"address":          plain(ipAddressQuery),
		"ip":               plain(ipAddressQuery),
		"address/prefix":   plain(ipAddressPrefixQuery),
		"gateway":          plain(ipAddressPrefixQuery),
		"gw":               plain(ipAddressPrefixQuery),
		"host/prefix":      plain(ipAddressPrefixQuery),
		"hostnet":          plain(ipAddressPrefixQuery),
		"router":           plain(ipAddressPrefixQuery),
		"bool":             plain(func(ipQuery) any { return true }),
		"broadcast":        plain(ipBroadcastQuery),
		"cidr":             plain(func(q ipQuery) any { return q.v.String() }),
		"cidr_lookup":      func(ipQuery) (any, error) { return nil, errors.New("'iplist'") },
		"first_usable":     usableQuery(ipFirstUsable),
		"last_usable":      usableQuery(ipLastUsable),
		"next_usable":      usableQuery(ipNextUsable),
		"previous_usable":  usableQuery(ipPreviousUsable),
		"range_usable":     usableQuery(ipRangeUsable),
		"peer":             ipPeerQuery,
		"host":             plain(ipHostQuery),
		"hostmask":         plain(func(q ipQuery) any { return q.v.addr(q.v.hostmask()) }),
		"wildcard":         plain(func(q ipQuery) any { return q.v.addr(q.v.hostmask()) }),
		"int":              plain(ipIntQuery),
		"ip/prefix":        plain(ipPrefixQuery(" ", false)),
		"ip_netmask":       plain(ipPrefixQuery(" ", true)),
		"ipv4":             plain(ipV4Query),
		"v4":               missingArg("_ipv4_query"),
		"ipv6":             plain(ipV6Query),
		"v6":               missingArg("_ipv6_query"),
		"link-local":       plain(ipLinkLocalQuery),
		"lo":               plain(ipLoopbackQuery),
		"loopback":         plain(ipLoopbackQuery),
		"multicast":        plain(func(q ipQuery) any { return valueIf(q, ipInMulticast(q.v)) }),
		"unicast":          plain(func(q ipQuery) any { return valueIf(q, !ipInMulticast(q.v)) }),
		"private":          plain(func(q ipQuery) any { return valueIf(q, ipIsPrivate(q.v)) }),
		"public":           plain(ipPublicQuery),
		"net":              plain(ipNetQuery),
		"netmask":          plain(func(q ipQuery) any { return q.v.addr(q.v.netmask()) }),
		"network":          plain(func(q ipQuery) any { return q.v.addr(q.v.network()) }),
		"network_id":       plain(func(q ipQuery) any { return q.v.addr(q.v.network()) }),
		"network/prefix":   plain(func(q ipQuery) any { return q.v.cidr().String() }),
		"subnet":           plain(func(q ipQuery) any { return q.v.cidr().String() }),
		"network_netmask":  plain(func(q ipQuery) any { return q.v.addr(q.v.network()) + " " + q.v.addr(q.v.netmask()) }),
		"network_wildcard": plain(func(q ipQuery) any { return q.v.addr(q.v.network()) + " " + q.v.addr(q.v.hostmask()) }),
		"prefix":           plain(func(q ipQuery) any { return q.v.plen }),
		"revdns":           plain(ipRevDNSQuery),
		"size":             plain(func(q ipQuery) any { return bigOrInt(q.v.size()) }),
		"size_usable":      plain(ipSizeUsableQuery),
		"type":             plain(ipTypeQuery),
		"version":          plain(func(q ipQuery) any { return q.v.version() }),
		"wrap":             plain(ipWrapQuery),
	}
}

// missingArg is the collection's v4 and v6 queries, which fail: their
// functions are called without the value argument.
func missingArg(fn string) func(ipQuery) (any, error) {
	return func(ipQuery) (any, error) {
		return nil, fmt.Errorf("%s() missing 1 required positional argument: 'value'", fn)
	}
}

// ipGuess prints an address as netaddr.IPAddress(int) does, guessing
// the version from the value: IPv4 up to 2^32-1.
func ipGuess(x *big.Int) (string, error) {
	if x.Sign() < 0 || x.BitLen() > 128 {
		return "", fmt.Errorf("failed to detect a valid IP address from %s", x.String())
	}
	return ipString(x.BitLen() > 32, x), nil
}

// bigOrInt is x as an int when it fits.
func bigOrInt(x *big.Int) any {
	if x.IsInt64() {
		return int(x.Int64())
	}
	return new(big.Int).Set(x)
}

func valueIf(q ipQuery, ok bool) any {
	if ok {
		return q.value
	}
	return nil
}

func ipEmptyQuery(q ipQuery) any {
	if q.vtype == "address" {
		return q.v.addr(q.v.ip)
	}
	return q.v.String()
}

func ipAddressQuery(q ipQuery) any {
	v := q.v
	if v.sizeIs(1) || !v.ipIsNetwork() || v.broadcast() == nil || v.broadcast().Sign() == 0 || v.v6 {
		return v.addr(v.ip)
	}
	return nil
}

func ipAddressPrefixQuery(q ipQuery) any {
	v := q.v
	if v.size().Cmp(big.NewInt(2)) > 0 && (v.ipIsNetwork() || v.ip.Cmp(v.last()) == 0) {
		return false
	}
	return v.String()
}

func ipBroadcastQuery(q ipQuery) any {
	if q.v.size().Cmp(big.NewInt(2)) > 0 {
		return q.v.addr(q.v.last())
	}
	return nil
}

func ipHostQuery(q ipQuery) any {
	v := q.v
	if v.sizeIs(1) || !v.ipIsNetwork() || v.broadcast() == nil || v.broadcast().Sign() == 0 {
		return v.String()
	}
	return nil
}

func ipIntQuery(q ipQuery) any {
	if q.vtype == "address" {
		return bigOrInt(q.v.ip)
	}
	return q.v.ip.String() + "/" + strconv.Itoa(q.v.plen)
}

// ipPrefixQuery is ip/prefix and ip_netmask: the address with its prefix
// or netmask when it is not the network's address (any of a /31's).
func ipPrefixQuery(sep string, netmask bool) func(q ipQuery) any {
	return func(q ipQuery) any {
		v := q.v
		if v.sizeIs(1) || (!v.sizeIs(2) && v.ipIsNetwork()) {
			return nil
		}
		if netmask {
			return v.addr(v.ip) + sep + v.addr(v.netmask())
		}
		return v.String()
	}
}

func ipNetQuery(q ipQuery) any {
	if !q.v.sizeIs(1) && q.v.ipIsNetwork() {
		return q.v.cidr().String()
	}
	return nil
}

func ipV4Query(q ipQuery) any {
	v := q.v
	if !v.v6 {
		return q.value
	}
	var x *big.Int
	switch {
	case v.ip.BitLen() <= 32:
		x = v.ip
	case v.ip.BitLen() <= 48:
		if x = new(big.Int).Sub(v.ip, big.NewInt(0xffff00000000)); x.Sign() < 0 {
			return false
		}
	default:
		return false
	}
	if v.plen < 96 {
		return false
	}
	return ipNet{ip: x, plen: v.plen - 96}.String()
}

func ipV6Query(q ipQuery) any {
	v := q.v
	if v.v6 {
		return q.value
	}
	return ipNet{v6: true, ip: new(big.Int).Add(v.ip, big.NewInt(0xffff00000000)), plen: v.plen + 96}.String()
}

// ipWithin reports whether the whole network n lies in the network
// cidr (netaddr's `n in IPNetwork(cidr)`).
func ipWithin(n ipNet, cidr string) bool {
	c, err := parseIPNetwork(cidr)
	if err != nil || c.v6 != n.v6 || n.plen < c.plen {
		return false
	}
	shift := uint(c.width() - c.plen)
	return new(big.Int).Rsh(n.ip, shift).Cmp(new(big.Int).Rsh(c.ip, shift)) == 0
}

func (n ipNet) host() ipNet { return ipNet{v6: n.v6, ip: n.ip, plen: n.width()} }

func ipLinkLocalQuery(q ipQuery) any {
	return valueIf(q, ipWithin(q.v.host(), "169.254.0.0/16") || ipWithin(q.v.host(), "fe80::/10"))
}

func ipIsLoopback(h ipNet) bool {
	if h.v6 {
		return h.ip.Cmp(big.NewInt(1)) == 0
	}
	return ipWithin(h, "127.0.0.0/8")
}

func ipLoopbackQuery(q ipQuery) any { return valueIf(q, ipIsLoopback(q.v.host())) }

func ipInMulticast(n ipNet) bool {
	return ipWithin(n, "224.0.0.0/4") || ipWithin(n, "ff00::/8")
}

// ipIsPrivate is netaddr 0.8's is_private.
func ipIsPrivate(n ipNet) bool {
	for _, c := range []string{"10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.0.0.0/24",
		"192.168.0.0/16", "198.18.0.0/15", "239.0.0.0/8", "fc00::/7", "fec0::/10",
		"169.254.0.0/16", "fe80::/10"} {
		if ipWithin(n, c) {
			return true
		}
	}
	return false
}

// ipIsMask reports netaddr's is_netmask or is_hostmask of an address.
func ipIsMask(h ipNet) bool {
	inv := new(big.Int).Xor(h.ip, h.maxInt())
	return onePowerOfTwo(inv.Add(inv, big.NewInt(1))) || onePowerOfTwo(new(big.Int).Add(h.ip, big.NewInt(1)))
}

func ipPublicQuery(q ipQuery) any {
	h := q.v.host()
	return valueIf(q, !ipInMulticast(h) && !ipIsPrivate(h) && !ipIsLoopback(h) && !ipIsMask(h))
}

func ipRevDNSQuery(q ipQuery) any {
	var b [16]byte
	q.v.ip.FillBytes(b[:])
	var parts []string
	if !q.v.v6 {
		for i := 15; i >= 12; i-- {
			parts = append(parts, strconv.Itoa(int(b[i])))
		}
		return strings.Join(parts, ".") + ".in-addr.arpa."
	}
	for i := 15; i >= 0; i-- {
		parts = append(parts, strconv.FormatInt(int64(b[i]&15), 16), strconv.FormatInt(int64(b[i]>>4), 16))
	}
	return strings.Join(parts, ".") + ".ip6.arpa."
}

func ipSizeUsableQuery(q ipQuery) any {
	switch {
	case q.v.sizeIs(1):
		return 0
	case q.v.sizeIs(2):
		return 2
	}
	return bigOrInt(new(big.Int).Sub(q.v.size(), big.NewInt(2)))
}

func ipTypeQuery(q ipQuery) any {
	if q.v.sizeIs(1) || !q.v.ipIsNetwork() {
		return "address"
	}
	return "network"
}

func ipWrapQuery(q ipQuery) any {
	if !q.v.v6 {
		return q.value
	}
	if q.vtype == "address" {
		return "[" + q.v.addr(q.v.ip) + "]"
	}
	return "[" + q.v.addr(q.v.ip) + "]/" + strconv.Itoa(q.v.plen)
}

func ip6to4Query(q ipQuery) any {
	v := q.v
	if v.v6 {
		if q.vtype == "address" && ipWithin(v.host(), "2002::/16") {
			return q.value
		}
		if q.vtype == "network" && !v.ipIsNetwork() && ipWithin(v.host(), "2002::/16") {
			return q.value
		}
		return false
	}
	if !v.sizeIs(1) && v.ipIsNetwork() {
		return false
	}
	h := v.host()
	if !ipIsPrivate(h) && ipPublicQuery(ipQuery{v: h, value: true}) == nil {
		return false
	}
	var b [16]byte
	v.ip.FillBytes(b[:])
	return fmt.Sprintf("2002:%02x%02x:%02x%02x::1/48", b[12], b[13], b[14], b[15])
}

// ipFirstLast is _first_last: a network's first and last usable
// addresses (all of a /31's).
func ipFirstLast(v ipNet) (*big.Int, *big.Int) {
	if v.sizeIs(2) {
		return v.network(), v.last()
	}
	first := new(big.Int).Add(v.network(), big.NewInt(1))
	return first, new(big.Int).Sub(v.last(), big.NewInt(1))
}

// usableQuery wraps the queries that need a network.
func usableQuery(f func(v ipNet) (any, error)) func(q ipQuery) (any, error) {
	return func(q ipQuery) (any, error) {
		if q.vtype == "address" {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, errors.New("Not a network address")
		}
		if q.v.sizeIs(1) {
			return nil, nil
		}
		return f(q.v)
	}
}

func ipFirstUsable(v ipNet) (any, error) {
	first, _ := ipFirstLast(v)
	return ipGuess(first)
}

func ipLastUsable(v ipNet) (any, error) {
	_, last := ipFirstLast(v)
	return ipGuess(last)
}

// ipNthUsable is the address off addresses from v's, when usable.
func ipNthUsable(v ipNet, off int) (any, error) {
	first, last := ipFirstLast(v)
	x := new(big.Int).Add(v.ip, big.NewInt(int64(off)))
	if _, err := ipGuess(x); err != nil {
		return nil, err
	}
	if x.Cmp(first) >= 0 && x.Cmp(last) <= 0 {
		return ipGuess(x)
	}
	return nil, nil
}

func ipNextUsable(v ipNet) (any, error)     { return ipNthUsable(v, 1) }
func ipPreviousUsable(v ipNet) (any, error) { return ipNthUsable(v, -1) }

func ipRangeUsable(v ipNet) (any, error) {
	first, last := ipFirstLast(v)
	a, _ := ipGuess(first)
	b, _ := ipGuess(last)
	return a + "-" + b, nil
}

func ipPeerQuery(q ipQuery) (any, error) {
	if q.vtype == "address" {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, errors.New("Not a network address")
	}
	v := q.v
	low := new(big.Int).And(v.ip, big.NewInt(3)).Int64()
	switch {
	case v.sizeIs(2):
		return ipGuess(new(big.Int).Xor(v.ip, big.NewInt(1)))
	case v.sizeIs(4) && low == 0:
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, errors.New("Network address of /30 has no peer")
	case v.sizeIs(4) && low == 3:
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, errors.New("Broadcast address of /30 has no peer")
	case v.sizeIs(4):
		return ipGuess(new(big.Int).Xor(v.ip, big.NewInt(3)))
	}
	//lint:ignore ST1005 Ansible's own message, word for word
	return nil, errors.New("Not a point-to-point network")
}
