package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// File is Ansible's file module: manage files, directories, links and
// their attributes.
type File struct{}

var _ module.Module = (*File)(nil)

var fileSpec = &module.Spec{
	Name:  "file",
	Short: "Manage files and file properties",
	Description: `Sets attributes of files, directories and symbolic links, or creates and removes them.
state=file only changes attributes of an existing file; directory creates missing parents
(like mkdir -p); link and hard create symbolic or hard links to src; touch creates an empty
file or updates times; absent removes recursively. Without state the path keeps its current
type (file when it does not exist). A converged path costs one round trip (two with
recurse).`,
	Args: append([]module.Arg{
		{Name: "path", Aliases: []string{"dest", "name"}, Type: module.Path, Expand: true, Required: true, Doc: "Path to the file being managed."},
		{Name: "state", Type: module.String, Choices: []string{"absent", "directory", "file", "hard", "link", "touch"}, Doc: "What path should be. Default: its current state, or file when it does not exist."},
		{Name: "src", Type: module.Path, Expand: true, Doc: "Target of the link for state=link and state=hard (relative link targets are kept as given)."},
		{Name: "recurse", Type: module.Bool, Default: false, Doc: "With state=directory, apply owner, group and mode to everything below path."},
		{Name: "_diff_peek", Type: module.Bool, Doc: "Internal to Ansible's action plugins: only report whether path looks binary (appears_binary); nothing changes."},
		{Name: "force", Type: module.Bool, Default: false, Doc: "For links: replace an existing file or directory at path, or create a link to a missing src."},
		{Name: "follow", Type: module.Bool, Default: true, Doc: "When path is a symbolic link, set attributes of its target; with recurse, also of what the links in the tree point to (and the trees below linked directories), as Ansible does."},
		{Name: "access_time", Type: module.String, Doc: "preserve (default, except touch: now), now, or a time in access_time_format (states file and touch)."},
		{Name: "access_time_format", Type: module.String, Default: "%Y%m%d%H%M.%S", Doc: "Python strptime format of access_time (directives %Y %y %m %d %H %M %S), read in the host's time zone."},
		{Name: "modification_time", Type: module.String, Doc: "preserve (default, except touch: now), now, or a time in modification_time_format (states file and touch)."},
		{Name: "modification_time_format", Type: module.String, Default: "%Y%m%d%H%M.%S", Doc: "Python strptime format of modification_time (directives %Y %y %m %d %H %M %S), read in the host's time zone."},
	}, fileAttrArgs()...),
	Check: module.CheckFull,
	Diff:  true,
	Examples: `- name: A private directory
  file:
    path: /srv/app/secrets
    state: directory
    owner: app
    group: app
    mode: '0700'

- name: Fix permissions recursively
  file:
    path: /srv/app/www
    state: directory
    recurse: true
    mode: u=rwX,g=rX,o=

- name: A symbolic link
  file:
    src: /opt/app/releases/42
    dest: /opt/app/current
    state: link

- name: Gone
  file:
    path: /tmp/old
    state: absent`,
}

// Spec implements module.Module.
func (*File) Spec() *module.Spec { return fileSpec }

// stateOf names a stat in the file module's terms.
func stateOf(st *RemoteStat) string {
	if !st.Exists {
		return "absent"
	}
	switch st.Type {
	case "file":
		if st.Nlink > 1 {
			return "hard"
		}
		return "file"
	case "directory", "link":
		return st.Type
	}
	return "file"
}

