package modules

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tend-dev/tend/pkg/module"
)

// Pause waits a while, or for the user to press enter.
type Pause struct {
	// Stdin is where a prompt's answer is read from when it is a
	// terminal; nil means os.Stdin.
	Stdin *os.File
}

var _ module.Module = (*Pause)(nil)

// Spec implements module.Module.
func (*Pause) Spec() *module.Spec {
	return &module.Spec{
		Name:  "pause",
		Short: "Wait a number of seconds or minutes, or for the user",
		Description: "Waits seconds or minutes (at least one second), or, with neither, until the user presses enter. " +
			"Input is read only when tend's standard input is a terminal: otherwise a prompt without a duration " +
			"does not wait (with a warning) and a duration is waited in full, as in Ansible. The answer is " +
			"user_input in the result. Runs once per task on the controller; stopping the run (Ctrl+C) ends the wait.",
		Args: []module.Arg{
			{Name: "seconds", Type: module.Raw, Doc: "How many seconds to wait."},
			{Name: "minutes", Type: module.Raw, Doc: "How many minutes to wait."},
			{Name: "prompt", Type: module.String, Doc: "The text shown when asking for input."},
			{Name: "echo", Type: module.Bool, Default: true, Doc: "Show what the user types."},
		},
		MutuallyExclusive: [][]string{{"minutes", "seconds"}},
		Controller:        true,
		Examples: `- pause:
    seconds: 10
- pause:
    prompt: Check the dashboard, then press enter`,
	}
}

// Plan implements module.Module. Waiting changes nothing, so it waits in
// check mode too, as Ansible does.
func (m *Pause) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	wait, unit, err := pauseDuration(a)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	in := m.Stdin
	if in == nil {
		in = os.Stdin
	}
	start := time.Now()
	res := module.Result{"rc": 0, "stderr": "", "echo": a.Bool("echo"), "user_input": "", "start": pyTime(start)}
	switch {
	case wait > 0:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("pause: %w", ctx.Err())
		}
	case term.IsTerminal(int(in.Fd())):
		answer, err := readAnswer(ctx, in, a)
		if err != nil {
			return nil, err
		}
		res["user_input"] = answer
	default:
		h.Warn("Not waiting for response to prompt as stdin is not interactive")
	}
	stop := time.Now()
	elapsed := stop.Sub(start).Seconds()
	res["stop"] = pyTime(stop)
	res["delta"] = int(elapsed)
	if unit == "minutes" {
		elapsed /= 60
	}
	res["stdout"] = fmt.Sprintf("Paused for %s %s", pyRound2(elapsed), unit)
	return module.Unchanged(res), nil
}

// pauseDuration reads seconds or minutes as Ansible does (int() of the
// value, so 1.5 is 1) and returns the wait, at least a second when one is
// given, and the unit the result names.
func pauseDuration(a module.Args) (time.Duration, string, error) {
	for _, unit := range []string{"seconds", "minutes"} {
		if !a.Has(unit) {
			continue
		}
		n, ok := module.ToInt(a[unit])
		if f, isFloat := a[unit].(float64); !ok && isFloat {
			n, ok = int(f), true
		}
		if !ok {
			return 0, "", fmt.Errorf("argument '%s' is of type %T and we were unable to convert to int: %v", unit, a[unit], a[unit])
		}
		if unit == "minutes" {
			n *= 60
		}
		return time.Duration(max(n, 1)) * time.Second, unit, nil
	}
	return 0, "minutes", nil
}

// readAnswer shows the prompt on the terminal and reads a line; ctx
// stops waiting for it.
func readAnswer(ctx context.Context, in *os.File, a module.Args) (string, error) {
	prompt := "Press enter to continue, Ctrl+C to interrupt"
	if a.Has("prompt") {
		prompt = a.String("prompt")
	}
	if !a.Bool("echo") {
		prompt += " (output is hidden)"
	}
	fmt.Fprintf(os.Stdout, "%s:\n", prompt)
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		if !a.Bool("echo") {
			b, err := term.ReadPassword(int(in.Fd()))
			ch <- answer{string(b), err}
			return
		}
		s, err := bufio.NewReader(in).ReadString('\n')
		ch <- answer{strings.TrimRight(s, "\r\n"), err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && r.s == "" {
			return "", fmt.Errorf("pause: read the answer: %w", r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		return "", fmt.Errorf("pause: %w", ctx.Err())
	}
}

// pyTime formats t as Python's str(datetime.now()).
func pyTime(t time.Time) string {
	return t.Format("2006-01-02 15:04:05.000000")
}

// pyRound2 formats x as Python's str(round(x, 2)).
func pyRound2(x float64) string {
	r := math.Round(x*100) / 100
	s := fmt.Sprintf("%.2f", r)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}
