package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/shell"
)

// asyncConn is the connection an async job's module uses. Read-only
// commands (a module's Plan) and file transfers run as usual, again on a
// new connection if the old one dropped (they are safe to repeat: a
// transfer is written to a temporary file and renamed). Every other
// command is started detached on the host (setsid, or nohup where there is
// no setsid), its stdout, stderr and exit status written to a numbered
// directory in the job's directory (the status last, renamed into place),
// and waited for with polling sessions of at most a second, a second
// apart. The host finishes the command whatever happens to the
// connection.
type asyncConn struct {
	host string
	dial func(context.Context) (connection.Connection, error)
	dir  string // the job's directory, set by makeDir

	mu   sync.Mutex
	conn connection.Connection // nil after a drop, until dialed again

	n        atomic.Int64  // commands started
	current  atomic.Value  // string: the directory of the last command started
	killed   atomic.Int64  // process id of the command killed at the time limit
	once     sync.Once     // closes launched
	launched chan struct{} // closed once a command runs on the host
}

var _ connection.Connection = (*asyncConn)(nil)

// Polling: a check waits on the host up to checkSteps x 0.1s for the
// status file, then the controller waits checkPause before the next, so
// a finished command is seen within about a third of a second.
const (
	checkSteps = 10
	checkPause = 250 * time.Millisecond
)

func (a *asyncConn) started() bool {
	select {
	case <-a.launched:
		return true
	default:
		return false
	}
}

// lastCommand is the directory of the last command started, or "".
func (a *asyncConn) lastCommand() string {
	d, _ := a.current.Load().(string)
	return d
}

// retry runs op on the host's connection; when the connection turns out to
// be gone it connects again and repeats op, backing off up to 5s between
// attempts, until ctx ends. op must be safe to repeat.
func (a *asyncConn) retry(ctx context.Context, op func(connection.Connection) error) error {
	backoff := 500 * time.Millisecond
	for {
		a.mu.Lock()
		c := a.conn
		a.mu.Unlock()
		var err error
		if c == nil {
			c, err = a.dial(ctx)
			if err == nil {
				a.mu.Lock()
				a.conn = c
				a.mu.Unlock()
			}
		}
		if err == nil {
			err = op(c)
			if err != nil && isUnreachable(err) {
				a.mu.Lock()
				if a.conn == c {
					a.conn = nil
				}
				a.mu.Unlock()
			}
		}
		if err == nil || !isUnreachable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// tryRun runs c once on the current connection, if there is one.
func (a *asyncConn) tryRun(ctx context.Context, c connection.Command) (connection.Result, error) {
	a.mu.Lock()
	conn := a.conn
	a.mu.Unlock()
	if conn == nil {
		return connection.Result{}, fmt.Errorf("%s: not connected", a.host)
	}
	return conn.Run(ctx, c)
}

// makeDir creates the job's directory for jid (mode 0700) as the user
// the job runs as, and remembers its absolute path. It is not retried: a
// host that cannot be reached when the task starts is unreachable, as
// for any other task.
func (a *asyncConn) makeDir(ctx context.Context, jid string, b *connection.Become) (string, error) {
	line := "umask 077 && d=" + asyncDirVar + "/" + shell.Quote(jid) + ` && mkdir -p "$d" && printf '%s\n' "$d"`
	res, err := a.conn.Run(ctx, connection.Command{Cmd: line, Become: b})
	if err != nil {
		return "", err
	}
	a.dir = strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 || a.dir == "" {
		return "", fmt.Errorf("create the async job directory on %s: %s", a.host, strings.TrimSpace(string(res.Stderr)))
	}
	return a.dir, nil
}

// Run implements connection.Connection.
func (a *asyncConn) Run(ctx context.Context, c connection.Command) (connection.Result, error) {
	if err := c.Check(); err != nil {
		return connection.Result{}, fmt.Errorf("run %q: %w", c.Cmd, err)
	}
	if connection.IsReadOnly(ctx) {
		var stdin []byte
		if c.Stdin != nil {
			var err error
			if stdin, err = io.ReadAll(c.Stdin); err != nil {
				return connection.Result{}, err
			}
		}
		var res connection.Result
		err := a.retry(ctx, func(conn connection.Connection) error {
			cc := c
			if stdin != nil {
				cc.Stdin = bytes.NewReader(stdin)
			}
			var err error
			res, err = conn.Run(ctx, cc)
			return err
		})
		return res, err
	}
	return a.runDetached(ctx, c)
}

// runDetached starts c in the background on the host and waits for its
// status file.
func (a *asyncConn) runDetached(ctx context.Context, c connection.Command) (connection.Result, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.Timeout, fmt.Errorf("command timed out after %s", c.Timeout))
		defer cancel()
	}
	var stdin []byte
	if c.Stdin != nil {
		var err error
		if stdin, err = io.ReadAll(c.Stdin); err != nil {
			return connection.Result{}, fmt.Errorf("read the input of %q: %w", c.Cmd, err)
		}
	}
	d := a.dir + "/" + strconv.FormatInt(a.n.Add(1), 10)
	inner := c
	inner.Become, inner.Stdin, inner.Timeout = nil, nil, 0
	launch := launchScript(d, connection.BuildCommand(inner), c.Stdin != nil, len(stdin))
	err := a.retry(ctx, func(conn connection.Connection) error {
		cmd := connection.Command{Cmd: launch, Become: c.Become}
		if c.Stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		res, err := conn.Run(ctx, cmd)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("start %q in the background on %s: %s", c.Cmd, a.host, strings.TrimSpace(string(res.Stderr)))
		}
		return nil
	})
	if err != nil {
		return connection.Result{}, a.stopped(ctx, d, c.Become, err)
	}
	a.current.Store(d)
	a.once.Do(func() { close(a.launched) })
	check := checkScript(d)
	for {
		var res connection.Result
		err := a.retry(ctx, func(conn connection.Connection) error {
			var err error
			res, err = conn.Run(ctx, connection.Command{Cmd: check, Become: c.Become})
			return err
		})
		if err != nil {
			return connection.Result{}, a.stopped(ctx, d, c.Become, err)
		}
		state, rest, _ := strings.Cut(string(res.Stdout), "\n")
		switch {
		case strings.HasPrefix(state, "tend-async-done "):
			rc, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(state, "tend-async-done ")))
			if err != nil {
				return connection.Result{}, fmt.Errorf("read the exit status of %q on %s: %q", c.Cmd, a.host, state)
			}
			return connection.Result{Stdout: []byte(rest), Stderr: res.Stderr, ExitCode: rc}, nil
		case state == "tend-async-running":
		default:
			return connection.Result{}, fmt.Errorf("the async job directory %s is gone from %s (removed by async_status mode=cleanup?) while %q ran", d, a.host, c.Cmd)
		}
		select {
		case <-ctx.Done():
			return connection.Result{}, a.stopped(ctx, d, c.Become, ctx.Err())
		case <-time.After(checkPause):
		}
	}
}

