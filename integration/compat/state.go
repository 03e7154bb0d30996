package compat

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// State is what a host looks like, as "kind name" -> value lines:
// packages (pkg), files (file: type, owner, mode, content hash), unit
// files and units (unitfile, unit), users and groups (user, group).
type State map[string]string

// stateRoots are the folders whose files the snapshot describes: where
// roles put configuration, programs and data.
const stateRoots = "/etc /usr/local /opt /srv /var/www /home /root /var/spool/cron /var/lib/postgresql /var/lib/mysql /var/lib/redis /var/lib/samba /var/lib/munin-node"

// statePrune are left out: the engines' own temporary files, caches and
// files every boot or login rewrites.
const statePrune = `-path /root/.ansible -o -path /root/.ansible_async -o -path /root/.tend -o -path /root/.cache -o -path /etc/ld.so.cache -o -path /root/.lesshst -o -path /var/lib/postgresql/15/main -o -path /var/lib/mysql -o -path /etc/ssl/certs`

// snapshotScript prints a host's state; subnetPrefix ("10.231.7.") is the
// bed's network, replaced by a neutral prefix in file contents so that two
// beds compare equal.
func snapshotScript(subnetPrefix string) string {
	sed := "s/" + regexp.QuoteMeta(subnetPrefix) + "/10.231.N./g"
	return `export LC_ALL=C
dpkg-query -W -f '${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' 2>/dev/null | sed 's/^/pkg /'
roots=""; for r in ` + stateRoots + `; do [ -e "$r" ] && roots="$roots $r"; done
find $roots -xdev \( ` + statePrune + ` \) -prune -o -printf 'file %p %y %u:%g %m %l\n' 2>/dev/null
find $roots -xdev \( ` + statePrune + ` \) -prune -o -type f -size -4M -print0 2>/dev/null | xargs -0 -r sha256sum 2>/dev/null | sed 's/^/sum /'
grep -rlF -- '` + subnetPrefix + `' $roots 2>/dev/null | while IFS= read -r f; do case "$f" in /root/.ansible*|/root/.tend*) continue;; esac; printf 'sum %s  %s\n' "$(sed '` + sed + `' "$f" | sha256sum | cut -d' ' -f1)" "$f"; done
systemctl list-unit-files --no-legend --no-pager --type=service,socket,timer 2>/dev/null | awk '{print "unitfile", $1, $2}'
systemctl list-units --all --no-legend --no-pager --plain --type=service,socket,timer 2>/dev/null | awk '{print "unit", $1, $3, $4}'
getent passwd | awk -F: '{print "user", $1, $3 ":" $4 ":" $6 ":" $7}'
getent group | awk -F: '{print "group", $1, $3 ":" $4}'
`
}

// parseState reads snapshotScript's output. A later "sum" line for a
// file replaces an earlier one (the address-neutral hash).
func parseState(out string) State {
	s := State{}
	sums := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		kind, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		switch kind {
		case "sum":
			sum, path, ok := strings.Cut(rest, "  ")
			if ok {
				path = backupName.ReplaceAllString(path, ".BACKUP~")
				sums[path] = sum[:min(16, len(sum))]
			}
		case "pkg", "file", "unitfile", "unit", "user", "group":
			name, val, _ := strings.Cut(rest, " ")
			name = backupName.ReplaceAllString(name, ".BACKUP~")
			s[kind+" "+name] = strings.TrimSpace(val)
		}
	}
	for p, sum := range sums {
		if v, ok := s["file "+p]; ok {
			s["file "+p] = v + " " + sum
		}
	}
	return s
}

// backupName is the suffix of a backup file Ansible's and tend's
// `backup: true` leave (FILE.PID.DATE@TIME~): the same in both runs but for
// the process and the time.
var backupName = regexp.MustCompile(`\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$`)

// Keep reports whether a difference line of Compare still counts under
// the current ignore rules and the role's random keys, so results of an
// earlier run can be rendered again after those rules change.
func Keep(line string, random *regexp.Regexp) bool {
	key, _, _ := strings.Cut(line, ": ansible=")
	key = backupName.ReplaceAllString(key, ".BACKUP~")
	if ignoredKeys.MatchString(key) {
		return false
	}
	if random != nil && random.MatchString(key) && !strings.Contains(line, "(absent)") {
		return false
	}
	return true
}

// ignoredKeys are differences that come from the engines themselves, not
// from the roles: Ansible's apt module installs python3-apt (and what it
// pulls in) for itself, without its recommended packages (lsb-release,
// iso-codes), which a role installing python3-apt later gets on tend's
// host only; Ansible's temporary folder in a become_user's home
// (~postgres/.ansible); units of a login session, transient units.
var ignoredKeys = regexp.MustCompile(`^(file .*/\.ansible(/.*)?|file /etc/(passwd|group|shadow|gshadow)|file /etc/ssl/private/ssl-cert-snakeoil\.key|pkg (python3-apt|python-apt-common|distro-info-data|lsb-release|python3-debian|python3-debconf|python3-chardet|python3-distro-info|iso-codes)(:\S+)?|unit (session-|user@|user-runtime-dir@|systemd-|run-|ssh@|sshd@|getty@|serial-getty@|apt-daily|dpkg-db-backup|e2scrub|fstrim|man-db|logrotate\.service|phpsessionclean\.service).*|unitfile (systemd-|apt-daily|e2scrub|fstrim|man-db|dpkg-db-backup).*|file /etc/ssh/ssh_host_.*|file /etc/machine-id|file /etc/(passwd|group|shadow|gshadow|subuid|subgid)-|file /etc/apt/apt\.conf\.d/.*proxy.*|file /var/lib/[^/]+/?)$`)

// Changes lists the keys whose value differs between before and after.
func Changes(before, after State) map[string]bool {
	ch := map[string]bool{}
	for k, v := range after {
		if before[k] != v {
			ch[k] = true
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			ch[k] = true
		}
	}
	return ch
}

// Compare returns the end-state differences between the Ansible host and
// the tend host, over every key either run changed: "key: ansible=V
// tend=V" lines, sorted. random matches keys whose value is compared for
// presence only.
func Compare(ansBefore, ansAfter, tendBefore, tendAfter State, random *regexp.Regexp) []string {
	keys := Changes(ansBefore, ansAfter)
	for k := range Changes(tendBefore, tendAfter) {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if ignoredKeys.MatchString(k) {
			continue
		}
		a, aok := ansAfter[k]
		t, tok := tendAfter[k]
		if aok && tok && random != nil && random.MatchString(k) {
			continue
		}
		if aok && tok && strings.HasPrefix(k, "file ") {
			// A file's content: a difference of a state file both engines
			// only create with random content is caught by random.
			if a == t {
				continue
			}
		}
		if a == t && aok == tok {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s: ansible=%s tend=%s", k, show(a, aok), show(t, tok)))
	}
	sort.Strings(diffs)
	return diffs
}

func show(v string, ok bool) string {
	if !ok {
		return "(absent)"
	}
	if v == "" {
		return `""`
	}
	return v
}
