package modules

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Git clones and updates git checkouts with the host's git.
type Git struct{}

var _ module.Module = (*Git)(nil)

// Spec implements module.Module.
func (*Git) Spec() *module.Spec {
	return &module.Spec{
		Name:  "git",
		Short: "Deploy software (or files) from git checkouts",
		Description: "Clones `repo` into `dest`, or brings an existing checkout to `version` (a branch, a tag, a " +
			"commit or HEAD: the remote's default branch, or the checked-out branch's remote head), with the " +
			"host's git. The plan reads the checkout (HEAD, local modifications, the remote's URL, the current " +
			"branch) and the remote's refs (`git ls-remote`) in one round trip and changes nothing; the " +
			"task changes when the commit would move, the remote URL differs, or local modifications are " +
			"discarded (force). Then, as Ansible does: clone (--depth, --branch, --single-branch, " +
			"--reference, --bare), or reset --hard (force), remote set-url, fetch (--tags, or the shallow " +
			"refspecs for depth), checkout/reset to the version, and `git submodule update --init " +
			"--recursive` when the checkout has submodules. ssh uses BatchMode with key_file, ssh_opts, " +
			"accept_hostkey and accept_newhostkey through GIT_SSH_COMMAND. Returns before, after and " +
			"remote_url_changed. Limits: a change of submodules alone is not predicted; a commit version " +
			"not fetched yet is reported as a change. separate_git_dir, verify_commit/gpg_whitelist, archive/" +
			"archive_prefix and track_submodules as in Ansible (see each).",
		Args: append([]module.Arg{
			{Name: "repo", Aliases: []string{"name"}, Required: true, Type: module.String, NotOption: true, Doc: "git, SSH or HTTP(S) URL of the repository, or a path on the host."},
			{Name: "dest", Type: module.Path, Expand: true, NotOption: true, Doc: "Path of the checkout; required unless clone=no."},
			{Name: "version", Type: module.String, Default: "HEAD", NotOption: true, Doc: "Branch, tag, commit (full SHA-1) or HEAD."},
			{Name: "remote", Type: module.String, Default: "origin", NotOption: true, Doc: "Name of the remote."},
			{Name: "refspec", Type: module.String, NotOption: true, Doc: "Extra refspec to fetch (e.g. refs/meta/config)."},
			{Name: "reference", Type: module.String, NotOption: true, Doc: "Reference repository (git clone --reference)."},
			{Name: "force", Type: module.Bool, Default: false, Doc: "Discard local modifications of tracked files; without it they fail the task."},
			{Name: "depth", Type: module.Int, Doc: "Shallow clone/fetch of this many commits (HEAD, branches, tags or with refspec)."},
			{Name: "clone", Type: module.Bool, Default: true, Doc: "Clone when dest does not exist."},
			{Name: "update", Type: module.Bool, Default: true, Doc: "Fetch and move an existing checkout; when false only report its version."},
			{Name: "accept_hostkey", Type: module.Bool, Default: false, Doc: "Add -o StrictHostKeyChecking=no to ssh."},
			{Name: "accept_newhostkey", Type: module.Bool, Default: false, Doc: "Add -o StrictHostKeyChecking=accept-new to ssh."},
			{Name: "key_file", Type: module.Path, Expand: true, Doc: "Private key on the host for ssh (-i, IdentitiesOnly=yes)."},
			{Name: "ssh_opts", Type: module.String, Doc: "Extra options for ssh."},
			{Name: "executable", Type: module.Path, Expand: true, Doc: "Path to git; default: git from PATH."},
			{Name: "bare", Type: module.Bool, Default: false, Doc: "Make a bare repository."},
			{Name: "recursive", Type: module.Bool, Default: true, Doc: "Update submodules after the checkout."},
			{Name: "single_branch", Type: module.Bool, Default: false, Doc: "Clone only the history leading to version."},
			{Name: "umask", Type: module.Raw, Doc: "Quoted octal umask for the git commands, e.g. \"0022\"."},
		}, gitExtraArgs()...),
		MutuallyExclusive: [][]string{{"accept_hostkey", "accept_newhostkey"}},
		Check:             module.CheckFull,
		Diff:              true,
		Examples: `- name: Deploy the app at a tag
  git:
    repo: https://github.com/example/app.git
    dest: /srv/app
    version: v1.2.0
`,
	}
}

