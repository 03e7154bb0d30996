package shell

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var nasty = []string{
	"", "plain", "with space", "it's", `double "quoted"`, "$(reboot)", "`id`", "$HOME", "a\nb", "*", "?[x]",
	"tab\there", "back\\slash", "ünïcødé ✓", "-n", "'", `"`, "--", "a=b c",
}

// TestQuoteRoundTrip asks a real /bin/sh to print each quoted value.
func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range nasty {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("Quote(%q) came back as %q", s, out)
		}
	}
}

// TestSplitMatchesShell compares Split with the argv /bin/sh builds.
func TestSplitMatchesShell(t *testing.T) {
	lines := []string{
		`echo hi`, `a 'b c' "d e"`, `x "a\"b" 'c\d'`, `back\ slash`, `  lead  trail  `, `a"b"'c'd`, `"" ''`,
		Join(nasty...),
	}
	for _, line := range lines {
		got, err := Split(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		// printf each argument NUL-terminated, without expansion surprises:
		// set -f disables globbing; the lines above use no $.
		out, err := exec.Command("/bin/sh", "-c", "set -f; for a in "+line+"; do printf '%s\\0' \"$a\"; done").Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := strings.Split(string(out), "\x00")
		want = want[:len(want)-1]
		if len(want) == 0 {
			want = nil
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Split(%s) differs from sh (-sh +Split):\n%s", line, d)
		}
	}
	if _, err := Split(`unterminated 'quote`); err == nil {
		t.Error("want an error for an unterminated quote")
	}
}

// TestPathIsNeverAnOption runs tools that do not all end their options
// with "--" on files whose names look like options; each must act on the
// file.
func TestPathIsNeverAnOption(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"-rf", "-", "--help", "-n x", "plain"} {
		line := "cd " + Quote(dir) + " && touch " + Path(name) + " && ls -d " + Path(name) + " && find " + Path(name) + " -maxdepth 0 && [ -f " + Path(name) + " ] && cd " + Path(".") + " && rm " + Path(name)
		out, err := exec.Command("/bin/sh", "-c", line).CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v\n%s", name, err, out)
		}
	}
	if Path("/abs/-x") != "/abs/-x" || Path("-x") != "./-x" {
		t.Errorf("Path(/abs/-x) = %s, Path(-x) = %s", Path("/abs/-x"), Path("-x"))
	}
}
