package ssh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/shell"
)

// Conn is one SSH connection to a host. Commands run as sessions on it
// (at most Options.MaxSessions-1 at once, one slot is kept for SFTP; more
// callers queue), files move over one lazily opened SFTP session. It is
// safe for concurrent use.
type Conn struct {
	host           string // inventory name, for messages
	runID          string // see Options.RunID
	client         *ssh.Client
	jump           *Conn
	commandTimeout time.Duration
	sem            chan struct{}

	closing  atomic.Bool
	deadOnce sync.Once
	dead     chan struct{} // closed when the transport is gone
	deadErr  error         // set before dead is closed

	sftpMu sync.Mutex
	sftp   *sftp.Client
	home   string

	sweptMu sync.Mutex
	swept   map[string]bool // user and directory swept of leftovers, see firstWrite

	shellMu sync.Mutex
	shells  map[string]*sharedShell // by shellKey
	noShell map[string]bool         // escalations whose shell would not start

	// pool and ep are the pool that dialed this connection and what it
	// dialed, for Redial; set before the pool hands the connection out.
	pool *Pool
	ep   *endpoint
}

var _ connection.Redialer = (*Conn)(nil)

// Redial implements connection.Redialer: c is closed and a new connection
// to the same endpoint is dialed through c's pool, which hands it out for
// the host from now on.
func (c *Conn) Redial(ctx context.Context) (connection.Connection, error) {
	if c.pool == nil {
		return nil, fmt.Errorf("host %s: cannot redial a connection that no pool made", c.host)
	}
	return c.pool.redial(ctx, c)
}

var _ connection.Connection = (*Conn)(nil)

func newConn(host string, client *ssh.Client, opts Options, keepAlive time.Duration, jump *Conn) *Conn {
	slots := opts.MaxSessions - 1
	if slots < 1 {
		slots = 1
	}
	c := &Conn{
		host:           host,
		runID:          opts.RunID,
		client:         client,
		jump:           jump,
		commandTimeout: opts.CommandTimeout,
		sem:            make(chan struct{}, slots),
		dead:           make(chan struct{}),
		noShell:        map[string]bool{},
	}
	go func() {
		err := client.Wait()
		if err == nil {
			err = errors.New("closed by remote")
		}
		c.markDead(err)
	}()
	if keepAlive > 0 {
		go c.keepAlive(keepAlive)
	}
	return c
}

func (c *Conn) markDead(err error) {
	c.deadOnce.Do(func() {
		if c.closing.Load() {
			c.deadErr = errors.New("connection closed")
		} else {
			c.deadErr = fmt.Errorf("connection lost: %w", err)
		}
		close(c.dead)
	})
}

// broken returns why the connection is gone, or nil while it is usable.
func (c *Conn) broken() error {
	select {
	case <-c.dead:
		return c.deadErr
	default:
		return nil
	}
}

// keepAlive sends keepalive requests; a server that does not answer within
// three intervals is given up on, like OpenSSH's ServerAliveCountMax 3.
func (c *Conn) keepAlive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
			if err := c.ping(3 * every); err != nil {
				return
			}
		}
	}
}

// ping checks that the server still answers. A missing answer marks the
// connection dead and closes it, which fails every session on it.
func (c *Conn) ping(timeout time.Duration) error {
	if err := c.broken(); err != nil {
		return err
	}
	reply := make(chan error, 1)
	go func() {
		_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-reply:
		if err != nil {
			c.markDead(err)
			c.client.Close()
			return c.deadErr
		}
		return nil
	case <-c.dead:
		return c.deadErr
	case <-timer.C:
		c.markDead(fmt.Errorf("no answer to keepalive within %s", timeout))
		c.client.Close()
		return c.deadErr
	}
}

// transportErr turns an error of a session or SFTP operation into an
// UnreachableError when the connection turns out to be gone.
func (c *Conn) transportErr(op string, err error) error {
	if perr := c.ping(5 * time.Second); perr != nil {
		return &connection.UnreachableError{Host: c.host, Err: fmt.Errorf("%s: %w", op, perr)}
	}
	return fmt.Errorf("%s on %s: %w", op, c.host, err)
}

