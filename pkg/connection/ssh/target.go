package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
	"github.com/tend-dev/tend/pkg/shell"
)

// endpoint is one resolved SSH destination: where to dial, as whom, with
// which credentials, and through which jump host.
type endpoint struct {
	name           string // inventory host name or jump spec, for messages
	alias          string // name looked up in ssh_config
	host           string // address dialed
	port           int
	user           string
	identityFiles  []string
	identitiesOnly bool
	password       string
	connectTimeout time.Duration
	keepAlive      time.Duration
	policy         string // "" means the pool's policy
	knownHosts     string // "" means the pool's known_hosts file
	via            *endpoint
}

func (e *endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// key identifies the connection e needs: two hosts with the same key share
// one connection, which is how a bastion is dialed once for many hosts.
func (e *endpoint) key() string {
	k := e.user + "@" + e.addr()
	if e.via != nil {
		k += " via " + e.via.key()
	}
	return k
}

// maxJumpDepth stops ProxyJump loops in ssh_config.
const maxJumpDepth = 8

// resolver turns inventory variables plus ssh_config into endpoints.
type resolver struct {
	cfg       *sshconfig.Config // nil: no ssh_config
	localUser string
	home      string
}

func newResolver(configFile string) (*resolver, error) {
	r := &resolver{}
	if u, err := user.Current(); err == nil {
		r.localUser = u.Username
		r.home = u.HomeDir
	}
	if h, err := os.UserHomeDir(); err == nil {
		r.home = h
	}
	if configFile == "" || configFile == "none" {
		return r, nil
	}
	f, err := os.Open(configFile)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ssh config %s: %w", configFile, err)
	}
	defer f.Close()
	cfg, err := sshconfig.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("parse ssh config %s: %w", configFile, err)
	}
	r.cfg = cfg
	return r, nil
}

func (r *resolver) get(alias, key string) string {
	if r.cfg == nil {
		return ""
	}
	v, _ := r.cfg.Get(alias, key)
	return strings.TrimSpace(v)
}

func (r *resolver) getAll(alias, key string) []string {
	if r.cfg == nil {
		return nil
	}
	v, _ := r.cfg.GetAll(alias, key)
	return v
}

// sshArgs is what tend understands of ansible_ssh_common_args and
// ansible_ssh_extra_args: the options that change where and how to connect.
type sshArgs struct {
	jumps          string // ProxyJump value, "" if not given
	user           string
	port           string
	identityFiles  []string
	identitiesOnly string
	connectTimeout string
	keepAlive      string
	policy         string
	knownHosts     string
}

// varString returns vars[k] as a string, trying each key in order.
func varString(vars map[string]any, keys ...string) string {
	for _, k := range keys {
		v, ok := vars[k]
		if !ok || v == nil {
			continue
		}
		s := strings.TrimSpace(fmt.Sprint(v))
		if s != "" {
			return s
		}
	}
	return ""
}

// resolve builds the endpoint for inventory host name with its variables.
// Inventory variables win over ssh_config, which wins over defaults.
func (r *resolver) resolve(name string, vars map[string]any) (*endpoint, error) {
	args, err := parseSSHArgs(varString(vars, "ansible_ssh_common_args") + " " + varString(vars, "ansible_ssh_extra_args"))
	if err != nil {
		return nil, fmt.Errorf("host %s: ansible_ssh_common_args/extra_args: %w", name, err)
	}
	alias := varString(vars, "ansible_host", "ansible_ssh_host")
	if alias == "" {
		alias = name
	}
	e := &endpoint{name: name, alias: alias}
	e.user = firstNonEmpty(varString(vars, "ansible_user", "ansible_ssh_user"), args.user)
	port := firstNonEmpty(varString(vars, "ansible_port", "ansible_ssh_port"), args.port)
	e.identityFiles = args.identityFiles
	if k := varString(vars, "ansible_ssh_private_key_file", "ansible_private_key_file"); k != "" {
		e.identityFiles = []string{k}
	}
	e.password = varString(vars, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
	switch strings.ToLower(varString(vars, "ansible_host_key_checking", "ansible_ssh_host_key_checking")) {
	case "false", "no", "0":
		e.policy = PolicyOff
	case "true", "yes", "1":
		e.policy = PolicyStrict
	}
	if args.policy != "" {
		e.policy = args.policy
	}
	e.knownHosts = args.knownHosts
	if e.knownHosts == "" {
		if f := strings.Fields(r.get(alias, "UserKnownHostsFile")); len(f) > 0 && f[0] != "~/.ssh/known_hosts" {
			e.knownHosts = expandHome(f[0])
		}
	}
	if err := r.fill(e, port, args.identitiesOnly, args.connectTimeout, args.keepAlive); err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}
	jumps := args.jumps
	if jumps == "" {
		jumps = r.get(alias, "ProxyJump")
		if jumps == "" {
			jumps = proxyCommandJump(r.get(alias, "ProxyCommand"))
		}
	}
	if jumps != "" && !strings.EqualFold(jumps, "none") {
		via, err := r.chain(jumps, e.identityFiles, 0)
		if err != nil {
			return nil, fmt.Errorf("host %s: ProxyJump %q: %w", name, jumps, err)
		}
		e.via = via
	}
	return e, nil
}