// Plan implements module.Module: one stat round trip, then the plan of
// the state asked for (fileTask's methods).
func (*File) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	p := args.String("path")
	if args["_diff_peek"] != nil {
		// Ansible's execute_diff_peek: a NUL in the first 8 KiB.
		res, err := h.Run(ctx, "head -c 8192 -- "+shell.Path(p)+" 2>/dev/null | tr -d -c '\\000' | wc -c")
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return module.Unchanged(module.Result{"path": p, "appears_binary": strings.TrimSpace(string(res.Stdout)) != "0"}), nil
	}
	src := args.String("src")
	mode, err := parseMode(args["mode"])
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	paths := []string{p}
	if src != "" && args.String("state") == "hard" {
		paths = append(paths, src)
	}
	opts := make([]statOptions, len(paths), len(paths)+3)
	// A symbolic link's src must exist unless force, relative to path
	// when path is a directory, else to its directory: both, as path's
	// type is not known yet.
	linkSrcAt := -1
	if src != "" && args.String("state") != "hard" && !args.Bool("force") {
		linkSrcAt = len(paths)
		paths = append(paths, linkSource(p, src, false), linkSource(p, src, true))
		opts = append(opts, statOptions{Follow: true, TypeOnly: true}, statOptions{Follow: true, TypeOnly: true})
	}
	// The link itself and, for follow, its target in the same round trip.
	sts, err := statEach(ctx, h, append(paths, p), append(opts, statOptions{Follow: true}))
	if err != nil {
		return nil, err
	}
	t := &fileTask{h: h, args: args, path: p, src: src, owner: args.String("owner"), group: args.String("group"),
		mode: mode, lst: sts[0], sst: sts[1]}
	if linkSrcAt >= 0 {
		t.linkSrc = sts[linkSrcAt : linkSrcAt+2]
	}
	t.prev = stateOf(t.lst)
	state, fail := fileWantedState(args.String("state"), t.prev, args.Bool("recurse"), src)
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	t.result = module.Result{"path": t.lst.Path}
	// target is the stat attributes apply to.
	t.target = t.lst
	if fst := sts[len(sts)-1]; args.Bool("follow") && t.lst.Type == "link" && fst.Exists {
		t.target = fst
	}
	owners, err := t.lookupOwners(ctx, state)
	if err != nil {
		return nil, err
	}
	plan, err := t.statePlan(ctx, state)
	if err != nil || plan == nil {
		return plan, err
	}
	if err := t.addResultDiff(ctx, plan, state); err != nil {
		return nil, err
	}
	t.ansibleShape(plan, state, sts[0], sts[len(sts)-1])
	return t.withOwnerLookup(plan, owners), nil
}

// ansibleShape gives the results the file module's shape in Ansible: the
// path under dest for link, hard and touch, and the attributes of what is
// at the path afterwards as AnsibleModule.add_path_info reads them (a
// link's own, state link), or none when nothing is there. A changed plan
// reads them once applied; in check mode they are the current ones.
func (t *fileTask) ansibleShape(plan *module.Plan, state string, lst, fst *RemoteStat) {
	key := "path"
	switch state {
	case "link", "hard", "touch":
		key = "dest"
	}
	shape := func(r module.Result, lst, fst *RemoteStat) module.Result {
		if r == nil || r["failed"] == true {
			return r
		}
		// Only state=absent reports a state of its own; any other comes
		// from what is at the path (none in check mode before creation).
		delete(r, "state")
		if state == "absent" {
			r["state"] = "absent"
		}
		if p, ok := r["path"]; ok && key == "dest" {
			delete(r, "path")
			r["dest"] = p
		}
		for _, k := range []string{"uid", "gid", "owner", "group", "mode", "size"} {
			delete(r, k)
		}
		return addPathInfo(r, lst, fst)
	}
	plan.Result = shape(plan.Result, lst, fst)
	if plan.Apply == nil {
		return
	}
	apply := plan.Apply
	plan.Apply = func(ctx context.Context) (module.Result, error) {
		r, err := apply(ctx)
		if err != nil || r == nil {
			return r, err
		}
		sts, err := statEach(ctx, t.h, []string{t.path, t.path}, []statOptions{{}, {Follow: true}})
		if err != nil {
			return nil, err
		}
		return shape(r, sts[0], sts[1]), nil
	}
}

