package modules

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// RemoteStat is what one inspection round trip learns about a path on the
// host, plus a few facts about the shell that ran it (home, umask, uid).
type RemoteStat struct {
	// Path is the inspected path with a leading "~" expanded.
	Path string
	// Exists is false when nothing is at Path (for a followed stat: also
	// when Path is a dangling link).
	Exists bool
	// Type is "file", "directory", "link", "fifo", "socket", "char",
	// "block" (Ansible's state names where they exist).
	Type string
	// Mode holds the permission bits (07777); RawMode the whole st_mode.
	Mode, RawMode uint32
	UID, GID      int
	// Owner and Group are the names ("UNKNOWN" when the id has no name).
	Owner, Group        string
	Size                int64
	Mtime, Atime, Ctime float64
	Inode, Nlink, Dev   uint64
	// SHA1 is the hex checksum of a regular file's content when asked for
	// and readable; empty otherwise.
	SHA1 string
	// Sum is the checksum computed with statOptions.Algorithm.
	Sum string
	// LinkTarget is what a symbolic link points to (readlink), RealPath
	// the fully resolved path (readlink -f); both only for links.
	LinkTarget, RealPath string
	// Readable, Writeable, Executable are test -r/-w/-x for the user the
	// command ran as.
	Readable, Writeable, Executable bool
	// Content is the file's content when asked for (regular, readable
	// files only); HasContent says whether it was read.
	Content    []byte
	HasContent bool

	// Home and Umask of the shell that ran the inspection; Privileged
	// says it runs as root, Mine that the path belongs to its user.
	Home       string
	Umask      uint32
	Privileged bool
	Mine       bool
}

// IsDir reports whether the path is a directory.
func (s *RemoteStat) IsDir() bool { return s.Exists && s.Type == "directory" }

// IsReg reports whether the path is a regular file.
func (s *RemoteStat) IsReg() bool { return s.Exists && s.Type == "file" }

// statOptions select what inspectRemote gathers.
type statOptions struct {
	// Follow stats the target of a symbolic link instead of the link.
	Follow bool
	// Checksum computes the sha1 of a regular file.
	Checksum bool
	// Algorithm replaces sha1 for Checksum: md5, sha224, sha256, sha384 or
	// sha512 (the coreutils *sum commands); the result goes to Sum.
	Algorithm string
	// Content returns a regular file's content.
	Content bool
	// TypeOnly reports only whether the path exists and is a directory,
	// with shell builtins (no stat process): enough for a parent directory.
	TypeOnly bool
	// noHeader leaves out HOME, umask and uid: statEach prints them once
	// for all paths.
	noHeader bool
}

// statRemote inspects path on the host in one round trip without following
// a final symbolic link: existence, type, mode, owner, group, ids, size,
// times, link target and, with withChecksum, the sha1 of a regular file.
func statRemote(ctx context.Context, h *module.Host, path string, withChecksum bool) (*RemoteStat, error) {
	return inspectRemote(ctx, h, path, statOptions{Checksum: withChecksum})
}

// remoteWord returns a shell word for path that expands a leading "~" the
// way Ansible's path arguments do (to $HOME of the user running the
// command) and quotes everything else.
func remoteWord(path string) string {
	switch {
	case path == "~":
		return `"$HOME"`
	case strings.HasPrefix(path, "~/"):
		return `"$HOME"/` + shell.Quote(path[2:])
	}
	return shell.Path(path)
}

// expandHome resolves a leading "~" of path with home.
func expandHome(path, home string) string {
	switch {
	case path == "~":
		return home
	case strings.HasPrefix(path, "~/"):
		return strings.TrimSuffix(home, "/") + path[1:]
	}
	return path
}

// statFormat is GNU stat's format: raw mode in hex first, times with
// nanoseconds (floats, as Python's os.stat), names last.
const statFormat = "%f %u %g %s %.9Y %.9X %.9Z %i %h %d %U %G"

