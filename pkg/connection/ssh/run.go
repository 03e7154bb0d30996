package ssh

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/tend-dev/tend/pkg/connection"
)

// runState follows a command's output. Every command first prints
// "<mark><pid>" (the pid of its shell, so that a cancelled command's
// process group can be killed); a command under become then prints
// "<mark>ok" from inside the privileged shell, which tells tend that
// escalation succeeded and that standard input now belongs to the command.
// Nothing before those lines is command output: it is sudo's or su's
// password prompt, which is answered and stripped.
type runState struct {
	mu      sync.Mutex
	mark    []byte // "tend-<nonce>:"
	okLine  []byte // mark + "ok\n"
	wantOK  bool
	pty     bool // su with a password: stdout and stderr are one terminal
	phase   int  // 0: want pid line, 1: want ok line, 2: command output
	pre     bytes.Buffer
	out     bytes.Buffer
	errb    bytes.Buffer
	pid     int
	prompts int // password prompts seen
	events  chan struct{}
}

func (s *runState) poke() {
	select {
	case s.events <- struct{}{}:
	default:
	}
}

type stdoutWriter struct{ s *runState }

func (w stdoutWriter) Write(p []byte) (int, error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == 2 {
		s.out.Write(p)
		return len(p), nil
	}
	s.pre.Write(p)
	if s.phase == 0 {
		b := s.pre.Bytes()
		i := bytes.Index(b, s.mark)
		if i < 0 {
			return len(p), nil
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return len(p), nil
		}
		s.pid, _ = strconv.Atoi(string(b[i+len(s.mark) : i+j]))
		rest := append([]byte(nil), b[i+j+1:]...)
		s.pre.Reset()
		if s.wantOK {
			s.phase = 1
			s.pre.Write(rest)
		} else {
			s.phase = 2
			s.out.Write(rest)
		}
		s.poke()
	}
	if s.phase == 1 {
		b := s.pre.Bytes()
		if i := bytes.Index(b, s.okLine); i >= 0 {
			s.out.Write(b[i+len(s.okLine):])
			s.pre.Truncate(i)
			s.phase = 2
			s.poke()
		} else if s.pty && s.prompts == 0 && bytes.Contains(b, []byte(":")) {
			s.prompts = 1 // su's "Password:" on the terminal
			s.poke()
		}
	}
	return len(p), nil
}

type stderrWriter struct{ s *runState }

func (w stderrWriter) Write(p []byte) (int, error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errb.Write(p)
	if s.phase < 2 && s.wantOK {
		if n := bytes.Count(s.errb.Bytes(), []byte(connection.SudoPrompt)); n != s.prompts {
			s.prompts = n
			s.poke()
		}
	}
	return len(p), nil
}

// run runs one command on a session; the caller holds a session slot.
func (c *Conn) run(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	b := cmd.Become
	st := &runState{mark: []byte("tend-" + randomHex(8) + ":"), events: make(chan struct{}, 1)}
	inner := cmd
	inner.Become = nil
	line := connection.BuildCommand(inner)
	withPass := b != nil && b.Password != ""
	if b != nil {
		st.wantOK = true
		st.okLine = append(append([]byte(nil), st.mark...), "ok\n"...)
		st.pty = b.Method == "su" && withPass
		line = connection.BecomeWrap(b, "echo "+string(st.mark)+"ok; "+line)
		if st.pty && cmd.Stdin != nil {
			return connection.Result{}, fmt.Errorf("become with su and a password cannot feed standard input (su needs a terminal); use sudo: %w", connection.ErrBecome)
		}
	}
	line = "echo " + string(st.mark) + "$$; " + line

	sess, err := c.newSession(ctx)
	if err != nil {
		return connection.Result{}, c.transportErr("open session", err)
	}
	defer sess.Close()
	sess.Stdout = stdoutWriter{st}
	sess.Stderr = stderrWriter{st}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return connection.Result{}, c.transportErr("open stdin", err)
	}
	if st.pty {
		// No echo, so the password never comes back; no output processing,
		// so the command's bytes arrive unchanged.
		modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.OPOST: 0, ssh.ONLCR: 0}
		if err := sess.RequestPty("dumb", 24, 200, modes); err != nil {
			return connection.Result{}, c.transportErr("request pty for su", err)
		}
	}
	if err := sess.Start(line); err != nil {
		return connection.Result{}, c.transportErr("start command", err)
	}
	waitCh := make(chan error, 1)
	go func() { waitCh <- sess.Wait() }()

	stdinStarted := false
	startStdin := func() {
		if stdinStarted {
			return
		}
		stdinStarted = true
		switch {
		case cmd.Stdin != nil:
			go func() {
				_, _ = io.Copy(stdin, cmd.Stdin)
				stdin.Close()
			}()
		case !st.pty:
			// A terminal stays open: EOF on it would hang up su.
			stdin.Close()
		}
	}
	if !withPass {
		startStdin()
	}
	answered := false
	var waitErr error
