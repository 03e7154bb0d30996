package facts

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sectionMark starts a section of the script's output.
const sectionMark = "@@tend:"

// Parse turns the output of Script into facts keyed like Ansible's
// ansible_facts dictionary. Facts whose raw material is missing from the
// output (a subset not gathered, a file the host lacks) are left out; an
// output that does not come from Script is an error.
func Parse(out []byte) (map[string]any, error) {
	sec, err := sections(out)
	if err != nil {
		return nil, err
	}
	f := map[string]any{}
	if _, ok := sec["uname"]; ok {
		parseMin(f, sec)
	}
	if _, ok := sec["cpuinfo"]; ok {
		parseHardware(f, sec)
	}
	if _, ok := sec["fc"]; ok {
		parseStorageNetwork(f, sec)
	}
	if _, ok := sec["ip-addr"]; ok {
		parseIPNetwork(f, sec)
	} else if _, ok := sec["proc-route"]; ok {
		parseProcNetwork(f, sec)
	}
	if _, ok := sec["virt"]; ok {
		parseVirtual(f, sec)
	}
	return f, nil
}

// sections splits the output into its sections, each a list of lines.
func sections(out []byte) (map[string][]string, error) {
	sec := map[string][]string{}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, sectionMark); ok {
			cur = name
			sec[cur] = nil
			continue
		}
		if cur == "" {
			continue // noise before the first section (a login banner)
		}
		sec[cur] = append(sec[cur], line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse facts: %w", err)
	}
	if v := sec["version"]; len(v) == 0 || v[0] != "1" {
		return nil, fmt.Errorf("parse facts: output does not come from the facts script (no version section)")
	}
	if _, ok := sec["end"]; !ok {
		return nil, fmt.Errorf("parse facts: output is truncated (no end section)")
	}
	// The script separates sections with an empty line.
	for k, v := range sec {
		if n := len(v); n > 0 && v[n-1] == "" {
			sec[k] = v[:n-1]
		}
	}
	return sec, nil
}

// keyValues parses shell-style KEY=value lines (os-release, lsb-release).
func keyValues(lines []string) map[string]string {
	kv := map[string]string{}
	for _, l := range lines {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
		}
		kv[k] = v
	}
	return kv
}

func line(sec map[string][]string, name string, i int) string {
	if l := sec[name]; i < len(l) {
		return strings.TrimSpace(l[i])
	}
	return ""
}

func parseMin(f map[string]any, sec map[string][]string) {
	// uname -snrm on one line, then uname -v (older scripts: one value
	// per line).
	if u := sec["uname"]; len(u) == 2 {
		if p := strings.Fields(u[0]); len(p) == 4 {
			sec["uname"] = append(p, u[1])
		}
	}
	f["system"] = line(sec, "uname", 0)
	nodename := line(sec, "uname", 1)
	f["nodename"] = nodename
	f["kernel"] = line(sec, "uname", 2)
	machine := line(sec, "uname", 3)
	f["machine"] = machine
	f["architecture"] = architecture(machine)
	f["kernel_version"] = line(sec, "uname", 4)
	host, domain, _ := strings.Cut(nodename, ".")
	f["hostname"] = host
	fqdn := line(sec, "fqdn", 0)
	if fqdn == "" {
		fqdn = nodename
	}
	f["fqdn"] = fqdn
	if _, d, ok := strings.Cut(fqdn, "."); ok {
		domain = d
	}
	f["domain"] = domain

	parseDistribution(f, sec)
	f["pkg_mgr"] = pkgMgr(f["os_family"].(string), sec["pkg"])
	f["service_mgr"] = serviceMgr(sec["init"])

	if u := sec["user"]; len(u) >= 3 && strings.HasPrefix(u[1], "uid=") {
		// The user's name, id's output, $HOME and the passwd entry.
		sec["user"] = userFromID(f, u)
	}
	if u := sec["user"]; len(u) >= 4 {
		f["user_id"] = strings.TrimSpace(u[0])
		f["user_uid"] = atoi(u[1])
		f["user_gid"] = atoi(u[2])
		f["user_dir"] = strings.TrimSpace(u[3])
		if len(u) >= 5 {
			if p := strings.Split(u[4], ":"); len(p) == 7 {
				f["user_uid"] = atoi(p[2])
				f["user_gid"] = atoi(p[3])
				f["user_gecos"] = p[4]
				f["user_dir"] = p[5]
				f["user_shell"] = p[6]
			}
		}
	}
	if id := line(sec, "machine-id", 0); id != "" {
		f["machine_id"] = id
	}
	if dt, ok := dateTime(line(sec, "date", 0)); ok {
		dateTimeExtra(dt, line(sec, "date", 1), line(sec, "date", 2))
		f["date_time"] = dt
	}
	f["dns"] = dns(sec["resolv"])
	f["selinux"] = selinux(sec["selinux"])
	f["env"] = env(sec["env"])
	parseSystem(f, sec)
}