// chain resolves a comma-separated ProxyJump list into endpoints linked
// through via; the last hop is returned. Hops without an identity of their
// own use fallbackKeys, the target's explicit key files.
func (r *resolver) chain(spec string, fallbackKeys []string, depth int) (*endpoint, error) {
	if depth > maxJumpDepth {
		return nil, errors.New("too many nested jump hosts (loop in ssh config?)")
	}
	var prev *endpoint
	hops := strings.Split(spec, ",")
	for i, hop := range hops {
		hop = strings.TrimSpace(hop)
		hop = strings.TrimPrefix(hop, "ssh://")
		if hop == "" {
			return nil, errors.New("empty jump host")
		}
		e := &endpoint{name: hop}
		host, port := hop, ""
		if at := strings.LastIndex(host, "@"); at >= 0 {
			e.user, host = host[:at], host[at+1:]
		}
		if h, p, err := net.SplitHostPort(host); err == nil {
			host, port = h, p
		}
		e.alias = host
		if err := r.fill(e, port, "", "", ""); err != nil {
			return nil, err
		}
		if len(e.identityFiles) == 0 {
			e.identityFiles = fallbackKeys
		}
		if i == 0 {
			// The first hop may itself be behind a jump host in ssh_config.
			if j := r.get(e.alias, "ProxyJump"); j != "" && !strings.EqualFold(j, "none") {
				via, err := r.chain(j, fallbackKeys, depth+1)
				if err != nil {
					return nil, err
				}
				e.via = via
			}
		} else {
			e.via = prev
		}
		prev = e
	}
	return prev, nil
}

// fill completes e from ssh_config and defaults; e.alias, and whatever the
// inventory already set, are kept.
func (r *resolver) fill(e *endpoint, port, identitiesOnly, connectTimeout, keepAlive string) error {
	a := e.alias
	e.host = a
	if hn := r.get(a, "HostName"); hn != "" {
		e.host = strings.ReplaceAll(hn, "%h", a)
	}
	if e.user == "" {
		e.user = firstNonEmpty(r.get(a, "User"), r.localUser)
	}
	port = firstNonEmpty(port, r.get(a, "Port"), "22")
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("invalid port %q", port)
	}
	e.port = p
	if len(e.identityFiles) == 0 {
		e.identityFiles = r.getAll(a, "IdentityFile")
	}
	for i, f := range e.identityFiles {
		e.identityFiles[i] = r.expandPath(f, e)
	}
	e.identitiesOnly = isYes(firstNonEmpty(identitiesOnly, r.get(a, "IdentitiesOnly")))
	if e.connectTimeout, err = seconds(firstNonEmpty(connectTimeout, r.get(a, "ConnectTimeout"))); err != nil {
		return fmt.Errorf("ConnectTimeout: %w", err)
	}
	if e.keepAlive, err = seconds(firstNonEmpty(keepAlive, r.get(a, "ServerAliveInterval"))); err != nil {
		return fmt.Errorf("ServerAliveInterval: %w", err)
	}
	if e.policy == "" {
		e.policy = strictToPolicy(r.get(a, "StrictHostKeyChecking"))
	}
	return nil
}

// expandPath expands ~ and the common % tokens of IdentityFile.
func (r *resolver) expandPath(p string, e *endpoint) string {
	p = strings.Trim(p, `"`)
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = filepath.Join(r.home, p[1:])
	}
	p = strings.NewReplacer("%d", r.home, "%u", r.localUser, "%h", e.host, "%r", e.user, "%%", "%").Replace(p)
	return p
}