// stopped handles the end of a wait cut short: when the job's time is up
// the command and everything it started are killed on the host, as
// Ansible's async_wrapper does; otherwise (the run ended or was
// interrupted) it goes on there.
func (a *asyncConn) stopped(ctx context.Context, d string, b *connection.Become, err error) error {
	cause := context.Cause(ctx)
	if ctx.Err() == nil || errors.Is(cause, errRunEnded) || errors.Is(cause, context.Canceled) {
		return err
	}
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	kill := `d=` + shell.Quote(d) + `; p=$(cat "$d/pid" 2>/dev/null) && [ -n "$p" ] && { kill -s KILL -- -"$p" 2>/dev/null || kill -s KILL "$p" 2>/dev/null; echo "$p"; }; rm -f "$d/stdin"; exit 0`
	_ = a.retry(kctx, func(c connection.Connection) error {
		res, err := c.Run(kctx, connection.Command{Cmd: kill, Become: b})
		if pid, perr := strconv.ParseInt(strings.TrimSpace(string(res.Stdout)), 10, 64); err == nil && perr == nil {
			a.killed.Store(pid)
		}
		return err
	})
	return fmt.Errorf("%w (stopped on the host)", cause)
}

// launchScript starts line detached, once: a retried launch (after a
// dropped connection) finds the command's directory and starts nothing.
// With input, the input is written to the directory first and its size
// checked, so a cut transfer starts nothing (and is tried again).
func launchScript(d, line string, hasStdin bool, size int) string {
	wrapper := `d=$1; (` + line + "\n" + `) >"$d/stdout" 2>"$d/stderr"; echo $? >"$d/rc.tmp"; rm -f "$d/stdin"; mv -f "$d/rc.tmp" "$d/rc"`
	var b strings.Builder
	b.WriteString("umask 077; d=" + shell.Quote(d) + "\n")
	b.WriteString(`if ! mkdir "$d" 2>/dev/null; then cat >/dev/null; [ -d "$d" ]; exit $?; fi` + "\n")
	in := "/dev/null"
	if hasStdin {
		in = `"$d/stdin"`
		b.WriteString(`cat >"$d/stdin"; n=$(wc -c <"$d/stdin"); if [ $n -ne ` + strconv.Itoa(size) + ` ]; then rm -rf "$d"; echo "input cut short" >&2; exit 1; fi` + "\n")
	}
	b.WriteString(`if command -v setsid >/dev/null 2>&1; then set -- setsid; else set -- nohup; fi` + "\n")
	b.WriteString(`"$@" /bin/sh -c ` + shell.Quote(wrapper) + ` tend-async "$d" <` + in + ` >/dev/null 2>&1 &` + "\n")
	b.WriteString(`echo $! >"$d/pid"`)
	return b.String()
}

// checkScript waits up to a second for the command's status file and
// prints "tend-async-done RC" then its stdout (its stderr on stderr),
// "tend-async-running" or "tend-async-missing".
func checkScript(d string) string {
	return "d=" + shell.Quote(d) + `; i=0
while [ ! -e "$d/rc" ] && [ -d "$d" ] && [ $i -lt ` + strconv.Itoa(checkSteps) + ` ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done
if [ -e "$d/rc" ]; then printf 'tend-async-done %s\n' "$(cat "$d/rc")"; cat "$d/stdout"; cat "$d/stderr" >&2
elif [ -d "$d" ]; then echo tend-async-running
else echo tend-async-missing; fi`
}

// Put implements connection.Connection. The content is read once, so
// that a transfer cut by a dropped connection can be sent again.
func (a *asyncConn) Put(ctx context.Context, src io.Reader, dst string, opts connection.PutOptions) error {
	body, err := io.ReadAll(src)
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return a.retry(ctx, func(c connection.Connection) error {
		return c.Put(ctx, bytes.NewReader(body), dst, opts)
	})
}

// Get implements connection.Connection.
func (a *asyncConn) Get(ctx context.Context, src string, w io.Writer, opts connection.GetOptions) error {
	var buf bytes.Buffer
	err := a.retry(ctx, func(c connection.Connection) error {
		buf.Reset()
		return c.Get(ctx, src, &buf, opts)
	})
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Close implements connection.Connection: the connections belong to the
// run's connector.
func (a *asyncConn) Close() error { return nil }
