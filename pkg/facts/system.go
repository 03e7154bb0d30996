package facts

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// selinux reads the selinux section: "enforce N", "policyvers N" and the
// SELINUX=/SELINUXTYPE= lines of /etc/selinux/config; nothing when
// SELinux is off.
func selinux(lines []string) map[string]any {
	kv := map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[k] = strings.TrimSpace(v)
		} else if k, v, ok := strings.Cut(l, " "); ok {
			kv[k] = strings.TrimSpace(v)
		}
	}
	enforce, ok := kv["enforce"]
	if !ok {
		return map[string]any{"status": "disabled"}
	}
	modes := map[string]string{"1": "enforcing", "0": "permissive"}
	m := map[string]any{"status": "enabled", "mode": "unknown", "config_mode": "unknown", "type": "unknown", "policyvers": "unknown"}
	if mode, ok := modes[enforce]; ok {
		m["mode"] = mode
	}
	if n, err := strconv.Atoi(kv["policyvers"]); err == nil {
		m["policyvers"] = n
	}
	switch kv["SELINUX"] {
	case "enforcing", "permissive", "disabled":
		m["config_mode"] = kv["SELINUX"]
	}
	if t := kv["SELINUXTYPE"]; t != "" {
		m["type"] = t
	}
	return m
}

var idField = regexp.MustCompile(`\b(uid|gid|euid|egid)=(\d+)`)

// userFromID sets the real and effective ids from id's output ("uid=0(root)
// gid=0(root) [euid=...] [egid=...] groups=...") and returns the user
// section in the one-value-per-line form: name, uid, gid, home[, passwd].
func userFromID(f map[string]any, u []string) []string {
	ids := map[string]string{}
	for _, m := range idField.FindAllStringSubmatch(u[1], -1) {
		ids[m[1]] = m[2]
	}
	if ids["euid"] == "" {
		ids["euid"] = ids["uid"]
	}
	if ids["egid"] == "" {
		ids["egid"] = ids["gid"]
	}
	f["real_user_id"] = atoi(ids["uid"])
	f["effective_user_id"] = atoi(ids["euid"])
	f["real_group_id"] = atoi(ids["gid"])
	// Ansible reports os.getgid() here, the real group.
	f["effective_group_id"] = atoi(ids["gid"])
	return append([]string{u[0], ids["euid"], ids["egid"]}, u[2:]...)
}

// dateTimeExtra adds what `date +%N` (nanoseconds, GNU date) and the
// zone's summer name add to date_time.
func dateTimeExtra(dt map[string]any, nanos, summer string) {
	dt["tz_dst"] = dt["tz"]
	if summer != "" {
		dt["tz_dst"] = summer
	}
	if len(nanos) == 9 && strings.Trim(nanos, "0123456789") == "" {
		micro := nanos[:6]
		dt["iso8601_basic"] = dt["iso8601_basic_short"].(string) + micro
		dt["iso8601_micro"] = strings.TrimSuffix(dt["iso8601"].(string), "Z") + "." + micro + "Z"
	}
}

