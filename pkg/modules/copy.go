package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
	"github.com/tend-dev/tend/pkg/vault"
)

// Copy is Ansible's copy module: put a file (from the controller, from
// inline content, or from elsewhere on the host) at a destination.
type Copy struct{}

var _ module.Module = (*Copy)(nil)

// writeArgs are the arguments copy and template share. destRequired
// false leaves a missing dest to the module, which fails the way
// Ansible's copy action does.
func writeArgs(destRequired bool) []module.Arg {
	return []module.Arg{
		{Name: "dest", Type: module.Path, Expand: true, Required: destRequired, Doc: "Where to put the file (required). A path ending in / (or an existing directory) receives the file under its source name."},
		{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a copy of the replaced file named FILE.PID.YYYY-MM-DD@HH:MM:SS~."},
		{Name: "force", Aliases: []string{"thirsty"}, Type: module.Bool, Default: true, Doc: "Replace a destination whose content differs. false only creates missing files."},
		{Name: "validate", Type: module.String, Doc: "Command run on the new file before it replaces dest; %s is its path. A non-zero exit fails the task and leaves dest alone."},
		{Name: "follow", Type: module.Bool, Default: false, Doc: "Follow a symbolic link at dest and write its target instead of replacing the link."},
	}
}

var copySpec = &module.Spec{
	Name:  "copy",
	Short: "Copy files to remote locations",
	Description: `Copies a file from the controller (src, looked up in the role's files/ directory and
the playbook directory), inline content, or a file already on the host (remote_src) to
dest. The host's file is compared by SHA-1 in one round trip and only transferred when it
differs; it is written atomically (temporary file in the same directory, owner and mode set,
then renamed). A src directory is copied recursively: "dir/" copies its content, "dir" the
directory itself.`,
	Args: append(append([]module.Arg{
		{Name: "src", Type: module.Path, Expand: true, ExpandIf: "remote_src", Doc: "Controller path of the file or directory to copy (relative: role files/, then the playbook directory). With remote_src, a path on the host."},
		{Name: "content", Type: module.String, Content: true, NoLog: false, Doc: "The file's content, instead of src."},
		{Name: "remote_src", Type: module.Bool, Default: false, Doc: "src is a file or directory on the host. A directory is copied as Ansible's copy module copies it: \"src/\" into dest, \"src\" to dest/src; files that differ or are missing are copied (with their modes), nothing is removed, local_follow false keeps symbolic links as links."},
		{Name: "directory_mode", Type: module.Raw, Doc: "Mode of directories created by a recursive copy (default: umask-based)."},
		{Name: "checksum", Type: module.String, Doc: "Expected SHA-1 of src; the task fails when the file to copy does not match."},
		{Name: "local_follow", Type: module.Bool, Doc: "Follow symbolic links in a src directory on the controller (default true): a link to a file is copied as the file, to a directory as its tree. Links that cannot be followed (dangling, loops, back up the copied tree) and, with false, every link are created as links on the host. With remote_src, only local_follow: true follows them (Ansible's copy module's default keeps them as links)."},
		{Name: "decrypt", Type: module.Bool, Default: true, Doc: "Decrypt vault-encrypted source files (every file of a directory src too) with the run's vault password, as Ansible does; false copies them as they are. Not for content or remote_src."},
	}, writeArgs(false)...), fileAttrArgs()...),
	// Ansible's copy action reports a missing src and content, both, or
	// a missing dest when the task runs, with its own messages (Plan).
	MutuallyExclusive: [][]string{{"content", "src"}},
	RequiredOneOf:     [][]string{{"content", "src"}},
	GroupsAtRun:       true,
	Check:             module.CheckFull,
	Diff:              true,
	Examples: `- name: Copy a file from the role's files/ directory
  copy:
    src: sshd_banner
    dest: /etc/ssh/banner
    owner: root
    group: root
    mode: '0644'
    backup: true

- name: Write inline content, validated before it replaces the file
  copy:
    content: "%admin ALL=(ALL) NOPASSWD: ALL\n"
    dest: /etc/sudoers.d/admin
    mode: '0440'
    validate: /usr/sbin/visudo -csf %s

- name: Copy a directory's content recursively
  copy:
    src: site/
    dest: /var/www/site/`,
}

// Spec implements module.Module.
func (*Copy) Spec() *module.Spec { return copySpec }

// writeItem is one file copy or template wants on the host.
type writeItem struct {
	// Rel is the path below the destination root for recursive copies,
	// "" for a single file.
	Rel string
	// Content is the file's wanted content.
	Content []byte
	// Base is the source's base name, used when dest is a directory.
	Base string
	// SrcMode is the source's permission bits, for mode=preserve.
	SrcMode uint32
	// SrcHeader names the source in the diff.
	SrcHeader string
}

// Plan implements module.Module.
func (*Copy) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	dest := args.String("dest")
	// Ansible's copy action checks these itself: an empty src or dest
	// counts as missing.
	switch {
	case args.String("src") == "" && !args.Has("content"):
		return module.Unchanged(module.Failed("src (or content) is required")), nil
	case dest == "":
		return module.Unchanged(module.Failed("dest is required")), nil
	case args.String("src") != "" && args.Has("content"):
		return module.Unchanged(module.Failed("src and content are mutually exclusive")), nil
	}
	if args.Has("content") {
		if strings.HasSuffix(dest, "/") {
			return module.Unchanged(module.Failed("can not use content with a dir as dest")), nil
		}
		return planWrite(ctx, h, args, writeItem{Content: []byte(args.String("content")), SrcHeader: "dynamically generated"})
	}
	src := args.String("src")
	if args.Bool("remote_src") {
		return planRemoteCopy(ctx, h, args, src)
	}
	if h.Files == nil {
		return nil, fmt.Errorf("copy: no controller file finder to resolve src %q", src)
	}
	local, err := h.Files.Find("files", src)
	if err != nil {
		return module.Unchanged(module.Failed("Could not find or access '%s' on the Ansible Controller: %v", src, err)), nil
	}
	fi, err := os.Stat(local)
	if err != nil {
		return module.Unchanged(module.Failed("Could not find or access '%s' on the Ansible Controller: %v", src, err)), nil
	}
	if fi.IsDir() {
		return planDirCopy(ctx, h, args, src, local)
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return module.Unchanged(module.Failed("Could not read '%s': %v", local, err)), nil
	}
	if args.Bool("decrypt") && vault.IsEncrypted(data) {
		if data, err = decryptControllerFile(h, local, data); err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
	}
	if want := args.String("checksum"); want != "" {
		if got := sha1Hex(data); got != strings.ToLower(want) {
			return module.Unchanged(module.Failed("Copied file does not match the expected checksum. Transfer failed.")), nil
		}
	}
	return planWrite(ctx, h, args, writeItem{Content: data, Base: filepath.Base(local), SrcMode: uint32(fi.Mode().Perm()), SrcHeader: local})
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// md5Hex is the md5 Ansible's copy and template report as md5sum.
func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// modeArg parses the mode argument, resolving "preserve" to the source's.
func modeArg(args module.Args, srcMode uint32) (Mode, error) {
	if s, ok := args["mode"].(string); ok && s == "preserve" {
		return Mode{set: true, octal: srcMode}, nil
	}
	return parseMode(args["mode"])
}

// planWrite plans writing one file at dest (or dest/Base when dest is a
// directory): one round trip inspects every candidate and the parent.
func planWrite(ctx context.Context, h *module.Host, args module.Args, it writeItem) (*module.Plan, error) {
	dest := args.String("dest")
	mode, err := modeArg(args, it.SrcMode)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if msg := checkValidate(args.String("validate")); msg != "" {
		return module.Unchanged(module.Failed("%s", msg)), nil
	}
	trailing := strings.HasSuffix(dest, "/")
	var cands []string
	switch {
	case trailing:
		if it.Base == "" {
			return module.Unchanged(module.Failed("can not use content with a dir as dest")), nil
		}
		cands = []string{path.Join(dest, it.Base), path.Dir(path.Join(dest, it.Base))}
	case it.Base != "":
		cands = []string{dest, path.Dir(dest), path.Join(dest, it.Base)}
	default:
		cands = []string{dest, path.Dir(dest)}
	}
	// The parent directory only needs to exist: no stat process for it.
	opts := make([]statOptions, len(cands))
	for i := range opts {
		opts[i] = statOptions{Follow: args.Bool("follow"), Checksum: true}
	}
	opts[1].TypeOnly = !trailing
	sts, err := statEach(ctx, h, cands, opts)
	if err != nil {
		return nil, err
	}
	st, parent := sts[0], sts[1]
	if !trailing && st.IsDir() {
		if it.Base == "" {
			return module.Unchanged(module.Failed("can not use content with a dir as dest")), nil
		}
		st, parent = sts[2], sts[0]
	}
	target := st.Path
	if args.Bool("follow") && st.RealPath != "" {
		target = st.RealPath
	}
	if !parent.IsDir() && !trailing {
		return module.Unchanged(module.Failed("Destination directory %s does not exist", path.Dir(dest))), nil
	}
	result := module.Result{"dest": target, "checksum": sha1Hex(it.Content), "size": len(it.Content)}
	if args.Has("src") {
		result["src"] = args.String("src")
	}
	if st.Exists && !args.Bool("force") {
		fileResult(result, st)
		result["msg"] = "file already exists"
		return module.Unchanged(result), nil
	}
	cc := &contentChange{
		Path: target, St: st, After: it.Content,
		Owner: args.String("owner"), Group: args.String("group"), Mode: mode,
		Backup: args.Bool("backup"), Validate: args.String("validate"),
		DiffHeader: target, DiffAfterHeader: it.SrcHeader,
	}
	cp, err := cc.plan()
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if !cp.Changed() {
		fileResult(result, st)
		return module.Unchanged(result), nil
	}
	if cp.ContentChanged && h.Diff && st.IsReg() && st.Size <= maxDiffSize {
		// Only diff mode pays for fetching the old content.
		if old, err := readRemote(ctx, h, target); err == nil {
			cc.DiffBefore = old
			cp, _ = cc.plan()
		}
	}
	// Ansible's copy reports the md5 of what it wrote when it writes.
	result["md5sum"] = md5Hex(it.Content)
	plan := &module.Plan{Changed: true, Result: result, Diff: cp.Diffs}
	plan.Apply = func(ctx context.Context) (module.Result, error) {
		if !parent.IsDir() {
			if err := runOK(ctx, h, "mkdir -p -- "+shellDir(target), "create directory for "+target); err != nil {
				return nil, err
			}
		}
		backup, fail, err := cc.apply(ctx, h, cp)
		if err != nil || fail != nil {
			return fail, err
		}
		return finalFileResult(ctx, h, target, result, backup)
	}
	return plan, nil
}

// maxDiffSize is the largest file whose old content diff mode fetches
// (Ansible's max_diff_size default).
const maxDiffSize = 104448

// finalFileResult re-inspects a written file to report its attributes as
// Ansible does after a change.
func finalFileResult(ctx context.Context, h *module.Host, p string, base module.Result, backup string) (module.Result, error) {
	r := module.Result{}
	for k, v := range base {
		r[k] = v
	}
	if backup != "" {
		r["backup_file"] = backup
	}
	st, err := statRemote(ctx, h, p, false)
	if err != nil {
		return nil, err
	}
	return fileResult(r, st), nil
}

// planRemoteCopy copies a file that is already on the host.
func planRemoteCopy(ctx context.Context, h *module.Host, args module.Args, src string) (*module.Plan, error) {
	dest := args.String("dest")
	// A dest ending in "/" is a directory, created when missing, as
	// Ansible's copy module does.
	intoDir := strings.HasSuffix(dest, "/")
	if intoDir {
		dest = path.Join(dest, path.Base(src))
	}
	sts, err := statMany(ctx, h, []string{src, dest, path.Join(dest, path.Base(src))}, statOptions{Follow: true, Checksum: true})
	if err != nil {
		return nil, err
	}
	sst, st := sts[0], sts[1]
	switch {
	case !sst.Exists:
		return module.Unchanged(module.Failed("Source %s not found", src)), nil
	case sst.IsDir():
		return planRemoteDirCopy(ctx, h, args, src, args.String("dest"))
	case !sst.Readable:
		return module.Unchanged(module.Failed("Source %s not readable", src)), nil
	case !sst.IsReg():
		// A device, fifo or socket, as Ansible's copy module words it.
		return module.Unchanged(module.Failed("Cannot copy invalid source '%s': not a file", src)), nil
	case sst.SHA1 == "":
		return module.Unchanged(module.Failed("Source %s not readable", src)), nil
	}
	if st.IsDir() {
		dest, st = sts[2].Path, sts[2]
	}
	mode, err := modeArg(args, sst.Mode)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	result := module.Result{"dest": dest, "src": src, "checksum": sst.SHA1, "size": sst.Size}
	if st.Exists && !args.Bool("force") {
		return module.Unchanged(fileResult(result, st)), nil
	}
	contentChanged := !st.IsReg() || st.SHA1 != sst.SHA1
	var attrs AttrPlan
	if st.Exists && !contentChanged {
		attrs, err = planAttrs(st, args.String("owner"), args.String("group"), mode)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
	}
	if !contentChanged && !attrs.Changed() {
		return module.Unchanged(fileResult(result, st)), nil
	}
	plan := &module.Plan{Changed: true, Result: result}
	if attrs.Changed() {
		plan.Diff = []module.Diff{attrDiff(dest, attrs.Before, attrs.After)}
	}
	plan.Apply = func(ctx context.Context) (module.Result, error) {
		backup := ""
		if contentChanged {
			if args.Bool("backup") && st.IsReg() {
				if backup, err = backupRemote(ctx, h, dest); err != nil {
					return nil, err
				}
			}
			m, err := mode.Apply(newFileMode(st), false, st.Umask)
			if err != nil {
				return module.Failed("%v", err), nil
			}
			owner, group := keepOwnership(st, args.String("owner"), args.String("group"))
			cmd := connection.WriteScript{Dst: dest, Mode: fs.FileMode(m & 0o777), Owner: owner, Group: group, From: src, Sweep: true}.String()
			if intoDir && !st.Exists {
				cmd = "mkdir -p -- " + shellDir(dest) + " && " + cmd
			}
			if m&0o7000 != 0 {
				cmd += " && chmod -- " + fmt.Sprintf("%04o", m) + " " + shell.Quote(dest)
			}
			if err := runOK(ctx, h, cmd, "copy "+src+" to "+dest); err != nil {
				return nil, err
			}
		} else if err := runOK(ctx, h, attrs.Command(dest, false), "set attributes of "+dest); err != nil {
			return nil, err
		}
		return finalFileResult(ctx, h, dest, result, backup)
	}
	return plan, nil
}

// planDirCopy copies a controller directory recursively: "src/" copies
// its content into dest, "src" the directory itself. All destination
// paths are inspected in one round trip.
func planDirCopy(ctx context.Context, h *module.Host, args module.Args, src, local string) (*module.Plan, error) {
	root := args.String("dest")
	if !strings.HasSuffix(src, "/") {
		root = path.Join(root, filepath.Base(local))
	}
	type entry struct {
		copySource
		data []byte
	}
	// Ansible's copy action follows links unless told not to.
	srcs, err := walkCopySource(local, !args.Has("local_follow") || args.Bool("local_follow"))
	if err != nil {
		return module.Unchanged(module.Failed("Could not read directory '%s': %v", local, err)), nil
	}
	entries := make([]entry, len(srcs))
	// Files are read in Ansible's order (os.walk: a directory's files
	// before its subdirectories'), so the first one that fails is its.
	for _, i := range walkOrder(srcs) {
		cs := srcs[i]
		e := entry{copySource: cs}
		if !cs.dir && !cs.isLink {
			data, err := os.ReadFile(cs.local)
			if err != nil {
				return module.Unchanged(module.Failed("Could not read directory '%s': %v", local, err)), nil
			}
			if args.Bool("decrypt") && vault.IsEncrypted(data) {
				if data, err = decryptControllerFile(h, cs.local, data); err != nil {
					return module.Unchanged(module.Failed("%v", err)), nil
				}
			}
			e.data = data
		}
		entries[i] = e
	}
	paths := make([]string, len(entries))
	for i, e := range entries {
		paths[i] = path.Join(root, e.rel)
	}
	sts, err := statMany(ctx, h, paths, statOptions{Checksum: true})
	if err != nil {
		return nil, err
	}
	dirMode, err := parseMode(args["directory_mode"])
	if err != nil {
		return module.Unchanged(module.Failed("directory_mode: %v", err)), nil
	}
	var steps []func(context.Context) error
	var diffs []module.Diff
	for i, e := range entries {
		st, p := sts[i], paths[i]
		if e.dir || e.isLink {
			var step func(context.Context) error
			var diff module.Diff
			var fail string
			if e.dir {
				step, diff, fail = dirCopyStep(h, args, p, dirMode, st)
			} else {
				step, diff, fail = linkCopyStep(h, args, p, e.link, st)
			}
			if fail != "" {
				return module.Unchanged(module.Failed("%s", fail)), nil
			}
			if step != nil {
				diffs = append(diffs, diff)
				steps = append(steps, step)
			}
			continue
		}
		if st.Exists && !args.Bool("force") {
			continue
		}
		mode, err := modeArg(args, e.perm)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		cc := &contentChange{Path: p, St: st, After: e.data, Owner: args.String("owner"), Group: args.String("group"), Mode: mode,
			Backup: args.Bool("backup"), Validate: args.String("validate"), DiffHeader: p, DiffAfterHeader: e.local}
		cp, err := cc.plan()
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		if !cp.Changed() {
			continue
		}
		diffs = append(diffs, cp.Diffs...)
		steps = append(steps, func(ctx context.Context) error {
			_, fail, err := cc.apply(ctx, h, cp)
			if fail != nil {
				return fmt.Errorf("%s: %v", p, fail["msg"])
			}
			return err
		})
	}
	result := module.Result{"dest": root, "src": src}
	if len(steps) == 0 {
		return module.Unchanged(result), nil
	}
	return &module.Plan{Changed: true, Result: result, Diff: diffs, Apply: func(ctx context.Context) (module.Result, error) {
		for _, s := range steps {
			if err := s(ctx); err != nil {
				return nil, err
			}
		}
		return result, nil
	}}, nil
}

// dirCopyStep plans a directory of a directory copy at p (inspected as
// st): nothing when it is there, else a step creating it with
// directory_mode, owner and group.
func dirCopyStep(h *module.Host, args module.Args, p string, dirMode Mode, st *RemoteStat) (func(context.Context) error, module.Diff, string) {
	if st.IsDir() {
		return nil, module.Diff{}, ""
	}
	if st.Exists {
		return nil, module.Diff{}, fmt.Sprintf("%s exists and is not a directory", p)
	}
	m, err := dirMode.Apply(0o777&^st.Umask, true, st.Umask)
	if err != nil {
		return nil, module.Diff{}, err.Error()
	}
	cmd := "mkdir -p -- " + shell.Quote(p)
	if dirMode.IsSet() {
		cmd += " && chmod -- " + fmt.Sprintf("%04o", m) + " " + shell.Quote(p)
	}
	if a := attrCommand(p, args.String("owner"), args.String("group"), 0, false, false, false); a != "" {
		cmd += " && " + a
	}
	diff := attrDiff(p, map[string]any{"state": "absent"}, map[string]any{"state": "directory"})
	return func(ctx context.Context) error { return runOK(ctx, h, cmd, "create directory "+p) }, diff, ""
}
