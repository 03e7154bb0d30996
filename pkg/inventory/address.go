package inventory

import (
	"regexp"
	"strconv"
	"strings"
)

// The regular expressions below port ansible/parsing/utils/addresses.py so
// that "host:port" splitting and host-pattern splitting agree with Ansible.
const (
	numericRangeRE = `\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	hexRangeRE     = `\[(?:[0-9a-fA-F]+:[0-9a-fA-F]+)(?::[0-9]+)?\]`
	alnumRangeRE   = `\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	ipv6CompRE     = `(?:[0-9a-fA-F]{1,4}|` + hexRangeRE + `)`
	ipv4CompRE     = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + numericRangeRE + `)`
	// Python's \w is Unicode-aware; Go's is ASCII only.
	labelRE = `(?:[\p{L}\p{N}_]|` + alnumRangeRE + `)(?:[\p{L}\p{N}_-]|` + alnumRangeRE + `)*`
)

var (
	bracketedHostPortRE = regexp.MustCompile(`^\[(.+)\]:([0-9]+)$`)
	hostPortRE          = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`)
	ipv4RE              = regexp.MustCompile(`^(?:` + ipv4CompRE + `\.){3}` + ipv4CompRE + `$`)
	// C stands for one IPv6 component; see ipv6Matcher.
	ipv6Template = `^(?:` + strings.Join([]string{
		`(?:C:){7}C`,
		`(?:C:){1,6}:`,
		`(?:C:)(?::C){1,6}`,
		`(?:C:){2}(?::C){1,5}`,
		`(?:C:){3}(?::C){1,4}`,
		`(?:C:){4}(?::C){1,3}`,
		`(?:C:){5}(?::C){1,2}`,
		`(?:C:){6}(?::C)`,
		`:(?::C){1,6}`,
		`C?::`,
		`(?:0:){6}(?:C\.){3}C`,
		`::(?:[fF]{4}:)?(?:C\.){3}C`,
		`(?:0:){5}[fF]{4}:(?:C\.){3}C`,
	}, "|") + `)$`
	ipv6Matcher = regexp.MustCompile(strings.ReplaceAll(ipv6Template, "C", ipv6CompRE))
	hostnameRE  = regexp.MustCompile(`^` + labelRE + `(?:\.` + labelRE + `)*$`)
)

// parseAddress splits an optional ":port" off a host identifier the way
// Ansible's parse_address does. ok is false when the string is not a valid
// hostname, IPv4 or IPv6 address (possibly with ranges when allowRanges).
func parseAddress(addr string, allowRanges bool) (host string, port int, hasPort, ok bool) {
	// Ansible applies both port patterns in turn, the second to the result
	// of the first.
	for _, re := range []*regexp.Regexp{bracketedHostPortRE, hostPortRE} {
		if m := re.FindStringSubmatch(addr); m != nil {
			p, err := strconv.Atoi(m[2])
			if err != nil {
				return "", 0, false, false
			}
			addr, port, hasPort = m[1], p, true
		}
	}
	if !ipv4RE.MatchString(addr) && !isIPv6(addr) && !isHostname(addr) {
		return "", 0, false, false
	}
	if !allowRanges && strings.Contains(addr, "[") {
		return "", 0, false, false
	}
	return addr, port, hasPort, true
}

func isIPv6(s string) bool {
	return ipv6Matcher.MatchString(s)
}

func isHostname(s string) bool {
	if !hostnameRE.MatchString(s) {
		return false
	}
	// Python's pattern has a look-behind forbidding labels that end in _ or
	// -; RE2 has none, so check it here. Ranges contain no dots.
	for _, l := range strings.Split(s, ".") {
		if strings.HasSuffix(l, "_") || strings.HasSuffix(l, "-") {
			return false
		}
	}
	return true
}
