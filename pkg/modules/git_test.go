package modules

import (
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaT = "cccccccccccccccccccccccccccccccccccccccc"
)

func gitArgs(t *testing.T, raw map[string]any) module.Args {
	t.Helper()
	a, err := (&Git{}).Spec().Validate(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseLsRemote(t *testing.T) {
	out := "warning: redirecting\n" + shaA + "\tHEAD\n" + shaA + "\trefs/heads/main\n" + shaB + "\trefs/tags/v1\n" + shaT + "\trefs/tags/v1^{}\n@@rc=0\n"
	refs, rc, rest := parseLsRemote(out)
	if rc != 0 || refs["HEAD"] != shaA || refs["refs/tags/v1^{}"] != shaT || rest != "warning: redirecting" {
		t.Errorf("refs %v rc %d rest %q", refs, rc, rest)
	}
	if _, rc, rest := parseLsRemote("fatal: repository 'x' does not exist\n@@rc=128\n"); rc != 128 || !strings.Contains(rest, "does not exist") {
		t.Errorf("failure: rc %d rest %q", rc, rest)
	}
}

func TestDecideGit(t *testing.T) {
	refs := map[string]string{"HEAD": shaA, "refs/heads/main": shaA, "refs/heads/dev": shaB, "refs/tags/v1": shaB, "refs/tags/v1^{}": shaT}
	repo := "https://example.com/r.git"
	existing := func(mod func(*gitState)) *gitState {
		st := &gitState{exists: true, before: shaA, remoteURL: repo, head: "main", refs: refs}
		if mod != nil {
			mod(st)
		}
		return st
	}
	for _, c := range []struct {
		name    string
		args    map[string]any
		st      *gitState
		changed bool
		after   string
		fail    string
		kind    string
	}{
		{"clone HEAD", nil, &gitState{refs: refs}, true, shaA, "", "HEAD"},
		{"clone tag", map[string]any{"version": "v1"}, &gitState{refs: refs}, true, shaT, "", "tag"},
		{"clone=no reports a change", map[string]any{"clone": false}, &gitState{refs: refs}, true, shaA, "", "HEAD"},
		{"up to date", nil, existing(nil), false, shaA, "", "HEAD"},
		{"branch moves", map[string]any{"version": "dev"}, existing(nil), true, shaB, "", "branch"},
		{"annotated tag peeled", map[string]any{"version": "v1"}, existing(func(s *gitState) { s.before = shaT }), false, shaT, "", "tag"},
		{"commit checked out", map[string]any{"version": shaB}, existing(func(s *gitState) { s.before, s.resolved = shaB, shaB }), false, shaB, "", "commit"},
		{"commit not fetched", map[string]any{"version": shaB}, existing(nil), true, shaB, "", "commit"},
		{"remote head moved", nil, existing(func(s *gitState) { s.before = shaB }), true, shaA, "", "HEAD"},
		{"url changed", nil, existing(func(s *gitState) { s.remoteURL = "https://old.example.com/r.git" }), true, shaA, "", "HEAD"},
		{"dirty without force", nil, existing(func(s *gitState) { s.dirty = true }), false, shaA, "Local modifications exist in the destination: /srv/r (force=no).", "HEAD"},
		{"dirty with force", map[string]any{"force": true}, existing(func(s *gitState) { s.dirty = true }), true, shaA, "", "HEAD"},
		{"update=no", map[string]any{"update": false, "version": "dev"}, existing(nil), false, shaA, "", "branch"},
		{"unknown branch on the remote", nil, existing(func(s *gitState) { s.head = "gone" }), false, "HEAD", "Could not determine remote revision for HEAD", "HEAD"},
	} {
		raw := map[string]any{"repo": repo, "dest": "/srv/r"}
		for k, v := range c.args {
			raw[k] = v
		}
		d := decideGit(gitArgs(t, raw), repo, c.st)
		if d.changed != c.changed || d.after != c.after || d.fail != c.fail || d.kind != c.kind {
			t.Errorf("%s: got changed=%v after=%s fail=%q kind=%s", c.name, d.changed, d.after, d.fail, d.kind)
		}
	}
}

func TestGitSameURL(t *testing.T) {
	if !gitSameURL("/srv/repo/", "file:///srv/repo") || gitSameURL("https://a/x.git", "https://b/x.git") {
		t.Error("gitSameURL")
	}
	if got := gitRepoURL("/srv/repo"); got != "file:///srv/repo" {
		t.Errorf("gitRepoURL = %s", got)
	}
}

func TestGitApplyScriptQuotes(t *testing.T) {
	a := gitArgs(t, map[string]any{"repo": "https://example.com/r.git", "dest": "/srv/a b", "version": "dev", "depth": 1, "umask": "0022"})
	s := gitApplyScript(a, gitCmd(a), "/srv/a b", "https://example.com/r.git", gitDecision{clone: true, kind: "branch"})
	for _, want := range []string{"set -e; umask 0022; ", "clone --origin origin --depth 1 --branch dev -- https://example.com/r.git '/srv/a b'", "checkout --track -b dev origin/dev"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}
