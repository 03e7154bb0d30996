package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/tend-dev/tend/pkg/playbook"
)

// varPrompter asks a play's vars_prompt questions on the terminal, with
// ansible-playbook's wording ("question [default]: ", "confirm ...");
// private answers are not echoed. Without a terminal on stdin (cron, CI)
// nobody is asked and the play takes the defaults, as ansible-playbook
// does. Questions go to stderr, so stdout stays the run's output.
func varPrompter(stdin io.Reader, stderr io.Writer) func(context.Context, playbook.VarPrompt) (string, bool, error) {
	return func(ctx context.Context, vp playbook.VarPrompt) (string, bool, error) {
		f, ok := stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", false, nil
		}
		msg := fmt.Sprintf("input for %s: ", vp.Name)
		switch {
		case vp.Prompt != "" && vp.Default != nil:
			msg = fmt.Sprintf("%s [%v]: ", vp.Prompt, vp.Default)
		case vp.Prompt != "":
			msg = vp.Prompt + ": "
		}
		for {
			a, err := askLine(ctx, f, stderr, msg, vp.Private)
			if err != nil || !vp.Confirm {
				return a, true, err
			}
			b, err := askLine(ctx, f, stderr, "confirm "+msg, vp.Private)
			if err != nil || a == b {
				return a, true, err
			}
			fmt.Fprintln(stderr, "***** VALUES ENTERED DO NOT MATCH ****")
		}
	}
}

// askLine shows msg and reads one line from the terminal, without echo
// when private.
func askLine(ctx context.Context, tty *os.File, stderr io.Writer, msg string, private bool) (string, error) {
	if private {
		return readSecret(ctx, tty, stderr, msg)
	}
	fmt.Fprint(stderr, msg)
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := readLine(tty, msg)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("reading %s: interrupted: %w", msg, context.Cause(ctx))
	}
}
