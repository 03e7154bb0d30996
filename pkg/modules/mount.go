package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/mountinfo"
	"github.com/tend-dev/tend/pkg/shell"
)

// Mount manages mount points and their fstab entries.
type Mount struct{}

var _ module.Module = (*Mount)(nil)

// Spec implements module.Module.
func (Mount) Spec() *module.Spec {
	return &module.Spec{
		Name:  "mount",
		Short: "Manage mounts and fstab entries",
		Description: "Adds, changes or removes an fstab entry and mounts, remounts or unmounts the file " +
			"system, with Ansible's semantics for each state. fstab and /proc/self/mountinfo are read " +
			"in one round trip, the new fstab is computed on the controller and written atomically. " +
			"Any file system mount(8) handles works (nfs/nfs4 need nfs-common on the host, " +
			"fuse.sshfs needs sshfs).\n\n" +
			"States: `mounted` (fstab entry + mounted; remounted when the entry changed), `present` " +
			"(fstab only), `unmounted` (unmount, fstab untouched), `absent` (remove the entry, unmount, " +
			"remove the mount point directory), `absent_from_fstab` (remove the entry only), " +
			"`remounted` (always remount), `ephemeral` (mount without touching fstab).",
		Args: []module.Arg{
			{Name: "path", Aliases: []string{"name"}, Required: true, Type: module.Path, Expand: true, Doc: "Mount point."},
			{Name: "src", Type: module.String, Expand: true, Doc: "Device, `server:/export` or other source. Required for mounted, present and ephemeral."},
			{Name: "fstype", Type: module.String, Doc: "File system type (ext4, nfs, nfs4, fuse.sshfs, tmpfs...). Required for mounted, present and ephemeral."},
			{Name: "opts", Type: module.String, Doc: "Mount options; default `defaults`."},
			{Name: "dump", Type: module.String, Default: "0", Doc: "fstab dump field."},
			{Name: "passno", Type: module.String, Default: "0", Doc: "fstab fsck pass field."},
			{Name: "state", Type: module.String, Required: true,
				Choices: []string{"mounted", "present", "unmounted", "absent", "absent_from_fstab", "remounted", "ephemeral"}, Doc: "See the description."},
			{Name: "fstab", Type: module.Path, Default: "/etc/fstab", Doc: "fstab file to manage."},
			{Name: "boot", Type: module.Bool, Default: true, Doc: "Mount at boot; false adds `noauto` to the options."},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a timestamped copy of fstab before changing it."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Shared data over NFS
  mount:
    path: /srv/data
    src: nfs.example.com:/export/data
    fstype: nfs4
    opts: rw,hard,noatime
    state: mounted
`,
	}
}

// escapeFstab is Ansible's _escape_fstab.
func escapeFstab(v string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`, "&", `\046`).Replace(v)
}

// mountEntry is one mounted file system from /proc/self/mountinfo.
type mountEntry struct {
	Target, FSType, Source, Options string
}

// parseMountinfo reads /proc/self/mountinfo.
func parseMountinfo(s string) map[string]mountEntry {
	m := map[string]mountEntry{}
	for _, line := range strings.Split(s, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 6 || len(g) < 2 {
			continue
		}
		e := mountEntry{Target: mountinfo.Unescape(f[4]), FSType: g[0], Source: mountinfo.Unescape(g[1]), Options: f[5]}
		m[e.Target] = e // later (upper) mounts win
	}
	return m
}

// fstabArgs are the escaped values an fstab line is compared with.
type fstabArgs struct {
	src, name, fstype, opts, dump, passno string
}

func (a fstabArgs) line() string {
	return strings.Join([]string{a.src, a.name, a.fstype, a.opts, a.dump, a.passno}, " ")
}

// setFstab is Ansible's set_mount: it returns the new content and
// whether it changed. Lines are kept byte for byte unless they are the
// entry being changed.
func setFstab(content string, want fstabArgs) (string, bool) {
	lines := splitKeepEmpty(content)
	var out []string
	exists, changed := false, false
	for _, line := range lines {
		t := strings.TrimSpace(line)
		f := strings.Fields(line)
		if t == "" || strings.HasPrefix(t, "#") || len(f) < 4 {
			out = append(out, line)
			continue
		}
		ld := fstabArgs{src: f[0], name: f[1], fstype: f[2], opts: f[3], dump: "0", passno: "0"}
		if len(f) > 4 {
			ld.dump = f[4]
		}
		if len(f) > 5 {
			ld.passno = f[5]
		}
		if ld.name != want.name || (ld.name == "none" && ld.fstype == "swap" && ld.src != want.src) {
			out = append(out, line)
			continue
		}
		exists = true
		lineChanged := false
		for _, p := range []struct{ cur, want *string }{
			{&ld.src, &want.src}, {&ld.fstype, &want.fstype}, {&ld.opts, &want.opts}, {&ld.dump, &want.dump}, {&ld.passno, &want.passno},
		} {
			if *p.cur != *p.want {
				*p.cur = *p.want
				lineChanged = true
			}
		}
		if lineChanged {
			changed = true
			out = append(out, ld.line())
		} else {
			out = append(out, line)
		}
	}
	if !exists {
		out = append(out, want.line())
		changed = true
	}
	return joinLines(out), changed
}

// unsetFstab is Ansible's unset_mount.
func unsetFstab(content string, want fstabArgs) (string, bool) {
	var out []string
	changed := false
	for _, line := range splitKeepEmpty(content) {
		t := strings.TrimSpace(line)
		f := strings.Fields(line)
		if t == "" || strings.HasPrefix(t, "#") || len(f) < 4 {
			out = append(out, line)
			continue
		}
		if f[1] != want.name || (f[1] == "none" && f[2] == "swap" && want.src != "" && f[0] != want.src) {
			out = append(out, line)
			continue
		}
		changed = true
	}
	return joinLines(out), changed
}

// splitKeepEmpty splits content into lines without their newlines.
func splitKeepEmpty(content string) []string {
	if content == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(content, "\n"), "\n")
}

