package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"

	"github.com/tend-dev/tend/pkg/connection"
)

// sftpConcurrency is the number of SFTP write/read requests in flight per
// file; enough to fill loopback and LAN links.
const sftpConcurrency = 64

// Put implements connection.Connection. Without become the file is written
// over SFTP to a temporary file in dst's directory, given its mode and
// owner, then renamed onto dst. Under become it is staged as a private file
// in the login user's home and one privileged command moves it into place
// (see connection.AtomicWriteCommand); for a non-root become user, who
// could not read that file, the content streams to the privileged command
// instead. Temporary files are removed whatever happens.
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
	if _, err := f.ReadFromWithConcurrency(ctxReader{ctx, src}, sftpConcurrency); err != nil {
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

// removeLater removes a temporary file without the caller's ctx, which may
// be what was cancelled.
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
	tmp := path.Join(path.Dir(dst), ".tend-tmp-"+randomHex(8))
	renamed := false
	defer func() {
		if !renamed {
			c.removeTemp(sc, tmp)
		}
	}()
	if err := c.upload(ctx, sc, src, tmp); err != nil {
		return err
	}
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
	write := connection.AtomicWriteCommand(dst, mode, opts.Owner, opts.Group)
	if becomeUser(b) != "root" {
		if b.Method == "su" && b.Password != "" {
			return becomeErr(b, "writing files as a non-root user with su and a password is not supported; use sudo")
		}
		res, err := c.Run(ctx, connection.Command{Cmd: write, Stdin: src, Become: b})
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("write as %s: %s", becomeUser(b), strings.TrimSpace(string(res.Stderr)+string(res.Stdout)))
		}
		return nil
	}
	sc, err := c.sftpClient()
	if err != nil {
		return err
	}
	home, err := c.homeDir(sc)
	if err != nil {
		return c.sftpErr("find home directory", err)
	}
	tmp := path.Join(home, ".tend-tmp-"+randomHex(8))
	defer c.removeTemp(sc, tmp)
	if err := c.upload(ctx, sc, src, tmp); err != nil {
		return err
	}
	res, err := c.Run(ctx, connection.Command{Cmd: "exec < " + q(tmp) + " || exit 1; " + write, Become: b})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("move into place as %s: %s", becomeUser(b), strings.TrimSpace(string(res.Stderr)+string(res.Stdout)))
	}
	return nil
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
