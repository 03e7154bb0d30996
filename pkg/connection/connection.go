// Package connection defines how tend talks to a host: run a shell command,
// put a file, get a file. Implementations are the local connection (this
// package) and the SSH transport (package connection/ssh).
//
// A Connection runs everything through /bin/sh on the target and needs
// nothing else there: no Python, no agent.
package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
)

// Connection is an open channel to one host. Implementations must be safe
// for concurrent use: tasks of one host may run commands in parallel (for
// example async helpers or the free strategy's delegate_to).
type Connection interface {
	// Run executes cmd.Cmd with /bin/sh -c on the host. A command that ran
	// and exited non-zero is not an error: its exit code is in the Result.
	// The error is non-nil only when the command could not be run or its
	// outcome is unknown (transport broken, timeout, become failure); wrap
	// ErrUnreachable when the host itself cannot be reached.
	Run(ctx context.Context, cmd Command) (Result, error)

	// Put writes the content read from src to dst on the host atomically:
	// it is written to a temporary file in dst's directory, checked on the
	// host against the size and POSIX cksum of what was sent, and renamed
	// into place, so an interrupted or cut transfer never leaves a partial
	// dst (see WriteScript). Owner, group and mode are applied before the
	// rename. On failure dst is unchanged and the temporary file removed.
	Put(ctx context.Context, src io.Reader, dst string, opts PutOptions) error

	// Get copies the host's file src into w.
	Get(ctx context.Context, src string, w io.Writer, opts GetOptions) error

	// Close releases the connection. Safe to call more than once.
	Close() error
}

// Redialer is implemented by connections that can be replaced by a new
// one to the same host, for modules that wait for a host to come back
// (reboot, wait_for_connection). Redial closes the old connection; from
// then on the new one is what the connection's pool hands out for the
// host. It fails (wrapping ErrUnreachable) while the host cannot be
// reached, and may be called again.
type Redialer interface {
	Redial(ctx context.Context) (Connection, error)
}

// Become describes privilege escalation for one command or transfer.
// A nil *Become means run as the login user.
type Become struct {
	Method   string // "sudo" (default) or "su"
	User     string // default "root"
	Password string // empty for passwordless sudo
	Flags    string // extra flags for the become method (ansible_become_flags)
}

// Command is one shell command line to run on a host.
type Command struct {
	// Cmd is a complete /bin/sh command line; callers quote every
	// interpolated value with shell.Quote.
	Cmd string
	// Stdin, if set, is fed to the command's standard input.
	Stdin io.Reader
	// Env is added to the command's environment.
	Env map[string]string
	// Dir, if set, is the working directory (cd before running).
	Dir string
	// Become, if non-nil, runs the command as another user.
	Become *Become
	// Timeout bounds the command; zero means the connection's default.
	Timeout time.Duration
}

// Check reports what in c cannot reach /bin/sh as written: a NUL byte
// ends a C string, so the host would run a different command (and an SSH
// server drops the connection); an environment name that is not a shell
// name ([A-Za-z_][A-Za-z0-9_]*) would be run as code. Connections call it
// before running anything, so such a command is a command error, never an
// unreachable host.
func (c Command) Check() error {
	if strings.IndexByte(c.Cmd, 0) >= 0 {
		return errors.New("command contains a NUL byte")
	}
	if strings.IndexByte(c.Dir, 0) >= 0 {
		return fmt.Errorf("working directory %q contains a NUL byte", c.Dir)
	}
	for k, v := range c.Env {
		if err := CheckEnv(k, v); err != nil {
			return err
		}
	}
	if b := c.Become; b != nil {
		if strings.ContainsRune(b.User+b.Flags+b.Method, 0) {
			return errors.New("become user, method or flags contain a NUL byte")
		}
		// su takes the user as an operand, where "-rf" or "-" would be
		// options; no user name starts with "-".
		if strings.HasPrefix(b.User, "-") {
			return fmt.Errorf("become user %q starts with \"-\", which no user name may", b.User)
		}
	}
	return nil
}

// CheckEnv reports an environment variable that a shell cannot set: a
// name that is not a shell name or a value holding a NUL byte.
func CheckEnv(name, value string) error {
	if !IsShellName(name) {
		return fmt.Errorf("environment variable %q is not a valid environment variable name (want letters, digits and _, not starting with a digit)", name)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("environment variable %q contains a NUL byte", name)
	}
	return nil
}

// IsShellName reports whether s is a POSIX shell variable name.
func IsShellName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Result is what a command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// PutOptions control ownership and mode of a written file.
type PutOptions struct {
	Mode   fs.FileMode // 0 means 0644 for a new file
	Owner  string      // empty: leave as created
	Group  string      // empty: leave as created
	Become *Become
}

// GetOptions control how a file is read.
type GetOptions struct {
	Become *Become
}

// ErrUnreachable marks errors that mean the host could not be reached or the
// connection dropped. The executor reports such hosts as unreachable rather
// than failed. Test with errors.Is.
var ErrUnreachable = errors.New("host unreachable")

// UnreachableError wraps a transport error with the host it concerns.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("%s: %v", e.Host, e.Err) }

// Unwrap lets errors.Is find both ErrUnreachable and the cause.
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// ErrBecome marks a failed privilege escalation (wrong or missing password,
// user not allowed). The host is reachable; the task fails.
var ErrBecome = errors.New("privilege escalation failed")

type readOnlyKey struct{}

// ReadOnly marks commands run with the returned context as inspections:
// short commands written by tend that change nothing and leave no process
// behind (a module's Plan step, fact gathering). A connection may run them
// in a long-lived shell on the host instead of a session of their own,
// which saves a round trip and a process start per command. Commands that
// start services or run user-supplied programs must not use it: a process
// they leave behind would hold that shell's output open.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// IsReadOnly reports whether ctx was marked by ReadOnly.
func IsReadOnly(ctx context.Context) bool {
	v, _ := ctx.Value(readOnlyKey{}).(bool)
	return v
}