// addPathInfo is AnsibleModule.add_path_info: when the path exists
// (following links), the owner, mode and size of the path itself (lstat)
// and what it is: link, directory, hard (several names) or file.
func addPathInfo(r module.Result, lst, fst *RemoteStat) module.Result {
	if !fst.Exists || !lst.Exists {
		return r
	}
	r["uid"], r["gid"], r["owner"], r["group"] = lst.UID, lst.GID, lst.Owner, lst.Group
	r["mode"] = formatMode(lst.Mode)
	r["size"] = lst.Size
	switch {
	case lst.Type == "link":
		r["state"] = "link"
	case fst.Type == "directory":
		r["state"] = "directory"
	case fst.Nlink > 1:
		r["state"] = "hard"
	default:
		r["state"] = "file"
	}
	return r
}

func (t *fileTask) statePlan(ctx context.Context, state string) (*module.Plan, error) {
	switch state {
	case "absent":
		return t.absent(), nil
	case "file":
		plan, err := t.file(ctx)
		if err != nil || plan == nil || plan.Result["failed"] == true {
			return plan, err
		}
		return t.addTimes(ctx, plan, state)
	case "directory":
		return t.directory(ctx)
	case "touch":
		plan, err := t.touch()
		if err != nil || plan == nil || plan.Result["failed"] == true {
			return plan, err
		}
		return t.addTimes(ctx, plan, state)
	case "link":
		return t.link(ctx)
	case "hard":
		return t.hard(ctx)
	}
	return module.Unchanged(module.Failed("unsupported state %q", state)), nil
}

// addTimes sets modification_time and access_time on the target (its
// state file or touch), as Ansible's update_timestamp_for_file: an
// explicit time changes the file when it differs; touch itself already
// sets "now".
func (t *fileTask) addTimes(ctx context.Context, plan *module.Plan, state string) (*module.Plan, error) {
	mt, at, err := fileTimes(ctx, t.h, t.args, state)
	if err != nil {
		return module.Unchanged(fileFail(plan.Result, err.Error())), nil
	}
	if !mt.set && !at.set {
		return plan, nil
	}
	st := t.target
	if state == "touch" {
		if mt.now {
			mt = fileTime{}
		}
		if at.now {
			at = fileTime{}
		}
		if !st.Exists {
			// Just created: every explicit time changes it.
			st = &RemoteStat{Path: st.Path, Mtime: -1, Atime: -1}
		}
	}
	cmd, before, after := timesPlan(st, mt, at)
	if cmd == "" {
		return plan, nil
	}
	plan.Changed = true
	plan.Diff = append(plan.Diff, attrDiff(st.Path, before, after))
	prev := plan.Apply
	result := plan.Result
	plan.Apply = func(ctx context.Context) (module.Result, error) {
		r := result
		if prev != nil {
			var err error
			if r, err = prev(ctx); err != nil || r["failed"] == true {
				return r, err
			}
		}
		if err := runOK(ctx, t.h, cmd, "set the times of "+st.Path); err != nil {
			return nil, err
		}
		return r, nil
	}
	return plan, nil
}

