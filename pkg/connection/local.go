package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/shell"
)

// Local runs commands on the controller itself (ansible_connection=local,
// localhost, delegate_to: localhost). It is safe for concurrent use.
type Local struct{}

var _ Connection = Local{}

// BuildCommand returns the full /bin/sh command line for c: environment,
// working directory and privilege escalation wrapped around c.Cmd. The
// become password, if any, is not part of the line: the caller feeds it.
func BuildCommand(c Command) string {
	line := c.Cmd
	if c.Dir != "" {
		line = "cd " + shell.Quote(c.Dir) + " && " + line
	}
	if len(c.Env) > 0 {
		keys := make([]string, 0, len(c.Env))
		for k := range c.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString("export " + k + "=" + shell.Quote(c.Env[k]) + "; ")
		}
		line = b.String() + line
	}
	if c.Become != nil {
		line = BecomeWrap(c.Become, line)
	}
	return line
}

// BecomeWrap wraps a command line so it runs as b.User with b.Method.
func BecomeWrap(b *Become, line string) string {
	user := b.User
	if user == "" {
		user = "root"
	}
	switch b.Method {
	case "su":
		return "su " + b.Flags + " " + shell.Quote(user) + " -c " + shell.Quote(line)
	default:
		flags := b.Flags
		if flags == "" {
			flags = "-H -S -n"
		}
		if b.Password != "" {
			flags = strings.ReplaceAll(flags, "-n", "")
			flags += " -p " + shell.Quote(SudoPrompt)
		}
		return "sudo " + flags + " -u " + shell.Quote(user) + " /bin/sh -c " + shell.Quote(line)
	}
}

// SudoPrompt is the prompt tend asks sudo to print so it can detect a
// password request and answer it without echoing the password.
const SudoPrompt = "[tend-become-password]"

// Run implements Connection.
func (Local) Run(ctx context.Context, c Command) (Result, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", BuildCommand(c))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	stdin := c.Stdin
	if c.Become != nil && c.Become.Password != "" && c.Become.Method != "su" {
		pw := strings.NewReader(c.Become.Password + "\n")
		if stdin != nil {
			stdin = io.MultiReader(pw, stdin)
		} else {
			stdin = pw
		}
	}
	cmd.Stdin = stdin
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		res.ExitCode = exitErr.ExitCode()
	default:
		if ctx.Err() != nil {
			return res, fmt.Errorf("run %q: %w", c.Cmd, ctx.Err())
		}
		return res, fmt.Errorf("run %q: %w", c.Cmd, err)
	}
	res.Stderr = bytes.ReplaceAll(res.Stderr, []byte(SudoPrompt), nil)
	return res, nil
}

// Put implements Connection. Under become the file is written through a
// privileged shell so owner and mode are set before the rename.
func (l Local) Put(ctx context.Context, src io.Reader, dst string, opts PutOptions) error {
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	if opts.Become != nil {
		line := AtomicWriteCommand(dst, mode, opts.Owner, opts.Group)
		res, err := l.Run(ctx, Command{Cmd: line, Stdin: src, Become: opts.Become})
		if err != nil {
			return fmt.Errorf("put %s: %w", dst, err)
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("put %s: %s", dst, strings.TrimSpace(string(res.Stderr)))
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tend-tmp-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if err := os.Chmod(tmp.Name(), mode.Perm()); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if opts.Owner != "" || opts.Group != "" {
		og := opts.Owner
		if opts.Group != "" {
			og += ":" + opts.Group
		}
		if out, err := exec.CommandContext(ctx, "chown", og, tmp.Name()).CombinedOutput(); err != nil {
			return fmt.Errorf("put %s: chown %s: %s", dst, og, strings.TrimSpace(string(out)))
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

// AtomicWriteCommand returns a shell command that copies standard input to
// a temporary file next to dst, sets mode and ownership, and renames it
// into place; the temporary file is removed if any step fails.
func AtomicWriteCommand(dst string, mode os.FileMode, owner, group string) string {
	d := shell.Quote(dst)
	dir := shell.Quote(filepath.Dir(dst))
	var b strings.Builder
	b.WriteString("umask 077; t=$(mktemp " + dir + "/.tend-tmp-XXXXXXXX) || exit 1; ")
	b.WriteString("trap 'rm -f \"$t\"' EXIT; ")
	b.WriteString("cat > \"$t\" && chmod " + fmt.Sprintf("%04o", mode.Perm()) + " \"$t\"")
	if owner != "" || group != "" {
		og := owner
		if group != "" {
			og += ":" + group
		}
		b.WriteString(" && chown " + shell.Quote(og) + " \"$t\"")
	}
	b.WriteString(" && mv -f \"$t\" " + d)
	return b.String()
}

// Get implements Connection.
func (l Local) Get(ctx context.Context, src string, w io.Writer, opts GetOptions) error {
	if opts.Become != nil {
		var stderr bytes.Buffer
		res, err := l.Run(ctx, Command{Cmd: "cat " + shell.Quote(src), Become: opts.Become})
		if err != nil {
			return fmt.Errorf("get %s: %w", src, err)
		}
		if res.ExitCode != 0 {
			stderr.Write(res.Stderr)
			return fmt.Errorf("get %s: %s", src, strings.TrimSpace(stderr.String()))
		}
		_, err = w.Write(res.Stdout)
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("get %s: %w", src, err)
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// Close implements Connection.
func (Local) Close() error { return nil }