// inspectCommand builds the inspection script. Its output is a series of
// "K:value" lines, then optionally "--" and the file's raw content.
//
// The script is the hot path of every drift run, so it starts as few
// processes as it can: umask, whether the shell runs as root and whether
// the path is its user's come from shell builtins (umask, test -O), stat
// and sha1sum print straight to stdout instead of through $(...), and
// nothing runs in a subshell. A converged file costs one stat (and one
// sha1sum).
func inspectCommand(path string, o statOptions) string {
	var b strings.Builder
	b.WriteString("p=" + remoteWord(path) + "; ")
	if !o.noHeader {
		// Root is told by owning / ([ -O ] compares with the effective
		// uid): a builtin test, where reading the uid from
		// /proc/self/status with read costs a system call per byte.
		b.WriteString(`printf 'H:%s\nU:' "$HOME"; umask; [ -O / ] && printf 'P:\n'; `)
	}
	exists := `[ -e "$p" ] || [ -L "$p" ]`
	statFlags := ""
	if o.Follow {
		exists = `[ -e "$p" ]`
		statFlags = "-L "
	}
	b.WriteString("if " + exists + "; then ")
	b.WriteString(`printf 'S:'; stat ` + statFlags + `-c '` + statFormat + `' -- "$p" || exit 1; `)
	b.WriteString(`a=; [ -r "$p" ] && a=r; [ -w "$p" ] && a=${a}w; [ -x "$p" ] && a=${a}x; [ -O "$p" ] && a=${a}o; printf 'A:%s\n' "$a"; `)
	b.WriteString(`if [ -L "$p" ]; then printf 'L:'; printf '%s' "$(readlink -- "$p")" | od -An -v -tx1 | tr -d ' \n'; ` +
		`printf '\nR:'; printf '%s' "$(readlink -f -- "$p")" | od -An -v -tx1 | tr -d ' \n'; printf '\n'; fi; `)
	// A link's checksum and content are those of its target only when
	// following; [ -f ] follows links itself.
	reg := `[ -f "$p" ] && [ -r "$p" ]`
	if !o.Follow {
		reg = `[ -f "$p" ] && [ ! -L "$p" ] && [ -r "$p" ]`
	}
	if o.Checksum {
		tool, key := "sha1sum", "C"
		if o.Algorithm != "" && o.Algorithm != "sha1" {
			tool, key = o.Algorithm+"sum", "K"
		}
		b.WriteString("if " + reg + `; then printf '` + key + `:'; ` + tool + ` < "$p" || exit 1; fi; `)
	}
	if o.Content {
		b.WriteString("if " + reg + `; then printf -- '--\n'; exec cat -- "$p"; fi; `)
	}
	b.WriteString("else printf 'S:missing\\n'; fi")
	return b.String()
}

// inspectRemote runs inspectCommand and parses its output.
func inspectRemote(ctx context.Context, h *module.Host, path string, o statOptions) (*RemoteStat, error) {
	res, err := h.Run(ctx, inspectCommand(path, o))
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("stat %s: %s", path, strings.TrimSpace(string(res.Stderr)))
	}
	st, err := parseInspect(path, res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return st, nil
}

// parseInspect parses inspectCommand's output.
func parseInspect(path string, out []byte) (*RemoteStat, error) {
	st := &RemoteStat{Path: path}
	rest := out
	for len(rest) > 0 {
		line, tail, _ := bytes.Cut(rest, []byte("\n"))
		rest = tail
		if string(line) == "--" {
			st.Content, st.HasContent = rest, true
			break
		}
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			return nil, fmt.Errorf("unexpected output line %q", line)
		}
		switch k {
		case "H":
			st.Home = v
		case "U":
			u, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return nil, fmt.Errorf("bad umask %q", v)
			}
			st.Umask = uint32(u)
		case "P":
			st.Privileged = true
		case "S":
			if v == "missing" {
				break
			}
			if err := st.parseStat(v); err != nil {
				return nil, err
			}
		case "A":
			st.Readable = strings.Contains(v, "r")
			st.Writeable = strings.Contains(v, "w")
			st.Executable = strings.Contains(v, "x")
			st.Mine = strings.Contains(v, "o")
		case "L", "R":
			b, err := hex.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("bad link target %q", v)
			}
			if k == "L" {
				st.LinkTarget = string(b)
			} else {
				st.RealPath = string(b)
			}
		case "T":
			// A TypeOnly inspection: existence and directory-ness only.
			st.Exists = true
			st.Type = v
		case "C":
			// sha1sum prints "HASH  -".
			st.SHA1, _, _ = strings.Cut(strings.TrimSpace(v), " ")
		case "K":
			st.Sum, _, _ = strings.Cut(strings.TrimSpace(v), " ")
		default:
			return nil, fmt.Errorf("unexpected output line %q", line)
		}
	}
	st.Path = expandHome(path, st.Home)
	return st, nil
}

