package template

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
)

// ipFilters are ansible.utils' IP address filters (also reachable as
// ansible.netcommon.X, their former home).
func ipFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"ipaddr":              ipaddrFilter("ipaddr", 0),
		"ipv4":                ipaddrFilter("ipv4", 4),
		"ipv6":                ipaddrFilter("ipv6", 6),
		"ipwrap":              filterIPWrap,
		"nthhost":             filterNthhost,
		"ipmath":              filterIPMath,
		"ipsubnet":            filterIPSubnet,
		"network_in_usable":   networkIn(true),
		"network_in_network":  networkIn(false),
		"cidr_merge":          filterCidrMerge,
		"next_nth_usable":     nthUsable(1),
		"previous_nth_usable": nthUsable(-1),
	}
}

// pyTypeName is Python's repr of a value's type, as the ip filters'
// type checks print it.
func ipTypeErr(v any, filter string) error {
	//lint:ignore ST1005 Ansible's own message, word for word
	return fmt.Errorf("Unrecognized type <%s> for %s filter <value>", pyClass(v), filter)
}

// ipQueryArg is the query argument as the argument spec makes it: a
// string.
func ipQueryArg(args []any, kw map[string]any) string {
	q := arg(args, kw, 0, "query", "")
	if q == nil {
		return ""
	}
	return toStr(q)
}

func ipaddrFilter(name string, version int) filterFunc {
	return func(_ *state, in any, args []any, kw map[string]any) (any, error) {
		switch in.(type) {
		case string, []any, int, bool, *big.Int:
		default:
			return nil, ipTypeErr(in, name)
		}
		v := version
		if version == 0 {
			v = toInt(arg(args, kw, 1, "version", 0), 0, 10)
		}
		return ipaddr(in, ipQueryArg(args, kw), v, name)
	}
}

func filterIPWrap(_ *state, in any, args []any, kw map[string]any) (any, error) {
	query := ipQueryArg(args, kw)
	wrap := func(e any) any {
		r, err := ipaddr(e, query, 0, "ipwrap")
		if err != nil || ipaddrFalsy(r) {
			return e
		}
		if w, err := ipaddr(r, "wrap", 0, "ipwrap"); err == nil {
			return w
		}
		return e
	}
	switch x := in.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if r, err := ipaddr(e, query, 0, "ipwrap"); err == nil && !ipaddrFalsy(r) {
				out[i], _ = ipaddr(e, "wrap", 0, "ipwrap")
			} else {
				out[i] = e
			}
		}
		return out, nil
	case string, bool:
		return wrap(x), nil
	}
	return nil, ipTypeErr(in, "ipwrap")
}

// ipNetworkOf is the network the nthhost-like filters read their value
// as: an address as a /32 (/128), a network as its subnet.
func ipNetworkOf(value any) (ipNet, bool) {
	t, _ := ipaddr(value, "type", 0, "ipaddr")
	var s any
	switch t {
	case "address":
		s, _ = ipaddr(value, "cidr", 0, "ipaddr")
	case "network":
		s, _ = ipaddr(value, "subnet", 0, "ipaddr")
	default:
		return ipNet{}, false
	}
	str, ok := s.(string)
	if !ok {
		return ipNet{}, false
	}
	n, err := parseIPNetwork(str)
	return n, err == nil
}

// filterNthhost is nthhost(value, query): the network's nth address.
func filterNthhost(_ *state, in any, args []any, kw map[string]any) (any, error) {
	n, ok := ipNetworkOf(toStr(in))
	query := ipQueryArg(args, kw)
	if !ok || query == "" {
		return false, nil
	}
	i, ok := pyInt(query)
	if !ok {
		return false, nil
	}
	idx := big.NewInt(int64(i))
	if n.size().Cmp(idx) <= 0 {
		return false, nil
	}
	if i < 0 {
		idx.Add(idx, n.size())
		if idx.Sign() < 0 {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, errors.New("index out range for address range size!")
		}
	}
	return n.addr(idx.Add(idx, n.network())), nil
}

