package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tend-dev/tend/pkg/connection"
)

// A shared shell is a long-lived /bin/sh on the host that runs read-only
// commands (connection.ReadOnly) one after another, each in a subshell of
// its own. Opening an SSH session costs a round trip and the start of the
// login shell; a subshell of a running shell costs one fork. Inspections
// are most of what a converged run does, so this is where a drift check
// spends its time.
//
// Each command is sent as one line:
//
//	(eval 'CMD') </dev/null; printf 'MARK%d\n' "$?"; printf 'MARK\n' >&2
//
// MARK is a random nonce per command: everything on stdout before it is
// the command's output, the number after it its exit status, and the mark
// on stderr ends its error output. eval in a subshell keeps the command's
// syntax errors, exit, cd and variables away from the shell itself, and
// /dev/null keeps it from reading the next command from standard input.
//
// Shells are kept per escalation (the login user, sudo to root, sudo to
// postgres...), started on first use with the escalation once, so a drift
// check under become pays for sudo once per host rather than per task.
// Only passwordless sudo with the default flags is shared; every other
// escalation, and every command with standard input, gets a session.
//
// A shell started with sudo keeps what sudo set up at its start: the
// target user's groups and PAM environment. sudo per command would see a
// group the run has just added, so any command that may change the host
// (one not marked read-only) or any upload retires the escalated shells,
// and the next inspection starts fresh ones. A converged run changes
// nothing and keeps its shells; the login user's shell is never retired, as
// it is no different from a new session on the same connection.
type sharedShell struct {
	conn    *Conn
	become  *connection.Become
	sess    *ssh.Session
	stdin   io.WriteCloser
	release func() // the session slot the shell holds while it lives

	busy sync.Mutex // held while a command runs

	mu     sync.Mutex // guards everything below
	out    bytes.Buffer
	errb   bytes.Buffer
	pid    int
	exited bool
	events chan struct{}
}

// maxSharedShells bounds the shells per connection, each of which holds a
// session slot for the whole run: commands under many different users
// still leave most slots to sessions.
const maxSharedShells = 3

// maxShells is how many shared shells the connection may hold: at most
// maxSharedShells, and never so many that fewer than three session slots
// remain for commands that need a session.
func (c *Conn) maxShells() int { return min(maxSharedShells, cap(c.sem)-3) }

// shareable reports whether commands with this escalation may run in a
// shared shell: started once, it must not need a password or a terminal.
func shareable(b *connection.Become) bool {
	return b == nil || ((b.Method == "" || b.Method == "sudo") && b.Password == "" && b.Flags == "")
}

func shellKey(b *connection.Become) string {
	if b == nil {
		return ""
	}
	return "sudo:" + becomeUser(b)
}

type shellWriter struct {
	s   *sharedShell
	buf *bytes.Buffer
}

func (w shellWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	w.buf.Write(p)
	w.s.mu.Unlock()
	w.s.poke()
	return len(p), nil
}

func (s *sharedShell) poke() {
	select {
	case s.events <- struct{}{}:
	default:
	}
}

// runShared runs cmd in the shared shell for its escalation. done is false
// when the command was not run there (no shell for this escalation, the
// shell is busy with another command, or it died before the command
// finished while the connection lives on) and the caller should run it in a
// session of its own: a read-only command may safely run again.
func (c *Conn) runShared(ctx context.Context, cmd connection.Command) (res connection.Result, done bool, err error) {
	s := c.sharedShell(ctx, cmd.Become)
	if s == nil || !s.busy.TryLock() {
		return connection.Result{}, false, nil
	}
	defer s.busy.Unlock()
	inner := cmd
	inner.Become = nil
	return s.run(ctx, connection.BuildCommand(inner))
}

// sharedShell returns the live shell for escalation b, starting it when
// there is none; nil when commands must use sessions.
func (c *Conn) sharedShell(ctx context.Context, b *connection.Become) *sharedShell {
	if !shareable(b) {
		return nil
	}
	key := shellKey(b)
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	if s := c.shells[key]; s != nil {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		if !exited {
			return s
		}
		delete(c.shells, key)
	}
	if c.noShell[key] || len(c.shells) >= c.maxShells() {
		return nil
	}
	s, err := c.startShell(ctx, b)
	if err != nil {
		if ctx.Err() == nil && c.broken() == nil {
			// The escalation or the shell itself does not work this way
			// (sudo wants a password after all, no /bin/sh...): sessions
			// report such errors properly, so they take over for good.
			c.noShell[key] = true
		}
		return nil
	}
	if c.shells == nil {
		c.shells = map[string]*sharedShell{}
	}
	c.shells[key] = s
	return s
}

// shellStartTimeout bounds the wait for a new shell's first line: sudo
// that cannot escalate without a password fails at once (-n), so a slow
// start means the host is busy, and sessions serve meanwhile.
const shellStartTimeout = 10 * time.Second