func (st *RemoteStat) parseStat(v string) error {
	f := strings.Fields(v)
	if len(f) < 12 {
		return fmt.Errorf("unexpected stat output %q", v)
	}
	raw, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return fmt.Errorf("unexpected stat mode %q", f[0])
	}
	st.Exists = true
	st.RawMode = uint32(raw)
	st.Mode = uint32(raw) & permBits
	st.Type = fileTypeName(uint32(raw))
	st.UID, _ = strconv.Atoi(f[1])
	st.GID, _ = strconv.Atoi(f[2])
	st.Size, _ = strconv.ParseInt(f[3], 10, 64)
	st.Mtime, _ = strconv.ParseFloat(f[4], 64)
	st.Atime, _ = strconv.ParseFloat(f[5], 64)
	st.Ctime, _ = strconv.ParseFloat(f[6], 64)
	st.Inode, _ = strconv.ParseUint(f[7], 10, 64)
	st.Nlink, _ = strconv.ParseUint(f[8], 10, 64)
	st.Dev, _ = strconv.ParseUint(f[9], 10, 64)
	st.Owner = f[10]
	st.Group = strings.Join(f[11:], " ")
	return nil
}

// fileTypeName maps st_mode's type bits to Ansible's names.
func fileTypeName(raw uint32) string {
	switch raw & 0o170000 {
	case 0o100000:
		return "file"
	case 0o040000:
		return "directory"
	case 0o120000:
		return "link"
	case 0o010000:
		return "fifo"
	case 0o140000:
		return "socket"
	case 0o020000:
		return "char"
	case 0o060000:
		return "block"
	}
	return "unknown"
}

// readRemote returns the content of the host's file path, read with the
// task's become.
func readRemote(ctx context.Context, h *module.Host, path string) ([]byte, error) {
	var b bytes.Buffer
	if err := h.Conn.Get(ctx, path, &b, connection.GetOptions{Become: h.Become}); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b.Bytes(), nil
}

// writeOptions say how writeRemote leaves the written file.
type writeOptions struct {
	// Mode is the final permission bits (07777), always set by the caller
	// (see newFileMode).
	Mode uint32
	// Owner and Group, when not empty, are applied before the rename.
	Owner, Group string
}

// writeRemote atomically replaces path on the host with content: the
// connection writes a temporary file next to it, applies owner, group and
// mode, and renames it into place, under the task's become. Bits the
// transport cannot carry (setuid, setgid, sticky, or mode 0) are applied
// with a chmod afterwards.
func writeRemote(ctx context.Context, h *module.Host, path string, content []byte, o writeOptions) error {
	perm := fs.FileMode(o.Mode & 0o777)
	if err := h.Conn.Put(ctx, bytes.NewReader(content), path, connection.PutOptions{
		Mode: perm, Owner: o.Owner, Group: o.Group, Become: h.Become,
	}); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if o.Mode&0o7000 != 0 || o.Mode == 0 {
		return runOK(ctx, h, "chmod -- "+fmt.Sprintf("%04o", o.Mode)+" "+shell.Quote(path), "chmod "+path)
	}
	return nil
}

