package facts

import (
	"fmt"
	"sort"
	"strings"
)

// Subsets that can be gathered; "min" is always gathered unless excluded
// with "!min". Ansible's other subsets (facter, ohai, ...) are not
// supported and rejected.
var knownSubsets = map[string]bool{"min": true, "hardware": true, "network": true, "virtual": true}

// Resolve turns a gather_subset list (entries such as "all", "min",
// "network", "!hardware", "!all"; an entry may also hold a comma-separated
// list) into the sorted set of subsets to gather, with Ansible's rules:
// an empty list or a list of only exclusions starts from all; "min" is
// always included unless "!min" is given; "!all" removes everything but
// min and the subsets named explicitly ("!all,network" gathers min and
// network); other exclusions win.
func Resolve(subsets []string) ([]string, error) {
	pos := map[string]bool{}
	neg := map[string]bool{}
	for _, raw := range subsets {
		for _, s := range strings.Split(raw, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			name := strings.TrimPrefix(s, "!")
			if name != "all" && !knownSubsets[name] {
				return nil, fmt.Errorf("gather_subset: unknown subset %q (supported: all, min, hardware, network, virtual)", name)
			}
			if strings.HasPrefix(s, "!") {
				neg[name] = true
			} else {
				pos[name] = true
			}
		}
	}
	set := map[string]bool{}
	if len(pos) == 0 || pos["all"] {
		for s := range knownSubsets {
			set[s] = true
		}
	}
	if neg["all"] {
		set = map[string]bool{}
	}
	for s := range pos {
		if s != "all" {
			set[s] = true
		}
	}
	set["min"] = true
	for s := range neg {
		delete(set, s)
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// Script returns the /bin/sh script that prints the raw material of the
// facts of subsets (resolved as by Resolve; an unknown subset is ignored
// here, Gather reports it). Its output is a sequence of sections, each
// introduced by a line "@@tend:NAME"; it always exits 0 and needs no
// privileges.
func Script(subsets []string) string {
	set, err := Resolve(subsets)
	if err != nil {
		set = []string{"min"}
	}
	has := map[string]bool{}
	for _, s := range set {
		has[s] = true
	}
	var b strings.Builder
	b.WriteString(`s() { printf '\n@@tend:%s\n' "$1"; }
c() { command -v "$1" >/dev/null 2>&1; }
printf '@@tend:version\n1\n'
`)
	// The environment is printed before LC_ALL is set for the tools.
	if has["min"] {
		b.WriteString("s env; env\n")
	}
	b.WriteString("LC_ALL=C; export LC_ALL\n")
	if has["min"] {
		b.WriteString(`s uname; uname -s; uname -n; uname -r; uname -m; uname -v
s fqdn; hostname -f 2>/dev/null || uname -n
s os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s debian_version; cat /etc/debian_version 2>/dev/null
s redhat-release; cat /etc/redhat-release 2>/dev/null
s lsb-release; cat /etc/lsb-release 2>/dev/null
s pkg; for p in apt-get dnf5 dnf yum zypper apk pacman; do c $p && echo $p; done
s init; cat /proc/1/comm 2>/dev/null; [ -d /run/systemd/system ] && echo @systemd; c openrc && echo @openrc; c initctl && echo @upstart
s user; id -un; id -u; id -g; echo "$HOME"; u=$(id -un); (getent passwd "$u" 2>/dev/null || grep "^$u:" /etc/passwd 2>/dev/null) | head -n 1
s machine-id; cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id 2>/dev/null
s date; date '+%s %z %Z'
s resolv; cat /etc/resolv.conf 2>/dev/null
s selinux; if [ -r /sys/fs/selinux/enforce ]; then cat /sys/fs/selinux/enforce; fi
`)
	}
	if has["hardware"] {
		b.WriteString(`s cpuinfo; grep -E '^(processor|physical id|core id|cpu cores|siblings|model name)[[:space:]]*:' /proc/cpuinfo 2>/dev/null
s meminfo; grep -E '^(MemTotal|MemFree|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo 2>/dev/null
s uptime; cat /proc/uptime 2>/dev/null
`)
	}
	if has["network"] {
		b.WriteString(`if c ip; then
s ip-addr; ip -o -4 addr show 2>/dev/null
s ip-route; ip -4 route show default 2>/dev/null
s ip-link; ip -o link show 2>/dev/null
else
s proc-route; cat /proc/net/route 2>/dev/null
s fib-trie; cat /proc/net/fib_trie 2>/dev/null
fi
`)
	}
	if has["virtual"] {
		b.WriteString(`s virt; systemd-detect-virt 2>/dev/null; cat /run/systemd/container 2>/dev/null; [ -f /.dockerenv ] && echo docker; [ -f /run/.containerenv ] && echo podman
`)
	}
	b.WriteString("s end\nexit 0\n")
	return b.String()
}
