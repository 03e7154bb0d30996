package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// gitLocal runs git in dir with env and returns its trimmed output.
func gitLocal(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGitExtras: separate_git_dir (clone and relocation), archive with
// archive_prefix (written when it differs), verify_commit and
// gpg_whitelist against a local repository.
func TestGitExtras(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	tmp := t.TempDir()
	env := []string{"HOME=" + tmp, "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e"}
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	gitLocal(t, env, src, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("a\n"), 0o644)
	gitLocal(t, env, src, "add", "a.txt")
	gitLocal(t, env, src, "commit", "-q", "-m", "one")
	hEnv := map[string]string{"HOME": tmp, "GIT_CONFIG_NOSYSTEM": "1"}
	h := &module.Host{Name: "localhost", Conn: connection.Local{}, Env: hEnv}

	// separate_git_dir on clone, then idempotent.
	dest, gd := filepath.Join(tmp, "co"), filepath.Join(tmp, "gitdirs", "co.git")
	os.MkdirAll(filepath.Dir(gd), 0o755) // git clone needs it, as in Ansible
	args := map[string]any{"repo": src, "dest": dest, "version": "main", "separate_git_dir": gd}
	if r, _ := netRun(t, h, &Git{}, args, false); r["changed"] != true || netFailed(r) {
		t.Fatalf("clone: %v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, ".git")); !strings.Contains(string(b), "gitdir: "+gd) {
		t.Errorf(".git file %q", b)
	}
	if r, _ := netRun(t, h, &Git{}, args, false); r["changed"] != false || netFailed(r) {
		t.Errorf("second run: %v", r)
	}
	// An ordinary checkout is moved to separate_git_dir.
	dest2, gd2 := filepath.Join(tmp, "co2"), filepath.Join(tmp, "gitdirs", "co2.git")
	netRun(t, h, &Git{}, map[string]any{"repo": src, "dest": dest2, "version": "main"}, false)
	args2 := map[string]any{"repo": src, "dest": dest2, "version": "main", "separate_git_dir": gd2}
	r, _ := netRun(t, h, &Git{}, args2, false)
	if fi, err := os.Stat(filepath.Join(gd2, "HEAD")); r["changed"] != true || err != nil || fi == nil || r["git_dir_now"] != gd2 {
		t.Errorf("relocation: %v %v", r, err)
	}
	if r, _ := netRun(t, h, &Git{}, args2, false); r["changed"] != false {
		t.Errorf("after relocation: %v", r)
	}

	// archive: created, kept, replaced when the prefix changes.
	arc := filepath.Join(tmp, "co.tar")
	aargs := map[string]any{"repo": src, "dest": dest, "version": "main", "archive": arc, "archive_prefix": "p/"}
	if r, _ := netRun(t, h, &Git{}, aargs, true); r["changed"] != true {
		t.Errorf("archive check mode: %v", r)
	}
	if r, _ := netRun(t, h, &Git{}, aargs, false); r["changed"] != true || netFailed(r) {
		t.Fatalf("archive: %v", r)
	}
	if out, _ := exec.Command("tar", "-tf", arc).Output(); !strings.Contains(string(out), "p/a.txt") {
		t.Errorf("archive members %q", out)
	}
	if r, _ := netRun(t, h, &Git{}, aargs, false); r["changed"] != false {
		t.Errorf("archive second run: %v", r)
	}
	aargs["archive_prefix"] = "q/"
	if r, _ := netRun(t, h, &Git{}, aargs, false); r["changed"] != true {
		t.Errorf("archive prefix change: %v", r)
	}
	if r, _ := netRun(t, h, &Git{}, map[string]any{"repo": src, "dest": dest, "archive": filepath.Join(tmp, "x.rar")}, false); !netFailed(r) {
		t.Errorf("unknown archive extension: %v", r)
	}

	// verify_commit: an unsigned commit fails, also when nothing changes.
	vargs := map[string]any{"repo": src, "dest": dest, "version": "main", "verify_commit": true}
	r, p := netRun(t, h, &Git{}, vargs, false)
	if p.Housekeeping == nil {
		t.Fatalf("no verification planned for a converged checkout: %v", r)
	}
	if fail, err := p.Housekeeping(t.Context()); err != nil || fail == nil || !strings.Contains(fail["msg"].(string), "Failed to verify GPG signature") {
		t.Errorf("unsigned commit: %v %v", fail, err)
	}
	if _, err := exec.LookPath("gpg"); err != nil {
		return
	}
	gnupg := filepath.Join(tmp, "gnupg")
	os.MkdirAll(gnupg, 0o700)
	genv := append(env, "GNUPGHOME="+gnupg)
	if out, err := exec.Command("gpg", "--homedir", gnupg, "--batch", "--passphrase", "", "--quick-gen-key", "tend-test <t@e>", "ed25519", "sign", "never").CombinedOutput(); err != nil {
		t.Skipf("gpg key generation: %v %s", err, out)
	}
	out, _ := exec.Command("gpg", "--homedir", gnupg, "--with-colons", "--list-keys").Output()
	fpr := ""
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Split(l, ":"); f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("signed\n"), 0o644)
	gitLocal(t, genv, src, "-c", "user.signingkey="+fpr, "commit", "-q", "-S", "-am", "signed")
	hEnv["GNUPGHOME"] = gnupg
	if r, _ := netRun(t, h, &Git{}, vargs, false); r["changed"] != true || netFailed(r) {
		t.Errorf("signed commit: %v", r)
	}
	vargs["gpg_whitelist"] = []any{"0000000000000000000000000000000000000000"}
	_, p = netRun(t, h, &Git{}, vargs, false)
	if fail, _ := p.Housekeeping(t.Context()); fail == nil || !strings.Contains(fail["msg"].(string), "gpg_whitelist does not include") {
		t.Errorf("whitelist without the key: %v", fail)
	}
	vargs["gpg_whitelist"] = []any{fpr}
	_, p = netRun(t, h, &Git{}, vargs, false)
	if fail, err := p.Housekeeping(t.Context()); fail != nil || err != nil {
		t.Errorf("whitelist with the key: %v %v", fail, err)
	}
}