// newFileMode is the mode a written file ends up with when no mode
// argument is given, as Ansible's atomic_move leaves it: an existing
// file keeps its mode, a new one gets 0666 minus the umask.
func newFileMode(st *RemoteStat) uint32 {
	if st.IsReg() {
		return st.Mode
	}
	return 0o666 &^ st.Umask
}

// keepOwnership returns the owner and group to pass to writeRemote so a
// rewritten file keeps its ownership (Ansible's atomic_move does the same)
// unless other values are requested. It returns numeric ids; for a new
// file, or when the existing file already belongs to the writing user and
// its group cannot be known to be ours, it returns the requested values
// only, because an unprivileged chown to someone else would fail.
func keepOwnership(st *RemoteStat, owner, group string) (string, string) {
	if !st.IsReg() {
		return owner, group
	}
	if owner == "" && st.Privileged && st.UID != 0 {
		owner = strconv.Itoa(st.UID)
	}
	if group == "" && (st.Privileged || st.Mine) {
		group = strconv.Itoa(st.GID)
	}
	return owner, group
}

// backupRemote copies path to Ansible's backup name
// (path.PID.YYYY-MM-DD@HH:MM:SS~, with the remote shell's PID and local
// time), preserving mode, ownership and times, and returns the backup's
// path.
func backupRemote(ctx context.Context, h *module.Host, path string) (string, error) {
	cmd := "p=" + shell.Quote(path) + `; b="$p.$$.$(date +%Y-%m-%d@%H:%M:%S~)" && cp -p -- "$p" "$b" && printf '%s' "$b"`
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return "", fmt.Errorf("backup %s: %w", path, err)
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("backup %s: %s", path, strings.TrimSpace(string(res.Stderr)))
	}
	return string(res.Stdout), nil
}

// runOK runs cmd and turns a non-zero exit into an error naming what.
func runOK(ctx context.Context, h *module.Host, cmd, what string) error {
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("%s: exit %d: %s", what, res.ExitCode, commandDetail(res))
	}
	return nil
}

// commandDetail is what a failed command said: its stderr, else stdout.
func commandDetail(res connection.Result) string {
	if msg := strings.TrimSpace(string(res.Stderr)); msg != "" {
		return msg
	}
	return strings.TrimSpace(string(res.Stdout))
}

// contentChange is a whole-file write planned by a content module (copy,
// template, lineinfile, blockinfile, replace, ini_file): the new content
// is computed on the controller and compared with what the host has.
type contentChange struct {
	// Path is where the content goes (a followed link already resolved).
	Path string
	// St is Path's inspection; with HasContent or SHA1 filled.
	St *RemoteStat
	// After is the wanted content.
	After []byte
	// Owner, Group and Mode are the requested attributes (may be unset).
	Owner, Group string
	Mode         Mode
	// Backup copies the old file to Ansible's backup name first.
	Backup bool
	// Validate is a command with %s, run on the new file before it
	// replaces Path.
	Validate string
	// DiffHeader names the content diff; AttrHeader the attribute diff
	// ("" for no separate attribute header).
	DiffHeader, AttrHeader string
	// DiffAfterHeader, when set, names the new content's side (copy shows
	// the source there).
	DiffAfterHeader string
	// DiffBefore, when set, is the old content for the diff (when St
	// holds only a checksum).
	DiffBefore []byte
}

// contentPlan is the outcome of contentChange.plan.
type contentPlan struct {
	// ContentChanged says the file must be (re)written.
	ContentChanged bool
	// Attrs are attribute changes on an existing file.
	Attrs AttrPlan
	// Write holds the options for writing when ContentChanged.
	Write writeOptions
	// Diffs are the content and attribute diffs.
	Diffs []module.Diff
}

// Changed reports whether applying would change the host.
func (p contentPlan) Changed() bool { return p.ContentChanged || p.Attrs.Changed() }

