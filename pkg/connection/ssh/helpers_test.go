package ssh

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
)

// fixture is one sshd with a login user (passwordless sudo) and its key.
type fixture struct {
	srv   *sshtest.Server
	user  *sshtest.User
	key   *sshtest.Key
	dir   string // controller-side scratch directory
	known string // known_hosts of the pools made by pool()
	warns *warnings
}

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(m string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, m)
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func newFixture(t *testing.T, sudo string) *fixture {
	t.Helper()
	sshtest.Require(t)
	f := &fixture{dir: t.TempDir(), warns: &warnings{}}
	f.user = sshtest.CreateUser(t, "u", sshtest.UserOptions{Sudo: sudo})
	f.key = sshtest.GenerateKey(t, f.dir, "ed25519", "")
	f.srv = sshtest.StartServer(t, sshtest.ServerOptions{})
	f.srv.Authorize(t, f.user.Name, f.key)
	f.known = filepath.Join(f.dir, "known_hosts")
	return f
}

// opts are pool options isolated from the user's ~/.ssh.
func (f *fixture) opts() Options {
	return Options{
		SSHConfigFile:  "none",
		KnownHostsFile: f.known,
		ConnectTimeout: 5 * time.Second,
		Warn:           f.warns.add,
	}
}

func (f *fixture) pool(t *testing.T) *Pool {
	t.Helper()
	return f.poolWith(t, f.opts())
}

func (f *fixture) poolWith(t *testing.T, o Options) *Pool {
	t.Helper()
	p := NewPool(o)
	t.Cleanup(func() { p.Close() })
	return p
}

func (f *fixture) vars() map[string]any {
	return map[string]any{
		"ansible_host":                 f.srv.Host,
		"ansible_port":                 f.srv.Port,
		"ansible_user":                 f.user.Name,
		"ansible_ssh_private_key_file": f.key.Path,
	}
}

// conn dials the fixture's host through a new pool.
func (f *fixture) conn(t *testing.T) connection.Connection {
	t.Helper()
	c, err := f.pool(t).Get(context.Background(), "target", f.vars())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func run(t *testing.T, c connection.Connection, cmd connection.Command) connection.Result {
	t.Helper()
	res, err := c.Run(ctxT(t), cmd)
	if err != nil {
		t.Fatalf("run %q: %v", cmd.Cmd, err)
	}
	return res
}

func mustOut(t *testing.T, c connection.Connection, line string, b *connection.Become) string {
	t.Helper()
	res := run(t, c, connection.Command{Cmd: line, Become: b})
	if res.ExitCode != 0 {
		t.Fatalf("run %q: exit %d: %s", line, res.ExitCode, res.Stderr)
	}
	return string(res.Stdout)
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// sudoFixture is one sshd with three login users, each with a connection:
// passwordless sudo, sudo with a password, and no sudo at all.
type sudoFixture struct {
	nopw, pw, other    *sshtest.User
	cNopw, cPw, cOther connection.Connection
}

// newSudoFixture creates the users with role names prefix+"nopw",
// prefix+"pw" and prefix+"other".
func newSudoFixture(t *testing.T, prefix string) *sudoFixture {
	t.Helper()
	sshtest.Require(t)
	f := &sudoFixture{
		nopw:  sshtest.CreateUser(t, prefix+"nopw", sshtest.UserOptions{Sudo: sshtest.SudoNoPasswd}),
		pw:    sshtest.CreateUser(t, prefix+"pw", sshtest.UserOptions{Sudo: sshtest.SudoPassword}),
		other: sshtest.CreateUser(t, prefix+"other", sshtest.UserOptions{}),
	}
	dir := t.TempDir()
	key := sshtest.GenerateKey(t, dir, "ed25519", "")
	srv := sshtest.StartServer(t, sshtest.ServerOptions{})
	for _, u := range []*sshtest.User{f.nopw, f.pw, f.other} {
		srv.Authorize(t, u.Name, key)
	}
	p := NewPool(Options{SSHConfigFile: "none", KnownHostsFile: dir + "/known_hosts"})
	t.Cleanup(func() { p.Close() })
	connAs := func(u *sshtest.User) connection.Connection {
		c, err := p.Get(context.Background(), u.Name, map[string]any{
			"ansible_host": srv.Host, "ansible_port": srv.Port, "ansible_user": u.Name, "ansible_ssh_private_key_file": key.Path,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.cNopw, f.cPw, f.cOther = connAs(f.nopw), connAs(f.pw), connAs(f.other)
	return f
}

// runCase is a command and the result it must give.
type runCase struct {
	name     string
	cmd      connection.Command
	wantOut  string
	wantErr  string
	wantCode int
}

func (tc runCase) check(t *testing.T, res connection.Result) {
	t.Helper()
	if string(res.Stdout) != tc.wantOut || string(res.Stderr) != tc.wantErr || res.ExitCode != tc.wantCode {
		t.Errorf("got stdout %q stderr %q exit %d; want %q %q %d", res.Stdout, res.Stderr, res.ExitCode, tc.wantOut, tc.wantErr, tc.wantCode)
	}
}

// commonRunCases hold for a command in a session and in the shared shell
// alike; user is the login user.
func commonRunCases(user string) []runCase {
	return []runCase{
		{name: "stdout", cmd: connection.Command{Cmd: "echo hello"}, wantOut: "hello\n"},
		{name: "stderr and exit code", cmd: connection.Command{Cmd: "echo oops >&2; exit 3"}, wantErr: "oops\n", wantCode: 3},
		{name: "no stdin does not hang", cmd: connection.Command{Cmd: "cat"}, wantOut: ""},
		{name: "env", cmd: connection.Command{Cmd: `printf %s "$GREETING"`, Env: map[string]string{"GREETING": "hi 'there' $(x)"}}, wantOut: "hi 'there' $(x)"},
		{name: "dir", cmd: connection.Command{Cmd: "pwd", Dir: "/usr/share"}, wantOut: "/usr/share\n"},
		{name: "login user", cmd: connection.Command{Cmd: "id -un"}, wantOut: user + "\n"},
		{name: "binary output", cmd: connection.Command{Cmd: `printf 'a\000b\377'`}, wantOut: "a\x00b\xff"},
	}
}