// startShell opens a session running /bin/sh under escalation b and waits
// until it reports its pid from inside the escalation.
func (c *Conn) startShell(ctx context.Context, b *connection.Become) (*sharedShell, error) {
	var release func()
	select {
	case c.sem <- struct{}{}:
		release = func() { <-c.sem }
	default:
		// Every slot is in use: this is no time to keep one for good.
		return nil, errBusy
	}
	s := &sharedShell{conn: c, become: b, events: make(chan struct{}, 1)}
	var once sync.Once
	s.release = func() { once.Do(release) }
	sess, err := c.newSession(ctx)
	if err != nil {
		s.release()
		return nil, err
	}
	s.sess = sess
	sess.Stdout = shellWriter{s, &s.out}
	sess.Stderr = shellWriter{s, &s.errb}
	if s.stdin, err = sess.StdinPipe(); err != nil {
		sess.Close()
		s.release()
		return nil, err
	}
	mark := "tend-" + randomHex(8) + ":"
	line := "echo " + mark + "$$; exec /bin/sh"
	if b != nil {
		line = connection.BecomeWrap(b, line)
	}
	if err := sess.Start(line); err != nil {
		sess.Close()
		s.release()
		return nil, err
	}
	go func() {
		_ = sess.Wait()
		s.mu.Lock()
		s.exited = true
		s.mu.Unlock()
		s.release()
		s.poke()
	}()

	timer := time.NewTimer(shellStartTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		exited := s.exited
		_, pid, rest, found := cutMarkLine(s.out.Bytes(), mark)
		if found {
			s.pid, _ = strconv.Atoi(string(pid))
			s.out.Reset()
			s.out.Write(rest)
		}
		stderr := s.errb.String()
		s.mu.Unlock()
		switch {
		case found:
			return s, nil
		case exited:
			return nil, fmt.Errorf("shared shell exited at start: %s", stderr)
		}
		select {
		case <-s.events:
		case <-ctx.Done():
			sess.Close()
			return nil, ctx.Err()
		case <-timer.C:
			sess.Close()
			return nil, errors.New("shared shell did not start in time")
		}
	}
}

var errBusy = errors.New("no session slot free for a shared shell")

// cutMarkLine finds "<mark><value>\n" in b and returns what precedes it,
// value, and what follows the line.
func cutMarkLine(b []byte, mark string) (before, value, rest []byte, found bool) {
	i := bytes.Index(b, []byte(mark))
	if i < 0 {
		return nil, nil, nil, false
	}
	v := b[i+len(mark):]
	j := bytes.IndexByte(v, '\n')
	if j < 0 {
		return nil, nil, nil, false
	}
	return b[:i], v[:j], v[j+1:], true
}

// run runs one command line; the caller holds s.busy.
func (s *sharedShell) run(ctx context.Context, line string) (connection.Result, bool, error) {
	c := s.conn
	mark := "tend-" + randomHex(8) + ":"
	frame := "(eval " + q(line) + ") </dev/null; printf '" + mark + "%d\\n' \"$?\"; printf '" + mark + "\\n' >&2\n"

	s.mu.Lock()
	if s.exited {
		s.mu.Unlock()
		return connection.Result{}, false, nil
	}
	// Whatever is there is not ours: output of a process an earlier
	// command left behind.
	s.out.Reset()
	s.errb.Reset()
	s.mu.Unlock()
	if _, err := io.WriteString(s.stdin, frame); err != nil {
		if c.broken() != nil {
			return connection.Result{}, true, c.transportErr("send command to shared shell", err)
		}
		s.sess.Close()
		return connection.Result{}, false, nil
	}

	// Marks are searched from where the previous search left off, less a
	// mark's length: output can be large (slurp) and arrives in pieces.
	var outFrom, errFrom int
	var code []byte
	var stdout, stderr []byte
	outDone, errDone := false, false
	for {
		s.mu.Lock()
		if !outDone {
			b := s.out.Bytes()
			if before, v, _, ok := cutMarkLine(b[outFrom:], mark); ok {
				stdout = append(append([]byte(nil), b[:outFrom]...), before...)
				code = append([]byte(nil), v...)
				outDone = true
			} else {
				outFrom = max(0, len(b)-len(mark)-16)
			}
		}
		if !errDone {
			b := s.errb.Bytes()
			if i := bytes.Index(b[errFrom:], []byte(mark+"\n")); i >= 0 {
				stderr = append([]byte(nil), b[:errFrom+i]...)
				errDone = true
			} else {
				errFrom = max(0, len(b)-len(mark))
			}
		}
		exited := s.exited
		s.mu.Unlock()
		if outDone && errDone {
			n, err := strconv.Atoi(string(code))
			if err != nil {
				return connection.Result{}, true, fmt.Errorf("shared shell on %s: bad exit status %q", c.host, code)
			}
			return connection.Result{Stdout: stdout, Stderr: stderr, ExitCode: n}, true, nil
		}
		if exited {
			if err := c.broken(); err != nil {
				return connection.Result{}, true, &connection.UnreachableError{Host: c.host, Err: fmt.Errorf("run in shared shell: %w", err)}
			}
			return connection.Result{}, false, nil
		}
		select {
		case <-s.events:
		case <-ctx.Done():
			s.kill()
			s.mu.Lock()
			res := connection.Result{Stdout: append([]byte(nil), s.out.Bytes()...), Stderr: append([]byte(nil), s.errb.Bytes()...)}
			s.mu.Unlock()
			return res, true, ctx.Err()
		}
	}
}

// retireBecomeShells closes the escalated shared shells (see above).
func (c *Conn) retireBecomeShells() {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	for key, s := range c.shells {
		if s.become == nil {
			continue
		}
		delete(c.shells, key)
		// A command running in it right now sees the shell exit and runs
		// again in a session.
		s.sess.Close()
	}
}

// kill stops the shell and whatever it is running, as killRemote does for
// a session; a later read-only command starts a new shell.
func (s *sharedShell) kill() {
	s.mu.Lock()
	pid := s.pid
	s.exited = true
	s.mu.Unlock()
	s.conn.killRemote(s.sess, pid, s.become)
	s.release()
}
