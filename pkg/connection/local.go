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
	"sync"
	"syscall"
	"time"

	"github.com/tend-dev/tend/pkg/shell"
)

// Local runs commands on the controller itself (ansible_connection=local,
// localhost, delegate_to: localhost). It is safe for concurrent use.
type Local struct {
	// Dir, when set, is the working directory of its commands and what
	// relative paths of Put and Get are relative to: Ansible runs local
	// commands in the playbook's directory. Empty: tend's own.
	Dir string
}

var _ Connection = Local{}

// BuildCommand returns the full /bin/sh command line for c: environment,
// working directory and privilege escalation wrapped around c.Cmd. The
// become password, if any, is not part of the line: the caller feeds it.
func BuildCommand(c Command) string {
	line := c.Cmd
	if c.Dir != "" {
		line = "cd " + shell.Path(c.Dir) + " && " + line
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
func (l Local) Run(ctx context.Context, c Command) (Result, error) {
	if err := c.Check(); err != nil {
		return Result{}, fmt.Errorf("run %q: %w", c.Cmd, err)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	if c.Become != nil && c.Become.Password != "" && c.Become.Method != "su" {
		return runSudoPassword(ctx, c, l.Dir)
	}
	cmd := shellCommand(ctx, BuildCommand(c))
	cmd.Dir = l.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = c.Stdin
	return finishLocal(ctx, c, cmd.Run(), stdout.Bytes(), stderr.Bytes())
}

// shellCommand runs line with /bin/sh in its own process group, so that a
// cancelled or timed-out command is killed with everything it started.
func shellCommand(ctx context.Context, line string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

func finishLocal(ctx context.Context, c Command, err error, stdout, stderr []byte) (Result, error) {
	res := Result{Stdout: stdout, Stderr: bytes.ReplaceAll(stderr, []byte(SudoPrompt), nil)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		res.ExitCode = exitErr.ExitCode()
	case ctx.Err() != nil:
		return res, fmt.Errorf("run %q: %w", c.Cmd, ctx.Err())
	default:
		return res, fmt.Errorf("run %q: %w", c.Cmd, err)
	}
	return res, nil
}

// runSudoPassword runs c under sudo with a password. The password is
// written only when sudo prints tend's prompt, so a command that sudo lets
// through without asking never reads it; the command's own standard input
// is connected only after a marker line shows escalation succeeded. A
// second prompt means the password was wrong.
func runSudoPassword(ctx context.Context, c Command, dir string) (Result, error) {
	mark := fmt.Sprintf("tend-become-ok-%d", time.Now().UnixNano())
	inner := c
	inner.Become = nil
	line := BecomeWrap(c.Become, "echo "+mark+"; "+BuildCommand(inner))
	cmd := shellCommand(ctx, line)
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return Result{}, err
	}
	w := &becomeWatch{mark: []byte(mark + "\n"), events: make(chan struct{}, 1)}
	cmd.Stdout, cmd.Stderr = (*becomeStdout)(w), (*becomeStderr)(w)
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("run %q: %w", c.Cmd, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	answered, fed := false, false
	feed := func() {
		fed = true
		go func() {
			if c.Stdin != nil {
				io.Copy(stdin, c.Stdin)
			}
			stdin.Close()
		}()
	}
	for {
		select {
		case err := <-done:
			w.mu.Lock()
			ok, out, errb := w.ok, append([]byte(nil), w.out.Bytes()...), append([]byte(nil), w.err.Bytes()...)
			w.mu.Unlock()
			if !ok && ctx.Err() == nil {
				return Result{Stderr: errb}, fmt.Errorf("become %s with sudo: %s: %w", c.Become.User, strings.TrimSpace(string(bytes.ReplaceAll(errb, []byte(SudoPrompt), nil))), ErrBecome)
			}
			return finishLocal(ctx, c, err, out, errb)
		case <-w.events:
			w.mu.Lock()
			prompts, ok := w.prompts, w.ok
			w.mu.Unlock()
			switch {
			case prompts > 1:
				cmd.Process.Kill()
				<-done
				return Result{}, fmt.Errorf("become %s with sudo: incorrect sudo password: %w", c.Become.User, ErrBecome)
			case prompts == 1 && !answered:
				answered = true
				io.WriteString(stdin, c.Become.Password+"\n")
			}
			if ok && !fed {
				feed()
			}
		}
	}
}

// becomeWatch follows a sudo command's output for tend's prompt and the
// marker line that precedes the command's own output.
type becomeWatch struct {
	mu      sync.Mutex
	mark    []byte
	pre     bytes.Buffer
	out     bytes.Buffer
	err     bytes.Buffer
	ok      bool
	prompts int
	events  chan struct{}
}

func (w *becomeWatch) poke() {
	select {
	case w.events <- struct{}{}:
	default:
	}
}

type becomeStdout becomeWatch

func (o *becomeStdout) Write(p []byte) (int, error) {
	w := (*becomeWatch)(o)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ok {
		return w.out.Write(p)
	}
	w.pre.Write(p)
	if i := bytes.Index(w.pre.Bytes(), w.mark); i >= 0 {
		w.out.Write(w.pre.Bytes()[i+len(w.mark):])
		w.ok = true
		w.poke()
	}
	return len(p), nil
}

type becomeStderr becomeWatch

func (e *becomeStderr) Write(p []byte) (int, error) {
	w := (*becomeWatch)(e)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err.Write(p)
	if n := bytes.Count(w.err.Bytes(), []byte(SudoPrompt)); n != w.prompts {
		w.prompts = n
		w.poke()
	}
	return len(p), nil
}

// Put implements Connection. Under become the content goes through
// WriteScript in a privileged shell, so owner and mode are set before the
// rename; otherwise tend writes the temporary file itself. Either way the
// temporary file is checked against the digest of what was sent before it
// replaces dst.
func (l Local) Put(ctx context.Context, src io.Reader, dst string, opts PutOptions) error {
	dst = l.path(dst)
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	var err error
	if opts.Become != nil {
		err = l.putBecome(ctx, src, dst, mode, opts)
	} else {
		err = putLocal(ctx, src, dst, mode, opts)
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

func (l Local) putBecome(ctx context.Context, src io.Reader, dst string, mode os.FileMode, opts PutOptions) error {
	body, dg, done, err := Spool(src)
	if err != nil {
		return err
	}
	defer done()
	line := WriteScript{Dst: dst, Mode: mode, Owner: opts.Owner, Group: opts.Group, Digest: &dg, Sweep: true}.String()
	res, err := l.Run(ctx, Command{Cmd: line, Stdin: ContextReader(ctx, body), Become: opts.Become})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return errors.New(strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

func putLocal(ctx context.Context, src io.Reader, dst string, mode os.FileMode, opts PutOptions) error {
	dir := filepath.Dir(dst)
	sweepLocal(dir)
	tmp, err := os.CreateTemp(dir, TempPrefix+RunID()+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	d := NewDigester()
	if _, err := io.Copy(io.MultiWriter(tmp, d), ContextReader(ctx, src)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := verifyLocal(tmp.Name(), d.Digest()); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode.Perm()); err != nil {
		return err
	}
	if opts.Owner != "" || opts.Group != "" {
		og := opts.Owner
		if opts.Group != "" {
			og += ":" + opts.Group
		}
		if out, err := exec.CommandContext(ctx, "chown", og, tmp.Name()).CombinedOutput(); err != nil {
			return fmt.Errorf("chown %s: %s", og, strings.TrimSpace(string(out)))
		}
	}
	return os.Rename(tmp.Name(), dst)
}

// verifyLocal reads back what was written, as the host's shell does after
// an upload: a full disk or a failing file system shows up here rather
// than as a short destination.
func verifyLocal(name string, want Digest) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var c Cksum
	if _, err := io.Copy(&c, f); err != nil {
		return fmt.Errorf("read back %s: %w", name, err)
	}
	if c.Len() != want.Size || c.Sum32() != want.Cksum {
		return fmt.Errorf("temporary file %s holds %d bytes (cksum %d), %d bytes (cksum %d) were written; the destination is left unchanged",
			name, c.Len(), c.Sum32(), want.Size, want.Cksum)
	}
	return nil
}

// sweepLocal removes the leftovers of earlier runs that this user owns
// from dir, as SweepCommand does on a host.
func sweepLocal(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	uid := os.Geteuid()
	for _, e := range ents {
		if !e.Type().IsRegular() || !IsLeftover(e.Name(), "") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Get implements Connection.
func (l Local) Get(ctx context.Context, src string, w io.Writer, opts GetOptions) error {
	src = l.path(src)
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

// path resolves a relative path against Dir.
func (l Local) path(p string) string {
	if l.Dir != "" && p != "" && !filepath.IsAbs(p) {
		return filepath.Join(l.Dir, p)
	}
	return p
}