// gitState is what the plan reads of the host and the remote.
type gitState struct {
	exists    bool
	before    string
	dirty     bool   // tracked files modified (untracked ones do not count)
	remoteURL string // "" when the remote is not configured
	head      string // branch checked out, or the remote's HEAD branch when detached
	local     bool   // version is a local branch
	resolved  string // version resolved to a commit locally, or ""
	refs      map[string]string
}

// gitDecision is what a git task does.
type gitDecision struct {
	fail       string
	changed    bool
	clone      bool
	update     bool // fetch and switch
	reset      bool // discard local modifications
	setURL     bool
	urlChanged bool
	after      string
	kind       string // "HEAD", "branch", "tag" or "commit"
}

// gitRepoURL is Ansible's treatment of repo: a local path becomes a
// file:// URL.
func gitRepoURL(repo string) string {
	if strings.HasPrefix(repo, "/") {
		return "file://" + repo
	}
	return repo
}

// gitSameURL compares remote URLs as Ansible's unfrackgitpath does for
// local paths: cleaned, file:// stripped.
func gitSameURL(a, b string) bool {
	if a == b {
		return true
	}
	norm := func(s string) string {
		s = strings.TrimPrefix(s, "file://")
		if strings.HasPrefix(s, "/") {
			return path.Clean(s)
		}
		return s
	}
	return norm(a) == norm(b)
}

// gitVersionKind says what version names on the remote and the commit it
// points at ("" when the remote does not know it).
func gitVersionKind(version string, st *gitState) (kind, sha string) {
	switch {
	case version == "HEAD":
		if !st.exists {
			return "HEAD", st.refs["HEAD"]
		}
		return "HEAD", st.refs["refs/heads/"+st.head]
	case st.refs["refs/heads/"+version] != "":
		return "branch", st.refs["refs/heads/"+version]
	case st.refs["refs/tags/"+version] != "":
		if peeled := st.refs["refs/tags/"+version+"^{}"]; peeled != "" {
			return "tag", peeled
		}
		return "tag", st.refs["refs/tags/"+version]
	}
	return "commit", st.resolved
}

// decideGit is the git module's decision, from its arguments and the state
// read by the plan, following Ansible's main().
func decideGit(a module.Args, repo string, st *gitState) gitDecision {
	version := a.String("version")
	kind, want := gitVersionKind(version, st)
	d := gitDecision{kind: kind, after: want}
	if d.after == "" {
		d.after = version
	}
	switch {
	case !st.exists:
		// A missing checkout is a change even with clone=no, as in Ansible.
		d.changed, d.clone = true, a.Bool("clone")
		if kind == "HEAD" && want == "" && d.clone {
			d.fail = "Could not determine remote revision for HEAD"
		}
		return d
	case !a.Bool("update"):
		d.after = st.before
		return d
	}
	if st.dirty {
		if !a.Bool("force") {
			d.fail = "Local modifications exist in the destination: " + a.String("dest") + " (force=no)."
			return d
		}
		d.reset, d.changed = true, true
	}
	if !gitSameURL(st.remoteURL, repo) {
		d.setURL = true
		d.urlChanged = st.remoteURL != ""
	}
	if kind != "commit" && want == "" {
		d.fail = "Could not determine remote revision for " + version
		return d
	}
	if st.before != want || d.urlChanged {
		d.changed = true
	}
	d.update = d.changed || d.setURL
	return d
}

