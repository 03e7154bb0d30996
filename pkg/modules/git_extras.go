package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// gitExtraArgs are git's separate_git_dir, verify_commit, gpg_whitelist,
// archive, archive_prefix and track_submodules.
func gitExtraArgs() []module.Arg {
	return []module.Arg{
		{Name: "separate_git_dir", Type: module.Path, NotOption: true, Doc: "Keep the repository (the .git directory) here: clone with " +
			"--separate-git-dir, or move an existing checkout's repository here and leave a .git file pointing to it (git_dir_before, " +
			"git_dir_now); fails when the path exists already. Not with bare."},
		{Name: "verify_commit", Type: module.Bool, Default: false, Doc: "After the checkout, check the GPG signature of version (git verify-tag " +
			"for an annotated tag, else verify-commit; the host's gpg keyring must hold the key). Checked on every run outside check mode, as in Ansible."},
		{Name: "gpg_whitelist", Type: module.List, Elements: module.String, Doc: "With verify_commit, the fingerprints of the keys allowed to sign " +
			"(the VALIDSIG fingerprint of git verify-commit --raw)."},
		{Name: "archive", Type: module.Path, Doc: "Also write version as an archive (git archive) to this path on the host: .zip, .tar, .gz " +
			"(tar.gz) or .tgz. Replaced only when its content differs (compared without writing in Plan). Ansible's check mode reports every " +
			"archive as changed; tend predicts it."},
		{Name: "archive_prefix", Type: module.String, Doc: "Prefix of every path in archive (git archive --prefix); needs archive."},
		{Name: "track_submodules", Type: module.Bool, Default: false, Doc: "Update submodules to the latest commit of their tracked branch " +
			"(git submodule update --remote) instead of the commit the superproject records. Like other submodule changes, a change of " +
			"submodules alone is not predicted."},
	}
}

// gitExtras is what those arguments add to a git plan.
type gitExtras struct {
	relocateFrom, gitDir string // move the repository from relocateFrom to gitDir
	archive, format      string
	archiveChanged       bool
	verify               bool
}

func (x *gitExtras) changed() bool { return x.relocateFrom != "" || x.archiveChanged }

// gitArchiveFormats maps archive extensions to git archive formats, as
// Ansible's create_archive does.
var gitArchiveFormats = map[string]string{".zip": "zip", ".gz": "tar.gz", ".tar": "tar", ".tgz": "tgz"}

// gitArchiveCmd writes version's archive to out ("-": standard output).
func gitArchiveCmd(a module.Args, g, format, out string) string {
	c := g + " archive --format " + shell.Quote(format)
	if a.Has("archive_prefix") {
		c += " --prefix " + shell.Quote(a.String("archive_prefix"))
	}
	if out != "-" {
		c += " --output " + shell.Quote(out)
	}
	return c + " " + shell.Quote(a.String("version"))
}

// planGitExtras reads what the extra arguments need (one round trip, only
// when one is given) and decides them; a non-empty fail is the task's
// failure message.
func planGitExtras(ctx context.Context, h *module.Host, a module.Args, g, dest string, st *gitState, d gitDecision) (*gitExtras, string, error) {
	x := &gitExtras{verify: a.Bool("verify_commit") && !a.Bool("bare")}
	if a.Has("archive_prefix") && !a.Has("archive") {
		return nil, "archive_prefix needs archive", nil
	}
	if a.Has("separate_git_dir") && a.Bool("bare") {
		return nil, "parameters are mutually exclusive: separate_git_dir|bare", nil
	}
	if x.archive = a.String("archive"); x.archive != "" {
		if x.format = gitArchiveFormats[path.Ext(x.archive)]; x.format == "" {
			return nil, "Unable to get file extension from archive file name : " + x.archive, nil
		}
	}
	sgd := a.String("separate_git_dir")
	compare := x.archive != "" && st.exists && !d.changed
	if sgd == "" && !compare {
		x.archiveChanged = x.archive != ""
		return x, "", nil
	}
	cd := "cd " + shell.Quote(dest) + " && "
	parts := []string{"true", "true", "true", "true", "true"}
	if sgd != "" {
		q := shell.Quote(sgd)
		parts[0] = "realpath -m -- " + q
		parts[1] = "if [ -d " + shell.Quote(dest+"/.git") + " ]; then realpath -- " + shell.Quote(dest+"/.git") + "; elif [ -f " + shell.Quote(dest+"/.git") +
			" ]; then " + cd + `realpath -m -- "$(sed -n 's/^gitdir: //p' .git)"; fi`
		parts[2] = "[ -e " + q + " ] && echo Y || echo N"
	}
	if compare {
		parts[3] = cd + gitArchiveCmd(a, g, x.format, "-") + " | sha1sum"
		parts[4] = "sha1sum < " + shell.Quote(x.archive) + " 2>/dev/null || echo missing"
	}
	secs, err := runProbe(ctx, h, "git extras "+dest, parts...)
	if err != nil {
		return nil, "", err
	}
	if sgd != "" {
		x.gitDir = strings.TrimSpace(secs[0])
		if cur := strings.TrimSpace(secs[1]); st.exists && cur != "" && cur != x.gitDir {
			if strings.TrimSpace(secs[2]) == "Y" {
				return nil, "Separate-git-dir path " + x.gitDir + " already exists.", nil
			}
			x.relocateFrom = cur
		}
	}
	x.archiveChanged = x.archive != "" && (!compare || strings.Fields(secs[3] + " ")[0] != strings.Fields(secs[4] + " ")[0])
	return x, "", nil
}

