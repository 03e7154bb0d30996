package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/pyre"
	"github.com/tend-dev/tend/pkg/shell"
)

// WaitFor waits on the host for a port, a file or a string in a file.
type WaitFor struct{}

var _ module.Module = (*WaitFor)(nil)

// Spec implements module.Module.
func (WaitFor) Spec() *module.Spec {
	return &module.Spec{
		Name:  "wait_for",
		Short: "Wait for a port, a file or a string in a file on the host",
		Description: `Waits, on the host, until a condition holds or timeout seconds have passed
(a failure then). The whole wait is one shell loop sent to the host in one round trip.

Ports: started waits until a TCP connection to host:port succeeds, stopped until it is
refused, drained until no connection of active_connection_states uses the local port.
Connections are tried with bash's /dev/tcp (bash is Essential on Debian), else with nc;
with neither, a local host (127.0.0.1, localhost, ::1, 0.0.0.0) is checked by looking for
a listening socket in /proc/net/tcp and tcp6. search_regex with a port reads what the
server sends first (needs bash or nc). drained reads /proc/net/tcp{,6}: Linux only.

Paths: present/started waits for the path to exist (and, with search_regex, for the
regex to match a line; grep -P when the host's grep has it, else grep -E, so use
syntax both understand), absent/stopped for it to disappear. With neither port nor path,
wait_for just waits timeout seconds. match_groups holds the groups of search_regex
matched (Python's re, multiline) against the first matching line.
Check mode runs the wait (it changes nothing), as Ansible does.`,
		Args: []module.Arg{
			{Name: "host", Type: module.String, Default: "127.0.0.1", Doc: "Host to connect to, as seen from the managed host."},
			{Name: "port", Type: module.Int, Doc: "TCP port to wait for."},
			{Name: "path", Type: module.Path, Expand: true, Doc: "File to wait for."},
			{Name: "state", Type: module.String, Default: "started", Choices: []string{"started", "stopped", "present", "absent", "drained"},
				Doc: "started/present: open port or existing file; stopped/absent: closed port or missing file; drained: no active connections on port."},
			{Name: "timeout", Type: module.Int, Default: 300, Doc: "Seconds to wait in all, counting delay."},
			{Name: "delay", Type: module.Int, Default: 0, Doc: "Seconds to wait before the first check."},
			{Name: "sleep", Type: module.Int, Default: 1, Doc: "Seconds between checks."},
			{Name: "connect_timeout", Type: module.Int, Default: 5, Doc: "Seconds one connection attempt may take."},
			{Name: "search_regex", Type: module.String, Doc: "Regular expression to find in the file, or in what the port sends."},
			{Name: "active_connection_states", Type: module.List, Elements: module.String,
				Default: []any{"ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"},
				Doc:     "TCP states that count as active for state=drained."},
			{Name: "msg", Type: module.String, Doc: "Message of the failure on timeout, instead of the default."},
			{Name: "exclude_hosts", Type: module.List, Elements: module.String, Doc: "With state=drained, connections from these hosts or IPs do not count " +
				"(names are resolved on the host with getent ahosts, IPv4 addresses also match their ::ffff: IPv6 form, as in Ansible)."},
		},
		MutuallyExclusive: [][]string{{"port", "path"}},
		Check:             module.CheckFull,
		Examples: `- name: Wait for the application to listen
  wait_for:
    port: 4242
    timeout: 60

- name: Wait for the log to say it is ready
  ansible.builtin.wait_for:
    path: /var/log/app.log
    search_regex: "started on port ([0-9]+)"

- name: Wait for the lock file to go
  wait_for:
    path: /run/app.lock
    state: absent`,
	}
}

var tcpStates = map[string]string{
	"ESTABLISHED": "01", "SYN_SENT": "02", "SYN_RECV": "03", "FIN_WAIT1": "04", "FIN_WAIT2": "05",
	"TIME_WAIT": "06", "CLOSE": "07", "CLOSE_WAIT": "08", "LAST_ACK": "09", "LISTEN": "0A", "CLOSING": "0B",
}

func isLocalHost(h string) bool {
	switch h {
	case "127.0.0.1", "localhost", "::1", "0.0.0.0", "::", "":
		return true
	}
	return false
}

