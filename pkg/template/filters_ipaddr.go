package template

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
)

// The ansible.utils IP address filters (ipaddr and its kind), as the
// collection computes them with Python's netaddr 0.8: an address or
// network is netaddr's IPNetwork, an address and a prefix length that
// keeps the address's host bits ("192.168.1.5/24").

// ipNet is netaddr's IPNetwork.
type ipNet struct {
	v6   bool
	ip   *big.Int
	plen int
}

func (n ipNet) width() int {
	if n.v6 {
		return 128
	}
	return 32
}

func (n ipNet) version() int {
	if n.v6 {
		return 6
	}
	return 4
}

func pow2(k int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(k)) }

func (n ipNet) maxInt() *big.Int { return new(big.Int).Sub(pow2(n.width()), big.NewInt(1)) }

func (n ipNet) hostmask() *big.Int {
	return new(big.Int).Sub(pow2(n.width()-n.plen), big.NewInt(1))
}

func (n ipNet) netmask() *big.Int { return new(big.Int).Xor(n.maxInt(), n.hostmask()) }

func (n ipNet) network() *big.Int { return new(big.Int).AndNot(n.ip, n.hostmask()) }

func (n ipNet) last() *big.Int { return new(big.Int).Or(n.ip, n.hostmask()) }

// broadcast is netaddr 0.8's: none for IPv4 /31 and /32.
func (n ipNet) broadcast() *big.Int {
	if !n.v6 && n.width()-n.plen <= 1 {
		return nil
	}
	return n.last()
}

func (n ipNet) size() *big.Int { return pow2(n.width() - n.plen) }

// sizeIs reports whether the network has k addresses.
func (n ipNet) sizeIs(k int64) bool { return n.size().Cmp(big.NewInt(k)) == 0 }

func (n ipNet) ipIsNetwork() bool { return n.ip.Cmp(n.network()) == 0 }

func (n ipNet) addr(x *big.Int) string { return ipString(n.v6, x) }

func (n ipNet) String() string { return n.addr(n.ip) + "/" + strconv.Itoa(n.plen) }

func (n ipNet) cidr() ipNet { return ipNet{v6: n.v6, ip: n.network(), plen: n.plen} }

func (n ipNet) valid(x *big.Int) bool { return x.Sign() >= 0 && x.Cmp(n.maxInt()) <= 0 }

// ipString prints an address as netaddr does: IPv6 compressed as
// RFC 5952 says, IPv4-compatible addresses (::1.2.3.4) dotted.
func ipString(v6 bool, x *big.Int) string {
	var b [16]byte
	x.FillBytes(b[:])
	if !v6 {
		return netip.AddrFrom4([4]byte(b[12:])).String()
	}
	if x.Cmp(big.NewInt(0xffff)) > 0 && x.BitLen() <= 32 {
		return "::" + netip.AddrFrom4([4]byte(b[12:])).String()
	}
	return netip.AddrFrom16(b).String()
}

func intOfAddr(a netip.Addr) *big.Int {
	b := a.AsSlice()
	return new(big.Int).SetBytes(b)
}