// addResultDiff puts in the result the diff Ansible's file module always
// returns, diff mode or not: before and after dicts with the path, the
// state when it changes (with path_content, the tree removed, for a
// directory made absent), the link's src when it changes, and the
// attributes that change. An absent path left absent has none.
func (t *fileTask) addResultDiff(ctx context.Context, plan *module.Plan, state string) error {
	r := plan.Result
	if r == nil || r["failed"] == true || (state == "absent" && !plan.Changed) {
		return nil
	}
	before, after := map[string]any{"path": t.lst.Path}, map[string]any{"path": t.lst.Path}
	for _, d := range plan.Diff {
		for _, x := range []struct {
			text string
			into map[string]any
		}{{d.Before, before}, {d.After, after}} {
			var m map[string]any
			if json.Unmarshal([]byte(x.text), &m) == nil {
				for k, v := range m {
					x.into[k] = v
				}
			}
		}
	}
	if before["state"] == after["state"] {
		// Ansible names the state only when it changes.
		delete(before, "state")
		delete(after, "state")
	}
	if state == "link" && t.prev == "link" && plan.Changed && t.lst.LinkTarget != t.src {
		before["src"], after["src"] = t.lst.LinkTarget, t.src
	}
	if state == "absent" && t.prev == "directory" {
		content, err := dirContent(ctx, t.h, t.lst.Path)
		if err != nil {
			return err
		}
		before["path_content"] = content
	}
	extra := map[string]any{"diff": map[string]any{"before": before, "after": after}}
	if state == "link" || state == "hard" {
		// Ansible names a link's path dest, with its src.
		src := t.src
		if src == "" {
			src = t.lst.LinkTarget
		}
		extra["dest"], extra["src"] = t.lst.Path, src
	}
	for k, v := range extra {
		r[k] = v
	}
	if apply := plan.Apply; apply != nil {
		plan.Apply = func(ctx context.Context) (module.Result, error) {
			res, err := apply(ctx)
			for k, v := range extra {
				if _, ok := res[k]; !ok && res != nil {
					res[k] = v
				}
			}
			return res, err
		}
	}
	return nil
}

// dirContent lists the directories and files below dir, as the
// path_content of Ansible's file diff.
func dirContent(ctx context.Context, h *module.Host, dir string) (map[string]any, error) {
	res, err := h.Run(ctx, "find "+shell.Path(dir)+" -mindepth 1 \\( -type d -printf 'd%p\\0' \\) -o -printf 'f%p\\0'")
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	dirs, files := []any{}, []any{}
	for _, e := range strings.Split(string(res.Stdout), "\x00") {
		switch {
		case strings.HasPrefix(e, "d"):
			dirs = append(dirs, e[1:])
		case strings.HasPrefix(e, "f"):
			files = append(files, e[1:])
		}
	}
	return map[string]any{"directories": dirs, "files": files}, nil
}

// fileWantedState returns the state a task asks for: the given one or,
// without one, the path's current state (absent: a directory for recurse,
// else a file, so that src alone is refused, as in Ansible). fail is why
// the arguments do not fit it.
func fileWantedState(state, prev string, recurse bool, src string) (want, fail string) {
	if state == "" {
		switch {
		case prev != "absent":
			state = prev
		case recurse:
			state = "directory"
		default:
			state = "file"
		}
	}
	if recurse && state != "directory" {
		return state, "recurse option requires state to be 'directory'"
	}
	if src != "" && state != "link" && state != "hard" {
		return state, "src option requires state to be 'link' or 'hard'"
	}
	// A link without src keeps its target (Ansible's ensure_symlink and
	// ensure_hardlink).
	if src == "" && (state == "link" && prev != "link" || state == "hard" && prev != "hard") {
		return state, fmt.Sprintf("src is required for creating new %ss", map[string]string{"link": "symlink", "hard": "hardlink"}[state])
	}
	return state, ""
}

// fileTask is one file task with what its probe read.
type fileTask struct {
	h            *module.Host
	args         module.Args
	path, src    string
	owner, group string
	mode         Mode
	// lst is the path itself, target the stat attributes apply to (the
	// link's target with follow), sst the hard link's src.
	lst, target, sst *RemoteStat
	// linkSrc are a symbolic link's src as found from path's directory
	// and from path itself (a directory); nil with force.
	linkSrc []*RemoteStat
	prev    string
	result  module.Result
}

func (t *fileTask) stateDiff(before, after string) module.Diff {
	return attrDiff(t.lst.Path, map[string]any{"state": before}, map[string]any{"state": after})
}

func (t *fileTask) attrsPlan(st *RemoteStat) (AttrPlan, error) {
	if !st.Exists {
		return AttrPlan{}, nil
	}
	return planAttrs(st, t.owner, t.group, t.mode)
}