// plan compares the wanted content and attributes with the host's.
func (c *contentChange) plan() (contentPlan, error) {
	var p contentPlan
	st := c.St
	switch {
	case !st.IsReg():
		p.ContentChanged = true
	case st.HasContent:
		p.ContentChanged = !bytes.Equal(st.Content, c.After)
	default:
		sum := sha1.Sum(c.After)
		p.ContentChanged = st.SHA1 != hex.EncodeToString(sum[:])
	}
	if st.Exists && st.Type != "link" {
		a, err := planAttrs(st, c.Owner, c.Group, c.Mode)
		if err != nil {
			return p, err
		}
		p.Attrs = a
	}
	if p.ContentChanged {
		base := newFileMode(st)
		mode, err := c.Mode.Apply(base, false, st.Umask)
		if err != nil {
			return p, err
		}
		owner, group := keepOwnership(st, c.Owner, c.Group)
		p.Write = writeOptions{Mode: mode, Owner: owner, Group: group}
		before := c.DiffBefore
		if st.HasContent {
			before = st.Content
		}
		after := c.DiffHeader
		if c.DiffAfterHeader != "" {
			after = c.DiffAfterHeader
		}
		p.Diffs = append(p.Diffs, module.Diff{
			BeforeHeader: c.DiffHeader, AfterHeader: after,
			Before: diffText(before), After: diffText(c.After),
		})
		if !st.Exists && c.Mode.IsSet() && mode != base {
			// Ansible reports the mode of a new file as an attribute change.
			p.Attrs.Before = map[string]any{"mode": formatMode(base)}
			p.Attrs.After = map[string]any{"mode": formatMode(mode)}
		}
	}
	if len(p.Attrs.Before) > 0 {
		d := attrDiff(c.Path, p.Attrs.Before, p.Attrs.After)
		d.BeforeHeader, d.AfterHeader = c.AttrHeader, c.AttrHeader
		p.Diffs = append(p.Diffs, d)
	}
	return p, nil
}

// apply performs p. It returns the backup file's path (if one was made),
// a failure result when validation rejected the new content, or an error
// for transport and command failures.
func (c *contentChange) apply(ctx context.Context, h *module.Host, p contentPlan) (string, module.Result, error) {
	var backup string
	if c.Backup && c.St.IsReg() && p.ContentChanged {
		b, err := backupRemote(ctx, h, c.Path)
		if err != nil {
			return "", nil, err
		}
		backup = b
	}
	if !p.ContentChanged {
		if cmd := p.Attrs.Command(c.Path, false); cmd != "" {
			return backup, nil, runOK(ctx, h, cmd, "set attributes of "+c.Path)
		}
		return backup, nil, nil
	}
	if c.Validate == "" {
		return backup, nil, writeRemote(ctx, h, c.Path, c.After, p.Write)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return backup, nil, fmt.Errorf("validate %s: %w", c.Path, err)
	}
	tmp := filepath.Join(filepath.Dir(c.Path), ".tend-validate-"+hex.EncodeToString(rnd[:])+"-"+filepath.Base(c.Path))
	if err := writeRemote(ctx, h, tmp, c.After, p.Write); err != nil {
		return backup, nil, err
	}
	vcmd := strings.ReplaceAll(c.Validate, "%s", shell.Quote(tmp))
	res, err := h.Run(ctx, "("+vcmd+") && mv -f -- "+shell.Quote(tmp)+" "+shell.Quote(c.Path)+
		"; rc=$?; rm -f -- "+shell.Quote(tmp)+"; exit $rc")
	if err != nil {
		return backup, nil, fmt.Errorf("validate %s: %w", c.Path, err)
	}
	if res.ExitCode != 0 {
		r := module.CommandResult(res)
		r["failed"] = true
		r["exit_status"] = res.ExitCode
		r["msg"] = "failed to validate"
		return backup, r, nil
	}
	return backup, nil, nil
}

// checkValidate returns an error message when a validate argument lacks
// its %s placeholder, as Ansible requires.
func checkValidate(v string) string {
	if v != "" && !strings.Contains(v, "%s") {
		return "validate must contain %s: " + v
	}
	return ""
}