// architecture maps uname -m the way Ansible does.
func architecture(machine string) string {
	switch machine {
	case "i386", "i486", "i586", "i686":
		return "i386"
	}
	return machine
}

// distributions maps os-release IDs to Ansible's distribution names.
var distributions = map[string]string{
	"debian": "Debian", "ubuntu": "Ubuntu", "linuxmint": "Linux Mint", "raspbian": "Debian", "kali": "Kali", "pop": "Pop!_OS",
	"rhel": "RedHat", "centos": "CentOS", "rocky": "Rocky", "almalinux": "AlmaLinux", "fedora": "Fedora",
	"ol": "OracleLinux", "amzn": "Amazon", "sles": "SLES", "sles_sap": "SLES_SAP", "opensuse-leap": "openSUSE Leap",
	"opensuse-tumbleweed": "openSUSE Tumbleweed", "alpine": "Alpine", "arch": "Archlinux", "gentoo": "Gentoo",
}

// families maps Ansible distribution names to os_family.
var families = map[string]string{
	"Debian": "Debian", "Ubuntu": "Debian", "Linux Mint": "Debian", "Kali": "Debian", "Pop!_OS": "Debian",
	"RedHat": "RedHat", "CentOS": "RedHat", "Rocky": "RedHat", "AlmaLinux": "RedHat", "Fedora": "RedHat",
	"OracleLinux": "RedHat", "Amazon": "RedHat", "SLES": "Suse", "SLES_SAP": "Suse", "openSUSE Leap": "Suse",
	"openSUSE Tumbleweed": "Suse", "Alpine": "Alpine", "Archlinux": "Archlinux", "Gentoo": "Gentoo",
}

var likeFamilies = map[string]string{"debian": "Debian", "ubuntu": "Debian", "rhel": "RedHat", "fedora": "RedHat", "centos": "RedHat", "suse": "Suse", "arch": "Archlinux"}

// codename takes the release name from VERSION="9.3 (Blue Onyx)".
var codename = regexp.MustCompile(`\(([^)]+)\)`)

// debianPoint finds the point release in /etc/debian_version.
var debianPoint = regexp.MustCompile(`(\d+)\.(\d+)`)

func parseDistribution(f map[string]any, sec map[string][]string) {
	osr := keyValues(sec["os-release"])
	lsb := keyValues(sec["lsb-release"])
	id := strings.ToLower(osr["ID"])
	dist, ok := distributions[id]
	switch {
	case ok:
	case osr["NAME"] != "":
		dist = osr["NAME"]
	case len(sec["redhat-release"]) > 0:
		dist = strings.Fields(sec["redhat-release"][0] + " RedHat")[0]
	case len(sec["debian_version"]) > 0:
		dist = "Debian"
	default:
		dist = line(sec, "uname", 0)
	}
	version := osr["VERSION_ID"]
	release := osr["VERSION_CODENAME"]
	if release == "" {
		release = lsb["DISTRIB_CODENAME"]
	}
	if release == "" {
		if m := codename.FindStringSubmatch(osr["VERSION"]); m != nil {
			release = m[1]
		}
	}
	if version == "" {
		version = "NA"
	}
	major, minor, _ := strings.Cut(version, ".")
	// Debian's os-release says "12"; Ansible takes the minor version from
	// the point release in /etc/debian_version ("12.10").
	if dist == "Debian" {
		if m := debianPoint.FindStringSubmatch(line(sec, "debian_version", 0)); m != nil {
			minor = m[2]
		}
	}
	family, ok := families[dist]
	if !ok {
		family = dist
		for _, like := range strings.Fields(osr["ID_LIKE"]) {
			if fam, ok := likeFamilies[like]; ok {
				family = fam
				break
			}
		}
	}
	f["distribution"] = dist
	f["distribution_version"] = version
	f["distribution_major_version"] = major
	if minor != "" {
		f["distribution_minor_version"] = minor
	}
	if release == "" {
		release = "NA"
	}
	f["distribution_release"] = release
	f["os_family"] = family
	switch {
	case family == "Debian" && len(sec["os-release"]) > 0:
		f["distribution_file_path"] = "/etc/os-release"
		f["distribution_file_variety"] = "Debian"
		f["distribution_file_parsed"] = true
	case family == "RedHat" && len(sec["redhat-release"]) > 0:
		f["distribution_file_path"] = "/etc/redhat-release"
		f["distribution_file_variety"] = "RedHat"
		f["distribution_file_parsed"] = true
	}
}