func (t *fileTask) absent() *module.Plan {
	if !t.lst.Exists {
		t.result["state"] = "absent"
		return module.Unchanged(t.result)
	}
	plan := changedPlan(t.result, "absent", []module.Diff{t.stateDiff(t.prev, "absent")}, func(ctx context.Context) error {
		return runOK(ctx, t.h, "rm -rf -- "+shell.Quote(t.lst.Path), "remove "+t.lst.Path)
	})
	// In check mode the path is still there, and Ansible's result
	// describes it (add_path_info).
	plan.Result = fileResult(module.Result{"path": t.lst.Path}, t.lst)
	return plan
}

func (t *fileTask) file(ctx context.Context) (*module.Plan, error) {
	if !t.target.Exists || t.target.Type != "file" {
		// Ansible's result names the state found.
		t.result["state"] = stateOf(t.target)
		return module.Unchanged(fileFail(t.result, fmt.Sprintf("file (%s) is %s, cannot continue", t.path, stateOf(t.target)))), nil
	}
	return attrOnlyPlan(ctx, t.h, t.result, t.target, t.attrsPlan)
}

func (t *fileTask) directory(ctx context.Context) (*module.Plan, error) {
	if t.target.Exists && t.target.Type != "directory" {
		return module.Unchanged(fileFail(t.result, fmt.Sprintf("%s already exists as a %s", t.path, stateOf(t.target)))), nil
	}
	if t.target.Exists {
		if t.args.Bool("recurse") {
			return recursePlan(ctx, t.h, t.result, t.target, t.owner, t.group, t.mode, t.args.Bool("follow"))
		}
		return attrOnlyPlan(ctx, t.h, t.result, t.target, t.attrsPlan)
	}
	m, err := t.mode.Apply(0o777&^t.lst.Umask, true, t.lst.Umask)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	cmd := "mkdir -p -- " + shell.Quote(t.lst.Path)
	if a := attrCommand(t.lst.Path, t.owner, t.group, m, t.mode.IsSet(), false, t.args.Bool("recurse")); a != "" {
		cmd += " && " + a
	}
	plan := changedPlan(t.result, "directory", []module.Diff{t.stateDiff("absent", "directory")}, func(ctx context.Context) error {
		return runOK(ctx, t.h, cmd, "create directory "+t.lst.Path)
	})
	// In check mode nothing is there to describe: Ansible's result has
	// the path alone.
	plan.Result = module.Result{"path": t.lst.Path}
	return plan, nil
}

// touch creates the file or, unless both times are preserved, updates
// its times; attributes are set as for state=file.
func (t *fileTask) touch() (*module.Plan, error) {
	target := t.target
	now := t.args.String("modification_time") != "preserve" || t.args.String("access_time") != "preserve"
	a, err := t.attrsPlan(target)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if target.Exists && !now && !a.Changed() {
		return module.Unchanged(fileResult(t.result, target)), nil
	}
	cmd := "touch -- " + shell.Quote(target.Path)
	if target.Exists && !now {
		cmd = "true"
	}
	var diffs []module.Diff
	if !target.Exists {
		m, err := t.mode.Apply(uint32(0o666&^t.lst.Umask), false, t.lst.Umask)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		if c := attrCommand(target.Path, t.owner, t.group, m, t.mode.IsSet(), false, false); c != "" {
			// As Ansible: a file it created goes again when its
			// attributes cannot be set.
			cmd += " && { " + c + " || { rm -f -- " + shell.Quote(target.Path) + "; exit 1; }; }"
		}
		diffs = append(diffs, t.stateDiff("absent", "touch"))
	} else {
		if c := a.Command(target.Path, false); c != "" {
			cmd += " && " + c
		}
		if len(a.Before) > 0 {
			diffs = append(diffs, attrDiff(target.Path, a.Before, a.After))
		}
	}
	plan := changedPlan(t.result, "", diffs, nil)
	if !target.Exists {
		// Ansible's execute_touch in check mode: dest and changed only.
		plan.Result = module.Result{"dest": target.Path}
	}
	plan.Apply = func(ctx context.Context) (module.Result, error) {
		if err := runOK(ctx, t.h, cmd, "touch "+target.Path); err != nil {
			return nil, err
		}
		// The touched file's attributes are added by ansibleShape.
		return maps.Clone(t.result), nil
	}
	return plan, nil
}

