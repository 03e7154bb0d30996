package modules

import (
	"context"
	"path"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// OpensshKeypair generates OpenSSH key pairs with the host's ssh-keygen.
type OpensshKeypair struct{}

var _ module.Module = (*OpensshKeypair)(nil)

// Spec implements module.Module.
func (*OpensshKeypair) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "path", Required: true, Type: module.Path, Expand: true, Doc: "The private key file; the public key is PATH.pub."},
		{Name: "type", Type: module.String, Default: "rsa", Choices: []string{"rsa", "dsa", "rsa1", "ecdsa", "ed25519"}, Doc: "Key algorithm."},
		{Name: "size", Type: module.Int, Doc: "Bits: RSA at least 1024 (default 4096), DSA 1024, ECDSA 256, 384 or 521; ignored for ed25519."},
		{Name: "comment", Type: module.String, Doc: "The public key's comment; changed in place (`ssh-keygen -c`) without a new key."},
		{Name: "passphrase", Type: module.String, NoLog: true, Doc: "Not supported: Ansible encrypts keys with the Python cryptography library on the host, which tend does not use; a task with a passphrase fails."},
		{Name: "regenerate", Type: module.String, Default: "partial_idempotence", Choices: []string{"never", "fail", "partial_idempotence", "full_idempotence", "always"},
			Doc: "When an existing key is replaced: never; fail when it does not match type and size; partial_idempotence (regenerate when it does not match, fail when it cannot be read); full_idempotence (also when it cannot be read); always."},
		{Name: "force", Type: module.Bool, Default: false, Doc: "Regenerate the key even if it exists (regenerate=always)."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the key pair exists."},
		{Name: "backend", Type: module.String, Default: "auto", Choices: []string{"auto", "cryptography", "opensshbin"}, Doc: "Only ssh-keygen (opensshbin) is used; auto and opensshbin are accepted, cryptography fails."},
		{Name: "private_key_format", Type: module.String, Default: "auto", Choices: []string{"auto", "pkcs1", "pkcs8", "ssh"}, Doc: "Only auto (ssh-keygen's OpenSSH format), as with Ansible's opensshbin backend."},
	}
	return &module.Spec{
		Name:  "openssh_keypair",
		Short: "Generate OpenSSH private and public keys",
		Description: "Generates an OpenSSH key pair on the host with its ssh-keygen (openssh-client), as " +
			"community.crypto.openssh_keypair's opensshbin backend does: an existing key is inspected with " +
			"`ssh-keygen -l` and `-y`, regenerated according to `regenerate` when its type or size differ, " +
			"a missing or wrong PATH.pub is rewritten from the private key, the comment is changed in place, " +
			"and owner/group/mode apply to both files. New keys are generated in a temporary directory beside " +
			"PATH and moved into place (an existing file's mode and owner are kept). Diffs show type, size, " +
			"fingerprint and comment.",
		Args:  append(args, fileAttrArgs()...),
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- openssh_keypair:
    path: /home/deploy/.ssh/id_ed25519
    type: ed25519
    owner: deploy
`,
	}
}

// sshKeySize is the key size community.crypto uses for a type, or a
// failure message.
func sshKeySize(typ string, size int, given bool) (int, string) {
	switch typ {
	case "rsa", "rsa1":
		if !given {
			size = 4096
		}
		if size < 1024 {
			return 0, "For RSA keys, the minimum size is 1024 bits and the default is 4096 bits. Attempting to use bit lengths under 1024 will cause the module to fail."
		}
	case "dsa":
		if !given {
			size = 1024
		}
		if size != 1024 {
			return 0, "DSA keys must be exactly 1024 bits as specified by FIPS 186-2."
		}
	case "ecdsa":
		if !given {
			size = 256
		}
		if size != 256 && size != 384 && size != 521 {
			return 0, "For ECDSA keys, size determines the key length by selecting from one of three elliptic curve sizes: 256, 384 or 521 bits. Attempting to use bit lengths other than these three values for ECDSA keys will cause this module to fail."
		}
	case "ed25519":
		size = 256
	}
	return size, ""
}

// sshPrivInfo is `ssh-keygen -l` about a private key.
type sshPrivInfo struct {
	size             int
	fingerprint, typ string
}

func parseSSHKeygenL(out string) (sshPrivInfo, bool) {
	f := strings.Fields(out)
	if len(f) < 3 {
		return sshPrivInfo{}, false
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return sshPrivInfo{}, false
	}
	t := f[len(f)-1]
	if len(t) < 2 {
		return sshPrivInfo{}, false
	}
	return sshPrivInfo{size: n, fingerprint: f[1], typ: strings.ToLower(t[1 : len(t)-1])}, true
}

// sshPub is a public key line split as community.crypto's PublicKey does.
type sshPub struct{ typ, data, comment string }

func parseSSHPub(s string) (sshPub, bool) {
	p := strings.SplitN(strings.Trim(s, "\n"), " ", 3)
	if len(p) < 2 {
		return sshPub{}, false
	}
	k := sshPub{typ: p[0], data: p[1]}
	if len(p) > 2 {
		k.comment = p[2]
	}
	return k, true
}

// keypairProbe is what one round trip learns about a key pair.
type keypairProbe struct {
	hasKeygen, baseDir, isDir, privExists, pubExists bool
	priv                                             *sshPrivInfo
	readable                                         bool
	derived                                          *sshPub // ssh-keygen -y
	pub                                              *sshPub
	pubText                                          string
}

func probeKeypair(ctx context.Context, h *module.Host, p string) (keypairProbe, error) {
	q, qp := shell.Path(p), shell.Path(p+".pub")
	secs, err := runProbe(ctx, h, "key pair "+p, "command -v ssh-keygen",
		"[ -d "+shell.Path(path.Dir(p))+" ] && echo Y; [ -d "+q+" ] && echo D; [ -e "+q+" ] && echo P; [ -e "+qp+" ] && echo U; true",
		"[ -f "+q+" ] && ssh-keygen -l -f "+q+" 2>/dev/null",
		"[ -f "+q+" ] && { ssh-keygen -P '' -y -f "+q+" 2>/dev/null; echo \"@rc=$?\"; }",
		"[ -f "+q+" ] && ssh-keygen -P '' -y -f "+q+" 2>&1 >/dev/null",
		"[ -f "+qp+" ] && cat -- "+qp+"; true")
	if err != nil {
		return keypairProbe{}, err
	}
	var k keypairProbe
	k.hasKeygen = strings.TrimSpace(secs[0]) != ""
	flags := secs[1]
	k.baseDir, k.isDir = strings.Contains(flags, "Y"), strings.Contains(flags, "D")
	k.privExists, k.pubExists = strings.Contains(flags, "P"), strings.Contains(flags, "U")
	if i, ok := parseSSHKeygenL(secs[2]); ok {
		k.priv = &i
	}
	if stdout, rc, ok := strings.Cut(secs[3], "@rc="); ok {
		rc = strings.TrimSpace(rc)
		stderr := secs[4]
		k.readable = !(rc == "255" || strings.Contains(stderr, "is not a public key file") ||
			strings.Contains(stderr, "incorrect passphrase") || strings.Contains(stderr, "load failed"))
		if rc == "0" {
			if d, ok := parseSSHPub(stdout); ok {
				k.derived = &d
			}
		}
	}
	if k.pubExists {
		k.pubText = secs[5]
		if u, ok := parseSSHPub(secs[5]); ok {
			k.pub = &u
		}
	}
	return k, nil
}

// keypairTask is an openssh_keypair task's arguments, checked.
type keypairTask struct {
	a                 module.Args
	typ, state, regen string
	size              int
	mode              Mode
	comment           string
	hasComment        bool
	owner, group      string
}

// newKeypairTask checks the arguments; a non-empty message is the task's
// failure.
func newKeypairTask(a module.Args) (*keypairTask, string) {
	if a.String("passphrase") != "" || a.String("backend") == "cryptography" {
		return nil, "openssh_keypair: a passphrase needs community.crypto's cryptography backend " +
			"(the Python cryptography library on the host), which tend does not use; generate the key without one"
	}
	if a.String("private_key_format") != "auto" {
		return nil, "'auto' is the only valid option for 'private_key_format' when 'backend' is not 'cryptography'"
	}
	t := &keypairTask{a: a, typ: a.String("type"), state: a.String("state"), regen: a.String("regenerate"),
		comment: a.String("comment"), hasComment: a.Has("comment"), owner: a.String("owner"), group: a.String("group")}
	var msg string
	if t.size, msg = sshKeySize(t.typ, a.Int("size"), a.Has("size")); msg != "" {
		return nil, msg
	}
	if a.Bool("force") {
		t.regen = "always"
	}
	var err error
	if t.mode, err = parseMode(a["mode"]); err != nil {
		return nil, err.Error()
	}
	return t, ""
}

func (t *keypairTask) result(p string, priv *sshPrivInfo, pub *sshPub) module.Result {
	r := module.Result{"size": t.size, "type": t.typ, "filename": p, "fingerprint": "", "public_key": "", "comment": ""}
	if priv != nil {
		r["fingerprint"] = priv.fingerprint
	}
	if pub != nil {
		r["public_key"] = pub.typ + " " + pub.data
		r["comment"] = pub.comment
	}
	return r
}

// decide is community.crypto's _validate_key_load and _should_generate,
// then _public_key_valid: whether to generate a new key or rewrite the
// public key, or a failure message.
func (t *keypairTask) decide(k keypairProbe) (generate, restorePub bool, fail string) {
	if k.privExists && (t.regen == "never" || t.regen == "fail" || t.regen == "partial_idempotence") && (k.priv == nil || !k.readable) {
		return false, false, "Unable to read the key. The key is protected with a passphrase or broken. " +
			"Will not proceed. To force regeneration, call the module with `generate` set to `full_idempotence` or `always`, or with `force=true`."
	}
	valid := k.priv != nil && k.priv.size == t.size && k.priv.typ == t.typ
	switch {
	case k.priv == nil:
		generate = true
	case t.regen == "never":
	case t.regen == "fail":
		if !valid {
			return false, false, "Key has wrong type and/or size. Will not proceed. To force regeneration, " +
				"call the module with `generate` set to `partial_idempotence`, `full_idempotence` or `always`, or with `force=true`."
		}
	case t.regen == "partial_idempotence" || t.regen == "full_idempotence":
		generate = !valid
	default:
		generate = true
	}
	if generate {
		return true, false, ""
	}
	restorePub = true
	if k.pub != nil && k.derived != nil {
		d := *k.derived
		restorePub = !(d.typ == k.pub.typ && d.data == k.pub.data && (!t.hasComment || t.comment == k.pub.comment))
	}
	return false, restorePub, ""
}

// attrCommands returns the commands that give both files the requested
// owner, group and mode, and whether any is needed.
func (t *keypairTask) attrCommands(ctx context.Context, h *module.Host, st *RemoteStat) ([]string, bool, error) {
	var cmds []string
	changed := false
	for _, f := range []string{st.Path, st.Path + ".pub"} {
		fst := st
		if f != st.Path {
			var err error
			if fst, err = inspectRemote(ctx, h, f, statOptions{}); err != nil {
				return nil, false, err
			}
		}
		if fst.Exists {
			ap, err := planAttrs(fst, t.owner, t.group, t.mode)
			if err != nil {
				return nil, false, err
			}
			if ap.Changed() {
				changed = true
				cmds = append(cmds, ap.Command(f, false))
			}
			continue
		}
		// Created by this task: the attributes are set after.
		if !t.mode.IsSet() && t.owner == "" && t.group == "" {
			continue
		}
		changed = true
		bits := uint32(0)
		if t.mode.IsSet() {
			def := uint32(0o600)
			if f != st.Path {
				def = 0o644
			}
			var err error
			if bits, err = t.mode.Apply(def, false, st.Umask); err != nil {
				return nil, false, err
			}
		}
		cmds = append(cmds, attrCommand(f, t.owner, t.group, bits, t.mode.IsSet(), false, false))
	}
	return cmds, changed, nil
}

// script is the shell script that generates the key or restores the
// public key, then applies the attributes.
func (t *keypairTask) script(p string, generate, restorePub bool, attrCmds []string) string {
	q := shell.Quote(p)
	var script []string
	switch {
	case generate:
		// Generated beside the key, so the move is a rename; an existing
		// file's mode and owner are kept, as Ansible's atomic_move does.
		script = append(script, "t=$(mktemp -d "+shell.Quote(path.Dir(p)+"/.tend-keygen.XXXXXX")+") || exit 1",
			"trap 'rm -rf \"$t\"' EXIT",
			"ssh-keygen -q -N '' -b "+strconv.Itoa(t.size)+" -t "+shell.Quote(t.typ)+" -f \"$t/k\" -C "+shell.Quote(t.comment)+" </dev/null || exit 1",
			"for s in '' .pub; do if [ -e "+q+"$s ]; then chmod --reference="+q+"$s \"$t/k$s\" && chown --reference="+q+"$s \"$t/k$s\" || exit 1; fi; done",
			"mv -f -- \"$t/k\" "+q+" && mv -f -- \"$t/k.pub\" "+q+".pub || exit 1")
	case restorePub:
		script = append(script, "o=$(ssh-keygen -P '' -y -f "+q+") || exit 1",
			"t=$(mktemp "+shell.Quote(p+".pub.XXXXXX")+") || exit 1",
			"printf '%s\\n' \"$o\" > \"$t\" || { rm -f \"$t\"; exit 1; }",
			"if [ -e "+q+".pub ]; then chmod --reference="+q+".pub \"$t\"; chown --reference="+q+".pub \"$t\"; else chmod 0644 \"$t\"; fi",
			"mv -f -- \"$t\" "+q+".pub || exit 1")
		if t.comment != "" {
			script = append(script, "ssh-keygen -q -o -c -C "+shell.Quote(t.comment)+" -f "+q+" >/dev/null || exit 1")
		}
	}
	for _, c := range attrCmds {
		script = append(script, c+" || exit 1")
	}
	return strings.Join(script, "\n")
}

// Plan implements module.Module.
func (*OpensshKeypair) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	t, msg := newKeypairTask(a)
	if msg != "" {
		return module.Unchanged(module.Failed("%s", msg)), nil
	}
	st, err := inspectRemote(ctx, h, a.String("path"), statOptions{})
	if err != nil {
		return nil, err
	}
	p := st.Path
	k, err := probeKeypair(ctx, h, p)
	if err != nil {
		return nil, err
	}
	switch {
	case !k.hasKeygen:
		return module.Unchanged(module.Failed("Cannot find the OpenSSH binary in the PATH")), nil
	case !k.baseDir:
		r := module.Failed("The directory %s does not exist or the file is not a directory", path.Dir(p))
		r["name"] = path.Dir(p)
		return module.Unchanged(r), nil
	case k.isDir:
		return module.Unchanged(module.Failed("%s is a directory. Please specify a path to a file.", p)), nil
	}
	before := keypairDict(k.priv, k.pub)
	if t.state == "absent" {
		if !k.privExists && !k.pubExists {
			return module.Unchanged(t.result(p, k.priv, k.pub)), nil
		}
		return &module.Plan{Changed: true, Result: t.result(p, k.priv, k.pub),
			Diff: []module.Diff{{Before: dictDiffText(p, before), After: dictDiffText(p, map[string]any{})}},
			Apply: func(ctx context.Context) (module.Result, error) {
				if err := runOK(ctx, h, "rm -f -- "+shell.Quote(p)+" "+shell.Quote(p+".pub"), "remove "+p); err != nil {
					return nil, err
				}
				return t.result(p, k.priv, k.pub), nil
			}}, nil
	}
	generate, restorePub, fail := t.decide(k)
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	attrCmds, attrChanged, err := t.attrCommands(ctx, h, st)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if !generate && !restorePub && !attrChanged {
		return module.Unchanged(t.result(p, k.priv, k.pub)), nil
	}
	after := map[string]any{"size": t.size, "type": t.typ, "fingerprint": "(new key)", "format": ""}
	if !generate {
		after = keypairDict(k.priv, k.derived)
	}
	if t.hasComment {
		after["comment"] = t.comment
	}
	script := t.script(p, generate, restorePub, attrCmds)
	return &module.Plan{Changed: true, Result: t.result(p, k.priv, k.pub),
		Diff: []module.Diff{{Before: dictDiffText(p, before), After: dictDiffText(p, after)}},
		Apply: func(ctx context.Context) (module.Result, error) {
			if r, ok, err := runCmd(ctx, h, "ssh-keygen", script); err != nil || !ok {
				return r, err
			}
			k2, err := probeKeypair(ctx, h, p)
			if err != nil {
				return nil, err
			}
			return t.result(p, k2.priv, k2.pub), nil
		}}, nil
}

// keypairDict is community.crypto's diff dictionary of a key pair.
func keypairDict(priv *sshPrivInfo, pub *sshPub) map[string]any {
	d := map[string]any{}
	if priv != nil {
		d["size"], d["type"], d["fingerprint"], d["format"] = priv.size, priv.typ, priv.fingerprint, ""
	}
	if pub != nil {
		d["type_string"], d["public_key"], d["comment"] = pub.typ, pub.data, pub.comment
	}
	return d
}
