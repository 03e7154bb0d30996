package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/pkg/sftp"

	"github.com/tend-dev/tend/pkg/connection"
)

// sftpConcurrency is the number of SFTP write/read requests in flight per
// file; enough to fill loopback and LAN links.
const sftpConcurrency = 64

// Put implements connection.Connection. Without become the file is written
// over SFTP to a temporary file in dst's directory, which the host's cksum
// reads back and tend compares with what it sent; only then is the file
// given its mode and owner and renamed onto dst. Under become to root it
// is first staged as a private file in the login user's home, from which
// one privileged command (connection.WriteScript) copies it next to dst,
// checks the copy, sets mode and owner and renames it; for another become
// user, who could not read that file, the content streams to that command
// instead. In every case the file renamed onto dst is the one checked, and
// temporary files are removed whatever happens: by tend, by the remote
// shell's traps when the connection drops, or by the next write of a later
// run to the same directory when even that shell was killed.
func (c *Conn) Put(ctx context.Context, src io.Reader, dst string, opts connection.PutOptions) error {
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	c.retireBecomeShells()
	var err error
	if opts.Become != nil {
		err = c.putBecome(ctx, src, dst, mode, opts)
	} else {
		err = c.putPlain(ctx, src, dst, mode, opts)
	}
	if err != nil {
		var ue *connection.UnreachableError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("put %s on %s: %w", dst, c.host, err)
	}
	return nil
}

// upload writes src to a new file tmp (which must not exist) with mode
// 0600, so nobody can read the content while it is incomplete.
func (c *Conn) upload(ctx context.Context, sc *sftp.Client, src io.Reader, tmp string) error {
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return c.sftpErr("create "+tmp, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return c.sftpErr("chmod "+tmp, err)
	}
	if _, err := f.ReadFromWithConcurrency(connection.ContextReader(ctx, src), sftpConcurrency); err != nil {
		f.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.sftpErr("write "+tmp, err)
	}
	if err := f.Close(); err != nil {
		return c.sftpErr("close "+tmp, err)
	}
	return nil
}

// sftpErr names the failed SFTP operation and reports a lost connection as
// unreachable.
func (c *Conn) sftpErr(op string, err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return c.transportErr("sftp "+op, err)
}

// removeTemp removes a temporary file without the caller's ctx, which may
// be what was cancelled; after a rename there is nothing to remove.
func (c *Conn) removeTemp(sc *sftp.Client, tmp string) {
	if c.broken() == nil {
		_ = sc.Remove(tmp)
	}
}

func (c *Conn) putPlain(ctx context.Context, src io.Reader, dst string, mode fs.FileMode, opts connection.PutOptions) error {
	sc, err := c.sftpClient()
	if err != nil {
		return err
	}
	dir := path.Dir(dst)
	tmp := path.Join(dir, connection.TempName(c.runID))
	renamed := false
	defer func() {
		if !renamed {
			c.removeTemp(sc, tmp)
		}
	}()
	if err := c.uploadChecked(ctx, sc, src, tmp); err != nil {
		return err
	}
	c.sweep(sc, dir, tmp)
	if err := sc.Chmod(tmp, mode); err != nil {
		return c.sftpErr("chmod "+tmp, err)
	}
	if opts.Owner != "" || opts.Group != "" {
		if err := c.shell(ctx, nil, "chown "+q(ownerGroup(opts.Owner, opts.Group))+" "+q(tmp)); err != nil {
			return err
		}
	}
	if err := sc.PosixRename(tmp, dst); err != nil {
		var se *sftp.StatusError
		if !errors.As(err, &se) {
			return c.sftpErr("rename to "+dst, err)
		}
		// Servers without posix-rename@openssh.com: mv replaces atomically.
		if err := c.shell(ctx, nil, "mv -f "+q(tmp)+" "+q(dst)); err != nil {
			return err
		}
	}
	renamed = true
	return nil
}

// uploadChecked uploads src to tmp, then has the host's cksum read tmp
// back and compares it with what was sent, so that nothing cut short or
// altered on the way is renamed into place. The check is an inspection
// and runs in the shared shell when there is one.
func (c *Conn) uploadChecked(ctx context.Context, sc *sftp.Client, src io.Reader, tmp string) error {
	dr := connection.NewDigestReader(src)
	err := c.upload(ctx, sc, dr, tmp)
	dg := dr.Digest()
	if err != nil {
		return err
	}
	res, err := c.Run(connection.ReadOnly(ctx), connection.Command{Cmd: "cksum < " + q(tmp)})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("cksum %s: %s", tmp, strings.TrimSpace(string(res.Stderr)))
	}
	if err := connection.CheckCksum(string(res.Stdout), dg); err != nil {
		return fmt.Errorf("%w; the destination is left unchanged", err)
	}
	return nil
}

