package modules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Command runs a program on the host without a shell: its words are split
// like a shell would, but pipes, redirections, globs and $VARS are not
// interpreted (use shell for those).
type Command struct{ useShell bool }

var _ module.Module = (*Command)(nil)

func commandArgs(useShell bool) []module.Arg {
	args := []module.Arg{
		{Name: "cmd", Aliases: []string{"_raw_params"}, Type: module.String, Doc: "The command line to run (also given as free-form text)."},
		{Name: "chdir", Type: module.Path, Expand: true, Doc: "Change into this directory before running."},
		{Name: "creates", Type: module.Path, Expand: true, Doc: "A path (glob allowed); when it exists the command is not run."},
		{Name: "removes", Type: module.Path, Expand: true, Doc: "A path (glob allowed); when it does not exist the command is not run."},
		{Name: "stdin", Type: module.String, Doc: "Text fed to the command's standard input."},
		{Name: "stdin_add_newline", Type: module.Bool, Default: true, Doc: "Append a newline to stdin."},
		{Name: "strip_empty_ends", Type: module.Bool, Default: true, Doc: "Strip trailing empty lines from stdout and stderr."},
		{Name: "warn", Type: module.Bool, Doc: "Ignored; accepted for compatibility."},
	}
	if useShell {
		args = append(args, module.Arg{Name: "executable", Type: module.Path, Doc: "The shell to run the command with (default /bin/sh)."})
	} else {
		args = append(args,
			module.Arg{Name: "argv", Type: module.List, Elements: module.String, Doc: "The command as a list of words; nothing is split or interpreted."},
			module.Arg{Name: "expand_argument_vars", Type: module.Bool, Default: true, Doc: "Expand $VAR, ${VAR} and a leading ~ in each word of the command with the host's environment, as Ansible's command module does (Python's os.path.expandvars and expanduser: unknown variables and ~user stay as written, nothing else is interpreted); false passes the words as written."},
			module.Arg{Name: "executable", Type: module.Path, Doc: "Ignored with a warning, as in Ansible since 2.4 (use shell to choose the shell)."},
		)
	}
	return args
}

// Spec implements module.Module.
func (m *Command) Spec() *module.Spec {
	if m.useShell {
		return &module.Spec{
			Name:  "shell",
			Short: "Run a command line through the shell on the host",
			Description: "Runs cmd with /bin/sh -c (or executable) on the host, so pipes, redirections, globs and " +
				"$VARIABLES work. Always reports changed unless creates/removes decide otherwise or changed_when is " +
				"set. In check mode the task is skipped unless creates/removes decide it.",
			Args:          commandArgs(true),
			FreeForm:      "cmd",
			RequiredOneOf: [][]string{{"cmd"}},
			GroupsAtRun:   true,
			Check:         module.CheckPartial,
			Examples: `- name: Count processes
  shell: ps -e | wc -l
  register: procs
  changed_when: false

- shell: ./configure && make install
  args:
    chdir: /src/app
    creates: /usr/local/bin/app`,
		}
	}
	return &module.Spec{
		Name:  "command",
		Short: "Run a program on the host (no shell)",
		Description: "Runs a program with its arguments on the host. The command line is split into words like a " +
			"shell would, but |, >, *, $VAR are passed literally: use shell for them. Always reports changed unless " +
			"creates/removes decide otherwise or changed_when is set. In check mode the task is skipped unless " +
			"creates/removes decide it.",
		Args:              commandArgs(false),
		FreeForm:          "cmd",
		MutuallyExclusive: [][]string{{"cmd", "argv"}},
		RequiredOneOf:     [][]string{{"cmd", "argv"}},
		// A missing command, or both cmd and argv, fail when the task
		// runs with Ansible's result (rc 256).
		GroupsAtRun: true,
		Check:       module.CheckPartial,
		Examples: `- name: Show the kernel
  command: uname -r
  register: kernel
  changed_when: false

- command:
    argv: [/usr/bin/rstudio-server, verify-installation]`,
	}
}