// waitForScript builds the one shell loop that waits on the host. It
// prints "TEND_OK <elapsed>" and, for a path with search_regex, the first
// matching line; or "TEND_TIMEOUT <elapsed>"; or "TEND_ERR <message>".
func waitForScript(args module.Args, exclude ...string) (string, error) {
	state := args.String("state")
	hasPort, hasPath := args.Has("port"), args.Has("path")
	regex := args.String("search_regex")
	host := args.String("host")
	var b strings.Builder
	set := func(k, v string) { b.WriteString(k + "=" + shell.Quote(v) + "\n") }
	set("host", host)
	set("port", strconv.Itoa(args.Int("port")))
	set("path", args.String("path"))
	set("regex", regex)
	set("ct", strconv.Itoa(max(args.Int("connect_timeout"), 1)))
	set("local", strconv.FormatBool(isLocalHost(host)))
	set("excl", strings.Join(exclude, " "))
	b.WriteString(`start=$(date +%s); deadline=$((start + ` + strconv.Itoa(args.Int("timeout")) + `))
if echo x | grep -P x >/dev/null 2>&1; then g='grep -P'; else g='grep -E'; fi
if command -v bash >/dev/null 2>&1; then m=bash; elif command -v nc >/dev/null 2>&1; then m=nc; else m=proc; fi
hex=$(printf '%04X' "$port")
# sockets on the local port in the given hex states, from /proc/net/tcp{,6}
sockets() { cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r sl l r st rest; do
  case "$l" in *:"$hex") case " $excl " in *" ${r%:*} "*) ;; *) case " $1 " in *" $st "*) echo y ;; esac ;; esac ;; esac; done; }
connect() { case $m in
  bash) timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null ;;
  nc) nc -z -w "$ct" "$host" "$port" >/dev/null 2>&1 ;;
  *) [ "$local" = true ] || { echo "TEND_ERR checking $host:$port needs bash or nc on the host"; exit 0; }
     [ -n "$(sockets 0A)" ] ;;
esac; }
banner() { case $m in
  bash) timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1" && cat <&3' "$host" "$port" 2>/dev/null | $g -q -- "$regex" ;;
  nc) timeout "$ct" nc -w "$ct" "$host" "$port" </dev/null 2>/dev/null | $g -q -- "$regex" ;;
  *) echo "TEND_ERR search_regex with a port needs bash or nc on the host"; exit 0 ;;
esac; }
`)
	var probe string
	switch {
	case hasPort && state == "drained":
		var hexStates []string
		for _, s := range args.List("active_connection_states") {
			hx, ok := tcpStates[strings.ToUpper(s)]
			if !ok {
				return "", fmt.Errorf("unknown TCP state %q in active_connection_states", s)
			}
			hexStates = append(hexStates, hx)
		}
		set("states", strings.Join(hexStates, " "))
		probe = `[ -r /proc/net/tcp ] || { echo "TEND_ERR state=drained needs /proc/net/tcp (Linux)"; exit 0; }; [ -z "$(sockets "$states")" ]`
	case hasPort && (state == "started" || state == "present") && regex != "":
		probe = "banner"
	case hasPort && (state == "started" || state == "present"):
		probe = "connect"
	case hasPort:
		probe = "! connect"
	case hasPath && (state == "started" || state == "present") && regex != "":
		probe = `[ -f "$path" ] && $g -q -- "$regex" "$path" 2>/dev/null`
	case hasPath && (state == "started" || state == "present"):
		probe = `[ -e "$path" ]`
	case hasPath && state == "drained":
		return "", fmt.Errorf("state=drained needs port")
	case hasPath:
		probe = `[ ! -e "$path" ]`
	default:
		// Neither port nor path: Ansible sleeps delay, then timeout, and
		// succeeds (elapsed is their sum).
		b.WriteString("sleep " + strconv.Itoa(max(args.Int("delay"), 0)) + "; sleep " + strconv.Itoa(max(args.Int("timeout"), 0)) + "\n")
		b.WriteString("echo \"TEND_OK $(( $(date +%s) - start ))\"\n")
		return b.String(), nil
	}
	b.WriteString("sleep " + strconv.Itoa(args.Int("delay")) + "\n")
	b.WriteString("while :; do\n  if " + probe + "; then echo \"TEND_OK $(( $(date +%s) - start ))\"")
	if hasPath && regex != "" && (state == "started" || state == "present") {
		b.WriteString(`; $g -m1 -- "$regex" "$path" 2>/dev/null`)
	}
	b.WriteString("; exit 0; fi\n")
	b.WriteString("  now=$(date +%s); [ \"$now\" -ge \"$deadline\" ] && { echo \"TEND_TIMEOUT $((now - start))\"; exit 0; }\n")
	b.WriteString("  s=" + strconv.Itoa(max(args.Int("sleep"), 1)) + "; [ $((now + s)) -gt \"$deadline\" ] && s=$((deadline - now))\n  sleep \"$s\"\ndone\n")
	return b.String(), nil
}