// followAttrCommand sets owner, group and mode of what the link at path
// points to (chown and chmod follow links).
func followAttrCommand(path, owner, group string, mode Mode) string {
	c := attrCommand(path, owner, group, 0, false, false, false)
	if !mode.IsSet() {
		return c
	}
	m := mode.String()
	if !mode.IsSymbolic() {
		m = fmt.Sprintf("%04o", mode.octal&permBits)
	}
	if c != "" {
		c += " && "
	}
	return c + "chmod -- " + shell.Quote(m) + " " + shell.Quote(path)
}

// linkSource is where a symbolic link's src is, as Ansible's file
// module finds it: relative to path when path is a directory, else to
// path's directory.
func linkSource(path, src string, inDir bool) string {
	if strings.HasPrefix(src, "/") {
		return src
	}
	if inDir {
		return strings.TrimSuffix(path, "/") + "/" + src
	}
	return filepath.Join(filepath.Dir(path), src)
}

func (t *fileTask) link(ctx context.Context) (*module.Plan, error) {
	lst, src := t.lst, t.src
	if src == "" {
		// An existing link, given without src: its attributes only.
		src = lst.LinkTarget
	}
	if len(t.linkSrc) == 2 {
		abs, st := linkSource(t.path, src, false), t.linkSrc[0]
		if lst.Exists && lst.Type == "directory" {
			abs, st = linkSource(t.path, src, true), t.linkSrc[1]
		}
		if !st.Exists {
			t.result["src"] = src
			return module.Unchanged(fileFail(t.result, `src file does not exist, use "force=yes" if you really want to create the link: `+abs)), nil
		}
	}
	if lst.Type == "link" && lst.LinkTarget == src {
		if t.target != lst {
			// follow: the attributes are the existing target's.
			return attrOnlyPlan(ctx, t.h, t.result, t.target, t.attrsPlan)
		}
		return attrOnlyLink(ctx, t.h, t.result, lst, t.owner, t.group)
	}
	if lst.Exists && lst.Type != "link" && !t.args.Bool("force") {
		return module.Unchanged(fileFail(t.result, fmt.Sprintf("refusing to convert from %s to symlink for %s", t.prev, t.path))), nil
	}
	// The link is made as given; only an empty directory is replaced by
	// it (with force), as in Ansible.
	cmd := "ln -sfn -- " + shell.Quote(src) + " " + shell.Quote(lst.Path)
	if lst.Type == "directory" {
		res, err := t.h.Run(ctx, "find "+shell.Path(lst.Path)+" -mindepth 1 -print -quit")
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", lst.Path, err)
		}
		if len(res.Stdout) > 0 || res.ExitCode != 0 {
			return module.Unchanged(fileFail(t.result, fmt.Sprintf("the directory %s is not empty, refusing to convert it", t.path))), nil
		}
		cmd = "rmdir -- " + shell.Quote(lst.Path) + " && " + cmd
	}
	if t.args.Bool("follow") {
		// As Ansible: the attributes go to the link's target, when it
		// exists once the link is made.
		if c := followAttrCommand(lst.Path, t.owner, t.group, t.mode); c != "" {
			cmd += " && { if [ -e " + shell.Quote(lst.Path) + " ]; then " + c + "; fi; }"
		}
	} else if t.owner != "" || t.group != "" {
		cmd += " && " + attrCommand(lst.Path, t.owner, t.group, 0, false, true, false)
	}
	return changedPlan(t.result, "link", []module.Diff{t.stateDiff(t.prev, "link")}, func(ctx context.Context) error {
		return runOK(ctx, t.h, cmd, "link "+lst.Path+" to "+src)
	}), nil
}