// Plan implements module.Module.
func (m *Command) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	if exe := a.String("executable"); !m.useShell && exe != "" && h.Warn != nil {
		h.Warn("As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '" + exe + "'.")
	}
	line, err := m.commandLine(ctx, h, a)
	if err != nil {
		return module.Unchanged(commandFailed(err.Error())), nil
	}
	// Ansible reports command's cmd as its argument list, shell's as text.
	var display any = a.String("cmd")
	if !m.useShell {
		words := a.List("argv")
		if len(words) == 0 {
			words, _ = splitShellWords(a.String("cmd"))
		}
		list := make([]any, len(words))
		for i, w := range words {
			list[i] = w
		}
		display = list
	}
	if creates, removes := a.String("creates"), a.String("removes"); creates != "" || removes != "" {
		var test string
		if creates != "" {
			test = "for f in " + globWord(creates) + "; do [ -e \"$f\" ] && echo creates-exists && break; done; "
		}
		if removes != "" {
			test += "found=; for f in " + globWord(removes) + "; do [ -e \"$f\" ] && found=1 && break; done; [ -z \"$found\" ] && echo removes-missing; "
		}
		test += "true"
		if dir := a.String("chdir"); dir != "" {
			test = "cd " + shell.Path(dir) + " 2>/dev/null; " + test
		}
		res, err := h.Run(ctx, test)
		if err != nil {
			return nil, fmt.Errorf("check creates/removes: %w", err)
		}
		out := string(res.Stdout)
		switch {
		case strings.Contains(out, "creates-exists"):
			return module.Unchanged(notRun(display, fmt.Sprintf("skipped, since %s exists", creates), "Did not run command since '"+creates+"' exists")), nil
		case strings.Contains(out, "removes-missing"):
			return module.Unchanged(notRun(display, fmt.Sprintf("skipped, since %s does not exist", removes), "Did not run command since '"+removes+"' does not exist")), nil
		}
		// creates/removes decided that the command runs: check mode can
		// say "changed" with confidence, with Ansible's words (a run
		// reports the command's own result instead).
		return &module.Plan{Changed: true, Result: module.Result{"cmd": display, "rc": 0, "msg": "Command would have run if not in check mode"},
			Apply: m.apply(h, a, line, display)}, nil
	}
	return &module.Plan{Changed: true, Unpredictable: true, Result: module.Result{"cmd": display}, Apply: m.apply(h, a, line, display)}, nil
}

func (m *Command) apply(h *module.Host, a module.Args, line string, display any) func(context.Context) (module.Result, error) {
	return func(ctx context.Context) (module.Result, error) {
		c := connection.Command{Cmd: line}
		if dir := a.String("chdir"); dir != "" {
			// Ansible fails before running anything when chdir fails.
			q := shell.Path(dir)
			// cd -P: the process's directory is the resolved one, as after
			// Python's os.chdir, so $PWD names no symbolic link.
			c.Cmd = "if ! cd -P " + q + " 2>/dev/null; then if [ ! -e " + q + " ]; then e=2; elif [ ! -d " + q + " ]; then e=20; else e=13; fi; " +
				"printf '" + chdirFailed + "%s' $e >&2; exit 254; fi; " + line
		}
		if a.Has("stdin") {
			in := a.String("stdin")
			if a.Bool("stdin_add_newline") {
				in += "\n"
			}
			c.Stdin = strings.NewReader(in)
		}
		start := time.Now()
		res, err := h.RunWith(ctx, c)
		end := time.Now()
		if err != nil {
			return nil, err
		}
		if e, ok := strings.CutPrefix(string(res.Stderr), chdirFailed); ok && res.ExitCode == 254 {
			r := commandFailed(fmt.Sprintf("Unable to change directory before execution: [Errno %s] %s: b'%s'", e, errnoText[e], a.String("chdir")))
			r["cmd"], r["rc"], r["changed"] = display, nil, false
			return r, nil
		}
		r := module.CommandResult(res)
		if a.Bool("strip_empty_ends") {
			// Ansible's rstrip("\r\n"): carriage returns go too.
			out, errOut := strings.TrimRight(string(res.Stdout), "\r\n"), strings.TrimRight(string(res.Stderr), "\r\n")
			r["stdout"], r["stderr"], r["stdout_lines"], r["stderr_lines"] = out, errOut, module.Lines(out), module.Lines(errOut)
		} else {
			r["stdout"], r["stderr"] = string(res.Stdout), string(res.Stderr)
		}
		r["cmd"] = display
		r["start"] = start.Format("2006-01-02 15:04:05.000000")
		r["end"] = end.Format("2006-01-02 15:04:05.000000")
		r["delta"] = formatDelta(end.Sub(start))
		r["msg"] = ""
		if res.ExitCode != 0 {
			r["failed"] = true
			r["msg"] = "non-zero return code"
		}
		return r, nil
	}
}