func strictToPolicy(v string) string {
	switch strings.ToLower(v) {
	case "no", "off":
		return PolicyOff
	case "yes":
		return PolicyStrict
	case "accept-new":
		return PolicyAcceptNew
	}
	return ""
}

func seconds(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid number of seconds %q", v)
	}
	return time.Duration(n) * time.Second, nil
}

func isYes(v string) bool { return strings.EqualFold(v, "yes") || strings.EqualFold(v, "true") }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseSSHArgs extracts the connection options tend honours from an
// OpenSSH command-line fragment. Options it does not know are ignored.
func parseSSHArgs(s string) (sshArgs, error) {
	var a sshArgs
	words, err := splitWords(s)
	if err != nil {
		return a, err
	}
	next := func(i *int, flag string) (string, error) {
		w := words[*i]
		if len(w) > len(flag) {
			return w[len(flag):], nil
		}
		*i++
		if *i >= len(words) {
			return "", fmt.Errorf("%s needs a value", flag)
		}
		return words[*i], nil
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var v string
		switch {
		case strings.HasPrefix(w, "-J"):
			if v, err = next(&i, "-J"); err != nil {
				return a, err
			}
			a.jumps = v
		case strings.HasPrefix(w, "-p"):
			if v, err = next(&i, "-p"); err != nil {
				return a, err
			}
			a.port = v
		case strings.HasPrefix(w, "-l"):
			if v, err = next(&i, "-l"); err != nil {
				return a, err
			}
			a.user = v
		case strings.HasPrefix(w, "-i"):
			if v, err = next(&i, "-i"); err != nil {
				return a, err
			}
			a.identityFiles = append(a.identityFiles, v)
		case strings.HasPrefix(w, "-o"):
			if v, err = next(&i, "-o"); err != nil {
				return a, err
			}
			k, val, ok := strings.Cut(v, "=")
			if !ok {
				k, val, _ = strings.Cut(v, " ")
			}
			val = strings.TrimSpace(val)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "proxyjump":
				a.jumps = val
			case "proxycommand":
				if j := proxyCommandJump(val); j != "" {
					a.jumps = j
				}
			case "port":
				a.port = val
			case "user":
				a.user = val
			case "identityfile":
				a.identityFiles = append(a.identityFiles, val)
			case "identitiesonly":
				a.identitiesOnly = val
			case "connecttimeout":
				a.connectTimeout = val
			case "serveraliveinterval":
				a.keepAlive = val
			case "stricthostkeychecking":
				a.policy = strictToPolicy(val)
			case "userknownhostsfile":
				// OpenSSH takes a list; the first file is where keys are read and added.
				if f := strings.Fields(val); len(f) > 0 {
					a.knownHosts = expandHome(f[0])
				}
			}
		}
	}
	return a, nil
}

// proxyCommandJump turns the classic `ssh -W %h:%p [-p port] [user@]bastion`
// ProxyCommand into a ProxyJump spec, so it is done natively. Any other
// ProxyCommand yields "".
func proxyCommandJump(cmd string) string {
	words, err := splitWords(cmd)
	if err != nil || len(words) < 2 || filepath.Base(words[0]) != "ssh" {
		return ""
	}
	var dest, port, user string
	sawW := false
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-W":
			sawW = true
			i++
		case w == "-p" && i+1 < len(words):
			i++
			port = words[i]
		case w == "-l" && i+1 < len(words):
			i++
			user = words[i]
		case len(w) == 2 && w[0] == '-' && strings.ContainsRune("iFoJcmbeEDILQRSw", rune(w[1])):
			i++ // option with a value we do not use
		case strings.HasPrefix(w, "-"):
		default:
			dest = w
		}
	}
	if !sawW || dest == "" {
		return ""
	}
	if user != "" && !strings.Contains(dest, "@") {
		dest = user + "@" + dest
	}
	if port != "" {
		dest = dest + ":" + port
	}
	return dest
}

// splitWords splits s like a POSIX shell would split a simple command line
// (quotes and backslashes, no expansions).
func splitWords(s string) ([]string, error) { return shell.Split(s) }

// expandHome expands a leading ~/ to the user's home directory.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