// pkgMgr picks the package manager Ansible would report: the family's own
// when present, else the first found.
func pkgMgr(family string, found []string) string {
	has := map[string]bool{}
	for _, p := range found {
		has[strings.TrimSpace(p)] = true
	}
	prefs := map[string][]string{
		"Debian": {"apt-get"}, "RedHat": {"dnf5", "dnf", "yum"}, "Suse": {"zypper"},
		"Alpine": {"apk"}, "Archlinux": {"pacman"},
	}[family]
	names := map[string]string{"apt-get": "apt", "dnf5": "dnf5", "dnf": "dnf", "yum": "yum", "zypper": "zypper", "apk": "apk", "pacman": "pacman"}
	for _, p := range prefs {
		if has[p] {
			return names[p]
		}
	}
	for _, p := range found {
		if n, ok := names[strings.TrimSpace(p)]; ok {
			return n
		}
	}
	return "unknown"
}

// serviceMgr decides like Ansible: systemd when it booted the host (its
// runtime directory exists), else by PID 1's name and the tools present.
func serviceMgr(lines []string) string {
	has := map[string]bool{}
	for _, l := range lines {
		has[strings.TrimSpace(l)] = true
	}
	comm := ""
	if len(lines) > 0 && !strings.HasPrefix(lines[0], "@") {
		comm = strings.TrimSpace(lines[0])
	}
	switch {
	case has["@systemd"] || comm == "systemd":
		return "systemd"
	case has["@openrc"] || comm == "openrc-init":
		return "openrc"
	case has["@upstart"]:
		return "upstart"
	case comm == "init":
		return "sysvinit"
	case comm == "runit" || comm == "runit-init":
		return "runit"
	case comm != "":
		return comm
	}
	return "service"
}

// dateTime builds Ansible's date_time from `date '+%s %z %Z'`.
func dateTime(s string) (map[string]any, bool) {
	p := strings.Fields(s)
	if len(p) < 2 {
		return nil, false
	}
	epoch, err := strconv.ParseInt(p[0], 10, 64)
	if err != nil {
		return nil, false
	}
	off, err := time.Parse("-0700", p[1])
	if err != nil {
		return nil, false
	}
	_, offset := off.Zone()
	tz := p[1]
	if len(p) > 2 {
		tz = p[2]
	}
	t := time.Unix(epoch, 0).In(time.FixedZone(tz, offset))
	u := t.UTC()
	return map[string]any{
		"year":                t.Format("2006"),
		"month":               t.Format("01"),
		"day":                 t.Format("02"),
		"hour":                t.Format("15"),
		"minute":              t.Format("04"),
		"second":              t.Format("05"),
		"weekday":             t.Format("Monday"),
		"weekday_number":      strconv.Itoa(int(t.Weekday())),
		"weeknumber":          fmt.Sprintf("%02d", weekNumberMonday(t)),
		"date":                t.Format("2006-01-02"),
		"time":                t.Format("15:04:05"),
		"epoch":               p[0],
		"epoch_int":           p[0],
		"iso8601":             u.Format("2006-01-02T15:04:05Z"),
		"iso8601_basic":       t.Format("20060102T150405") + "000000",
		"iso8601_basic_short": t.Format("20060102T150405"),
		"iso8601_micro":       u.Format("2006-01-02T15:04:05") + ".000000Z",
		"tz":                  tz,
		"tz_offset":           p[1],
	}, true
}

// weekNumberMonday is strftime's %W: weeks starting on Monday, days before
// the year's first Monday are in week 0.
func weekNumberMonday(t time.Time) int {
	yd := t.YearDay() - 1
	wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
	return (yd + 7 - wd) / 7
}

func dns(lines []string) map[string]any {
	var ns, search []any
	d := map[string]any{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			ns = append(ns, f[1])
		case "search":
			for _, s := range f[1:] {
				search = append(search, s)
			}
		case "domain":
			d["domain"] = f[1]
		}
	}
	if ns != nil {
		d["nameservers"] = ns
	}
	if search != nil {
		d["search"] = search
	}
	return d
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// env parses `env` output; a line that does not start a NAME=value pair
// continues the previous value (values with newlines).
func env(lines []string) map[string]any {
	e := map[string]any{}
	last := ""
	for _, l := range lines {
		if envName.MatchString(l) {
			k, v, _ := strings.Cut(l, "=")
			e[k] = v
			last = k
			continue
		}
		if last != "" {
			e[last] = e[last].(string) + "\n" + l
		}
	}
	return e
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