func joinLines(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}

// mountOpts returns the opts value with boot=false applied.
func mountOpts(args module.Args) string {
	opts := args.String("opts")
	if opts == "" {
		opts = "defaults"
	}
	if !args.Bool("boot") {
		var l []string
		has := false
		for _, o := range strings.Split(opts, ",") {
			if o == "defaults" {
				continue
			}
			if o == "noauto" {
				has = true
			}
			l = append(l, o)
		}
		if !has {
			l = append(l, "noauto")
		}
		opts = strings.Join(l, ",")
	}
	return opts
}

// Plan implements module.Module: one probe of the fstab, the mount
// table and the mount point, then decideMount works out the fstab edit
// and the mount commands, and Apply runs them.
func (Mount) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	path := strings.TrimSuffix(args.String("path"), "/")
	if path == "" {
		path = "/"
	}
	state := args.String("state")
	fstab := args.String("fstab")
	if (state == "mounted" || state == "present" || state == "ephemeral") && (args.String("src") == "" || args.String("fstype") == "") {
		return module.Unchanged(module.Failed("state=%s requires src and fstype", state)), nil
	}
	req := mountRequest{state: state, path: path, fstab: fstab, src: args.String("src"), fstype: args.String("fstype"), opts: mountOpts(args)}
	secs, err := runProbe(ctx, h, "mount "+path, catIfExists(fstab), "cat /proc/self/mountinfo",
		"[ -e "+shell.Path(path)+" ] && echo Y || echo N")
	if err != nil {
		return nil, err
	}
	content, _ := readCat(secs[0])
	cur, mounted := parseMountinfo(secs[1])[path]
	pathExists := strings.TrimSpace(secs[2]) == "Y"

	result := module.Result{
		"name": path, "src": req.src, "fstype": req.fstype, "opts": req.opts,
		"dump": args.String("dump"), "passno": args.String("passno"), "fstab": fstab, "boot": args.Bool("boot"),
	}
	want := fstabArgs{
		src: escapeFstab(req.src), name: escapeFstab(path), fstype: escapeFstab(req.fstype),
		opts: escapeFstab(req.opts), dump: escapeFstab(args.String("dump")), passno: escapeFstab(args.String("passno")),
	}
	var current *mountEntry
	if mounted {
		current = &cur
	}
	d, fail := decideMount(req, want, content, current, pathExists)
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	if !d.changed {
		return module.Unchanged(result), nil
	}
	var diffs []module.Diff
	if d.fstabChanged {
		diffs = append(diffs, module.Diff{BeforeHeader: fstab, AfterHeader: fstab, Before: content, After: d.content})
	}
	if len(d.cmds) > 0 {
		// The mount table is part of what changes: show it too.
		diffs = append(diffs, mountTableDiff(req, current))
	}
	return &module.Plan{Changed: true, Result: result, Diff: diffs,
		Apply: func(ctx context.Context) (module.Result, error) {
			return applyMount(ctx, h, result, req, args.Bool("backup") && content != "", d)
		}}, nil
}

// mountRequest is what a mount task asks for, opts with boot applied.
type mountRequest struct {
	state, path, fstab string
	src, fstype, opts  string
}