// Plan implements module.Module.
func (*Git) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	dest := strings.TrimRight(a.String("dest"), "/")
	if dest == "" && a.Bool("clone") {
		return module.Unchanged(module.Failed("the destination directory must be specified unless clone=no")), nil
	}
	if dest != "" && !strings.HasPrefix(dest, "/") {
		return module.Unchanged(module.Failed("dest must be an absolute path: %s", dest)), nil
	}
	if a.Has("umask") {
		if _, ok := a["umask"].(string); !ok {
			return module.Unchanged(module.Failed("umask must be defined as a quoted octal integer")), nil
		}
		if _, err := strconv.ParseUint(a.String("umask"), 8, 32); err != nil {
			return module.Unchanged(module.Failed("umask must be an octal integer")), nil
		}
	}
	g := gitCmd(a)
	repo := gitRepoURL(a.String("repo"))
	st, failed, err := readGitState(ctx, h, a, g, dest, repo)
	if err != nil {
		return nil, err
	}
	if failed != nil {
		return module.Unchanged(failed), nil
	}
	d := decideGit(a, repo, st)
	result := module.Result{"before": nil, "after": d.after}
	if st.exists {
		result["before"] = st.before
		if a.Bool("update") {
			result["remote_url_changed"] = d.urlChanged
		}
	}
	if d.fail != "" {
		result["failed"], result["msg"] = true, d.fail
		return module.Unchanged(result), nil
	}
	ex, fail, err := planGitExtras(ctx, h, a, g, dest, st, d)
	if err != nil {
		return nil, err
	}
	if fail != "" {
		result["failed"], result["msg"] = true, fail
		return module.Unchanged(result), nil
	}
	if !d.changed && !ex.changed() {
		p := module.Unchanged(result)
		if ex.verify && st.exists {
			p.Housekeeping = func(ctx context.Context) (module.Result, error) { return ex.verifyResult(ctx, h, a, g, dest) }
		}
		return p, nil
	}
	before := ""
	if st.exists {
		before = st.before + "\n"
	}
	diff := module.Diff{BeforeHeader: dest, AfterHeader: dest, Before: before, After: d.after + "\n"}
	plan := &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff}}
	if !d.clone && !d.update && !d.reset {
		if ex.changed() {
			plan.Apply = ex.wrap(h, a, g, dest, result, nil)
		}
		return plan, nil // clone=no and no checkout: reported only
	}
	script := gitApplyScript(a, g, dest, repo, d)
	checkout := func(ctx context.Context) (module.Result, error) {
		r, ok, err := runCmd(ctx, h, "git "+map[bool]string{true: "clone", false: "update"}[d.clone]+" of "+dest, script)
		if err != nil || !ok {
			return r, err
		}
		out := module.Result{}
		for k, v := range result {
			out[k] = v
		}
		lines := strings.Split(strings.TrimSpace(fmt.Sprint(r["stdout"])), "\n")
		out["after"] = strings.TrimSpace(lines[len(lines)-1])
		if d.reset {
			out["msg"] = "Local modifications exist in the destination: " + dest
		}
		return out, nil
	}
	plan.Apply = ex.wrap(h, a, g, dest, result, checkout)
	return plan, nil
}

// gitCmd is the prefix of every git command: environment (locale, no
// prompts, ssh options) and the git executable.
func gitCmd(a module.Args) string {
	opts := a.String("ssh_opts")
	if a.Bool("accept_hostkey") && !strings.Contains(opts, "StrictHostKeyChecking=no") && !strings.Contains(opts, "StrictHostKeyChecking=accept-new") {
		opts += " -o StrictHostKeyChecking=no"
	}
	if a.Bool("accept_newhostkey") && !strings.Contains(opts, "StrictHostKeyChecking=no") && !strings.Contains(opts, "StrictHostKeyChecking=accept-new") {
		opts += " -o StrictHostKeyChecking=accept-new"
	}
	if !strings.Contains(opts, "BatchMode=yes") {
		opts += " -o BatchMode=yes"
	}
	if k := a.String("key_file"); k != "" {
		opts += " -i " + shell.Quote(k) + " -o IdentitiesOnly=yes"
	}
	exe := "git"
	if a.Has("executable") {
		exe = shell.Quote(a.String("executable"))
	}
	return "LC_ALL=C LANG=C GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND=" + shell.Quote("ssh"+opts) + " " + exe
}