// fileResult fills Ansible's file result fields from a stat.
func fileResult(r module.Result, st *RemoteStat) module.Result {
	if r == nil {
		r = module.Result{}
	}
	if !st.Exists {
		r["state"] = "absent"
		return r
	}
	r["uid"] = st.UID
	r["gid"] = st.GID
	r["owner"] = st.Owner
	r["group"] = st.Group
	r["mode"] = formatMode(st.Mode)
	r["size"] = st.Size
	switch st.Type {
	case "link":
		r["state"] = "link"
	case "directory":
		r["state"] = "directory"
	case "file":
		if st.Nlink > 1 {
			r["state"] = "hard"
		} else {
			r["state"] = "file"
		}
	default:
		r["state"] = st.Type
	}
	return r
}

// shellDir returns the quoted parent directory of path.
func shellDir(path string) string { return shell.Quote(filepath.Dir(path)) }

// statSeparator ends each path's section in statMany's output.
const statSeparator = "=tend-stat-end="

// statMany inspects several paths in one round trip (no content).
func statMany(ctx context.Context, h *module.Host, paths []string, o statOptions) ([]*RemoteStat, error) {
	opts := make([]statOptions, len(paths))
	for i := range opts {
		opts[i] = o
	}
	return statEach(ctx, h, paths, opts)
}

// statEach inspects paths[i] with opts[i], all in one round trip (content
// is never read).
func statEach(ctx context.Context, h *module.Host, paths []string, opts []statOptions) ([]*RemoteStat, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	var b strings.Builder
	for i, p := range paths {
		o := opts[i]
		o.Content = false
		o.noHeader = i > 0
		switch {
		case o.TypeOnly:
			q := remoteWord(p)
			b.WriteString("if [ -d " + q + " ]; then printf 'T:directory\\n'; elif [ -e " + q + " ]; then printf 'T:other\\n'; else printf 'S:missing\\n'; fi; ")
		case i > 0 && p == paths[i-1] && o.Follow && !opts[i-1].Follow:
			// Following a path that is not a link sees the same file: stat
			// it again only when it is a link.
			b.WriteString("if [ -L " + remoteWord(p) + " ]; then { " + inspectCommand(p, o) + "; } || exit 1; else printf 'SAME\\n'; fi; ")
		default:
			b.WriteString("{ " + inspectCommand(p, o) + "; } || exit 1; ")
		}
		b.WriteString("printf '" + statSeparator + "\\n'; ")
	}
	res, err := h.Run(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", strings.Join(paths, ", "), err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("stat %s: %s", strings.Join(paths, ", "), strings.TrimSpace(string(res.Stderr)))
	}
	chunks := strings.Split(string(res.Stdout), statSeparator+"\n")
	if len(chunks) != len(paths)+1 {
		return nil, fmt.Errorf("stat %s: unexpected output", strings.Join(paths, ", "))
	}
	out := make([]*RemoteStat, len(paths))
	for i, p := range paths {
		if chunks[i] == "SAME\n" && i > 0 {
			same := *out[i-1]
			out[i] = &same
			continue
		}
		st, err := parseInspect(p, []byte(chunks[i]))
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", p, err)
		}
		if i > 0 {
			// The header (HOME, umask, root) was printed once, for the first path.
			st.Home, st.Umask, st.Privileged = out[0].Home, out[0].Umask, out[0].Privileged
			st.Path = expandHome(p, st.Home)
		}
		out[i] = st
	}
	return out, nil
}

// diffText returns content for a diff, or a note for binary content as
// Ansible prints it.
func diffText(b []byte) string {
	if bytes.IndexByte(b, 0) >= 0 {
		return "(binary file)\n"
	}
	return string(b)
}

// editArgs checks the arguments every content editor shares (validate and
// mode); msg says what is wrong.
func editArgs(args module.Args) (Mode, string) {
	if msg := checkValidate(args.String("validate")); msg != "" {
		return Mode{}, msg
	}
	mode, err := parseMode(args["mode"])
	if err != nil {
		return Mode{}, err.Error()
	}
	return mode, ""
}

