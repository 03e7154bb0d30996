// Package cli builds the tend command line (play, inventory, doc,
// version) on urfave/cli and maps outcomes to exit codes. Nothing below
// cmd/ writes to the process's standard streams directly: they are passed
// in.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// Version is tend's version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// Exit codes, Ansible-compatible by default.
const (
	ExitOK          = 0
	ExitError       = 1 // usage, parse or validation error
	ExitFailed      = 2 // some host failed (or, with --detailed-exitcode, changes)
	ExitUnreachable = 4 // some host unreachable
	ExitInterrupted = 99
	// ExitPlanRefused: tend apply refused the plan before running anything
	// (inputs changed, too old, unpredictable tasks without
	// --allow-unpredictable, other -e arguments, another format version).
	ExitPlanRefused = 10
	// ExitPlanMismatch: a host's new plan differed from the saved one; that
	// host (with --all-or-nothing, every host) stopped at that task.
	ExitPlanMismatch = 11
)

// exitError carries an exit code through urfave/cli.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// Main runs the tend command line with args (args[0] is the program name)
// and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := New(stdin, stdout, stderr)
	// The command line as typed, for the HTML report.
	app.Metadata = map[string]any{"args": args}
	err := app.RunContext(ctx, interspersed(app, args))
	if err == nil {
		return ExitOK
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
	}
	if ctx.Err() != nil {
		// Whatever failed when tend was interrupted failed because of it.
		return ExitInterrupted
	}
	return code
}

// New returns the tend application.
func New(stdin io.Reader, stdout, stderr io.Writer) *ucli.App {
	app := &ucli.App{
		Name:                 "tend",
		Usage:                "run Ansible playbooks over SSH, fast, with nothing but a POSIX shell on the hosts",
		Version:              Version,
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// -e '{"a": 1, "b": 2}' and -i 'web1,web2,' must reach tend whole;
		// --tags a,b is split by tend itself.
		DisableSliceFlagSeparator: true,
		HideVersion:               true,
		Commands: []*ucli.Command{
			playCommand(),
			showCommand(),
			applyCommand(),
			scheduleCommand(),
			inventoryCommand(),
			vaultCommand(),
			docCommand(),
			versionCommand(),
			completionCommand(),
		},
		ExitErrHandler: func(*ucli.Context, error) {},
	}
	return app
}

func versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print tend's version",
		Action: func(c *ucli.Context) error {
			fmt.Fprintf(c.App.Writer, "tend %s\n", Version)
			return nil
		},
	}
}

func completionCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Action: func(c *ucli.Context) error {
			switch c.Args().First() {
			case "bash", "":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			default:
				return exitWith(ExitError, fmt.Errorf("completion: unknown shell %q (bash or zsh)", c.Args().First()))
			}
			return nil
		},
	}
}

const bashCompletion = `# tend bash completion: source <(tend completion bash)
_tend_complete() {
  local cur opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  opts=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
  if [[ "$cur" == -* || -z "$opts" ]]; then
    COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
    [[ -z "$opts" ]] && COMPREPLY=( $(compgen -f -- "${cur}") )
  else
    COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") $(compgen -f -- "${cur}") )
  fi
}
complete -o filenames -F _tend_complete tend
`

const zshCompletion = `#compdef tend
# tend zsh completion: source <(tend completion zsh)
_tend() {
  local -a opts
  opts=("${(@f)$(${words[1]} ${words[@]:1:$CURRENT-2} --generate-bash-completion 2>/dev/null)}")
  _describe 'values' opts
  _files
}
compdef _tend tend
`

// interspersed moves a subcommand's flags before its positional
// arguments, so "tend play site.yml --check" works as it does with
// ansible-playbook (urfave/cli stops reading flags at the first argument).
func interspersed(app *ucli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	prefix := 2
	if len(cmd.Subcommands) > 0 {
		// "tend vault encrypt FILE --vault-password-file F": the same, one
		// level down.
		if len(args) < 3 || cmd.Command(args[2]) == nil {
			return args
		}
		cmd, prefix = cmd.Command(args[2]), 3
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*ucli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, positional []string
	rest := args[prefix:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	out := append(append([]string(nil), args[:prefix]...), flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}
