package facts

import (
	"fmt"
	"sort"
	"strings"
)

// Subsets that can be gathered; "min" is always gathered unless excluded
// with "!min". facter and ohai are accepted and gather nothing.
var knownSubsets = map[string]bool{"min": true, "hardware": true, "network": true, "virtual": true}

// collectorSubsets maps the names of Ansible's individual collectors,
// which gather_subset also accepts, to the tend subset that gathers their
// facts (a subset gathers more than the one collector: harmless extra
// facts).
var collectorSubsets = map[string]string{
	"apparmor": "min", "caps": "min", "cmdline": "min", "date_time": "min", "distribution": "min", "dns": "min",
	"env": "min", "fips": "min", "local": "min", "lsb": "min", "pkg_mgr": "min", "platform": "min", "python": "min",
	"selinux": "min", "service_mgr": "min", "ssh_pub_keys": "min", "user": "min", "chroot": "min", "loadavg": "min",
	"system": "min", "devices": "hardware", "dmi": "hardware", "mounts": "hardware", "interfaces": "network",
	"fibre_channel_wwn": "network", "iscsi": "network", "nvme": "network",
}

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
			if name == "facter" || name == "ohai" {
				continue // other tools' facts: Ansible gathers them only when the tool is installed
			}
			if sub, ok := collectorSubsets[name]; ok {
				if strings.HasPrefix(s, "!") {
					continue // excluding one collector: tend gathers its whole subset or none
				}
				name = sub
			}
			if name != "all" && !knownSubsets[name] {
				return nil, fmt.Errorf("gather_subset: unknown subset %q (supported: all, min, hardware, network, virtual, facter, ohai and Ansible's collector names)", name)
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

// DefaultFactPath is where local facts (*.fact files) are read from
// unless setup's fact_path says otherwise, as in Ansible.
const DefaultFactPath = "/etc/ansible/facts.d"

// Script returns the /bin/sh script that prints the raw material of the
// facts of subsets (resolved as by Resolve; an unknown subset is ignored
// here, Gather reports it), reading local facts from DefaultFactPath.
func Script(subsets []string) string {
	return ScriptWith(subsets, DefaultFactPath)
}

// ScriptWith is Script with local facts read from factPath. Its output is
// a sequence of sections, each introduced by a line "@@tend:NAME"; it
// always exits 0 and needs no privileges (some facts, such as DMI serial
// numbers, need root, as under Ansible). It uses POSIX sh and tools, and
// other tools (ip, stat, findmnt, lsblk, capsh, nproc, python3, vgs) only
// when they are present.
func ScriptWith(subsets []string, factPath string) string {
	set, err := Resolve(subsets)
	if err != nil {
		set = []string{"min"}
	}
	has := map[string]bool{}
	for _, s := range set {
		has[s] = true
	}
	var b strings.Builder
	b.WriteString(scriptHead)
	// The environment is printed before LC_ALL is set for the tools.
	if has["min"] {
		b.WriteString("s env; env\n")
	}
	b.WriteString("LC_ALL=C; export LC_ALL\n")
	if has["min"] {
		b.WriteString(scriptMin)
		b.WriteString("s local; fp=" + shellQuote(factPath) + "\n" + scriptLocal)
	}
	if has["hardware"] {
		b.WriteString(scriptHardware)
	}
	if has["network"] {
		b.WriteString(scriptNetwork)
	}
	if has["virtual"] {
		b.WriteString(scriptVirtual)
	}
	b.WriteString("s end\nexit 0\n")
	return b.String()
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// scriptHead defines the helpers: s starts a section, c tests for a
// command, r prints a file's first line (the shell's read: no process),
// f prints a small file with the shell's read (no process), kv prints "KEY VALUE" for a file when it is readable.
const scriptHead = `s() { printf '\n@@tend:%s\n' "$1"; }
c() { command -v "$1" >/dev/null 2>&1; }
r() { v=; [ -r "$1" ] && { IFS= read -r v <"$1" || [ -n "$v" ]; } 2>/dev/null; printf '%s\n' "$v"; }
f() { [ -r "$1" ] && { while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done <"$1"; } 2>/dev/null; }
kv() { [ -r "$2" ] && { v=; { IFS= read -r v <"$2" || [ -n "$v" ]; } 2>/dev/null && printf '%s %s\n' "$1" "$v"; }; }
printf '@@tend:version\n1\n'
`

const scriptMin = `s uname; uname -snrm; uname -v
s fqdn; hostname -f 2>/dev/null || uname -n
s os-release; if [ -r /etc/os-release ]; then f /etc/os-release; else f /usr/lib/os-release; fi
s debian_version; f /etc/debian_version
s redhat-release; f /etc/redhat-release
s lsb-release; f /etc/lsb-release
s lsb_release; c lsb_release && lsb_release -a 2>/dev/null
s pkg; for p in apt-get dnf5 dnf yum zypper apk pacman; do c $p && echo $p; done
s init; f /proc/1/comm; [ -d /run/systemd/system ] && echo @systemd; c openrc && echo @openrc; c initctl && echo @upstart
s user; u=$(id -un); echo "$u"; id; echo "$HOME"; getent passwd "$u" 2>/dev/null || grep "^$u:" /etc/passwd 2>/dev/null
s machine-id; if [ -s /var/lib/dbus/machine-id ]; then r /var/lib/dbus/machine-id; else r /etc/machine-id; fi
s date; date '+%s %z %Z%n%N'; date -d @962409600 '+%Z' 2>/dev/null
s resolv; f /etc/resolv.conf
s selinux; if [ -d /sys/fs/selinux ] && [ -r /sys/fs/selinux/enforce ]; then kv enforce /sys/fs/selinux/enforce; kv policyvers /sys/fs/selinux/policyvers; grep -E '^SELINUX(TYPE)?=' /etc/selinux/config 2>/dev/null; fi
s apparmor; [ -e /sys/kernel/security/apparmor ] && echo enabled
s fips; r /proc/sys/crypto/fips_enabled
s cmdline; f /proc/cmdline
s caps; c capsh && capsh --print 2>/dev/null
s sshkeys; for d in /etc/ssh /etc/openssh /etc; do for a in dsa rsa ecdsa ed25519; do f=$d/ssh_host_${a}_key.pub; [ -r "$f" ] && { printf '%s ' "$a"; r "$f"; }; done; done
s chroot; stat -c '%d %i' / /proc/1/root/. 2>/dev/null || ls -di / /proc/1/root/. 2>/dev/null
s loadavg; r /proc/loadavg
s bits; getconf LONG_BIT 2>/dev/null
s python; if p=$(command -v python3 2>/dev/null); then echo "$p"; "$p" -V 2>&1; fi
`

// scriptLocal prints each *.fact file under $fp as "F NAME RC" followed
// by its content (an executable file's output) with each line prefixed by
// "|", so that no content can start a section.
const scriptLocal = `if [ -d "$fp" ]; then for f in "$fp"/*.fact; do [ -f "$f" ] || continue; n=${f##*/}; n=${n%.fact}
if [ -x "$f" ]; then o=$("$f" 2>/dev/null); rc=$?; else o=$(cat "$f" 2>/dev/null); rc=$?; [ $rc = 0 ] || rc=-1; fi
printf 'F %s %s\n' "$n" "$rc"; printf '%s\n' "$o" | sed 's/^/|/'; done; fi
`

const scriptHardware = `s cpuinfo; grep -E '^(processor|Processor|vendor_id|cpu|Vendor|model name|physical id|core id|cpu cores|siblings|# processors|ncpus active)[[:space:]]*:' /proc/cpuinfo 2>/dev/null
s nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s meminfo; f /proc/meminfo
s uptime; r /proc/uptime
s dmi; d=/sys/devices/virtual/dmi/id; if [ -e $d/product_name ]; then for k in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor board_version chassis_asset_tag chassis_serial chassis_vendor chassis_version chassis_type product_name product_serial product_uuid product_version sys_vendor product_family; do kv $k $d/$k; done; fi
s disklinks; for t in ids uuids labels; do case $t in ids) d=/dev/disk/by-id;; uuids) d=/dev/disk/by-uuid;; labels) d=/dev/disk/by-label;; esac; for l in "$d"/*; do [ -L "$l" ] || continue; x=$(readlink "$l"); printf '%s %s %s\n' "$t" "${l##*/}" "${x##*/}"; done; done
for l in /sys/block/*/slaves/*; do [ -e "$l" ] || continue; x=${l#/sys/block/}; printf 'masters %s %s\n' "${x%%/*}" "${x##*/}"; done
s blockdevs; for b in /sys/block/*; do [ -e "$b" ] || continue; n=${b##*/}; if [ -L "$b" ]; then printf 'D %s link\n' "$n"; else printf 'D %s\n' "$n"; fi
for k in device/vendor device/model device/sas_address device/sas_device_handle device/serial removable queue/discard_granularity queue/rotational queue/scheduler size queue/logical_block_size queue/hw_sector_size; do kv $k "$b/$k"; done
for h in "$b"/holders/dm-*; do [ -e "$h" ] && { printf 'holder %s ' "${h##*/}"; r "$h/dm/name"; }; done
for q in "$b"/"$n"*; do [ -d "$q" ] || continue; m=${q##*/}; printf 'P %s\n' "$m"; kv start "$q/start"; kv size "$q/size"; kv queue/logical_block_size "$q/queue/logical_block_size"; kv queue/hw_sector_size "$q/queue/hw_sector_size"
for h in "$q"/holders/dm-*; do [ -e "$h" ] && { printf 'holder %s ' "${h##*/}"; r "$h/dm/name"; }; done; done; done
s lsblk; c lsblk && lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null
s findmnt; c findmnt && findmnt --list --noheadings --notruncate 2>/dev/null
s mounts; m=/etc/mtab; [ -e $m ] || m=/proc/mounts; set --; while read -r dev mnt fs opts rest; do case $dev in /*|\\*|*:/*) ;; *) continue;; esac; [ "$fs" = none ] && continue
printf 'M %s %s %s %s\n' "$dev" "$mnt" "$fs" "$opts"; case $mnt in *\\*) mnt=$(printf '%b' "$mnt");; esac; set -- "$@" "$mnt"; done <$m
s statfs; [ $# -gt 0 ] && stat -f -c '%S %s %b %f %a %c %d %n' "$@" 2>/dev/null; set --
s lvm; if [ "$(id -u)" = 0 ] && c vgs; then o='--noheadings --nosuffix --units g --separator ,'; echo @vgs; vgs $o 2>/dev/null; echo @lvs; lvs $o 2>/dev/null; echo @pvs; pvs $o 2>/dev/null; fi
`

const scriptNetwork = `if c ip; then
s ip-addr; ip -o addr show 2>/dev/null
s ip-route; ip -4 route get 8.8.8.8 2>/dev/null
s ip-route6; ip -6 route get 2404:6800:400a:800::1012 2>/dev/null
s sysnet; if cd /sys/class/net 2>/dev/null; then set --; while IFS= read -r l; do case $l in *:*) n=${l%%:*}; n=${n##* }; [ -d "$n" ] && { echo "$n"; set -- "$@" "$n"; };; esac; done </proc/net/dev
for n; do echo @attr; grep -s '' "$n/address" "$n/mtu" "$n/operstate" "$n/type" "$n/speed" "$n/flags" "$n/bridge/bridge_id" "$n/bridge/stp_state" "$n/bonding/slaves" "$n/bonding/mode" "$n/bonding/miimon" "$n/bonding/lacp_rate" "$n/bonding/primary" "$n/bonding/all_slaves_active" "$n/bonding_slave/perm_hwaddr"
echo @ls; ls -ld "$n/device" "$n/device/driver/module" "$n/bridge" "$n/bonding" "$n/bonding_slave" "$n"/brif/* 2>/dev/null; done; set --; cd /; fi
else
s proc-route; cat /proc/net/route 2>/dev/null
s fib-trie; cat /proc/net/fib_trie 2>/dev/null
fi
s fc; for w in /sys/class/fc_host/*/port_name; do [ -r "$w" ] && r "$w"; done
s iscsi; f /etc/iscsi/initiatorname.iscsi
s nvme; f /etc/nvme/hostnqn
`

const scriptVirtual = `s virt; f /run/systemd/container
s virt-cgroup; f /proc/1/cgroup
s virt-environ; tr '\000' '\n' </proc/1/environ 2>/dev/null | grep '^container='
s virt-files; for f in /proc/vz /proc/bc /proc/lve /.dockerenv /.dockerinit /proc/xen /rhev /dev/kvm; do [ -e $f ] && echo $f; done; grep -q control_d /proc/xen/capabilities 2>/dev/null && echo xen-host; r /sys/hypervisor/type
s virt-dmi; d=/sys/devices/virtual/dmi/id; for k in product_name sys_vendor product_family bios_vendor; do kv $k $d/$k; done
s virt-status; f /proc/self/status
s virt-cpuinfo; grep -E '^(model name|vendor_id|machine)' /proc/cpuinfo 2>/dev/null
s virt-modules; grep -E '^(kvm|vboxdrv|virtio) ' /proc/modules 2>/dev/null
`
