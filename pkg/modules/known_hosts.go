package modules

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// KnownHosts adds or removes host keys in an SSH known_hosts file.
type KnownHosts struct{}

var _ module.Module = (*KnownHosts)(nil)

// Spec implements module.Module.
func (*KnownHosts) Spec() *module.Spec {
	return &module.Spec{
		Name:  "known_hosts",
		Short: "Add or remove a host from the known_hosts file",
		Description: "Adds or removes one host key in a known_hosts file, as ansible.builtin.known_hosts does: the " +
			"host is looked up with the host's `ssh-keygen -F` (so hashed entries and `[host]:port` names match), " +
			"a key of the same type for the host is replaced in place of the old line, and without `key` " +
			"state=absent removes every key of the host (`ssh-keygen -R`). hash_host writes the name hashed; " +
			"an entry already hashed keeps its hash. The new file is computed on the controller and written " +
			"atomically, keeping an existing file's mode and owner (a new one gets 0666 minus the umask); its " +
			"directory must exist. Needs ssh-keygen (openssh-client) on the host.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"host"}, Required: true, Type: module.String, Doc: "The host to add or remove (`[host]:port` for another port); one name, not a list."},
			{Name: "key", Type: module.String, Doc: "The key line, as ssh-keyscan prints it (`host ssh-ed25519 AAAA...`); required for state=present."},
			{Name: "path", Type: module.Path, Expand: true, Default: "~/.ssh/known_hosts", Doc: "The known_hosts file."},
			{Name: "hash_host", Type: module.Bool, Default: false, Doc: "Hash the host name in the written entry."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the key (or, without key, the host) is in the file."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- known_hosts:
    name: git.example.com
    key: "{{ lookup('pipe', 'ssh-keyscan -t ed25519 git.example.com') }}"
`,
	}
}

var knownHostsCommaList = regexp.MustCompile(`\S+(\s+)?,(\s+)?`)

// knownHostKey is a known_hosts line split as Ansible's
// normalize_known_hosts_key does.
type knownHostKey struct{ options, host, typ, key string }

func parseKnownHostKey(line string) (knownHostKey, bool) {
	f := strings.Fields(line)
	if len(f) > 0 && strings.HasPrefix(f[0], "@") {
		if len(f) < 4 {
			return knownHostKey{}, false
		}
		return knownHostKey{f[0], f[1], f[2], f[3]}, true
	}
	if len(f) < 3 {
		return knownHostKey{}, false
	}
	return knownHostKey{"", f[0], f[1], f[2]}, true
}

// hashKnownHost replaces the host field of key with an OpenSSH hash of
// host (|1|salt|hmac).
func hashKnownHost(host, key string) (string, error) {
	salt := make([]byte, 20)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash host: %w", err)
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(host))
	parts := strings.Fields(key)
	if len(parts) == 0 {
		return key, nil
	}
	i := 0
	if strings.HasPrefix(parts[0], "@") && len(parts) > 1 {
		i = 1
	}
	parts[i] = "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(m.Sum(nil))
	return strings.Join(parts, " "), nil
}

var knownHostsFoundLine = regexp.MustCompile(`found: line (\d+)`)

// searchKnownHosts is Ansible's search_for_host_key on the output of
// `ssh-keygen -F`: whether the host is there, whether the key must be
// replaced or added, and the line of the key of the same type (0: none).
func searchKnownHosts(out, key string) (found, replaceOrAdd bool, line int) {
	if key == "" {
		return true, false, 0
	}
	want, _ := parseKnownHostKey(key)
	for _, l := range strings.Split(out, "\n") {
		switch {
		case l == "":
			continue
		case l[0] == '#':
			if m := knownHostsFoundLine.FindStringSubmatch(l); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
			continue
		}
		got, ok := parseKnownHostKey(l)
		if !ok {
			continue
		}
		w := want
		if strings.HasPrefix(w.host, "|1|") && strings.HasPrefix(got.host, "|1|") {
			w.host = got.host
		}
		if w == got {
			return true, false, line
		}
		if w.typ == got.typ {
			return true, true, line
		}
	}
	return true, true, 0
}

// knownHostsEdit is Ansible's compute_diff, which is also what the write
// produces: the file without the found line (when replaced or removed),
// plus the key when present.
func knownHostsEdit(before string, line int, replaceOrAdd bool, state, key string) string {
	lines := strings.SplitAfter(before, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if (replaceOrAdd || state == "absent") && line >= 1 && line <= len(lines) {
		lines = append(lines[:line-1:line-1], lines[line:]...)
	}
	if state == "present" && (replaceOrAdd || line == 0) {
		lines = append(lines, key)
	}
	return strings.Join(lines, "")
}

// knownHostsLookup reads `ssh-keygen -F` output (stdout then "rc=N",
// and stderr) as Ansible's search_for_host_key does.
func knownHostsLookup(outRC, stderr, key string) (found, replaceOrAdd bool, line int, fail module.Result) {
	out, rcLine, _ := strings.Cut(outRC, "rc=")
	rc, _ := strconv.Atoi(strings.TrimSpace(rcLine))
	switch {
	case out == "" && stderr == "" && (rc == 0 || rc == 1):
		return false, false, 0, nil
	case rc != 0:
		return false, false, 0, module.Failed("ssh-keygen failed (rc=%d, stdout='%s',stderr='%s')", rc, out, stderr)
	}
	found, replaceOrAdd, line = searchKnownHosts(out, key)
	return found, replaceOrAdd, line, nil
}

// knownHostsKey is the key line to write (hashed, with its newline), or
// the task's failure.
func knownHostsKey(host string, a module.Args) (string, module.Result, error) {
	key := a.String("key")
	if key == "" && a.String("state") != "absent" {
		return "", module.Failed("No key specified when adding a host"), nil
	}
	if key == "" {
		return "", nil, nil
	}
	if a.Bool("hash_host") {
		var err error
		if key, err = hashKnownHost(host, key); err != nil {
			return "", nil, err
		}
	}
	if !strings.HasSuffix(key, "\n") {
		key += "\n"
	}
	if knownHostsCommaList.MatchString(host) {
		return "", module.Failed("Comma separated list of names is not supported. " +
			"Please pass a single name to lookup in the known_hosts file."), nil
	}
	return key, nil, nil
}

// Plan implements module.Module.
func (*KnownHosts) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	host := strings.ToLower(a.String("name"))
	state := a.String("state")
	key, fail, err := knownHostsKey(host, a)
	if err != nil || fail != nil {
		return module.Unchanged(fail), err
	}
	st, err := inspectRemote(ctx, h, a.String("path"), statOptions{Content: true})
	if err != nil {
		return nil, err
	}
	p, qh := shell.Quote(st.Path), shell.Quote(host)
	sanity := "true"
	if key != "" {
		sanity = "printf '%s' " + shell.Quote(key) + " | ssh-keygen -F " + qh + " -f /dev/stdin 2>/dev/null"
	}
	lookup := "true"
	if st.Exists {
		lookup = "ssh-keygen -F " + qh + " -f " + p + " 2>/dev/null; echo \"rc=$?\""
	}
	secs, err := runProbe(ctx, h, "known_hosts "+st.Path, "command -v ssh-keygen", sanity, lookup,
		"ssh-keygen -F "+qh+" -f "+p+" 2>&1 >/dev/null", "[ -d "+shell.Quote(path.Dir(st.Path))+" ] && echo Y || echo N")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(secs[0]) == "" {
		return module.Unchanged(module.Failed("Failed to find required executable \"ssh-keygen\" in paths: %s", "PATH")), nil
	}
	if key != "" && secs[1] == "" {
		return module.Unchanged(module.Failed("Host parameter does not match hashed host field in supplied key")), nil
	}
	found, replaceOrAdd, line := false, false, 0
	if st.Exists {
		var fail module.Result
		if found, replaceOrAdd, line, fail = knownHostsLookup(secs[2], secs[3], key); fail != nil {
			return module.Unchanged(fail), nil
		}
	}
	before := string(st.Content)
	after := knownHostsEdit(before, line, replaceOrAdd, state, key)
	diff := module.Diff{BeforeHeader: st.Path, AfterHeader: st.Path, Before: before, After: after}
	if !st.Exists {
		diff.BeforeHeader = "/dev/null"
	}
	// Ansible's known_hosts returns its diff in every result, diff mode
	// or not (the module's target checks it).
	result := module.Result{"name": a.String("name"), "key": a.String("key"), "path": st.Path,
		"hash_host": a.Bool("hash_host"), "state": state,
		"diff": map[string]any{"before": diff.Before, "after": diff.After, "before_header": diff.BeforeHeader, "after_header": diff.AfterHeader}}
	if state == "absent" && line == 0 && key != "" {
		return module.Unchanged(result), nil
	}
	changed := replaceOrAdd || (state == "present") != found
	if !changed {
		return module.Unchanged(result), nil
	}
	if strings.TrimSpace(secs[4]) != "Y" {
		return module.Unchanged(module.Failed("Failed to write to file %s: directory %s does not exist", st.Path, path.Dir(st.Path))), nil
	}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			if found && key == "" && state == "absent" {
				if r, ok, err := runCmd(ctx, h, "ssh-keygen -R", "ssh-keygen -R "+qh+" -f "+p); err != nil || !ok {
					return r, err
				}
				return result, nil
			}
			owner, group := keepOwnership(st, "", "")
			if err := writeRemote(ctx, h, st.Path, []byte(after), writeOptions{Mode: newFileMode(st), Owner: owner, Group: group}); err != nil {
				return nil, err
			}
			return result, nil
		}}, nil
}