func (t *fileTask) hard(ctx context.Context) (*module.Plan, error) {
	lst, sst, src := t.lst, t.sst, t.src
	if src == "" {
		// An existing hard link, given without src: its attributes.
		return attrOnlyPlan(ctx, t.h, t.result, lst, t.attrsPlan)
	}
	if !sst.Exists {
		// Ansible's result names dest and src, and describes dest when
		// it exists.
		r := module.Result{"dest": lst.Path, "src": src}
		if lst.Exists {
			r = fileResult(r, lst)
		}
		return module.Unchanged(fileFail(r, "src does not exist")), nil
	}
	if lst.Exists && lst.Inode == sst.Inode && lst.Dev == sst.Dev {
		return attrOnlyPlan(ctx, t.h, t.result, lst, t.attrsPlan)
	}
	if lst.Exists && !t.args.Bool("force") && lst.Type != "file" {
		return module.Unchanged(fileFail(t.result, fmt.Sprintf("refusing to convert from %s to hard for %s", t.prev, t.path))), nil
	}
	cmd := "ln -f -- " + shell.Quote(src) + " " + shell.Quote(lst.Path)
	a, err := planAttrs(sst, t.owner, t.group, t.mode)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if c := a.Command(lst.Path, false); c != "" {
		cmd += " && " + c
	}
	return changedPlan(t.result, "hard", []module.Diff{t.stateDiff(t.prev, "hard")}, func(ctx context.Context) error {
		return runOK(ctx, t.h, cmd, "hard link "+lst.Path+" to "+src)
	}), nil
}

func fileFail(r module.Result, msg string) module.Result {
	r["failed"] = true
	r["msg"] = msg
	return r
}

// changedPlan is a plan that runs do and then reports the path's final
// attributes; state, when set, is reported before running.
func changedPlan(result module.Result, state string, diffs []module.Diff, do func(context.Context) error) *module.Plan {
	if state != "" {
		result["state"] = state
	}
	p := &module.Plan{Changed: true, Result: result, Diff: diffs}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		if err := do(ctx); err != nil {
			return nil, err
		}
		return maps.Clone(result), nil
	}
	return p
}

// attrOnlyPlan changes only owner, group and mode of an existing path.
func attrOnlyPlan(ctx context.Context, h *module.Host, result module.Result, st *RemoteStat, plan func(*RemoteStat) (AttrPlan, error)) (*module.Plan, error) {
	a, err := plan(st)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	fileResult(result, st)
	if !a.Changed() {
		return module.Unchanged(result), nil
	}
	cmd := a.Command(st.Path, false)
	path, _ := result["path"].(string)
	p := &module.Plan{Changed: true, Result: result, Diff: []module.Diff{attrDiff(path, a.Before, a.After)}}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		if err := runOK(ctx, h, cmd, "set attributes of "+st.Path); err != nil {
			return nil, err
		}
		// The attributes afterwards are added by ansibleShape.
		return maps.Clone(result), nil
	}
	return p, nil
}

// attrOnlyLink sets owner/group of a correct symbolic link itself.
func attrOnlyLink(ctx context.Context, h *module.Host, result module.Result, st *RemoteStat, owner, group string) (*module.Plan, error) {
	a, _ := planAttrs(st, owner, group, Mode{})
	fileResult(result, st)
	if !a.Changed() {
		return module.Unchanged(result), nil
	}
	cmd := a.Command(st.Path, true)
	p := &module.Plan{Changed: true, Result: result, Diff: []module.Diff{attrDiff(st.Path, a.Before, a.After)}}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		return result, runOK(ctx, h, cmd, "set owner of link "+st.Path)
	}
	return p, nil
}