// filterIPMath is ipmath(value, amount): the address plus amount.
func filterIPMath(_ *state, in any, args []any, kw map[string]any) (any, error) {
	s := toStr(in)
	var n ipNet
	var err error
	if containsSlash(s) {
		n, err = parseIPNetwork(s)
	} else {
		if x, ok := inetAton(s); ok {
			n.ip = x
		} else if x, ok := parseIPStrict(s, true); ok {
			n.ip, n.v6 = x, true
		} else {
			err = fmt.Errorf("invalid IP address %s", s)
		}
	}
	if err != nil {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("You must pass a valid IP address; %s is invalid", s)
	}
	a, err := argspecInt(arg(args, kw, 0, "amount", nil), "amount")
	if err != nil {
		return nil, err
	}
	x := new(big.Int).Add(n.ip, big.NewInt(int64(a)))
	if !n.valid(x) {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, errors.New("result outside valid IP address boundary!")
	}
	return n.addr(x), nil
}

// argspecInt is the collection's argument spec reading an int argument:
// an int, or a string of one.
func argspecInt(v any, name string) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		if n, ok := pyInt(x); ok {
			return n, nil
		}
	}
	return 0, fmt.Errorf(`["argument '%s' is of type %s and we were unable to convert to int: %s cannot be converted to an int"]`, name, pyClass(v), pyClass(v))
}