func (c *Conn) acquire(ctx context.Context) (func(), error) {
	select {
	case c.sem <- struct{}{}:
		return func() { <-c.sem }, nil
	case <-c.dead:
		return nil, &connection.UnreachableError{Host: c.host, Err: c.deadErr}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close implements connection.Connection. It closes the SFTP session and
// the connection (not the jump host's, which the pool owns).
func (c *Conn) Close() error {
	c.closing.Store(true)
	c.sftpMu.Lock()
	if c.sftp != nil {
		c.sftp.Close()
		c.sftp = nil
	}
	c.sftpMu.Unlock()
	err := c.client.Close()
	c.markDead(errors.New("closed"))
	if err != nil && c.broken() != nil {
		return nil // already closed, by us or by the remote
	}
	return err
}

// Run implements connection.Connection.
func (c *Conn) Run(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	if err := cmd.Check(); err != nil {
		return connection.Result{}, fmt.Errorf("run %q on %s: %w", cmd.Cmd, c.host, err)
	}
	timeout := cmd.Timeout
	if timeout == 0 {
		timeout = c.commandTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if connection.IsReadOnly(ctx) && cmd.Stdin == nil {
		if res, done, err := c.runShared(ctx, cmd); done {
			if err != nil {
				return res, c.cmdErr(cmd, timeout, err)
			}
			return res, nil
		}
	}
	c.retireBecomeShells()
	release, err := c.acquire(ctx)
	if err != nil {
		return connection.Result{}, c.cmdErr(cmd, timeout, err)
	}
	defer release()
	res, err := c.run(ctx, cmd)
	if err != nil {
		return res, c.cmdErr(cmd, timeout, err)
	}
	return res, nil
}

func (c *Conn) cmdErr(cmd connection.Command, timeout time.Duration, err error) error {
	var ue *connection.UnreachableError
	if errors.As(err, &ue) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) && timeout > 0 {
		return fmt.Errorf("run %q on %s: timed out after %s: %w", cmd.Cmd, c.host, timeout, err)
	}
	return fmt.Errorf("run %q on %s: %w", cmd.Cmd, c.host, err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a clock-based
		// value is still unique enough for a temporary name.
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return hex.EncodeToString(b)
}

// exitCode maps a session's Wait error to a shell-style exit code.
func exitCode(err error) (int, bool) {
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	if sig := ee.Signal(); sig != "" {
		if n, ok := signalNumbers[sig]; ok {
			return 128 + n, true
		}
		return 255, true
	}
	return ee.ExitStatus(), true
}

var signalNumbers = map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "ABRT": 6, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15}

// killTree is a POSIX sh function that lists a process and all its
// descendants (through /proc, else pgrep) so they can be signalled at once;
// killing only the top shell would leave its children running.
const killTree = `d() { echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null || pgrep -P "$1" 2>/dev/null); do d "$c"; done; }; `

// killRemote stops a running command: TERM to the command's shell (pid,
// which it reported first thing) and all its descendants, sent from a
// second session, with the same privilege escalation as the command so
// that processes under sudo can be reached; then the session is closed.
func (c *Conn) killRemote(sess *ssh.Session, pid int, b *connection.Become) {
	if pid <= 1 {
		// The command did not report its pid: all we can do is ask sshd
		// to signal the session's shell.
		_ = sess.Signal(ssh.SIGTERM)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p := strconv.Itoa(pid)
		_, _ = c.run(ctx, connection.Command{Cmd: killTree + "kill -s TERM $(d " + p + ") 2>/dev/null; true", Become: b})
	}
	sess.Close()
}

// newSession opens a session, waiting while the server refuses because
// MaxSessions is reached: a session we closed is freed by sshd only when
// it has processed the close, a moment after our slot was released.
func (c *Conn) newSession(ctx context.Context) (*ssh.Session, error) {
	delay := 2 * time.Millisecond
	for i := 0; ; i++ {
		s, err := c.client.NewSession()
		var oe *ssh.OpenChannelError
		if err == nil || !errors.As(err, &oe) || i >= 200 {
			return s, err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// sftpClient returns the connection's SFTP client, opening it on first use.
func (c *Conn) sftpClient() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	if err := c.broken(); err != nil {
		return nil, &connection.UnreachableError{Host: c.host, Err: err}
	}
	sc, err := sftp.NewClient(c.client,
		sftp.UseConcurrentWrites(true),
		sftp.MaxConcurrentRequestsPerFile(64),
	)
	if err != nil {
		return nil, c.transportErr("start sftp", err)
	}
	c.sftp = sc
	return sc, nil
}

// homeDir is the login user's home directory, where uploads under become
// are staged.
func (c *Conn) homeDir(sc *sftp.Client) (string, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.home != "" {
		return c.home, nil
	}
	h, err := sc.Getwd()
	if err != nil {
		return "", err
	}
	c.home = h
	return h, nil
}

// ctxWriter stops a copy when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

// q is shell.Quote, short for the many command lines below.
func q(s string) string { return shell.Quote(s) }