// readGitState reads the checkout and the remote's refs in one round
// trip. A missing git or a failing ls-remote is a failed result.
func readGitState(ctx context.Context, h *module.Host, a module.Args, g, dest, repo string) (*gitState, module.Result, error) {
	exe := "git"
	if a.Has("executable") {
		exe = a.String("executable")
	}
	bare := a.Bool("bare")
	marker := dest + "/.git"
	if bare {
		marker = dest + "/config"
	}
	cd := "cd " + shell.Quote(dest) + " 2>/dev/null && "
	remote := shell.Quote(a.String("remote"))
	version := shell.Quote(a.String("version"))
	lsRemote := g + " ls-remote -- " + shell.Quote(repo) + "; echo \"@@rc=$?\""
	if !a.Bool("clone") && dest == "" {
		cd = "false && "
	}
	if !a.Bool("update") {
		// An existing checkout is only reported: no need to ask the remote.
		lsRemote = "if [ -e " + shell.Quote(marker) + " ]; then echo '@@rc=0'; else " + lsRemote + "; fi"
	}
	parts := []string{
		"command -v " + shell.Quote(exe) + " >/dev/null && echo Y || echo N",
		"[ -e " + shell.Quote(marker) + " ] && echo Y || echo N",
		cd + g + " rev-parse HEAD 2>/dev/null",
		cd + g + " status --porcelain 2>/dev/null",
		cd + g + " ls-remote --get-url " + remote + " 2>/dev/null",
		cd + "{ " + g + " symbolic-ref -q HEAD || " + g + " symbolic-ref -q refs/remotes/" + remote + "/HEAD; } 2>/dev/null",
		cd + g + " show-ref --verify -q refs/heads/" + version + " && echo Y",
		cd + g + " rev-parse --verify -q " + version + "^{commit} 2>/dev/null",
		lsRemote,
	}
	secs, err := runProbe(ctx, h, "git checkout "+dest, parts...)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(secs[0]) != "Y" {
		return nil, module.Failed("Failed to find required executable %q in paths", exe), nil
	}
	st := &gitState{exists: strings.TrimSpace(secs[1]) == "Y" && dest != ""}
	st.before = strings.TrimSpace(secs[2])
	for _, l := range strings.Split(secs[3], "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "??") {
			st.dirty = true
		}
	}
	if bare {
		st.dirty = false
	}
	st.remoteURL = strings.TrimSpace(secs[4])
	if st.remoteURL == a.String("remote") {
		st.remoteURL = "" // git echoes an unknown remote's name
	}
	head := strings.TrimSpace(secs[5])
	head = strings.TrimPrefix(head, "refs/heads/")
	st.head = strings.TrimPrefix(head, "refs/remotes/"+a.String("remote")+"/")
	st.local = strings.TrimSpace(secs[6]) == "Y"
	st.resolved = strings.TrimSpace(secs[7])
	refs, rc, rest := parseLsRemote(secs[8])
	if st.exists && !a.Bool("update") {
		return st, nil, nil
	}
	if rc != 0 {
		r := module.Failed("Failed to read the remote refs of %s (git ls-remote rc=%d): %s", repo, rc, strings.TrimSpace(rest))
		r["rc"] = rc
		return nil, r, nil
	}
	st.refs = refs
	return st, nil, nil
}

// parseLsRemote decodes `git ls-remote; echo @@rc=$?` output: the refs,
// ls-remote's exit status and any other text (its errors).
func parseLsRemote(out string) (refs map[string]string, rc int, rest string) {
	refs = map[string]string{}
	rc = -1
	var other []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "@@rc="); ok {
			rc, _ = strconv.Atoi(strings.TrimSpace(v))
			continue
		}
		sha, ref, ok := strings.Cut(line, "\t")
		if ok && len(sha) >= 40 && !strings.ContainsAny(sha, " :") {
			if _, seen := refs[ref]; !seen {
				refs[ref] = sha
			}
			continue
		}
		if strings.TrimSpace(line) != "" {
			other = append(other, line)
		}
	}
	return refs, rc, strings.Join(other, "\n")
}