// Plan implements module.Module. The wait itself happens here: it only
// observes the host.
func (WaitFor) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	if args.Has("search_regex") && !args.Has("path") && !args.Has("port") {
		return module.Unchanged(module.Failed("search_regex needs path or port")), nil
	}
	exclude, fail, err := waitForExcludes(ctx, h, args)
	if err != nil || fail != nil {
		return module.Unchanged(fail), err
	}
	script, err := waitForScript(args, exclude...)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	timeout := time.Duration(args.Int("timeout")+args.Int("delay")+args.Int("connect_timeout")+60) * time.Second
	res, err := h.RunWith(ctx, connection.Command{Cmd: script, Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("wait_for on %s: %w", h.Name, err)
	}
	r := module.Result{"state": args.String("state"), "elapsed": 0}
	if args.Has("port") {
		r["port"] = args.Int("port")
	}
	if args.Has("path") {
		r["path"] = args.String("path")
	}
	if re := args.String("search_regex"); re != "" {
		r["search_regex"] = re
	}
	out := string(res.Stdout)
	first, rest, _ := strings.Cut(out, "\n")
	word, val, _ := strings.Cut(strings.TrimSpace(first), " ")
	switch word {
	case "TEND_OK":
		r["elapsed"], _ = strconv.Atoi(val)
		if re := args.String("search_regex"); re != "" {
			r["match_groups"], r["match_groupdict"] = matchGroups(re, strings.TrimSuffix(rest, "\n"))
		}
		return module.Unchanged(r), nil
	case "TEND_TIMEOUT":
		r["elapsed"], _ = strconv.Atoi(val)
		if !args.Has("port") && !args.Has("path") {
			return module.Unchanged(r), nil
		}
		r["failed"] = true
		r["msg"] = waitForTimeoutMsg(args)
		return module.Unchanged(r), nil
	case "TEND_ERR":
		r["failed"] = true
		r["msg"] = val
		return module.Unchanged(r), nil
	}
	r["failed"] = true
	r["msg"] = fmt.Sprintf("wait_for script failed (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	return module.Unchanged(r), nil
}

// matchGroups applies re to line and returns its groups and named groups.
func matchGroups(re, line string) ([]any, map[string]any) {
	groups, named := []any{}, map[string]any{}
	rx, err := pyre.Compile(re, pyre.Multiline)
	if err != nil {
		return groups, named
	}
	m, err := rx.Search(line)
	if m == nil || err != nil {
		return groups, named
	}
	names := rx.GroupNames()
	for i := 1; i < len(m)/2; i++ {
		var g any
		if m[2*i] >= 0 {
			g = line[m[2*i]:m[2*i+1]]
		}
		groups = append(groups, g)
		if names[i] != "" {
			named[names[i]] = g
		}
	}
	return groups, named
}

// waitForTimeoutMsg is Ansible's message for a timeout, or msg.
func waitForTimeoutMsg(args module.Args) string {
	if m := args.String("msg"); m != "" {
		return m
	}
	state, host, port, path := args.String("state"), args.String("host"), args.Int("port"), args.String("path")
	re := args.String("search_regex")
	switch {
	case args.Has("port") && state == "drained":
		return fmt.Sprintf("Timeout when waiting for %s:%d to drain", host, port)
	case args.Has("port") && (state == "stopped" || state == "absent"):
		return fmt.Sprintf("Timeout when waiting for %s:%d to stop.", host, port)
	case args.Has("port") && re != "":
		return fmt.Sprintf("Timeout when waiting for search string %s in %s:%d", re, host, port)
	case args.Has("port"):
		return fmt.Sprintf("Timeout when waiting for %s:%d", host, port)
	case state == "stopped" || state == "absent":
		return fmt.Sprintf("Timeout when waiting for %s to be absent.", path)
	case re != "":
		return fmt.Sprintf("Timeout when waiting for search string %s in %s", re, path)
	}
	return fmt.Sprintf("Timeout when waiting for file %s", path)
}