// readForEdit inspects a file to be edited in place (lineinfile,
// blockinfile, replace): its content, following links. A directory is
// reported as the failure plan isDir, with Ansible's message and rc.
func readForEdit(ctx context.Context, h *module.Host, path string) (st *RemoteStat, isDir *module.Plan, err error) {
	st, err = inspectRemote(ctx, h, path, statOptions{Follow: true, Content: true})
	if err != nil {
		return nil, nil, err
	}
	if st.IsDir() {
		return st, module.Unchanged(module.Result{"failed": true, "rc": 256, "msg": fmt.Sprintf("Path %s is a directory !", path)}), nil
	}
	return st, nil, nil
}

// Probes: a module reads several files and command outputs of a host in
// one round trip (probeScript, runProbe), and runs commands whose failure
// is the task's failure (runCmd) rather than an error (runOK).

// sectionMarker separates the parts of a multi-part probe command's output.
// It holds characters no probed file or command output is expected to
// start a line with.
const sectionMarker = "@@tend-section@@"

// probeScript joins shell snippets into one command whose output is split
// back by splitSections, so a module inspects a host in one round trip.
// Each snippet's exit status is ignored; snippets print what they find.
func probeScript(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString("echo " + shell.Quote(sectionMarker) + "; { " + p + "; } 2>&1")
	}
	return b.String()
}

// splitSections splits probeScript output into one string per snippet.
func splitSections(out string, n int) ([]string, error) {
	parts := strings.Split(out, sectionMarker+"\n")
	if len(parts) > 0 && strings.TrimSpace(parts[0]) == "" {
		parts = parts[1:]
	}
	if len(parts) != n {
		return nil, fmt.Errorf("probe output has %d sections, want %d: %q", len(parts), n, truncate(out, 400))
	}
	return parts, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// catIfExists returns a snippet that prints "Y" and the file's content, or
// "N" when the file does not exist. readCat decodes it.
func catIfExists(path string) string {
	q := shell.Path(path)
	return "if [ -f " + q + " ]; then echo Y; cat -- " + q + "; else echo N; fi"
}

// readCat decodes catIfExists output.
func readCat(section string) (content string, exists bool) {
	if strings.HasPrefix(section, "Y\n") {
		return section[2:], true
	}
	return "", false
}

// runProbe runs a probeScript and splits its output. A transport error is
// returned wrapped; the probe itself never fails on a missing file.
func runProbe(ctx context.Context, h *module.Host, what string, parts ...string) ([]string, error) {
	res, err := h.Run(ctx, probeScript(parts...))
	if err != nil {
		return nil, fmt.Errorf("inspect %s on %s: %w", what, h.Name, err)
	}
	secs, err := splitSections(string(res.Stdout), len(parts))
	if err != nil {
		return nil, fmt.Errorf("inspect %s on %s: %w", what, h.Name, err)
	}
	return secs, nil
}

// runCmd runs cmd and turns a non-zero exit into a failed Result carrying
// rc, stdout and stderr; ok is false then. Transport errors are returned.
func runCmd(ctx context.Context, h *module.Host, msg, cmd string) (module.Result, bool, error) {
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return nil, false, fmt.Errorf("%s on %s: %w", msg, h.Name, err)
	}
	r := module.CommandResult(res)
	if res.ExitCode != 0 {
		r["failed"] = true
		r["msg"] = fmt.Sprintf("%s failed (rc=%d): %s", msg, res.ExitCode, commandDetail(res))
		return r, false, nil
	}
	return r, true, nil
}

// parseOctalMode reads a mode argument with parseMode (fileattrs.go), so
// it follows Ansible exactly (a YAML integer 644 is decimal, i.e. 01204;
// "0644" and "644" are octal); a symbolic mode is resolved against def.
// nil gives def.
func parseOctalMode(v any, def fs.FileMode) (fs.FileMode, error) {
	m, err := parseMode(v)
	if err != nil {
		return 0, err
	}
	if !m.IsSet() {
		return def, nil
	}
	bits, err := m.Apply(uint32(def.Perm()), false, 0o022)
	if err != nil {
		return 0, err
	}
	return fs.FileMode(bits), nil
}