// parseSystem sets the facts of Ansible's min subset beyond platform,
// distribution, user, date, dns, selinux and env.
func parseSystem(f map[string]any, sec map[string][]string) {
	if _, ok := sec["apparmor"]; ok {
		status := "disabled"
		if line(sec, "apparmor", 0) == "enabled" {
			status = "enabled"
		}
		f["apparmor"] = map[string]any{"status": status}
	}
	if _, ok := sec["fips"]; ok {
		f["fips"] = line(sec, "fips", 0) == "1"
	}
	if c := strings.TrimSpace(strings.Join(sec["cmdline"], " ")); c != "" {
		f["cmdline"], f["proc_cmdline"] = cmdline(c)
	}
	if _, ok := sec["caps"]; ok {
		caps(f, sec["caps"])
	}
	if _, ok := sec["sshkeys"]; ok {
		sshKeys(f, sec["sshkeys"])
	}
	if ch := sec["chroot"]; len(ch) >= 2 {
		a, b := strings.Fields(ch[0]), strings.Fields(ch[1])
		f["is_chroot"] = len(a) > 0 && len(b) > 0 && (len(a) != len(b) || a[0] != b[0] || len(a) > 1 && a[1] != b[1])
	} else if _, ok := sec["chroot"]; ok {
		f["is_chroot"] = false
	}
	if e, ok := f["env"].(map[string]any); ok && e["debian_chroot"] != nil && e["debian_chroot"] != "" {
		f["is_chroot"] = true
	}
	if la := strings.Fields(line(sec, "loadavg", 0)); len(la) >= 3 {
		m := map[string]any{}
		for i, k := range []string{"1m", "5m", "15m"} {
			if v, err := strconv.ParseFloat(la[i], 64); err == nil {
				m[k] = v
			}
		}
		f["loadavg"] = m
	}
	if bits := line(sec, "bits", 0); bits != "" {
		f["userspace_bits"] = bits
		if f["machine"] == "x86_64" {
			switch bits {
			case "64":
				f["userspace_architecture"] = "x86_64"
			case "32":
				f["userspace_architecture"] = "i386"
			}
		}
	}
	if _, ok := sec["python"]; ok {
		python(f, sec["python"])
	}
	if _, ok := sec["lsb_release"]; ok {
		f["lsb"] = lsb(sec["lsb_release"], sec["lsb-release"])
	}
	if _, ok := sec["local"]; ok {
		f["local"] = localFacts(sec["local"])
	}
	if _, ok := sec["selinux"]; ok {
		// Ansible 2.14 reads SELinux through its own ctypes binding of
		// libselinux, so this is true wherever it runs; tend needs no
		// binding at all.
		f["selinux_python_present"] = true
	}
}

// cmdline parses /proc/cmdline as Ansible does: cmdline keeps the last
// value of a repeated key, proc_cmdline a list of all of them.
func cmdline(s string) (map[string]any, map[string]any) {
	c, p := map[string]any{}, map[string]any{}
	for _, piece := range splitCmdline(s) {
		k, v, ok := strings.Cut(piece, "=")
		if !ok {
			c[k] = true
			p[k] = true
			continue
		}
		c[k] = v
		switch old := p[k].(type) {
		case []any:
			p[k] = append(old, v)
		case string:
			p[k] = []any{old, v}
		default:
			p[k] = v
		}
	}
	return c, p
}

// splitCmdline splits like Python's shlex.split(posix=False): on
// whitespace, with quoted parts kept whole (quotes included).
func splitCmdline(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
			in = true
			cur.WriteRune(r)
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			in = true
			cur.WriteRune(r)
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// caps reads capsh --print's Current: line.
func caps(f map[string]any, lines []string) {
	f["system_capabilities_enforced"] = "N/A"
	f["system_capabilities"] = "N/A"
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, "Current:")
		if !ok {
			continue
		}
		if strings.TrimSpace(rest) == "=ep" {
			f["system_capabilities_enforced"] = "False"
			f["system_capabilities"] = []any{}
			continue
		}
		f["system_capabilities_enforced"] = "True"
		list := []any{}
		if _, v, ok := strings.Cut(l, "="); ok {
			for _, c := range strings.Split(v, ",") {
				list = append(list, strings.TrimSpace(c))
			}
		}
		f["system_capabilities"] = list
	}
}

// sshKeys takes the host keys in the order Ansible looks for them
// (/etc/ssh, /etc/openssh, /etc; dsa, rsa, ecdsa, ed25519), stopping as
// Ansible does at the first key type seen twice.
func sshKeys(f map[string]any, lines []string) {
	for _, l := range lines {
		algo, data, ok := strings.Cut(l, " ")
		p := strings.Fields(data)
		if !ok || len(p) < 2 {
			continue
		}
		name := "ssh_host_key_" + algo + "_public"
		if _, seen := f[name]; seen {
			return
		}
		f[name] = p[1]
		f[name+"_keytype"] = p[0]
	}
}