// chdirFailed marks, on stderr, a chdir that failed (the errno after it).
const chdirFailed = "tend-chdir-failed:"

var errnoText = map[string]string{"2": "No such file or directory", "20": "Not a directory", "13": "Permission denied"}

// commandFailed is Ansible's result for a command that cannot start
// (none given, or both cmd and argv): rc 256, nothing run.
func commandFailed(msg string) module.Result {
	return module.Result{"failed": true, "msg": msg, "rc": 256, "cmd": nil, "start": nil, "end": nil, "delta": nil,
		"stdout": "", "stderr": "", "stdout_lines": []string{}, "stderr_lines": []string{}}
}

func formatDelta(d time.Duration) string {
	h := int(d.Hours())
	mnt := int(d.Minutes()) % 60
	s := d.Seconds() - float64(h*3600+mnt*60)
	return fmt.Sprintf("%d:%02d:%09.6f", h, mnt, s)
}

// commandLine builds the /bin/sh line for the task.
func (m *Command) commandLine(ctx context.Context, h *module.Host, a module.Args) (string, error) {
	if m.useShell {
		cmd := a.String("cmd")
		if strings.TrimSpace(cmd) == "" {
			return "", fmt.Errorf("no command given")
		}
		if exe := a.String("executable"); exe != "" {
			return shell.Quote(exe) + " -c " + shell.Quote(cmd), nil
		}
		return cmd, nil
	}
	if strings.TrimSpace(a.String("cmd")) != "" && len(a.List("argv")) > 0 {
		return "", fmt.Errorf("only command or argv can be given, not both")
	}
	var words []string
	if len(a.List("argv")) > 0 {
		words = a.List("argv")
	} else {
		var err error
		words, err = splitShellWords(a.String("cmd"))
		if err != nil {
			return "", err
		}
	}
	if len(words) == 0 {
		return "", fmt.Errorf("no command given")
	}
	if a.Bool("expand_argument_vars") {
		var err error
		if words, err = expandWords(ctx, h, words); err != nil {
			return "", err
		}
	}
	return shell.Join(words...), nil
}

// expandWords expands each word as Ansible's run_command does for the
// command module (os.path.expanduser(os.path.expandvars(word))), with
// the environment of the host's commands, read only when a word holds a
// "$" or starts with "~". The words stay single arguments: nothing in a
// value is split, globbed or run.
func expandWords(ctx context.Context, h *module.Host, words []string) ([]string, error) {
	need := false
	for _, w := range words {
		if strings.Contains(w, "$") || strings.HasPrefix(w, "~") {
			need = true
			break
		}
	}
	if !need || h.Conn == nil {
		return words, nil
	}
	env, err := h.Environment(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = module.ExpandUser(module.ExpandVars(w, env), env)
	}
	return out, nil
}

// globWord quotes a path but leaves glob characters active.
func globWord(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r == '*' || r == '?' || r == '[' || r == ']' {
			b.WriteRune(r)
			continue
		}
		b.WriteString(shell.Quote(string(r)))
	}
	return b.String()
}

// splitShellWords splits a command line into words like a shell, without
// any expansion (see shell.Split).
func splitShellWords(s string) ([]string, error) { return shell.Split(s) }

// notRun is the result of a command that creates or removes kept from
// running, as Ansible's command module gives it (no times).
func notRun(cmd any, stdout, msg string) module.Result {
	return module.Result{"cmd": cmd, "rc": 0, "stdout": stdout, "stdout_lines": []string{stdout}, "stderr": "", "stderr_lines": []string{},
		"start": nil, "end": nil, "delta": nil, "msg": msg}
}