// mountDecision is what a mount task changes: the fstab's new content
// and the commands that (un)mount.
type mountDecision struct {
	content      string
	fstabChanged bool
	cmds         []string
	changed      bool
}

// decideMount works out the change for the task's state from the fstab
// content, the current mount of the path (nil: not mounted) and whether
// the mount point exists. fail is why the task cannot be done.
func decideMount(req mountRequest, want fstabArgs, content string, cur *mountEntry, pathExists bool) (d mountDecision, fail string) {
	d.content = content
	pq := shell.Path(req.path)
	tflag := ""
	if req.fstab != "/etc/fstab" {
		tflag = " -T " + shell.Quote(req.fstab)
	}
	remount := "{ mount -o remount" + tflag + " " + pq + " || { umount " + pq + " && mount" + tflag + " " + pq + "; }; }"
	mounted := cur != nil
	switch req.state {
	case "absent":
		d.content, d.fstabChanged = unsetFstab(content, want)
		if d.fstabChanged {
			d.changed = true
			if mounted {
				d.cmds = append(d.cmds, "umount "+pq)
			}
			if pathExists {
				d.cmds = append(d.cmds, "{ [ ! -d "+pq+" ] || rmdir "+pq+"; }")
			}
		}
	case "absent_from_fstab":
		d.content, d.fstabChanged = unsetFstab(content, want)
		d.changed = d.fstabChanged
	case "unmounted":
		if mounted {
			d.changed = true
			d.cmds = append(d.cmds, "umount "+pq)
		}
	case "present":
		d.content, d.fstabChanged = setFstab(content, want)
		d.changed = d.fstabChanged
	case "mounted":
		d.content, d.fstabChanged = setFstab(content, want)
		d.changed = d.fstabChanged
		if !pathExists {
			d.cmds = append(d.cmds, "mkdir -p "+pq)
		}
		if !mounted {
			d.changed = true
			d.cmds = append(d.cmds, "mount"+tflag+" "+pq)
		} else if d.fstabChanged {
			d.cmds = append(d.cmds, remount)
		}
	case "remounted":
		d.changed = true
		d.cmds = append(d.cmds, remount)
	case "ephemeral":
		if mounted {
			if cur.Source != req.src && cur.FSType != "none" {
				return d, fmt.Sprintf("Ephemeral mount point %s is already mounted with a different source (%s)", req.path, cur.Source)
			}
		} else {
			d.changed = true
			d.cmds = append(d.cmds, "mkdir -p -- "+pq, shell.Join("mount", "-t", req.fstype, "-o", req.opts, "--", req.src, req.path))
		}
	}
	return d, ""
}

// mountTableDiff shows the path's line of the mount table before and
// after.
func mountTableDiff(req mountRequest, cur *mountEntry) module.Diff {
	before := req.path + ": not mounted\n"
	if cur != nil {
		before = fmt.Sprintf("%s: %s on %s (%s)\n", req.path, cur.FSType, cur.Source, cur.Options)
	}
	after := fmt.Sprintf("%s: %s on %s (%s)\n", req.path, req.fstype, req.src, req.opts)
	switch req.state {
	case "unmounted", "absent":
		after = req.path + ": not mounted\n"
	case "remounted":
		after = before
	}
	return module.Diff{BeforeHeader: "mount table", AfterHeader: "mount table", Before: before, After: after}
}

// applyMount writes the fstab (after a backup, if asked) and runs the
// mount commands.
func applyMount(ctx context.Context, h *module.Host, result module.Result, req mountRequest, backup bool, d mountDecision) (module.Result, error) {
	out := module.Result{}
	for k, v := range result {
		out[k] = v
	}
	if d.fstabChanged {
		if backup {
			res, err := h.Run(ctx, "b="+shell.Quote(req.fstab)+".$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- "+shell.Quote(req.fstab)+" \"$b\" && echo \"$b\"")
			if err != nil {
				return nil, fmt.Errorf("back up %s on %s: %w", req.fstab, h.Name, err)
			}
			out["backup_file"] = strings.TrimSpace(string(res.Stdout))
		}
		if err := writeRemote(ctx, h, req.fstab, []byte(d.content), writeOptions{Mode: 0o644}); err != nil {
			return nil, err
		}
	}
	if len(d.cmds) > 0 {
		r, ok, err := runCmd(ctx, h, "Error mounting "+req.path, strings.Join(d.cmds, " && "))
		if err != nil {
			return nil, err
		}
		if !ok {
			for k, v := range r {
				out[k] = v
			}
		}
	}
	return out, nil
}