func containsSlash(s string) bool {
	for i := range s {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// filterIPSubnet is ipsubnet(value, query=”, index=None): the number
// of subnets of a size, the nth of them, a supernet of an address, or
// the position of the value in a bigger network.
func filterIPSubnet(_ *state, in any, args []any, kw map[string]any) (any, error) {
	v, ok := ipNetworkOf(toStr(in))
	if !ok {
		return false, nil
	}
	v = v.cidr()
	query := ipQueryArg(args, kw)
	if query == "" {
		return v.String(), nil
	}
	if !isDigits(query) {
		return ipSubnetPosition(v, query)
	}
	q, _ := strconv.Atoi(query)
	if q < 0 || q > v.width() {
		return false, nil
	}
	isAddress := v.sizeIs(1)
	index := arg(args, kw, 1, "index", nil)
	if index == nil {
		if isAddress {
			return ipSupernet(v, q, 0)
		}
		if q < v.plen {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, fmt.Errorf("Requested subnet size of %d is invalid", q)
		}
		return pow2(q - v.plen).String(), nil
	}
	i := toInt(index, 0, 10)
	if isAddress {
		if i > v.width()+1-i || i < q-v.width() {
			return false, nil
		}
		return ipSupernet(v, q, i)
	}
	if q < v.plen {
		return false, nil
	}
	subnets := pow2(q - v.plen)
	idx := big.NewInt(int64(i))
	if i < 0 {
		idx.Add(idx, subnets)
	}
	if idx.Sign() < 0 || idx.Cmp(subnets) >= 0 {
		return false, nil
	}
	x := idx.Lsh(idx, uint(v.width()-q))
	return ipNet{v6: v.v6, ip: x.Add(x, v.network()), plen: q}.String(), nil
}

// ipSupernet is netaddr's v.supernet(q)[i] for an address: the
// supernets from /q up to /width-1.
func ipSupernet(v ipNet, q, i int) (any, error) {
	count := v.plen - q
	if i < 0 {
		i += count
	}
	if count <= 0 || i < 0 || i >= count {
		return nil, errors.New("list index out of range")
	}
	return ipNet{v6: v.v6, ip: v.ip, plen: q + i}.cidr().String(), nil
}

// ipSubnetPosition is ipsubnet(value, 'a network'): the 1-based index of
// the value among the network's subnets of its size.
func ipSubnetPosition(v ipNet, query string) (any, error) {
	qn, ok := ipNetworkOf(query)
	if !ok {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("You must pass a valid subnet or IP address; %s is invalid", query)
	}
	// As the collection, whatever the versions: the value's width.
	w := v.width()
	if w < qn.plen {
		return nil, errors.New("negative shift count")
	}
	shift := uint(w - qn.plen)
	if new(big.Int).Rsh(v.ip, shift).Cmp(new(big.Int).Rsh(qn.ip, shift)) == 0 {
		if v.plen < qn.plen {
			return nil, errors.New("unsupported operand type(s) for <<: 'float' and 'int'")
		}
		m := pow2(v.plen - qn.plen)
		m.Sub(m, big.NewInt(1)).Lsh(m, uint(w-v.plen))
		m.And(m, v.ip).Rsh(m, uint(w-v.plen))
		return m.Add(m, big.NewInt(1)).String(), nil
	}
	return nil, fmt.Errorf("%s is not in the subnet %s", v.cidr().String(), qn.cidr().String())
}

// ipIntOr is ipaddr(ipaddr(n, a) or ipaddr(n, b), 'int') as the
// network_in filters compute their bounds; 0 (Python's False) when
// there is none.
func ipIntOr(n string, queries ...string) *big.Int {
	for _, q := range queries {
		r, err := ipaddr(n, q, 0, "ipaddr")
		if err != nil || ipaddrFalsy(r) {
			continue
		}
		if x, err := ipaddr(r, "int", 0, "ipaddr"); err == nil {
			switch x := x.(type) {
			case int:
				return big.NewInt(int64(x))
			case *big.Int:
				return x
			}
		}
		return new(big.Int)
	}
	return new(big.Int)
}

// ipNormalize is _address_normalizer: the value's subnet, "" when it is
// not an address.
func ipNormalize(v any) string {
	t, err := ipaddr(v, "type", 0, "ipaddr")
	if err != nil || (t != "address" && t != "network") {
		return ""
	}
	s, _ := ipaddr(v, "subnet", 0, "ipaddr")
	str, _ := s.(string)
	return str
}

// networkIn is network_in_usable (usable true) and network_in_network:
// whether test's addresses all lie in value's (usable) addresses.
func networkIn(usable bool) filterFunc {
	return func(_ *state, in any, args []any, kw map[string]any) (any, error) {
		v := ipNormalize(toStr(in))
		w := ipNormalize(toStr(arg(args, kw, 0, "test", "")))
		var vFirst, vLast *big.Int
		if usable {
			vFirst, vLast = ipIntOr(v, "first_usable", "address"), ipIntOr(v, "last_usable", "address")
		} else {
			vFirst, vLast = ipIntOr(v, "network", "address"), ipIntOr(v, "broadcast", "address")
		}
		wFirst, wLast := ipIntOr(w, "network", "address"), ipIntOr(w, "broadcast", "address")
		in1 := vFirst.Cmp(wFirst) <= 0 && wFirst.Cmp(vLast) <= 0
		in2 := vFirst.Cmp(wLast) <= 0 && wLast.Cmp(vLast) <= 0
		return in1 && in2, nil
	}
}

// nthUsable is next_nth_usable (dir 1) and previous_nth_usable (-1).
func nthUsable(dir int) filterFunc {
	return func(_ *state, in any, args []any, kw map[string]any) (any, error) {
		n, ok := ipNetworkOf(toStr(in))
		if !ok {
			return false, nil
		}
		off, err := argspecInt(arg(args, kw, 0, "offset", nil), "offset")
		if err != nil {
			return nil, err
		}
		if n.sizeIs(1) {
			return nil, nil
		}
		return ipNthUsable(n, dir*off)
	}
}

// filterCidrMerge is cidr_merge(value, action='merge'): the smallest
// list of networks covering the list's, or (span) the one network
// spanning them.
func filterCidrMerge(_ *state, in any, args []any, kw map[string]any) (any, error) {
	list, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("cidr_merge: expected iterable, got %s", repr(in))
	}
	action := argStr(args, kw, 0, "action", "merge")
	if action != "merge" && action != "span" {
		return nil, fmt.Errorf("cidr_merge: invalid action '%s'", action)
	}
	nets := make([]ipNet, len(list))
	for i, e := range list {
		n, err := parseIPNetwork(toStr(e))
		if err != nil {
			return nil, fmt.Errorf("cidr_merge: error in netaddr:\n%w", err)
		}
		nets[i] = n
	}
	if action == "span" {
		return cidrSpan(nets)
	}
	return cidrMerge(nets), nil
}

type ipRange struct {
	v6          bool
	first, last *big.Int
	orig        *ipNet // the network, when not merged with another
}

// cidrMerge is netaddr's cidr_merge: ranges sorted, overlapping or
// adjacent ones joined, then split into networks.
func cidrMerge(nets []ipNet) []any {
	ranges := make([]ipRange, len(nets))
	for i := range nets {
		ranges[i] = ipRange{v6: nets[i].v6, first: nets[i].network(), last: nets[i].last(), orig: &nets[i]}
	}
	sort.SliceStable(ranges, func(i, j int) bool {
		a, b := ranges[i], ranges[j]
		if a.v6 != b.v6 {
			return !a.v6
		}
		if c := a.last.Cmp(b.last); c != 0 {
			return c < 0
		}
		return a.first.Cmp(b.first) < 0
	})
	for i := len(ranges) - 1; i > 0; i-- {
		a, b := ranges[i-1], ranges[i]
		if a.v6 == b.v6 && new(big.Int).Sub(b.first, big.NewInt(1)).Cmp(a.last) <= 0 {
			first := a.first
			if b.first.Cmp(first) < 0 {
				first = b.first
			}
			ranges[i-1] = ipRange{v6: b.v6, first: first, last: b.last}
			ranges = append(ranges[:i], ranges[i+1:]...)
		}
	}
	out := []any{}
	for _, r := range ranges {
		if r.orig != nil {
			out = append(out, r.orig.String())
			continue
		}
		for _, n := range rangeToCIDRs(r) {
			out = append(out, n.String())
		}
	}
	return out
}

// rangeToCIDRs splits an address range into the fewest networks.
func rangeToCIDRs(r ipRange) []ipNet {
	width := 32
	if r.v6 {
		width = 128
	}
	var out []ipNet
	cur := new(big.Int).Set(r.first)
	for cur.Cmp(r.last) <= 0 {
		// The largest block aligned at cur that ends by last.
		k := 0
		for k < width && cur.Bit(k) == 0 {
			end := new(big.Int).Add(cur, pow2(k+1))
			if end.Sub(end, big.NewInt(1)).Cmp(r.last) > 0 {
				break
			}
			k++
		}
		out = append(out, ipNet{v6: r.v6, ip: new(big.Int).Set(cur), plen: width - k})
		cur.Add(cur, pow2(k))
	}
	return out
}

// ipSortLess is netaddr's IPNetwork ordering (sort_key).
func ipSortLess(a, b ipNet) bool {
	if a.v6 != b.v6 {
		return !a.v6
	}
	if c := a.network().Cmp(b.network()); c != 0 {
		return c < 0
	}
	if a.plen != b.plen {
		return a.plen < b.plen
	}
	ha := new(big.Int).Sub(a.ip, a.network())
	hb := new(big.Int).Sub(b.ip, b.network())
	return ha.Cmp(hb) < 0
}

// cidrSpan is cidr_merge(action='span'): netaddr's spanning_cidr.
func cidrSpan(nets []ipNet) (any, error) {
	switch len(nets) {
	case 0:
		return nil, nil
	case 1:
		return nets[0].String(), nil
	}
	lo, hi := nets[0], nets[1]
	if !ipSortLess(lo, hi) {
		lo, hi = hi, lo
	}
	for _, n := range nets[2:] {
		if ipSortLess(n, lo) {
			lo = n
		}
		if ipSortLess(hi, n) {
			hi = n
		}
	}
	if lo.v6 != hi.v6 {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, errors.New("cidr_merge: error in netaddr:\nIP sequence cannot contain both IPv4 and IPv6!")
	}
	ipnum := hi.last()
	plen := hi.plen
	lowest := lo.network()
	for plen > 0 && ipnum.Cmp(lowest) > 0 {
		plen--
		ipnum = new(big.Int).AndNot(ipnum, new(big.Int).Sub(pow2(hi.width()-plen), big.NewInt(1)))
	}
	return ipNet{v6: lo.v6, ip: ipnum, plen: plen}.String(), nil
}