loop:
	for {
		select {
		case waitErr = <-waitCh:
			break loop
		case <-ctx.Done():
			st.mu.Lock()
			pid := st.pid
			res := st.result()
			st.mu.Unlock()
			c.killRemote(sess, pid, b)
			return res, ctx.Err()
		case <-st.events:
			st.mu.Lock()
			prompts, phase := st.prompts, st.phase
			st.mu.Unlock()
			switch {
			case prompts > 1:
				sess.Close()
				return connection.Result{}, becomeErr(b, "incorrect "+method(b)+" password")
			case prompts == 1 && !answered && withPass:
				answered = true
				if _, err := io.WriteString(stdin, b.Password+"\n"); err != nil {
					return connection.Result{}, c.transportErr("send become password", err)
				}
			}
			if phase == 2 {
				startStdin()
			}
		}
	}

	st.mu.Lock()
	res := st.result()
	okSeen := st.phase == 2
	pre := strings.TrimSpace(st.pre.String())
	st.mu.Unlock()

	code, exited := exitCode(waitErr)
	if waitErr != nil && !exited {
		return res, c.transportErr("run command", waitErr)
	}
	if b != nil && !okSeen {
		return res, becomeFailure(b, answered, res, pre)
	}
	res.ExitCode = code
	return res, nil
}

// result is what the command printed; st.mu is held.
func (s *runState) result() connection.Result {
	out := s.out.Bytes()
	if s.phase < 2 && !s.wantOK {
		out = s.pre.Bytes() // the pid line never came: show whatever did
	}
	errb := bytes.ReplaceAll(s.errb.Bytes(), []byte(connection.SudoPrompt), nil)
	return connection.Result{
		Stdout: append([]byte(nil), out...),
		Stderr: errb,
	}
}

func method(b *connection.Become) string {
	if b.Method == "su" {
		return "su"
	}
	return "sudo"
}

func becomeUser(b *connection.Become) string {
	if b.User == "" {
		return "root"
	}
	return b.User
}

func becomeErr(b *connection.Become, msg string) error {
	return fmt.Errorf("become %s with %s: %s: %w", becomeUser(b), method(b), msg, connection.ErrBecome)
}

// becomeFailure explains why the privileged shell never started.
func becomeFailure(b *connection.Become, answered bool, res connection.Result, pre string) error {
	text := strings.TrimSpace(string(res.Stderr))
	if text == "" {
		text = pre
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "Password:", ""))
	low := strings.ToLower(text)
	switch {
	case answered && (strings.Contains(low, "incorrect password") || strings.Contains(low, "sorry, try again") ||
		strings.Contains(low, "authentication failure")):
		return becomeErr(b, "incorrect "+method(b)+" password")
	case strings.Contains(low, "a password is required") || strings.Contains(low, "a terminal is required"):
		return becomeErr(b, method(b)+" requires a password: set ansible_become_password or use --ask-become-pass")
	case text == "":
		return becomeErr(b, "no privileged shell started")
	}
	return becomeErr(b, text)
}