// recursePlan checks the whole tree below a directory in a second round
// trip (find prints the first entry that differs) and fixes it with
// chown -R / chmod -R. Symbolic modes are resolved per entry by chmod
// itself, whose rules match Ansible's except for X on mixed trees.
//
// With follow (the file module's default), Ansible's
// recursive_set_attributes also sets the attributes of what each
// symbolic link in the tree points to, and of the tree below a linked
// directory: find -L walks those, and links themselves keep getting
// their owner (chown -h).
func recursePlan(ctx context.Context, h *module.Host, result module.Result, st *RemoteStat, owner, group string, mode Mode, follow bool) (*module.Plan, error) {
	fileResult(result, st)
	var ownConds []string
	if owner != "" {
		ownConds = append(ownConds, "! -user "+shell.Quote(owner))
	}
	if group != "" {
		ownConds = append(ownConds, "! -group "+shell.Quote(group))
	}
	conds := ownConds
	modeArg := ""
	if mode.IsSet() {
		if mode.IsSymbolic() {
			modeArg = mode.String()
			conds = append(conds, "-true")
		} else {
			modeArg = fmt.Sprintf("%04o", mode.octal)
			conds = append(conds, "! -type l ! -perm "+modeArg)
		}
	}
	if len(conds) == 0 {
		return module.Unchanged(result), nil
	}
	path := shell.Path(st.Path)
	// walks are the find commands that list what gets the attributes:
	// the tree, and with follow the tree seen through its links.
	walks := []string{"find " + path}
	if follow {
		walks = append(walks, "find -L "+path)
	}
	firstOf := func(conds []string) string {
		var cmds []string
		for _, w := range walks {
			cmds = append(cmds, w+" \\( "+strings.Join(conds, " -o ")+" \\) -print -quit 2>/dev/null")
		}
		return strings.Join(cmds, "; ")
	}
	check := firstOf(conds)
	if mode.IsSymbolic() {
		// Symbolic modes: let chmod report whether it would change anything.
		check = walks[len(walks)-1] + " ! -type l -print0 | xargs -0 -r stat -L -c '%a %F' | head -c 1048576"
	}
	res, err := h.Run(ctx, check)
	if err != nil {
		return nil, fmt.Errorf("check %s recursively: %w", st.Path, err)
	}
	changed := false
	if mode.IsSymbolic() {
		for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
			f := strings.SplitN(line, " ", 2)
			if len(f) != 2 {
				continue
			}
			var cur uint32
			fmt.Sscanf(f[0], "%o", &cur)
			want, err := mode.Apply(cur, f[1] == "directory", st.Umask)
			if err == nil && want != cur {
				changed = true
				break
			}
		}
		if !changed && len(ownConds) > 0 {
			r2, err := h.Run(ctx, firstOf(ownConds))
			if err != nil {
				return nil, fmt.Errorf("check %s recursively: %w", st.Path, err)
			}
			changed = len(r2.Stdout) > 0
		}
	} else {
		changed = len(res.Stdout) > 0
	}
	if !changed {
		return module.Unchanged(result), nil
	}
	var cmds []string
	if c := attrCommand(st.Path, owner, group, 0, false, true, true); c != "" {
		cmds = append(cmds, c)
		if follow {
			og := owner
			if group != "" {
				og += ":" + group
			}
			cmds = append(cmds, "find -L "+path+" ! -type l -exec chown -- "+shell.Quote(og)+" {} +")
		}
	}
	if modeArg != "" {
		if follow {
			cmds = append(cmds, "find -L "+path+" ! -type l -exec chmod -- "+shell.Quote(modeArg)+" {} +")
		} else {
			cmds = append(cmds, "chmod -R -- "+shell.Quote(modeArg)+" "+shell.Quote(st.Path))
		}
	}
	cmd := strings.Join(cmds, " && ")
	p := &module.Plan{Changed: true, Result: result}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		if err := runOK(ctx, h, cmd, "set attributes recursively on "+st.Path); err != nil {
			return nil, err
		}
		return maps.Clone(result), nil
	}
	return p, nil
}