// relocate moves the repository to separate_git_dir, as Ansible's
// relocate_repo: the old .git becomes a file naming the new place.
func (x *gitExtras) relocate(ctx context.Context, h *module.Host, dest string, r module.Result) (module.Result, error) {
	q := shell.Quote
	cmd := "mkdir -p -- " + q(path.Dir(x.gitDir)) + " && mv -- " + q(x.relocateFrom) + " " + q(x.gitDir) + " && printf 'gitdir: %s' " + q(x.gitDir) + " > " + q(dest+"/.git")
	res, ok, err := runCmd(ctx, h, "move the git dir of "+dest, cmd)
	if err != nil || !ok {
		return res, err
	}
	r["git_dir_before"], r["git_dir_now"] = x.relocateFrom, x.gitDir
	return nil, nil
}

// gitVerifyCmd checks version's signature: verify-tag for an annotated tag,
// else verify-commit; with gpg_whitelist it prints the VALIDSIG key.
func gitVerifyCmd(a module.Args, g, dest string) string {
	v := shell.Quote(a.String("version"))
	sub := `if [ "$(` + g + ` cat-file -t refs/tags/` + v + ` 2>/dev/null)" = tag ]; then s=verify-tag; else s=verify-commit; fi; `
	return "cd " + shell.Quote(dest) + " && " + sub + "o=$(" + g + ` "$s" --raw ` + v + ` 2>&1 >/dev/null); rc=$?; ` +
		`printf '%s\n' "$o" | awk '$2 == "VALIDSIG" { print "@@key=" $3 } { print }'; exit $rc`
}

// verifyResult runs verify_commit; it returns the failure result, or nil.
func (x *gitExtras) verifyResult(ctx context.Context, h *module.Host, a module.Args, g, dest string) (module.Result, error) {
	if !x.verify {
		return nil, nil
	}
	res, err := h.Run(ctx, gitVerifyCmd(a, g, dest))
	if err != nil {
		return nil, fmt.Errorf("verify_commit on %s: %w", h.Name, err)
	}
	out := string(res.Stdout)
	if res.ExitCode != 0 {
		r := module.Failed("Failed to verify GPG signature of commit/tag %q", a.String("version"))
		r["stderr"], r["rc"] = out, res.ExitCode
		return r, nil
	}
	if wl := a.List("gpg_whitelist"); len(wl) > 0 {
		_, key, _ := strings.Cut(out, "@@key=")
		key, _, _ = strings.Cut(key, "\n")
		found := false
		for _, w := range wl {
			found = found || strings.EqualFold(strings.ReplaceAll(w, " ", ""), key)
		}
		if !found {
			return module.Failed("The gpg_whitelist does not include the public key %q for this commit", key), nil
		}
	}
	return nil, nil
}

// writeArchive creates archive from the checkout when its content differs.
func (x *gitExtras) writeArchive(ctx context.Context, h *module.Host, a module.Args, g, dest string) (module.Result, error) {
	q := shell.Quote
	tmp := x.archive + ".tend-new"
	cmd := "cd " + q(dest) + " && " + gitArchiveCmd(a, g, x.format, tmp) + " && { if cmp -s -- " + q(tmp) + " " + q(x.archive) +
		"; then rm -f -- " + q(tmp) + "; else mv -f -- " + q(tmp) + " " + q(x.archive) + "; fi; }"
	res, ok, err := runCmd(ctx, h, "git archive of "+dest, cmd)
	if err != nil || !ok {
		if res != nil {
			res["msg"] = "Failed to perform archive operation: " + fmt.Sprint(res["msg"])
		}
		return res, err
	}
	return nil, nil
}

// wrap runs the extras around the checkout's own apply (nil when the
// checkout stays): relocation first, then the checkout, the signature
// check and the archive.
func (x *gitExtras) wrap(h *module.Host, a module.Args, g, dest string, result module.Result, apply func(context.Context) (module.Result, error)) func(context.Context) (module.Result, error) {
	return func(ctx context.Context) (module.Result, error) {
		out := module.Result{}
		for k, v := range result {
			out[k] = v
		}
		if x.relocateFrom != "" {
			if fail, err := x.relocate(ctx, h, dest, out); err != nil || fail != nil {
				return fail, err
			}
		}
		if apply != nil {
			r, err := apply(ctx)
			if err != nil || r["failed"] == true {
				return r, err
			}
			for k, v := range r {
				out[k] = v
			}
			if fail, err := x.verifyResult(ctx, h, a, g, dest); err != nil || fail != nil {
				return fail, err
			}
		}
		if x.archiveChanged {
			if fail, err := x.writeArchive(ctx, h, a, g, dest); err != nil || fail != nil {
				return fail, err
			}
		}
		return out, nil
	}
}