// gitApplyScript is the shell script that carries out d, ending by
// printing the checkout's HEAD.
func gitApplyScript(a module.Args, g, dest, repo string, d gitDecision) string {
	q := shell.Quote
	remote, version := a.String("remote"), a.String("version")
	depth := a.Int("depth")
	bare := a.Bool("bare")
	var s []string
	if d.clone {
		c := g + " clone"
		if bare {
			c += " --bare"
		} else {
			c += " --origin " + q(remote)
		}
		branchOrTag := d.kind == "branch" || d.kind == "tag"
		if depth > 0 {
			switch {
			case version == "HEAD" || a.Has("refspec"):
				c += " --depth " + strconv.Itoa(depth)
			case branchOrTag:
				c += " --depth " + strconv.Itoa(depth) + " --branch " + q(version)
			}
		}
		if a.Has("reference") {
			c += " --reference " + q(a.String("reference"))
		}
		if a.Has("separate_git_dir") {
			c += " --separate-git-dir=" + q(a.String("separate_git_dir"))
		}
		if a.Bool("single_branch") {
			c += " --single-branch"
			if branchOrTag {
				c += " --branch " + q(version)
			}
		}
		s = append(s, "mkdir -p "+q(path.Dir(dest)), "cd "+q(path.Dir(dest)), c+" -- "+q(repo)+" "+q(dest), "cd "+q(dest))
		if bare && remote != "origin" {
			s = append(s, g+" remote add "+q(remote)+" "+q(repo))
		}
		if a.Has("refspec") {
			f := g + " fetch"
			if depth > 0 {
				f += " --depth " + strconv.Itoa(depth)
			}
			s = append(s, f+" "+q(remote)+" "+q(a.String("refspec")))
		}
	} else {
		s = append(s, "cd "+q(dest))
		if d.reset {
			s = append(s, g+" reset --hard HEAD")
		}
		if d.setURL {
			s = append(s, "{ "+g+" remote set-url "+q(remote)+" "+q(repo)+" 2>/dev/null || "+g+" remote add "+q(remote)+" "+q(repo)+"; }")
		}
		s = append(s, gitFetch(a, g, d))
	}
	if !bare {
		s = append(s, gitSwitch(a, g, d))
		if a.Bool("recursive") {
			sub := g + " submodule update --init --recursive"
			if a.Bool("force") {
				sub += " --force"
			}
			if a.Bool("track_submodules") {
				sub += " --remote"
			}
			s = append(s, "if [ -f .gitmodules ]; then "+sub+"; fi")
		}
	}
	s = append(s, g+" rev-parse HEAD")
	if a.Has("umask") {
		s = append([]string{"umask " + q(a.String("umask"))}, s...)
	}
	return "set -e; " + strings.Join(s, "; ")
}

// gitFetch is Ansible's fetch(): shallow refspecs for depth, else --tags.
func gitFetch(a module.Args, g string, d gitDecision) string {
	q := shell.Quote
	remote, version := a.String("remote"), a.String("version")
	depth := a.Int("depth")
	var refspecs []string
	f := g + " fetch"
	if depth > 0 {
		switch {
		case a.Has("refspec"):
			refspecs = append(refspecs, a.String("refspec"))
		case d.kind == "HEAD":
			refspecs = append(refspecs, "$("+g+" symbolic-ref -q --short HEAD || echo HEAD)")
		case d.kind == "branch":
			refspecs = append(refspecs, "+refs/heads/"+version+":refs/remotes/"+remote+"/"+version)
		case d.kind == "tag":
			refspecs = append(refspecs, "+refs/tags/"+version+":refs/tags/"+version)
		}
		if len(refspecs) > 0 {
			f += " --depth " + strconv.Itoa(depth)
		}
	}
	if depth == 0 || len(refspecs) == 0 {
		if a.Bool("bare") {
			refspecs = []string{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}
		} else {
			f += " --tags"
		}
		if a.Has("refspec") {
			refspecs = append(refspecs, a.String("refspec"))
		}
	}
	if a.Bool("force") {
		f += " --force"
	}
	f += " " + q(remote)
	for _, r := range refspecs {
		if strings.HasPrefix(r, "$(") {
			f += " \"" + r + "\""
		} else {
			f += " " + q(r)
		}
	}
	return f
}

// gitSwitch is Ansible's switch_version: HEAD follows the checked-out
// branch's remote head, a branch is checked out (tracking the remote) and
// reset to the remote, anything else is checked out detached.
func gitSwitch(a module.Args, g string, d gitDecision) string {
	q := shell.Quote
	remote, version := a.String("remote"), a.String("version")
	switch d.kind {
	case "HEAD":
		return "b=$(" + g + " symbolic-ref -q HEAD || " + g + " symbolic-ref -q refs/remotes/" + q(remote) + "/HEAD); " +
			"b=${b#refs/heads/}; b=${b#refs/remotes/" + q(remote) + "/}; " +
			g + " checkout --force \"$b\"; " + g + " reset --hard " + q(remote) + "/\"$b\" --"
	case "branch":
		return "if " + g + " show-ref --verify -q refs/heads/" + q(version) + "; then " +
			g + " checkout --force " + q(version) + "; " + g + " reset --hard " + q(remote+"/"+version) + "; else " +
			g + " checkout --track -b " + q(version) + " " + q(remote+"/"+version) + "; fi"
	}
	return g + " checkout --force " + q(version)
}
