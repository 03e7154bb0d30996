package modules

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// AuthorizedKey manages SSH public keys in a user's authorized_keys file.
type AuthorizedKey struct{}

var _ module.Module = (*AuthorizedKey)(nil)

// Spec implements module.Module.
func (AuthorizedKey) Spec() *module.Spec {
	return &module.Spec{
		Name:  "authorized_key",
		Short: "Manage SSH authorized keys",
		Description: "Adds or removes SSH public keys in a user's authorized_keys file. Keys are matched " +
			"by their key data, so a key whose options or comment changed is updated in place. The " +
			"user's entry and the file are read in one round trip; the new file is computed on the " +
			"controller and written atomically, mode 0600, owned by the user; ~/.ssh is created 0700 " +
			"when manage_dir is set. `key` may hold several keys (one per line) or be an http(s) URL " +
			"(fetched by the controller, e.g. https://github.com/USER.keys).",
		Args: []module.Arg{
			{Name: "user", Required: true, Type: module.String, NotOption: true, Doc: "Account whose file is managed."},
			{Name: "key", Required: true, Type: module.String, Doc: "Public key(s), one per line, or a URL."},
			{Name: "path", Type: module.Path, Expand: true, Doc: "File to manage; default ~USER/.ssh/authorized_keys."},
			{Name: "manage_dir", Type: module.Bool, Default: true, Doc: "Create the key file's directory (0700, owned by the user)."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the keys are in the file."},
			{Name: "key_options", Type: module.String, Doc: "Options prepended to each key (`no-port-forwarding,from=\"10.0.0.1\"`)."},
			{Name: "exclusive", Type: module.Bool, Default: false, Doc: "Remove every other key from the file."},
			{Name: "comment", Type: module.String, Doc: "Replace the keys' comments."},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "Accepted for compatibility; URLs are fetched with Go's certificate checks."},
			{Name: "follow", Type: module.Bool, Default: false, Doc: "Accepted for compatibility; the file is replaced, not followed."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Let the deploy key in
  authorized_key:
    user: deploy
    key: "{{ lookup('file', 'files/deploy.pub') }}"
    key_options: no-port-forwarding
`,
	}
}

// authKey is one parsed authorized_keys line.
type authKey struct {
	options, typ, blob, comment string
}

// line is the key as Ansible's authorized_key writes it: "[options ]type
// blob comment", with the space before the comment even when the comment
// is empty, so a file either engine wrote is the same.
func (k authKey) line() string {
	opts := ""
	if k.options != "" {
		opts = k.options + " "
	}
	return opts + k.typ + " " + k.blob + " " + k.comment
}

// isKeyType reports whether s looks like an SSH key type.
func isKeyType(s string) bool {
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-") ||
		strings.HasPrefix(s, "sk-") || strings.Contains(s, "@openssh.com")
}

// parseAuthKey parses "[options] type blob [comment]"; options may hold
// quoted spaces. ok is false for blank, comment or unparsable lines.
func parseAuthKey(line string) (authKey, bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return authKey{}, false
	}
	var k authKey
	rest := line
	first, _, _ := strings.Cut(rest, " ")
	if !isKeyType(first) {
		// Options: up to the first unquoted space.
		inQ := false
		i := 0
		for ; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				continue
			}
			if c == '"' {
				inQ = !inQ
			}
			if (c == ' ' || c == '\t') && !inQ {
				break
			}
		}
		k.options = rest[:i]
		rest = strings.TrimSpace(rest[i:])
	}
	f := strings.Fields(rest)
	if len(f) < 2 || !isKeyType(f[0]) {
		return authKey{}, false
	}
	k.typ, k.blob = f[0], f[1]
	if len(f) > 2 {
		k.comment = strings.Join(f[2:], " ")
	}
	return k, true
}

// editAuthorizedKeys computes the new file content.
func editAuthorizedKeys(content string, keys []authKey, state string, exclusive bool) string {
	want := map[string]authKey{}
	for _, k := range keys {
		want[k.blob] = k
	}
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
		if content == "" {
			break
		}
		k, ok := parseAuthKey(line)
		if !ok {
			if exclusive && strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			out = append(out, line)
			continue
		}
		w, requested := want[k.blob]
		switch {
		case state == "absent" && requested:
			continue
		case state == "present" && requested:
			if seen[k.blob] {
				continue // duplicate of a managed key
			}
			seen[k.blob] = true
			if k == w {
				out = append(out, line) // already as wanted: left as written
				continue
			}
			out = append(out, w.line())
		case exclusive:
			continue
		default:
			out = append(out, line)
		}
	}
	if state == "present" {
		for _, k := range keys {
			if !seen[k.blob] {
				seen[k.blob] = true
				out = append(out, k.line())
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// requestedKeys parses the key argument with key_options and comment
// applied.
func requestedKeys(text, options string, comment *string) ([]authKey, error) {
	var keys []authKey
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, ok := parseAuthKey(line)
		if !ok {
			return nil, fmt.Errorf("invalid key specified: %s", strings.TrimSpace(line))
		}
		if options != "" {
			k.options = options
		}
		if comment != nil {
			k.comment = *comment
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Plan implements module.Module.
func (AuthorizedKey) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	user := args.String("user")
	keyText := args.String("key")
	if u, err := url.Parse(keyText); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		body, err := httpGet(ctx, keyText, "")
		if err != nil {
			return module.Unchanged(module.Failed("Error getting key from: %s: %v", keyText, err)), nil
		}
		b, err := io.ReadAll(io.LimitReader(body, 1<<20))
		body.Close()
		if err != nil {
			return module.Unchanged(module.Failed("Error getting key from: %s: %v", keyText, err)), nil
		}
		keyText = string(b)
	}
	var comment *string
	if args.Has("comment") {
		c := args.String("comment")
		comment = &c
	}
	keys, err := requestedKeys(keyText, args.String("key_options"), comment)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	path := args.String("path")
	probe := []string{"getent passwd " + shell.Quote(user)}
	if path != "" {
		probe = append(probe, catIfExists(path))
	} else {
		probe = append(probe, "_h=$(getent passwd "+shell.Quote(user)+" | cut -d: -f6); if [ -n \"$_h\" ] && [ -f \"$_h/.ssh/authorized_keys\" ]; then echo Y; cat \"$_h/.ssh/authorized_keys\"; else echo N; fi")
	}
	secs, err := runProbe(ctx, h, "authorized keys of "+user, probe...)
	if err != nil {
		return nil, err
	}
	pw, ok, err := parseGetentPasswd(secs[0])
	if err != nil || !ok {
		return module.Unchanged(module.Failed("Failed to lookup user %s", user)), nil
	}
	if path == "" {
		path = strings.TrimSuffix(pw.Home, "/") + "/.ssh/authorized_keys"
	}
	content, _ := readCat(secs[1])
	state := args.String("state")
	newContent := editAuthorizedKeys(content, keys, state, args.Bool("exclusive"))
	result := module.Result{
		"user": user, "key": args.String("key"), "key_options": args.String("key_options"),
		"keyfile": path, "path": args.String("path"), "manage_dir": args.Bool("manage_dir"),
		"state": state, "exclusive": args.Bool("exclusive"), "validate_certs": args.Bool("validate_certs"),
	}
	if args.Has("comment") {
		result["comment"] = args.String("comment")
	}
	if newContent == content {
		return module.Unchanged(result), nil
	}
	diff := module.Diff{BeforeHeader: path, AfterHeader: path, Before: content, After: newContent}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			owner, group := strconv.Itoa(pw.UID), strconv.Itoa(pw.GID)
			if args.Bool("manage_dir") {
				dir := path[:strings.LastIndex(path, "/")+1]
				if dir == "" {
					dir = "."
				}
				dq := shell.Path(strings.TrimSuffix(dir, "/"))
				r, ok, err := runCmd(ctx, h, "create key directory",
					"[ -d "+dq+" ] || { mkdir -p -- "+dq+" && chmod 0700 -- "+dq+" && chown -- "+owner+":"+group+" "+dq+"; }")
				if err != nil || !ok {
					return r, err
				}
			}
			if err := writeRemote(ctx, h, path, []byte(newContent), writeOptions{Mode: 0o600, Owner: owner, Group: group}); err != nil {
				return nil, err
			}
			return result, nil
		}}, nil
}