var pythonVersion = regexp.MustCompile(`^Python (\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?`)

// python sets python and python_version from the path of python3 and its
// -V output, when the host has one.
func python(f map[string]any, lines []string) {
	if len(lines) < 2 {
		return
	}
	m := pythonVersion.FindStringSubmatch(strings.TrimSpace(lines[1]))
	if m == nil {
		return
	}
	level := map[string]string{"": "final", "a": "alpha", "b": "beta", "rc": "candidate"}[m[4]]
	serial := 0
	if m[5] != "" {
		serial = atoi(m[5])
	}
	major, minor, micro := atoi(m[1]), atoi(m[2]), atoi(m[3])
	f["python_version"] = m[1] + "." + m[2] + "." + m[3]
	f["python"] = map[string]any{
		"executable":     strings.TrimSpace(lines[0]),
		"has_sslcontext": true,
		"type":           "cpython",
		"version":        map[string]any{"major": major, "minor": minor, "micro": micro, "releaselevel": level, "serial": serial},
		"version_info":   []any{major, minor, micro, level, serial},
	}
}

// lsb reads lsb_release -a, else /etc/lsb-release, as Ansible does.
func lsb(bin, file []string) map[string]any {
	m := map[string]any{}
	set := func(k, v string) {
		if v = strings.Trim(strings.TrimSpace(v), `'"\`); v != "" || m[k] == nil {
			m[k] = v
		}
	}
	for _, l := range bin {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "LSB Version", "Release":
			set("release", v)
		case "Distributor ID":
			set("id", v)
		case "Description":
			set("description", v)
		case "Codename":
			set("codename", v)
		}
	}
	if len(m) == 0 {
		for _, l := range file {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			switch {
			case strings.Contains(k, "DISTRIB_ID"):
				set("id", v)
			case strings.Contains(k, "DISTRIB_RELEASE"):
				set("release", v)
			case strings.Contains(k, "DISTRIB_DESCRIPTION"):
				set("description", v)
			case strings.Contains(k, "DISTRIB_CODENAME"):
				set("codename", v)
			}
		}
	}
	if r, ok := m["release"].(string); ok {
		m["major_release"], _, _ = strings.Cut(r, ".")
	}
	return m
}

// localFacts reads the local section: "F NAME RC" then the file's
// content (or an executable's output), each line prefixed with "|". A
// fact is JSON, else INI, else an error message, as in Ansible.
func localFacts(lines []string) map[string]any {
	out := map[string]any{}
	var name, rc string
	var body []string
	flush := func() {
		if name == "" {
			return
		}
		switch rc {
		case "0":
			out[name] = parseLocal(name, strings.Join(body, "\n"))
		case "-1":
			out[name] = "Could not read fact (" + name + ".fact)"
		default:
			out[name] = "Failure executing fact script (" + name + ".fact), rc: " + rc
		}
	}
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "|"); ok {
			body = append(body, v)
			continue
		}
		if p := strings.Fields(l); len(p) == 3 && p[0] == "F" {
			flush()
			name, rc, body = p[1], p[2], nil
		}
	}
	flush()
	return out
}

func parseLocal(name, s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v
	}
	ini := map[string]any{}
	var cur map[string]any
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";"):
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			sect := t[1 : len(t)-1]
			if m, ok := ini[sect].(map[string]any); ok {
				cur = m
			} else {
				cur = map[string]any{}
				ini[sect] = cur
			}
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				k, v, ok = strings.Cut(t, ":")
			}
			if !ok || cur == nil {
				return "error loading facts as JSON or ini - please check content: " + name + ".fact"
			}
			cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return ini
}
