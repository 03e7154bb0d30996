package modules

import (
	"context"
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// User manages local user accounts with getent, useradd, usermod and
// userdel: no python on the host.
type User struct{}

var _ module.Module = (*User)(nil)

// Spec implements module.Module.
func (User) Spec() *module.Spec {
	return &module.Spec{
		Name:  "user",
		Short: "Manage user accounts",
		Description: "Creates, changes or removes a local user account. The account, its shadow entry, " +
			"its groups and its home directory are read in one round trip (getent, id) and every " +
			"difference is fixed with one useradd or usermod command. `password` is a crypt(3) hash " +
			"(e.g. from `mkpasswd -m sha-512` or the password_hash filter), never a clear-text password.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"user"}, Required: true, Type: module.String, NotOption: true, Doc: "User name."},
			{Name: "uid", Type: module.Int, Doc: "User ID."},
			{Name: "non_unique", Type: module.Bool, Default: false, Doc: "Allow a UID another user already has (with uid)."},
			{Name: "group", Type: module.String, Doc: "Primary group (name or GID); it must exist."},
			{Name: "groups", Type: module.List, Elements: module.String,
				Doc: "Supplementary groups. With append=false the user ends up in exactly these; an empty list removes all."},
			{Name: "append", Type: module.Bool, Default: false, Doc: "Add to `groups` without removing other groups."},
			{Name: "comment", Type: module.String, Doc: "GECOS field (full name)."},
			{Name: "home", Type: module.Path, Expand: true, Doc: "Home directory."},
			{Name: "move_home", Type: module.Bool, Default: false, Doc: "When home changes, move the old directory's content (usermod -m)."},
			{Name: "create_home", Aliases: []string{"createhome"}, Type: module.Bool, Default: true,
				Doc: "Create the home directory (from /etc/skel) when creating the user, or when it is missing."},
			{Name: "skeleton", Type: module.Path, Doc: "Skeleton directory for a new home (useradd -k)."},
			{Name: "shell", Type: module.String, Doc: "Login shell."},
			{Name: "system", Type: module.Bool, Default: false, Doc: "Create a system account (only when creating)."},
			{Name: "password", Type: module.String, NoLog: true, Doc: "Password hash (crypt format) for the shadow file."},
			{Name: "update_password", Type: module.String, Default: "always", Choices: []string{"always", "on_create"},
				Doc: "`always` updates a differing hash; `on_create` sets it only for new users."},
			{Name: "password_lock", Type: module.Bool, Doc: "Lock (true) or unlock (false) the password (usermod -L/-U)."},
			{Name: "expires", Type: module.Float,
				Doc: "Account expiry as seconds since the epoch (the day counts); a negative value removes the expiry."},
			{Name: "generate_ssh_key", Type: module.Bool, Default: false, Doc: "Generate an SSH key pair for the user (ssh-keygen on the host) when neither key file exists; with force, replace it. The result has ssh_fingerprint, ssh_key_file and ssh_public_key."},
			{Name: "ssh_key_type", Type: module.String, Default: "rsa", Doc: "Type of the generated key."},
			{Name: "ssh_key_bits", Type: module.Int, Default: 0, Doc: "Bits of the generated key; 0: ssh-keygen's default."},
			{Name: "ssh_key_file", Type: module.Path, Expand: true, Doc: "The key file, relative to the home directory unless absolute; default .ssh/id_TYPE."},
			{Name: "ssh_key_comment", Type: module.String, Doc: "Comment of the key; default `ansible-generated on HOSTNAME`, as in Ansible."},
			{Name: "ssh_key_passphrase", Type: module.String, NoLog: true, Doc: "Passphrase of the generated key: the key pair (rsa, ed25519 or ecdsa) is then made on the controller and written encrypted in OpenSSH's format, as ssh-keygen makes only from a command line (seen by every process) or a terminal."},
			{Name: "password_expire_max", Type: module.Int, Doc: "Maximum days between password changes (chage -M)."},
			{Name: "password_expire_min", Type: module.Int, Doc: "Minimum days between password changes (chage -m)."},
			{Name: "password_expire_warn", Type: module.Int, Doc: "Days of warning before the password expires (chage -W; Ansible 2.16 and later)."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the account exists."},
			{Name: "remove", Type: module.Bool, Default: false, Doc: "With state=absent, also remove the home directory and mail spool (userdel -r)."},
			{Name: "force", Type: module.Bool, Default: false, Doc: "With state=absent, remove even if the user is logged in (userdel -f); with generate_ssh_key, replace an existing key."},
			{Name: "local", Type: module.Bool, Default: false, Doc: "Accepted for compatibility; accounts are always managed with the shadow tools."},
			{Name: "umask", Type: module.String, Doc: "Umask for the new home directory and the files copied into it (useradd -K UMASK=..., when creating with create_home); not with local, as in Ansible."},
			{Name: "seuser", Type: module.String, Doc: "SELinux user of a new account (useradd -Z, as Ansible does on Linux; useradd fails where SELinux is not enabled). Existing accounts are not changed."},
			{Name: "login_class", Type: module.String, Doc: "Ignored on Linux, as Ansible's user module does (FreeBSD, OpenBSD and NetBSD only)."},
			{Name: "hidden", Type: module.Bool, Doc: "Ignored on Linux, as Ansible's user module does (macOS only)."},
			{Name: "profile", Type: module.String, Doc: "Ignored on Linux, as Ansible's user module does (illumos/Solaris only)."},
			{Name: "authorization", Type: module.String, Doc: "Ignored on Linux, as Ansible's user module does (illumos/Solaris only)."},
			{Name: "role", Type: module.String, Doc: "Ignored on Linux, as Ansible's user module does (illumos/Solaris only)."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Application user
  user:
    name: app
    uid: 1500
    group: app
    groups: [adm, systemd-journal]
    append: true
    shell: /bin/bash
    password: "{{ app_password_hash }}"
`,
	}
}

// passwdEntry is one `getent passwd` line.
type passwdEntry struct {
	Name, Comment, Home, Shell string
	UID, GID                   int
}

// parseGetentPasswd reads a `getent passwd NAME` line; ok is false for an
// empty line (no such user).
func parseGetentPasswd(line string) (passwdEntry, bool, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return passwdEntry{}, false, nil
	}
	f := strings.Split(line, ":")
	if len(f) != 7 {
		return passwdEntry{}, false, fmt.Errorf("malformed passwd entry %q", line)
	}
	uid, err1 := strconv.Atoi(f[2])
	gid, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil {
		return passwdEntry{}, false, fmt.Errorf("malformed ids in passwd entry %q", line)
	}
	return passwdEntry{Name: f[0], UID: uid, GID: gid, Comment: f[4], Home: f[5], Shell: f[6]}, true, nil
}

// userState is everything the user module reads from the host.
type userState struct {
	exists     bool
	pw         passwdEntry
	hash       string // "" when the shadow entry is unreadable
	hashKnown  bool
	expireDays int // -1: none
	// aging holds the shadow file's minimum, maximum and warning days
	// (-1: empty), by argument name.
	aging      map[string]int
	groups     []string
	homeExists bool
	// resolved maps requested group names or GIDs to their entries.
	resolved map[string]groupEntry
}

// userProbe returns the probe snippets for name and the groups to
// resolve.
func userProbe(name string, groups []string) []string {
	q := shell.Quote(name)
	res := "true"
	if len(groups) > 0 {
		var b strings.Builder
		b.WriteString("for _g in")
		for _, g := range groups {
			b.WriteString(" " + shell.Quote(g))
		}
		b.WriteString("; do printf '%s\\t' \"$_g\"; getent group \"$_g\" || echo; done")
		res = b.String()
	}
	return []string{
		"_p=$(getent passwd " + q + "); echo \"$_p\"",
		"[ -n \"$_p\" ] && getent shadow " + q + " | cut -d: -f2,4,5,6,8",
		"[ -n \"$_p\" ] && id -Gn " + q,
		"[ -n \"$_p\" ] && { [ -d \"$(echo \"$_p\" | cut -d: -f6)\" ] && echo Y || echo N; }",
		"[ -n \"$_p\" ] && getent group \"$(echo \"$_p\" | cut -d: -f4)\"",
		res,
	}
}

// parseUserProbe decodes userProbe output.
func parseUserProbe(secs []string) (userState, error) {
	var s userState
	var err error
	s.pw, s.exists, err = parseGetentPasswd(secs[0])
	if err != nil {
		return s, err
	}
	s.expireDays = -1
	s.aging = map[string]int{}
	if sh := strings.TrimSpace(secs[1]); sh != "" && !strings.Contains(sh, " ") {
		f := strings.Split(sh, ":")
		for len(f) < 5 {
			f = append(f, "")
		}
		s.hash, s.hashKnown = f[0], true
		num := func(v string) int {
			if d, err := strconv.Atoi(v); err == nil {
				return d
			}
			return -1
		}
		s.aging["password_expire_min"], s.aging["password_expire_max"], s.aging["password_expire_warn"] = num(f[1]), num(f[2]), num(f[3])
		s.expireDays = num(f[4])
	}
	primary := ""
	if g, ok, _ := parseGetentGroup(secs[4]); ok {
		primary = g.Name
	}
	for _, g := range strings.Fields(secs[2]) {
		if g != primary {
			s.groups = append(s.groups, g)
		}
	}
	s.homeExists = strings.TrimSpace(secs[3]) == "Y"
	s.resolved = map[string]groupEntry{}
	for _, line := range strings.Split(secs[5], "\n") {
		key, entry, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if g, ok, err := parseGetentGroup(entry); err == nil && ok {
			s.resolved[key] = g
		}
	}
	return s, nil
}

// expireDate formats an expires argument as usermod wants it ("" removes
// the expiry) and the day count the shadow file would hold.
func expireDate(expires float64) (string, int) {
	if expires < 0 {
		return "", -1
	}
	t := time.Unix(int64(expires), 0).UTC()
	return t.Format("2006-01-02"), int(math.Floor(expires / 86400))
}

// userPlan is the user module's decision.
type userPlan struct {
	cmds    []string
	fail    string
	changes []string // attribute names, for the diff
	after   passwdEntry
	groups  []string
}

// decideUser compares the arguments with the host's state.
func decideUser(args module.Args, s userState) userPlan {
	name := args.String("name")
	if args.String("state") == "absent" {
		return decideUserAbsent(args, name, s.exists)
	}
	gid, groups, fail := resolveUserGroups(args, s.resolved)
	if fail != "" {
		return userPlan{fail: fail}
	}
	if !s.exists {
		return decideUserCreate(args, name, gid, groups)
	}
	return decideUserModify(args, name, s, gid, groups)
}

func decideUserAbsent(args module.Args, name string, exists bool) userPlan {
	var p userPlan
	if exists {
		c := []string{"userdel"}
		if args.Bool("remove") {
			c = append(c, "-r")
		}
		if args.Bool("force") {
			c = append(c, "-f")
		}
		p.cmds = append(p.cmds, shell.Join(append(c, name)...))
	}
	return p
}

// resolveUserGroups looks the group and groups arguments up in the
// host's groups (by name or GID), failing on one that does not exist.
func resolveUserGroups(args module.Args, resolved map[string]groupEntry) (gid int, groups []string, fail string) {
	if args.Has("group") {
		g, ok := resolved[args.String("group")]
		if !ok {
			return 0, nil, fmt.Sprintf("Group %s does not exist", args.String("group"))
		}
		gid = g.GID
	}
	if args.Has("groups") {
		for _, g := range args.List("groups") {
			g = strings.TrimSpace(g)
			if g == "" {
				continue
			}
			e, ok := resolved[g]
			if !ok {
				return 0, nil, fmt.Sprintf("Group %s does not exist", g)
			}
			groups = append(groups, e.Name)
		}
	}
	return gid, groups, ""
}

// userOpts collects useradd/usermod options and the names of the
// attributes they change.
type userOpts struct {
	opts, changes []string
}

func (o *userOpts) add(attr string, opt ...string) {
	o.opts = append(o.opts, opt...)
	o.changes = append(o.changes, attr)
}

// decideUserCreate builds the useradd for a user that does not exist.
func decideUserCreate(args module.Args, name string, gid int, groups []string) userPlan {
	var o userOpts
	if args.Has("uid") {
		o.add("uid", "-u", strconv.Itoa(args.Int("uid")))
		if args.Bool("non_unique") {
			o.opts = append(o.opts, "-o")
		}
	}
	if args.Has("seuser") {
		o.opts = append(o.opts, "-Z", args.String("seuser"))
	}
	if args.Has("group") {
		o.add("group", "-g", strconv.Itoa(gid))
	}
	if len(groups) > 0 {
		o.add("groups", "-G", strings.Join(groups, ","))
	}
	for _, a := range []struct{ arg, opt string }{{"comment", "-c"}, {"home", "-d"}, {"shell", "-s"}} {
		if args.Has(a.arg) {
			o.add(a.arg, a.opt, args.String(a.arg))
		}
	}
	if password := args.String("password"); password != "" {
		o.add("password", "-p", password)
	}
	if args.Has("expires") {
		if expires, _ := expireDate(argFloat(args, "expires")); expires != "" {
			o.add("expires", "-e", expires)
		}
	}
	if args.Bool("system") {
		o.opts = append(o.opts, "-r")
	}
	if args.Bool("create_home") {
		o.opts = append(o.opts, "-m")
		if args.Has("skeleton") {
			o.opts = append(o.opts, "-k", args.String("skeleton"))
		}
		if args.Has("umask") {
			o.opts = append(o.opts, "-K", "UMASK="+args.String("umask"))
		}
	} else {
		o.opts = append(o.opts, "-M")
	}
	p := userPlan{changes: o.changes, groups: groups}
	p.cmds = append(p.cmds, shell.Join(append(append([]string{"useradd"}, o.opts...), name)...))
	if args.Has("password_lock") && args.Bool("password_lock") {
		p.cmds = append(p.cmds, shell.Join("usermod", "-L", name))
	}
	if cmd, changed := userChageCmd(args, name, nil); cmd != "" {
		p.cmds = append(p.cmds, cmd)
		p.changes = append(p.changes, changed...)
	}
	return p
}

// decideUserModify builds the usermod (and lock, unlock, home creation)
// that bring an existing user to the arguments.
func decideUserModify(args module.Args, name string, s userState, gid int, groups []string) userPlan {
	cur := s.pw
	p := userPlan{after: cur, groups: s.groups}
	var o userOpts
	if args.Has("uid") && args.Int("uid") != cur.UID {
		o.add("uid", "-u", strconv.Itoa(args.Int("uid")))
		if args.Bool("non_unique") {
			o.opts = append(o.opts, "-o")
		}
		p.after.UID = args.Int("uid")
	}
	if args.Has("group") && gid != cur.GID {
		o.add("group", "-g", strconv.Itoa(gid))
		p.after.GID = gid
	}
	if args.Has("groups") {
		p.groups = o.groups(args.Bool("append"), groups, s.groups)
	}
	if args.Has("comment") && args.String("comment") != cur.Comment {
		o.add("comment", "-c", args.String("comment"))
		p.after.Comment = args.String("comment")
	}
	if args.Has("home") && args.String("home") != cur.Home {
		o.add("home", "-d", args.String("home"))
		if args.Bool("move_home") {
			o.opts = append(o.opts, "-m")
		}
		p.after.Home = args.String("home")
	}
	if args.Has("shell") && args.String("shell") != cur.Shell {
		o.add("shell", "-s", args.String("shell"))
		p.after.Shell = args.String("shell")
	}
	o.password(args, s)
	if args.Has("expires") {
		date, days := expireDate(argFloat(args, "expires"))
		if days != s.expireDays && !(days < 0 && s.expireDays < 0) {
			o.add("expires", "-e", date)
		}
	}
	if len(o.opts) > 0 {
		p.cmds = append(p.cmds, shell.Join(append(append([]string{"usermod"}, o.opts...), name)...))
	}
	p.changes = o.changes
	if cmd := userLockCmd(args, name, s, p.changes); cmd != "" {
		p.cmds = append(p.cmds, cmd)
		p.changes = append(p.changes, "password_lock")
	}
	if cmd, changed := userChageCmd(args, name, s.aging); cmd != "" {
		p.cmds = append(p.cmds, cmd)
		p.changes = append(p.changes, changed...)
	}
	if cmd := userCreateHomeCmd(args, s.homeExists, p); cmd != "" {
		p.cmds = append(p.cmds, cmd)
		p.changes = append(p.changes, "create_home")
	}
	return p
}

// groups adds the options that set the supplementary groups to want
// (or, with appendOnly, add the missing ones to have) and returns the
// groups the user ends with.
func (o *userOpts) groups(appendOnly bool, want, have []string) []string {
	if !appendOnly {
		if sameSet(want, have) {
			return have
		}
		o.add("groups", "-G", strings.Join(want, ","))
		return want
	}
	var missing []string
	for _, g := range want {
		if !slices.Contains(have, g) {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return have
	}
	o.add("groups", "-a", "-G", strings.Join(want, ","))
	return append(append([]string{}, have...), missing...)
}

// password sets the password hash when update_password=always and the
// readable hash differs (a lock's "!" aside when the task locks anyway).
func (o *userOpts) password(args module.Args, s userState) {
	password := args.String("password")
	if password == "" || args.String("update_password") != "always" || !s.hashKnown {
		return
	}
	curHash := s.hash
	if args.Bool("password_lock") {
		curHash = strings.TrimPrefix(curHash, "!")
	}
	if curHash != password {
		o.add("password", "-p", password)
	}
}

// userLockCmd returns the usermod that locks or unlocks the password as
// password_lock asks, or "". A newly set hash is locked again.
func userLockCmd(args module.Args, name string, s userState, changes []string) string {
	if !args.Has("password_lock") || !s.hashKnown {
		return ""
	}
	locked := strings.HasPrefix(s.hash, "!")
	switch {
	case args.Bool("password_lock") && (!locked || containsStr(changes, "password")):
		return shell.Join("usermod", "-L", name)
	case !args.Bool("password_lock") && locked:
		return shell.Join("usermod", "-U", name)
	}
	return ""
}

// userKey is what generate_ssh_key finds and would do.
type userKey struct {
	path, fingerprint, public string
	cmd, fail                 string
	// private and pub are a key pair made on the controller (with a
	// passphrase), written after cmd.
	private, pub []byte
}

func (k userKey) addTo(r module.Result) {
	if k.path == "" {
		return
	}
	r["ssh_key_file"], r["ssh_fingerprint"], r["ssh_public_key"] = k.path, k.fingerprint, k.public
}

// planUserKey looks at the user's key files and returns the commands that
// generate a key when neither exists (or with force), as Ansible's user
// module does: ~/.ssh is created 0700 and both files belong to the user.
func planUserKey(ctx context.Context, h *module.Host, args module.Args, s userState) (userKey, error) {
	name := args.String("name")
	home := s.pw.Home
	if !s.exists {
		home = args.String("home")
		if home == "" {
			home = "/home/" + name
		}
	}
	file := args.String("ssh_key_file")
	if file == "" {
		file = ".ssh/id_" + args.String("ssh_key_type")
	}
	if !path.IsAbs(file) {
		file = path.Join(home, file)
	}
	k := userKey{path: file}
	q, qp, qd := shell.Quote(file), shell.Quote(file+".pub"), shell.Quote(path.Dir(file))
	secs, err := runProbe(ctx, h, "ssh key "+file, "[ -e "+q+" ] && echo P; [ -e "+qp+" ] && echo U; [ -d "+qd+" ] && echo D; true",
		"[ -e "+q+" ] && ssh-keygen -l -f "+q+" 2>&1; true", "[ -e "+qp+" ] && cat -- "+qp+"; true", "hostname")
	if err != nil {
		return k, err
	}
	k.fingerprint, k.public = strings.TrimSpace(secs[1]), strings.TrimSpace(secs[2])
	priv, pub, dir := strings.Contains(secs[0], "P"), strings.Contains(secs[0], "U"), strings.Contains(secs[0], "D")
	if (priv || pub) && !args.Bool("force") {
		return k, nil
	}
	comment := args.String("ssh_key_comment")
	if !args.Has("ssh_key_comment") {
		comment = "ansible-generated on " + strings.TrimSpace(secs[3])
	}
	var cmds []string
	if !dir {
		cmds = append(cmds, "mkdir -m 0700 -- "+qd+" && chown -- "+shell.Quote(name+":")+" "+qd)
	}
	if pass := args.String("ssh_key_passphrase"); pass != "" {
		priv, pub, err := encryptedUserKey(args.String("ssh_key_type"), args.Int("ssh_key_bits"), comment, pass)
		if err != nil {
			k.fail = err.Error()
			return k, nil
		}
		k.private, k.pub = priv, pub
		k.cmd = strings.Join(append(cmds, "rm -f -- "+q+" "+qp), " && ")
		return k, nil
	}
	gen := []string{"ssh-keygen", "-q", "-t", args.String("ssh_key_type")}
	if b := args.Int("ssh_key_bits"); b > 0 {
		gen = append(gen, "-b", strconv.Itoa(b))
	}
	gen = append(gen, "-C", comment, "-f", file, "-N", "")
	cmds = append(cmds, "rm -f -- "+q+" "+qp, shell.Join(gen...)+" </dev/null >/dev/null", "chown -- "+shell.Quote(name+":")+" "+q+" "+qp)
	k.cmd = strings.Join(cmds, " && ")
	return k, nil
}

// userChageCmd returns the chage command that sets the password aging
// arguments that differ from the shadow file's values (all given ones for
// a new user: aging is nil), and the changed arguments.
func userChageCmd(args module.Args, name string, aging map[string]int) (string, []string) {
	cmd := []string{"chage"}
	var changed []string
	for _, a := range []struct{ arg, opt string }{{"password_expire_min", "-m"}, {"password_expire_max", "-M"}, {"password_expire_warn", "-W"}} {
		if !args.Has(a.arg) {
			continue
		}
		if cur, ok := aging[a.arg]; ok && cur == args.Int(a.arg) {
			continue
		}
		cmd = append(cmd, a.opt, strconv.Itoa(args.Int(a.arg)))
		changed = append(changed, a.arg)
	}
	if len(changed) == 0 {
		return "", nil
	}
	return shell.Join(append(cmd, name)...), changed
}

// userCreateHomeCmd returns the commands that create a missing home from
// the skeleton, or "": usermod -m moves an old home instead.
func userCreateHomeCmd(args module.Args, homeExists bool, p userPlan) string {
	home := p.after.Home
	if !args.Bool("create_home") || homeExists || (containsStr(p.changes, "home") && args.Bool("move_home")) || home == "" {
		return ""
	}
	skel := "/etc/skel"
	if args.Has("skeleton") {
		skel = args.String("skeleton")
	}
	hq := shell.Path(home)
	return "mkdir -p -- " + hq + " && chmod 0755 -- " + hq +
		" && { [ ! -d " + shell.Quote(skel) + " ] || cp -a -- " + shell.Quote(skel+"/.") + " " + hq + "; }" +
		" && chown -R -- " + strconv.Itoa(p.after.UID) + ":" + strconv.Itoa(p.after.GID) + " " + hq
}

func containsStr(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	as := append([]string{}, a...)
	bs := append([]string{}, b...)
	sort.Strings(as)
	sort.Strings(bs)
	as, bs = dedupSorted(as), dedupSorted(bs)
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		if as[i] != bs[i] {
			return false
		}
	}
	return true
}

func dedupSorted(l []string) []string {
	out := l[:0]
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func userDiffText(exists bool, pw passwdEntry, groups []string) string {
	if !exists {
		return ""
	}
	return fmt.Sprintf("uid: %d\ngroup: %d\ngroups: %s\ncomment: %s\nhome: %s\nshell: %s\n",
		pw.UID, pw.GID, strings.Join(groups, ","), pw.Comment, pw.Home, pw.Shell)
}

// userResult fills Ansible's result fields for a present user.
func userResult(args module.Args, pw passwdEntry, groups []string) module.Result {
	r := module.Result{
		"name": args.String("name"), "state": "present",
		"uid": pw.UID, "group": pw.GID, "comment": pw.Comment, "home": pw.Home, "shell": pw.Shell,
		"groups": strings.Join(groups, ","), "append": args.Bool("append"),
		"system": args.Bool("system"), "create_home": args.Bool("create_home"), "move_home": args.Bool("move_home"),
	}
	if args.String("password") != "" {
		r["password"] = "NOT_LOGGING_PASSWORD"
	}
	return r
}

// userArgWarnings are Ansible's user module warnings about its arguments.
func userArgWarnings(h *module.Host, args module.Args) {
	if h.Warn == nil {
		return
	}
	if args.Bool("append") && !args.Has("groups") {
		h.Warn("'append' is set, but no 'groups' are specified. Use 'groups' for appending new groups." +
			"This will change to an error in Ansible 2.14.")
	}
	if userPasswordNotHashed(args.String("password")) {
		h.Warn("The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly.")
	}
}

// userGroupNames are the groups the task names, to look up on the host.
func userGroupNames(args module.Args) []string {
	var names []string
	if args.Has("group") {
		names = append(names, args.String("group"))
	}
	for _, g := range args.List("groups") {
		if g = strings.TrimSpace(g); g != "" {
			names = append(names, g)
		}
	}
	return names
}

// userPlanDiff is the diff of a user change: the account before and
// after, the password only named.
func userPlanDiff(args module.Args, s userState, p userPlan) module.Diff {
	name := args.String("name")
	diff := module.Diff{BeforeHeader: "user " + name, AfterHeader: "user " + name,
		Before: userDiffText(s.exists, s.pw, s.groups)}
	if args.String("state") == "present" {
		after := p.after
		if !s.exists {
			uid, gid := "(assigned)", "(assigned)"
			if args.Has("uid") {
				uid = strconv.Itoa(args.Int("uid"))
			}
			if g, ok := s.resolved[args.String("group")]; ok {
				gid = strconv.Itoa(g.GID)
			}
			diff.After = fmt.Sprintf("uid: %s\ngroup: %s\ngroups: %s\ncomment: %s\nhome: %s\nshell: %s\n",
				uid, gid, strings.Join(p.groups, ","), args.String("comment"), args.String("home"), args.String("shell"))
		} else {
			diff.After = userDiffText(true, after, p.groups)
		}
		if containsStr(p.changes, "password") {
			diff.After += "password: (changed)\n"
		}
	}
	return diff
}

// Plan implements module.Module.
func (User) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	if args.Has("umask") && args.Bool("local") {
		return module.Unchanged(module.Failed("'umask' can not be used with 'local'")), nil
	}
	name := args.String("name")
	userArgWarnings(h, args)
	secs, err := runProbe(ctx, h, "user "+name, userProbe(name, userGroupNames(args))...)
	if err != nil {
		return nil, err
	}
	s, err := parseUserProbe(secs)
	if err != nil {
		return nil, fmt.Errorf("inspect user %s on %s: %w", name, h.Name, err)
	}
	if h.Warn != nil && args.Bool("local") && !s.exists {
		h.Warn(fmt.Sprintf("'local: true' specified and user '%s' was not found in /etc/passwd. "+
			"The local user account may already exist if the local account database exists somewhere other than /etc/passwd.", name))
	}
	p := decideUser(args, s)
	if p.fail != "" {
		return module.Unchanged(module.Failed("%s", p.fail)), nil
	}
	var key userKey
	if args.Bool("generate_ssh_key") && args.String("state") == "present" {
		if key, err = planUserKey(ctx, h, args, s); err != nil {
			return nil, err
		}
		if key.fail != "" {
			return module.Unchanged(module.Failed("%s", key.fail)), nil
		}
		if key.cmd != "" {
			p.cmds = append(p.cmds, key.cmd)
			p.changes = append(p.changes, "ssh_key")
		}
	}
	state := args.String("state")
	var result module.Result
	if state == "absent" {
		result = module.Result{"name": name, "state": "absent", "remove": args.Bool("remove"), "force": args.Bool("force")}
	} else if s.exists {
		result = userResult(args, s.pw, s.groups)
	} else {
		result = module.Result{"name": name, "state": "present"}
	}
	key.addTo(result)
	if len(p.cmds) == 0 {
		return module.Unchanged(result), nil
	}
	diff := userPlanDiff(args, s, p)
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "change user "+name, strings.Join(p.cmds, " && "))
			if err != nil || !ok {
				return r, err
			}
			if key.private != nil {
				if err := writeUserKey(ctx, h, name, key.path, key.private, key.pub); err != nil {
					return nil, err
				}
			}
			if state == "absent" {
				return result, nil
			}
			secs, err := runProbe(ctx, h, "user "+name, userProbe(name, nil)...)
			if err != nil {
				return nil, err
			}
			s2, err := parseUserProbe(secs)
			if err != nil {
				return nil, fmt.Errorf("inspect user %s on %s: %w", name, h.Name, err)
			}
			r = userResult(args, s2.pw, s2.groups)
			if key.path != "" {
				k2, err := planUserKey(ctx, h, args, s2)
				if err != nil {
					return nil, err
				}
				k2.addTo(r)
			}
			return r, nil
		}}, nil
}

// userPasswordNotHashed is Ansible's check_password_encrypted: whether a
// password does not look like a crypt(3) hash (the values that disable
// an account aside).
func userPasswordNotHashed(pw string) bool {
	switch pw {
	case "", "*", "!", "*************":
		return false
	}
	if strings.ContainsAny(pw, ":*!") || !strings.Contains(pw, "$") {
		return true
	}
	fields := strings.Split(pw, "$")
	if len(fields) < 3 {
		return true
	}
	last := fields[len(fields)-1]
	for _, c := range last {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '=') {
			return true
		}
	}
	want := map[string]int{"1": 22, "5": 43, "6": 86}
	if n, ok := want[fields[1]]; ok && len(last) != n {
		return true
	}
	return false
}
