package ssh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
)

// ro runs cmd as a read-only command (in the shared shell when possible).
func ro(t *testing.T, c connection.Connection, cmd connection.Command) connection.Result {
	t.Helper()
	res, err := c.Run(connection.ReadOnly(ctxT(t)), cmd)
	if err != nil {
		t.Fatalf("run read-only %q: %v", cmd.Cmd, err)
	}
	return res
}

// sessionID names the shell a command runs in: $$ is the pid of the shell
// sshd started for the session, and a subshell keeps its parent's $$, so
// commands of one shared shell print the same and commands in sessions of
// their own do not.
const sessionID = `printf %s "$$"`

func TestSharedShellRunsLikeASession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	tests := append(commonRunCases(f.user.Name),
		runCase{name: "syntax error", cmd: connection.Command{Cmd: "if then fi ("}, wantCode: 2},
		runCase{name: "unbalanced quote", cmd: connection.Command{Cmd: "echo 'abc"}, wantCode: 2},
		runCase{name: "comment at the end", cmd: connection.Command{Cmd: "echo x # trailing )"}, wantOut: "x\n"},
		runCase{name: "here-document", cmd: connection.Command{Cmd: "cat <<'EOF'\nline 1\nline 2\nEOF"}, wantOut: "line 1\nline 2\n"},
		// Unlike sh -c, the subshell reports the signal as dash does.
		runCase{name: "killed by signal", cmd: connection.Command{Cmd: "sh -c 'kill -s KILL $$'"}, wantErr: "Killed\n", wantCode: 137},
		runCase{name: "looks like a mark", cmd: connection.Command{Cmd: "printf 'tend-0123456789abcdef:0\\n'; echo tend- >&2"}, wantOut: "tend-0123456789abcdef:0\n", wantErr: "tend-\n"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ro(t, c, tt.cmd)
			if tt.wantCode == 2 && res.ExitCode == 2 {
				return // the shell's syntax error message is its own
			}
			tt.check(t, res)
		})
	}

	// Every command above ran in the same shell, and state does not leak
	// from one command to the next.
	first := string(ro(t, c, connection.Command{Cmd: sessionID}).Stdout)
	ro(t, c, connection.Command{Cmd: "cd /tmp; X=leaked; export Y=leaked; umask 077; exit 9"})
	got := string(ro(t, c, connection.Command{Cmd: `pwd; echo "x=$X y=$Y"; umask; ` + sessionID}).Stdout)
	home := strings.TrimSpace(mustOut(t, c, "pwd", nil))
	want := home + "\nx= y=\n0022\n" + first
	if got != want {
		t.Errorf("state after cd/vars/umask/exit in an earlier command:\n got %q\nwant %q", got, want)
	}
	// Commands that are not read-only keep sessions of their own.
	a, b := mustOut(t, c, sessionID, nil), mustOut(t, c, sessionID, nil)
	if a == b || a == first {
		t.Errorf("plain commands shared a session: %q %q (shared shell %q)", a, b, first)
	}
	// A command with standard input needs a session too.
	res := ro(t, c, connection.Command{Cmd: "cat; " + sessionID, Stdin: strings.NewReader("in:")})
	if s := string(res.Stdout); !strings.HasPrefix(s, "in:") || s == "in:"+first {
		t.Errorf("read-only command with stdin: %q (shared shell %q)", s, first)
	}
}

func TestSharedShellLargeOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	const n = 3 << 20
	res := ro(t, c, connection.Command{Cmd: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a; head -c 100000 /dev/zero | tr '\\0' e >&2", n)})
	if len(res.Stdout) != n || strings.Trim(string(res.Stdout), "a") != "" {
		t.Errorf("stdout: %d bytes, want %d a's", len(res.Stdout), n)
	}
	if len(res.Stderr) != 100000 {
		t.Errorf("stderr: %d bytes, want 100000", len(res.Stderr))
	}
}

// A process an inspection leaves behind (which it must not) may still
// write to the shell's output: what arrives between commands is dropped,
// not taken for the next command's output.
func TestSharedShellDropsStrayOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	res := ro(t, c, connection.Command{Cmd: "(sleep 0.3; echo stray; echo stray >&2) & echo first"})
	if string(res.Stdout) != "first\n" {
		t.Fatalf("first command: %q", res.Stdout)
	}
	time.Sleep(time.Second)
	res = ro(t, c, connection.Command{Cmd: "echo second"})
	if string(res.Stdout) != "second\n" || len(res.Stderr) != 0 {
		t.Errorf("second command: stdout %q stderr %q, want only %q", res.Stdout, res.Stderr, "second\n")
	}
}

func TestSharedShellCancelAndRecovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	before := string(ro(t, c, connection.Command{Cmd: sessionID}).Stdout)

	ctx, cancel := context.WithTimeout(connection.ReadOnly(context.Background()), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, connection.Command{Cmd: "sleep 17.25; echo done"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled command: err %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	waitGone(t, "sleep 17.25")

	// The next inspection gets a new shell.
	after := string(ro(t, c, connection.Command{Cmd: sessionID}).Stdout)
	if after == before || after == "" {
		t.Errorf("after cancel the old shell (%q) is still used: %q", before, after)
	}

	// A shell killed from outside: the command is run again in a session
	// or a new shell, and the caller sees its real result.
	pid := strings.TrimSpace(string(ro(t, c, connection.Command{Cmd: "echo $$"}).Stdout))
	mustOut(t, c, "kill -s KILL "+pid, nil)
	if got := string(ro(t, c, connection.Command{Cmd: "echo alive"}).Stdout); got != "alive\n" {
		t.Errorf("after the shell was killed: %q", got)
	}
	// Killing the shell from inside a command also leaves the caller with
	// the command's real outcome: it ran again in a session.
	if res := ro(t, c, connection.Command{Cmd: "kill -s KILL $$"}); res.ExitCode != 137 {
		t.Errorf("command killing its shell: exit %d, want 137", res.ExitCode)
	}
}

func TestSharedShellConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	c := f.conn(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("n=%d", i)
			res, err := c.Run(connection.ReadOnly(context.Background()), connection.Command{Cmd: "sleep 0.0" + itoa(i%10) + "; printf %s " + q(want) + "; printf e%d >&2 " + itoa(i)})
			switch {
			case err != nil:
				errs <- err
			case string(res.Stdout) != want || string(res.Stderr) != "e"+itoa(i):
				errs <- fmt.Errorf("goroutine %d got %q / %q", i, res.Stdout, res.Stderr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSharedShellBecome(t *testing.T) {
	t.Parallel()
	sf := newSudoFixture(t, "s")
	nopw, pw, other := sf.nopw, sf.pw, sf.other
	cNopw, cPw, cOther := sf.cNopw, sf.cPw, sf.cOther

	root := &connection.Become{}
	toOther := &connection.Become{User: other.Name}
	id := func(c connection.Connection, b *connection.Become) (string, string) {
		t.Helper()
		out := string(ro(t, c, connection.Command{Cmd: "id -un; " + sessionID, Become: b}).Stdout)
		user, session, _ := strings.Cut(out, "\n")
		return user, session
	}
	u1, s1 := id(cNopw, root)
	u2, s2 := id(cNopw, root)
	if u1 != "root" || u2 != "root" || s1 != s2 {
		t.Errorf("sudo NOPASSWD: users %q %q, sessions %q %q; want root twice in one shell", u1, u2, s1, s2)
	}
	u3, s3 := id(cNopw, toOther)
	u4, s4 := id(cNopw, toOther)
	if u3 != other.Name || u4 != other.Name || s3 != s4 || s3 == s1 {
		t.Errorf("sudo to %s: user %q, sessions %q %q (root's shell %q); want one shell of its own", other.Name, u3, s3, s4, s1)
	}
	u5, s5 := id(cNopw, nil)
	if u5 != nopw.Name {
		t.Errorf("login user: %q", u5)
	}

	// A command that may change the host retires the escalated shells (a
	// group added to a user is seen by the next inspection, as with sudo
	// per command) but not the login user's.
	mustOut(t, cNopw, "true", root)
	if _, s := id(cNopw, root); s == s1 {
		t.Errorf("root's shell %s survived a command that may change the host", s)
	}
	if _, s := id(cNopw, nil); s != s5 {
		t.Errorf("the login user's shell was replaced (%s, was %s)", s, s5)
	}
	_, s6 := id(cNopw, root)
	if err := cNopw.Put(ctxT(t), strings.NewReader("x"), "/tmp/tend-shared-"+nopw.Name, connection.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, s := id(cNopw, root); s == s6 {
		t.Errorf("root's shell %s survived an upload", s)
	}
	mustOut(t, cNopw, "rm -f /tmp/tend-shared-"+nopw.Name, nil)

	// sudo with a password is never shared, and works as before.
	if u, _ := id(cPw, &connection.Become{Password: pw.Password}); u != "root" {
		t.Errorf("sudo with password: %q", u)
	}
	// A password needed but not given: the session's clear error, not a hang.
	_, err := cPw.Run(connection.ReadOnly(ctxT(t)), connection.Command{Cmd: "id -un", Become: root})
	if !errors.Is(err, connection.ErrBecome) || !strings.Contains(err.Error(), "requires a password") {
		t.Errorf("sudo without the password it needs: %v", err)
	}
	_, err = cOther.Run(connection.ReadOnly(ctxT(t)), connection.Command{Cmd: "id -un", Become: root})
	if !errors.Is(err, connection.ErrBecome) {
		t.Errorf("sudo not allowed: %v", err)
	}

	// A cancelled command under become is stopped too.
	ctx, cancel := context.WithTimeout(connection.ReadOnly(context.Background()), 300*time.Millisecond)
	defer cancel()
	if _, err := cNopw.Run(ctx, connection.Command{Cmd: "sleep 17.75", Become: root}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled command under become: %v", err)
	}
	waitGone(t, "sleep 17.75")
	if u, _ := id(cNopw, root); u != "root" {
		t.Errorf("after cancel: %q", u)
	}
}