// pyInt parses a string as Python's int() does for the forms that
// matter here: surrounding white space, a sign, decimal digits.
func pyInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || t == "" || strings.Trim(t, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseIPv4Partial is netaddr's reading of an IPv4 network's address:
// dotted decimal, missing trailing octets zero ("10.1" is 10.1.0.0).
func parseIPv4Partial(s string) (*big.Int, bool) {
	if strings.Contains(s, ":") {
		return nil, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil, false
	}
	v := new(big.Int)
	for i := 0; i < 4; i++ {
		o := 0
		if i < len(parts) {
			var ok bool
			if o, ok = pyInt(parts[i]); !ok || o < 0 || o > 255 {
				return nil, false
			}
		}
		v.Lsh(v, 8).Or(v, big.NewInt(int64(o)))
	}
	return v, true
}

// parseIPStrict is inet_pton: a dotted quad or an IPv6 address without
// zone.
func parseIPStrict(s string, v6 bool) (*big.Int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is6() != v6 {
		return nil, false
	}
	return intOfAddr(a), true
}

// maskPrefix is the prefix length of a netmask or hostmask, as netaddr
// reads "10.0.0.0/255.0.0.0" and "10.0.0.0/0.255.255.255".
func maskPrefix(m *big.Int, width int) (int, bool) {
	maxv := new(big.Int).Sub(pow2(width), big.NewInt(1))
	inv := new(big.Int).Xor(m, maxv)
	// A netmask: its complement plus one is a power of two.
	if x := new(big.Int).Add(inv, big.NewInt(1)); onePowerOfTwo(x) {
		return width - (x.BitLen() - 1), true
	}
	if x := new(big.Int).Add(m, big.NewInt(1)); onePowerOfTwo(x) {
		return width - (x.BitLen() - 1), true
	}
	return 0, false
}

func onePowerOfTwo(x *big.Int) bool {
	return x.Sign() > 0 && new(big.Int).And(x, new(big.Int).Sub(x, big.NewInt(1))).Sign() == 0
}

// parseIPNetwork is netaddr.IPNetwork(s): IPv4 (partial addresses
// allowed) else IPv6, with an optional /prefix, /netmask or /hostmask.
func parseIPNetwork(s string) (ipNet, error) {
	bad := fmt.Errorf("invalid IPNetwork %s", s)
	addrPart, maskPart, hasMask := strings.Cut(s, "/")
	for _, v6 := range []bool{false, true} {
		n := ipNet{v6: v6}
		var ok bool
		if v6 {
			n.ip, ok = parseIPStrict(addrPart, true)
		} else {
			n.ip, ok = parseIPv4Partial(addrPart)
		}
		if !ok {
			continue
		}
		n.plen = n.width()
		if hasMask {
			if p, isInt := pyInt(maskPart); isInt {
				n.plen = p
			} else if m, isAddr := parseIPStrict(maskPart, v6); isAddr {
				if n.plen, ok = maskPrefix(m, n.width()); !ok {
					return ipNet{}, bad
				}
			} else {
				return ipNet{}, bad
			}
		}
		if n.plen < 0 || n.plen > n.width() {
			return ipNet{}, bad
		}
		return n, nil
	}
	return ipNet{}, bad
}

// ipFromInt is netaddr's IPNetwork("0.0.0.0/0") given an integer value
// and prefix: IPv4 when it fits (and version allows), else IPv6.
func ipFromInt(x *big.Int, plen, version int) (ipNet, bool) {
	for _, v6 := range []bool{false, true} {
		if (!v6 && version == 6) || x.Sign() < 0 {
			continue
		}
		n := ipNet{v6: v6, ip: x, plen: plen}
		if x.Cmp(n.maxInt()) <= 0 && plen >= 0 && plen <= n.width() {
			return n, true
		}
	}
	return ipNet{}, false
}

// isDigits is Python's str.isdigit for ASCII.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// ipQuery is what an ipaddr query function sees.
type ipQuery struct {
	v     ipNet
	vtype string // "address" or "network"
	value any    // the filter's input
}

// readIP is the first part of ipaddr(): the value as an IPNetwork, its
// type and the value as later queries return it; ok false when it is no
// address (ipaddr's False).
func readIP(value any, version int) (ipQuery, bool) {
	s := toStr(value)
	if _, isStr := value.(string); !isStr {
		if _, isInt := value.(int); !isInt {
			if _, isBig := value.(*big.Int); !isBig {
				return ipQuery{}, false
			}
		}
	}
	if isDigits(s) {
		x, _ := new(big.Int).SetString(s, 10)
		n, ok := ipFromInt(x, 32, version)
		if !ok {
			return ipQuery{}, false
		}
		if n.v6 {
			n.plen = 128
		}
		return ipQuery{v: n, vtype: "address", value: n.String()}, true
	}
	if n, err := parseIPNetwork(s); err == nil {
		vtype := "address"
		if strings.Count(s, "/") == 1 {
			vtype = "network"
		}
		return ipQuery{v: n, vtype: vtype, value: value}, true
	}
	a, p, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(p, "/") {
		return ipQuery{}, false
	}
	ai, ok1 := pyInt(a)
	pi, ok2 := pyInt(p)
	if !ok1 || !ok2 {
		return ipQuery{}, false
	}
	n, ok := ipFromInt(big.NewInt(int64(ai)), pi, 0)
	if !ok {
		return ipQuery{}, false
	}
	return ipQuery{v: n, vtype: "network", value: n.String()}, true
}

// ipaddrFalsy is Python's truth of a query's result, which ipaddr on a
// list keeps the items by.
func ipaddrFalsy(v any) bool {
	t, _ := truthy(v)
	return !t
}

// ipaddr is the collection's ipaddr(value, query, version, alias); the
// query is a string, as the filters' argument specs make it.
func ipaddr(value any, query string, version int, alias string) (any, error) {
	if list, ok := value.([]any); ok {
		out := []any{}
		for _, e := range list {
			r, err := ipaddr(e, query, version, alias)
			if err != nil {
				return nil, err
			}
			if !ipaddrFalsy(r) {
				out = append(out, r)
			}
		}
		return out, nil
	}
	if b, isBool := value.(bool); ipaddrFalsy(value) || (isBool && b) {
		return false, nil
	}
	q, ok := readIP(value, version)
	if !ok {
		return false, nil
	}
	if query != "" && (ipQueries[query] == nil || query == "cidr_lookup") && !isDigits(query) {
		if in, err := parseIPNetwork(query); err == nil {
			return cidrLookup(q, in), nil
		}
	}
	if version != 0 && q.v.version() != version {
		return false, nil
	}
	if fn := ipQueries[query]; fn != nil {
		return fn(q)
	}
	return ipIndexQuery(q, query, alias)
}

// cidrLookup is ipaddr(value, 'a network'): the value when it lies in
// the network.
func cidrLookup(q ipQuery, in ipNet) any {
	if q.v.v6 == in.v6 && q.v.plen >= in.plen {
		shift := uint(in.width() - in.plen)
		if new(big.Int).Rsh(q.v.ip, shift).Cmp(new(big.Int).Rsh(in.ip, shift)) == 0 {
			return q.value
		}
	}
	return nil
}

// ipIndexQuery is ipaddr(value, n): the network's nth address with the
// prefix (negative from the end); an error for a query that is no
// number.
func ipIndexQuery(q ipQuery, query string, alias string) (any, error) {
	if _, err := strconv.ParseFloat(strings.TrimSpace(query), 64); err != nil && !strings.Contains(err.Error(), "range") {
		return nil, fmt.Errorf("%s: unknown filter type: %s", alias, query)
	}
	v := q.v
	if v.sizeIs(1) {
		if q.vtype == "address" {
			return v.addr(v.ip), nil
		}
		return v.String(), nil
	}
	i, ok := pyInt(query)
	if !ok {
		return false, nil
	}
	idx := big.NewInt(int64(i))
	if i < 0 {
		idx.Add(idx, v.size())
	}
	if idx.Sign() < 0 || idx.Cmp(v.size()) >= 0 {
		return false, nil
	}
	return v.addr(idx.Add(idx, v.network())) + "/" + strconv.Itoa(v.plen), nil
}

// inetAton is C's inet_aton, which netaddr.IPAddress reads IPv4 text
// with: one to four numbers (decimal, 0x hex or 0 octal), the last one
// filling the remaining bytes ("10.1" is 10.0.0.1).
func inetAton(s string) (*big.Int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil, false
	}
	v := new(big.Int)
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 0, 32)
		if err != nil || strings.Contains(p, "_") {
			return nil, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return nil, false
			}
			v.Lsh(v, 8).Or(v, big.NewInt(int64(n)))
			continue
		}
		bits := uint(8 * (4 - i))
		if n >= 1<<bits {
			return nil, false
		}
		v.Lsh(v, bits).Or(v, new(big.Int).SetUint64(n))
	}
	return v, true
}