// firstWrite reports whether this is the connection's first write as user
// (empty: the login user) to dir, the moment to sweep away what earlier
// runs left there.
func (c *Conn) firstWrite(user, dir string) bool {
	c.sweptMu.Lock()
	defer c.sweptMu.Unlock()
	k := user + "\x00" + dir
	if c.swept[k] {
		return false
	}
	if c.swept == nil {
		c.swept = map[string]bool{}
	}
	c.swept[k] = true
	return true
}

// install runs a WriteScript; its message on failure says what went wrong
// and that dst was left as it was.
func (c *Conn) install(ctx context.Context, b *connection.Become, line string, stdin io.Reader) error {
	cmd := connection.Command{Cmd: line, Become: b}
	if stdin != nil {
		cmd.Stdin = connection.ContextReader(ctx, stdin)
	}
	res, err := c.Run(ctx, cmd)
	if err != nil {
		var ue *connection.UnreachableError
		if errors.As(err, &ue) || ctx.Err() != nil {
			return err
		}
		return errors.New("install: " + strings.TrimPrefix(err.Error(), "run "+strconv.Quote(line)+" on "+c.host+": "))
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr) + string(res.Stdout))
		if b != nil {
			msg = "as " + becomeUser(b) + ": " + msg
		}
		return fmt.Errorf("install (exit %d) %s", res.ExitCode, msg)
	}
	return nil
}

// sweep removes from dir, once per connection, the leftovers of other runs
// owned like staged, a file the login user has just written there.
func (c *Conn) sweep(sc *sftp.Client, dir, staged string) {
	if !c.firstWrite("", dir) {
		return
	}
	st, err := sc.Stat(staged)
	if err != nil {
		return
	}
	mine, ok := st.Sys().(*sftp.FileStat)
	if !ok {
		return
	}
	ents, err := sc.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		fst, ok := e.Sys().(*sftp.FileStat)
		if ok && e.Mode().IsRegular() && connection.IsLeftover(e.Name(), c.runID) && fst.UID == mine.UID {
			_ = sc.Remove(path.Join(dir, e.Name()))
		}
	}
}

func ownerGroup(owner, group string) string {
	if group != "" {
		return owner + ":" + group
	}
	return owner
}

// shell runs a helper command and turns a non-zero exit into an error.
func (c *Conn) shell(ctx context.Context, b *connection.Become, line string) error {
	res, err := c.Run(ctx, connection.Command{Cmd: line, Become: b})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr) + string(res.Stdout))
		return fmt.Errorf("%s: exit %d: %s", line, res.ExitCode, msg)
	}
	return nil
}

func (c *Conn) putBecome(ctx context.Context, src io.Reader, dst string, mode fs.FileMode, opts connection.PutOptions) error {
	b := opts.Become
	w := connection.WriteScript{Dst: dst, Mode: mode, Owner: opts.Owner, Group: opts.Group, Run: c.runID,
		Sweep: c.firstWrite(becomeUser(b), path.Dir(dst))}
	if becomeUser(b) != "root" {
		if b.Method == "su" && b.Password != "" {
			return becomeErr(b, "writing files as a non-root user with su and a password is not supported; use sudo")
		}
		body, dg, done, err := connection.Spool(src)
		if err != nil {
			return err
		}
		defer done()
		w.Digest = &dg
		return c.install(ctx, b, w.String(), body)
	}
	sc, err := c.sftpClient()
	if err != nil {
		return err
	}
	home, err := c.homeDir(sc)
	if err != nil {
		return c.sftpErr("find home directory", err)
	}
	tmp := path.Join(home, connection.TempName(c.runID))
	defer c.removeTemp(sc, tmp)
	dr := connection.NewDigestReader(src)
	err = c.upload(ctx, sc, dr, tmp)
	dg := dr.Digest()
	if err != nil {
		return err
	}
	c.sweep(sc, home, tmp)
	w.Digest = &dg
	return c.install(ctx, b, "exec < "+q(tmp)+" || exit 1; "+w.String(), nil)
}

// Get implements connection.Connection: an SFTP read, or `cat` run under
// become.
func (c *Conn) Get(ctx context.Context, src string, w io.Writer, opts connection.GetOptions) error {
	if err := c.get(ctx, src, w, opts); err != nil {
		var ue *connection.UnreachableError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("get %s from %s: %w", src, c.host, err)
	}
	return nil
}

func (c *Conn) get(ctx context.Context, src string, w io.Writer, opts connection.GetOptions) error {
	if opts.Become != nil {
		res, err := c.Run(ctx, connection.Command{Cmd: "cat " + q(src), Become: opts.Become})
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return errors.New(strings.TrimSpace(string(res.Stderr) + string(res.Stdout)))
		}
		_, err = w.Write(res.Stdout)
		return err
	}
	sc, err := c.sftpClient()
	if err != nil {
		return err
	}
	f, err := sc.Open(src)
	if err != nil {
		return c.sftpErr("open", err)
	}
	defer f.Close()
	if _, err := f.WriteTo(ctxWriter{ctx, w}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.sftpErr("read", err)
	}
	return nil
}
