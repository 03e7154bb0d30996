package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/custommodule"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/facts"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
	"github.com/tend-dev/tend/pkg/vars"
	"github.com/tend-dev/tend/pkg/vault"
)

// playOptions are the parsed flags of tend play.
type playOptions struct {
	inventories    []string
	check, diff    bool
	limit          string
	tags, skipTags []string
	extraVars      []string
	forks          int
	syntaxCheck    bool
	strict         bool
	listHosts      bool
	listTasks      bool
	startAtTask    string
	output         string
	verbosity      int
	detailedExit   bool
	forceHandlers  bool
	hostKeyPolicy  string
	knownHosts     string
	sshConfig      string
	connectTimeout time.Duration
	commandTimeout time.Duration
	askPass        bool
	askBecomePass  bool
	privateKey     string
	user           string
	connection     string
	become         bool
	becomeUser     string
	becomeMethod   string
	rolesPath      []string
	color          string
	vault          vault.Sources
	waitLock       time.Duration
	noLock         bool
	reports        []string
	reportDir      string
	args           []string
	keep           int
	// planOut (--plan-out) saves the check run as a plan; plan carries
	// the saved-plan machinery of --plan-out and tend apply.
	planOut    string
	plan       *planHooks
	noProgress bool
}

func inventoryFlag() *ucli.StringSliceFlag {
	return &ucli.StringSliceFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory file, directory or comma-separated host list (repeatable)", EnvVars: []string{"TEND_INVENTORY", "ANSIBLE_INVENTORY"}}
}

func playCommand() *ucli.Command {
	return &ucli.Command{
		Name:                   "play",
		Usage:                  "run playbooks against inventory hosts",
		UseShortOptionHandling: true,
		ArgsUsage:              "PLAYBOOK...",
		Flags: append([]ucli.Flag{
			inventoryFlag(),
			&ucli.BoolFlag{Name: "check", Aliases: []string{"C"}, Usage: "predict changes without making them"},
			&ucli.BoolFlag{Name: "diff", Aliases: []string{"D"}, Usage: "show differences in files and settings"},
			&ucli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "further limit hosts to a pattern (or @retryfile)"},
			&ucli.StringSliceFlag{Name: "tags", Aliases: []string{"t"}, Usage: "only run tasks with these tags"},
			&ucli.StringSliceFlag{Name: "skip-tags", Usage: "skip tasks with these tags"},
			&ucli.StringSliceFlag{Name: "extra-vars", Aliases: []string{"e"}, Usage: "extra variables: k=v, @file.yml, or JSON/YAML (repeatable; highest precedence)"},
			&ucli.IntFlag{Name: "forks", Aliases: []string{"f"}, Value: 50, Usage: "hosts worked on in parallel"},
			&ucli.BoolFlag{Name: "syntax-check", Usage: "only load and validate the playbooks; exit 1 on any problem, including those a run only warns about"},
			&ucli.BoolFlag{Name: "strict", Usage: "refuse to run when the playbooks have problems that are otherwise warnings (unknown modules or arguments, templates that do not parse), before any host is contacted"},
			&ucli.BoolFlag{Name: "list-hosts", Usage: "list the hosts each play would run on"},
			&ucli.BoolFlag{Name: "list-tasks", Usage: "list the tasks each play would run"},
			&ucli.StringFlag{Name: "start-at-task", Usage: "start at the first task with this name"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "human", Usage: "output format: human, json or jsonl"},
			&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Count: new(int), Usage: "more output (-v, -vv, -vvv)"},
			&ucli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when nothing changed (or would change), 2 when something did, 1 on errors"},
			&ucli.StringFlag{Name: "host-key-checking", Value: "accept-new", Usage: "host key policy: accept-new, strict, or off (insecure)"},
			&ucli.StringFlag{Name: "known-hosts", Usage: "known_hosts file (default ~/.ssh/known_hosts)"},
			&ucli.StringFlag{Name: "ssh-config", Usage: "OpenSSH client config file (default ~/.ssh/config; 'none' to ignore)"},
			&ucli.DurationFlag{Name: "timeout", Aliases: []string{"T"}, Value: 10 * time.Second, Usage: "SSH connect timeout"},
			&ucli.DurationFlag{Name: "task-timeout", Usage: "time limit for each command on a host (0 = none)"},
			&ucli.BoolFlag{Name: "ask-pass", Aliases: []string{"k"}, Usage: "ask for the SSH login password"},
			&ucli.BoolFlag{Name: "ask-become-pass", Aliases: []string{"K"}, Usage: "ask for the privilege escalation password"},
			&ucli.StringFlag{Name: "private-key", Aliases: []string{"key-file"}, Usage: "SSH private key file"},
			&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "SSH login user"},
			&ucli.StringFlag{Name: "connection", Aliases: []string{"c"}, Usage: "connection type, ssh or local (a play's connection keyword and ansible_connection win)"},
			&ucli.BoolFlag{Name: "become", Aliases: []string{"b"}, Usage: "run tasks with privilege escalation"},
			&ucli.StringFlag{Name: "become-user", Usage: "user to become (default root)"},
			&ucli.StringFlag{Name: "become-method", Usage: "sudo or su"},
			&ucli.StringSliceFlag{Name: "roles-path", Usage: "extra directories to search for roles", EnvVars: []string{"ANSIBLE_ROLES_PATH"}},
			&ucli.StringFlag{Name: "color", Value: "auto", Usage: "colour output: auto, always or never"},
			&ucli.DurationFlag{Name: "wait-lock", Usage: "wait this long for another run against the same inventory and playbooks to finish (0: exit 75 at once)"},
			&ucli.BoolFlag{Name: "no-lock", Usage: "do not take the run lock"},
			&ucli.BoolFlag{Name: "force-handlers", Usage: "run notified handlers even on hosts that failed afterwards (the play keyword force_handlers)"},
			&ucli.StringSliceFlag{Name: "report", Usage: "also write a report file at the end of the run: json=PATH, junit=PATH, prometheus=PATH or html=PATH (repeatable)"},
			&ucli.StringFlag{Name: "report-dir", Usage: "keep every run's reports (json, junit, prometheus, html) in a timestamped subdirectory of DIR, with a 'latest' link"},
			&ucli.IntFlag{Name: "keep", Value: 10, Usage: "with --report-dir, the number of runs kept (0: all)"},
			&ucli.StringFlag{Name: "plan-out", Usage: "with --check, save the plan to FILE for review (tend show) and for tend apply"},
			&ucli.BoolFlag{Name: "no-progress", Usage: "no live status line of running hosts (it is shown only on a terminal, never with NO_COLOR, TERM=dumb or --output json)"},
		}, vaultFlags()...),
		Action: func(c *ucli.Context) error {
			o := playOptions{
				inventories: c.StringSlice("inventory"), check: c.Bool("check"), diff: c.Bool("diff"),
				limit: c.String("limit"), tags: splitCSV(c.StringSlice("tags")), skipTags: splitCSV(c.StringSlice("skip-tags")),
				extraVars: c.StringSlice("extra-vars"), forks: c.Int("forks"), syntaxCheck: c.Bool("syntax-check"), strict: c.Bool("strict"),
				listHosts: c.Bool("list-hosts"), listTasks: c.Bool("list-tasks"), startAtTask: c.String("start-at-task"),
				output: c.String("output"), verbosity: c.Count("verbose"), detailedExit: c.Bool("detailed-exitcode"), forceHandlers: c.Bool("force-handlers"),
				hostKeyPolicy: c.String("host-key-checking"), knownHosts: c.String("known-hosts"), sshConfig: c.String("ssh-config"),
				connectTimeout: c.Duration("timeout"), commandTimeout: c.Duration("task-timeout"),
				askPass: c.Bool("ask-pass"), askBecomePass: c.Bool("ask-become-pass"), privateKey: c.String("private-key"),
				user: c.String("user"), connection: c.String("connection"), become: c.Bool("become"), becomeUser: c.String("become-user"), becomeMethod: c.String("become-method"),
				rolesPath: c.StringSlice("roles-path"), color: c.String("color"), vault: vaultSources(c),
				waitLock: c.Duration("wait-lock"), noLock: c.Bool("no-lock"), reports: c.StringSlice("report"),
				reportDir: c.String("report-dir"), keep: c.Int("keep"), planOut: c.String("plan-out"), noProgress: c.Bool("no-progress"),
			}
			o.args, _ = c.App.Metadata["args"].([]string)
			if c.NArg() == 0 {
				return exitWith(ExitError, errors.New("play: no playbook given (usage: tend play [-i INVENTORY] PLAYBOOK...)"))
			}
			paths := c.Args().Slice()
			if o.planOut != "" {
				var err error
				if paths, err = startPlan(&o, paths); err != nil {
					return err
				}
			}
			return runPlay(c.Context, o, paths, c.App.Reader, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func splitCSV(l []string) []string {
	var out []string
	for _, s := range l {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// parseExtraVars merges -e values: k=v text, @file, or inline JSON/YAML.
func parseExtraVars(specs []string) (map[string]any, error) {
	return parseExtraVarsWith(specs, vars.Loader{})
}

// parseExtraVarsWith is parseExtraVars with @files read by loader (which
// decrypts vault files).
func parseExtraVarsWith(specs []string, loader vars.Loader) (map[string]any, error) {
	out := map[string]any{}
	for _, s := range specs {
		var m map[string]any
		switch {
		case strings.HasPrefix(s, "@"):
			var err error
			m, err = loader.LoadFile(s[1:])
			if err != nil {
				return nil, fmt.Errorf("extra vars %s: %w", s, err)
			}
		case strings.HasPrefix(strings.TrimSpace(s), "{"):
			n, err := vars.ParseYAML("--extra-vars", []byte(s))
			if err != nil {
				return nil, fmt.Errorf("extra vars %q: %w", s, err)
			}
			v, err := vars.Decode("--extra-vars", n)
			if err != nil {
				return nil, err
			}
			mm, ok := v.(*odict.Dict)
			if !ok {
				return nil, fmt.Errorf("extra vars %q: expected a mapping", s)
			}
			m = mm.Map()
		default:
			kv, _, err := playbook.ParseKV(s, false, nil)
			if err != nil {
				return nil, fmt.Errorf("extra vars %q: %w (use k=v, @file.yml or JSON)", s, err)
			}
			m = kv
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, nil
}

func loadInventory(sources []string, stderr io.Writer, kr *vault.Keyring) (*inventory.Inventory, error) {
	if len(sources) == 0 {
		if _, err := os.Stat("/etc/ansible/hosts"); err == nil {
			sources = []string{"/etc/ansible/hosts"}
		}
	}
	inv, err := inventory.LoadWith(sources, inventory.Options{Vault: kr})
	if err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings() {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	return inv, nil
}

func runPlay(ctx context.Context, o playOptions, paths []string, stdin io.Reader, stdout, stderr io.Writer) error {
	kr, err := loadKeyring(ctx, o.vault, stdin, stderr)
	if err != nil {
		return exitWith(ExitError, err)
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	extra, err := parseExtraVarsWith(o.extraVars, vars.Loader{Vault: kr, Warn: warn})
	if err != nil {
		return exitWith(ExitError, err)
	}
	reportSpecs, err := parseReportSpecs(o.reports)
	if err != nil {
		return err
	}
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, o.rolesPath)
	loader.Vault = kr
	loader.Warn = warn
	loader.Syntax = template.New(template.Options{})
	o.plan.watchLoader(loader)
	pbs, err := loadPlaybooks(loader, paths, o.syntaxCheck || o.strict, warn)
	if err != nil {
		return err
	}
	if o.syntaxCheck {
		for _, p := range paths {
			fmt.Fprintf(stdout, "\nplaybook: %s\n", p)
		}
		return nil
	}
	inv, err := loadInventory(o.inventories, stderr, kr)
	if err != nil {
		return exitWith(ExitError, err)
	}
	for _, pb := range pbs {
		if err := inv.AddVarsDir(pb.Dir); err != nil {
			return exitWith(ExitError, err)
		}
	}
	if o.listHosts || o.listTasks {
		return listPlays(stdout, inv, pbs, o)
	}
	if !o.noLock {
		dir, err := lockDir()
		if err != nil {
			return exitWith(ExitError, err)
		}
		lock, err := acquireRunLock(ctx, filepath.Join(dir, lockKey(o.inventories, paths)+".lock"), o.waitLock, os.Args)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	cliVars := commandLineVars(o)
	askPass := func(prompt string) (string, error) { return readSecret(ctx, stdin, stderr, prompt) }
	becomePass := ""
	if o.askBecomePass {
		becomePass, err = askPass("BECOME password: ")
		if err != nil {
			return exitWith(ExitError, err)
		}
	}
	repOpts := report.Options{Verbosity: o.verbosity, Diff: o.diff, Err: stderr, Color: useColor(o.color, stdout)}
	rep, progress, err := outputReporter(o, stdout, stderr, repOpts)
	if err != nil {
		return err
	}
	if progress != nil {
		defer progress.Stop()
	}
	var history *report.History
	if o.reportDir != "" {
		history = &report.History{Dir: o.reportDir, Keep: o.keep}
	}
	files := report.NewFiles(reportSpecs, history, repOpts)
	if files != nil {
		rep = report.Multi(rep, files)
	}
	steps, input, execDiff := o.plan.runHooks(o.diff)
	rep = o.plan.reporter(rep, o.inventories, pbs)
	if progress != nil {
		rep = report.Multi(rep, progress)
	}
	pool := ssh.NewPool(ssh.Options{
		SSHConfigFile:    o.sshConfig,
		KnownHostsFile:   o.knownHosts,
		HostKeyPolicy:    o.hostKeyPolicy,
		ConnectTimeout:   o.connectTimeout,
		CommandTimeout:   o.commandTimeout,
		AskPass:          askPass,
		AskLoginPassword: o.askPass,
		Warn:             func(msg string) { rep.Warn("", msg) },
	})
	defer pool.Close()
	connector := &cliConnector{pool: pool}
	total, runErr := executor.RunPlaybooks(ctx, pbs, executor.Options{
		Inventory: inv, Registry: reg, Loader: loader, Connector: connector, Reporter: rep,
		Facts: facts.Gather,
		Forks: o.forks, Check: o.check, Diff: execDiff, ForceHandlers: o.forceHandlers, Limit: o.limit, Tags: o.tags, SkipTags: o.skipTags,
		StartAtTask: o.startAtTask, ExtraVars: extra, DefaultVars: cliVars, Verbosity: o.verbosity, BecomePassword: becomePass, Version: Version,
		Vault: kr, Steps: steps, Input: input, Prompt: varPrompter(stdin, stderr), Custom: customModules(loader),
	})
	o.plan.done(total)
	if err := rep.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if progress != nil {
		// Everything is printed: remove the status line before the
		// report files are written and errors are printed on stderr.
		progress.Stop()
	}
	exit := exitFor(total, runErr, o.detailedExit)
	if files != nil {
		if err := files.Write(report.RunInfo{
			Finished: time.Now(), ExitCode: exitCode(exit),
			Command: hideExtraVars(o.args), Inventories: o.inventories,
		}); err != nil {
			return exitWith(ExitError, errors.Join(errors.Unwrap(exit), err))
		}
	}
	return savePlan(o, paths, runErr, total, exit, stderr)
}

// loadPlaybooks loads and validates the playbooks. Problems Ansible finds
// only when a task runs are warnings, printed now with their place, and
// the task fails if it runs; with strict (--strict, --syntax-check) they
// are errors like the others.
func loadPlaybooks(loader *playbook.Loader, paths []string, strict bool, warn func(string)) ([]*playbook.Playbook, error) {
	var pbs []*playbook.Playbook
	var loadErrs []error
	for _, p := range paths {
		pb, err := loader.LoadPlaybook(p)
		if err != nil {
			loadErrs = append(loadErrs, err)
		}
		if strict {
			loadErrs = append(loadErrs, loader.Warnings()...)
		} else {
			for _, w := range loader.Warnings() {
				warn(w.Error())
			}
		}
		if err == nil {
			pbs = append(pbs, pb)
		}
	}
	if len(loadErrs) > 0 {
		return nil, exitWith(ExitError, fmt.Errorf("playbook validation failed:\n%w", errors.Join(loadErrs...)))
	}
	return pbs, nil
}

// parseReportSpecs parses the --report flags and checks that their
// directories exist: found out before the run, not after an hour of it.
func parseReportSpecs(reports []string) ([]report.FileSpec, error) {
	var specs []report.FileSpec
	for _, r := range reports {
		spec, err := report.ParseFileSpec(r)
		if err != nil {
			return nil, exitWith(ExitError, err)
		}
		if st, err := os.Stat(filepath.Dir(spec.Path)); err != nil || !st.IsDir() {
			return nil, exitWith(ExitError, fmt.Errorf("--report %s: directory %s does not exist", r, filepath.Dir(spec.Path)))
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

// commandLineVars are the connection variables set by flags, below the
// inventory's.
func commandLineVars(o playOptions) map[string]any {
	cliVars := map[string]any{}
	if o.user != "" {
		cliVars["ansible_user"] = o.user
	}
	if o.connection != "" {
		cliVars["ansible_connection"] = o.connection
	}
	if o.privateKey != "" {
		cliVars["ansible_ssh_private_key_file"] = o.privateKey
	}
	if o.become {
		cliVars["ansible_become"] = true
	}
	if o.becomeUser != "" {
		cliVars["ansible_become_user"] = o.becomeUser
	}
	if o.becomeMethod != "" {
		cliVars["ansible_become_method"] = o.becomeMethod
	}
	return cliVars
}

// outputReporter returns the reporter of --output and, on a terminal, the
// live status line through which the human output is printed.
func outputReporter(o playOptions, stdout, stderr io.Writer, repOpts report.Options) (report.Reporter, *report.Progress, error) {
	var progress *report.Progress
	switch o.output {
	case "human", "":
		out := stdout
		if showProgress(o, stdout) {
			// The normal output goes through the progress container, so
			// its lines are printed above the status line; so do
			// warnings when stderr is the same terminal.
			progress = report.NewProgress(stdout)
			out = progress.Writer()
			if isTerminal(stderr) {
				repOpts.Err = out
			}
		}
		return report.NewHuman(out, repOpts), progress, nil
	case "json":
		return report.NewJSON(stdout, repOpts), nil, nil
	case "jsonl", "json-lines":
		return report.NewJSONLines(stdout, repOpts), nil, nil
	}
	return nil, nil, exitWith(ExitError, fmt.Errorf("--output %q: expected human, json or jsonl", o.output))
}

// exitCode is the code Main exits with for err.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return ExitError
}

// exitFor maps a run's outcome to tend's exit codes.
func exitFor(s *executor.Summary, runErr error, detailed bool) error {
	switch {
	case runErr != nil:
		return exitWith(ExitError, runErr)
	case s.Interrupted:
		return exitWith(ExitInterrupted, errors.New("interrupted"))
	}
	if detailed {
		switch {
		case s.Failed() || s.Unreachable():
			return exitWith(ExitError, nil)
		case s.Changed():
			return exitWith(ExitFailed, nil)
		}
		return nil
	}
	switch {
	case s.Unreachable():
		return exitWith(ExitUnreachable, nil)
	case s.Failed():
		return exitWith(ExitFailed, nil)
	}
	return nil
}

func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// showProgress decides whether the live status line of running hosts is
// shown: only for the human output on a terminal that can redraw a line
// (not TERM=dumb, not without TERM as under cron), never with NO_COLOR,
// and not with --no-progress.
func showProgress(o playOptions, stdout io.Writer) bool {
	if o.noProgress || os.Getenv("NO_COLOR") != "" {
		return false
	}
	if t := os.Getenv("TERM"); t == "" || t == "dumb" {
		return false
	}
	return isTerminal(stdout)
}

// readSecret prompts on stderr and reads one line from stdin without
// echo when stdin is a terminal. A read from a terminal or pipe cannot be
// interrupted, so when ctx is cancelled (SIGINT, SIGTERM) readSecret
// returns at once, giving the terminal its echo back, and leaves the read
// behind: tend is exiting.
func readSecret(ctx context.Context, stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	fmt.Fprint(stderr, prompt)
	defer fmt.Fprintln(stderr)
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	restore := func() {}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		if st, err := term.GetState(fd); err == nil {
			restore = func() { _ = term.Restore(fd, st) }
		}
		go func() {
			b, err := term.ReadPassword(fd)
			done <- result{string(b), err}
		}()
	} else {
		go func() {
			s, err := readLine(stdin, prompt)
			done <- result{s, err}
		}()
	}
	select {
	case r := <-done:
		return r.s, r.err
	case <-ctx.Done():
		restore()
		return "", fmt.Errorf("reading %s: interrupted: %w", strings.TrimSuffix(strings.TrimSpace(prompt), ":"), context.Cause(ctx))
	}
}

// readLine reads up to a newline or the end of input.
func readLine(stdin io.Reader, prompt string) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := stdin.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			if b.Len() == 0 {
				return "", fmt.Errorf("reading %s: no input", strings.TrimSpace(prompt))
			}
			break
		}
	}
	return b.String(), nil
}

// cliConnector chooses a host's transport by its ansible_connection:
// local runs on the controller, the SSH types go through the pool.
type cliConnector struct {
	pool *ssh.Pool
}

func (c *cliConnector) Get(ctx context.Context, host string, hv map[string]any) (connection.Connection, error) {
	t := ""
	if v := hv["ansible_connection"]; v != nil {
		t = strings.TrimSpace(fmt.Sprint(v))
	}
	switch {
	case t == "local":
		return connection.Local{}, nil
	case ssh.Serves(t):
		return c.pool.Get(ctx, host, hv)
	}
	return nil, fmt.Errorf("host %s: ansible_connection %q is not supported (want ssh or local)", host, t)
}

func listPlays(w io.Writer, inv *inventory.Inventory, pbs []*playbook.Playbook, o playOptions) error {
	for _, pb := range pbs {
		fmt.Fprintf(w, "\nplaybook: %s\n", pb.Path)
		for i, p := range pb.Plays {
			fmt.Fprintf(w, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, p.Hosts, p.Name, strings.Join(p.Tags, ","))
			if o.listHosts {
				hosts, err := inv.Select(p.Hosts)
				if err != nil {
					return exitWith(ExitError, err)
				}
				var names []string
				allowed := map[string]bool{}
				if o.limit != "" {
					lim, err := inv.Select(o.limit)
					if err != nil {
						return exitWith(ExitError, err)
					}
					for _, h := range lim {
						allowed[h.Name] = true
					}
				}
				for _, h := range hosts {
					if o.limit == "" || allowed[h.Name] {
						names = append(names, h.Name)
					}
				}
				fmt.Fprintf(w, "    pattern: ['%s']\n    hosts (%d):\n", p.Hosts, len(names))
				for _, n := range names {
					fmt.Fprintf(w, "      %s\n", n)
				}
			}
			if o.listTasks {
				fmt.Fprintf(w, "    tasks:\n")
				for _, sec := range [][]*playbook.Task{p.PreTasks, p.Roles, p.Tasks, p.PostTasks} {
					listTasks(w, sec, p.Tags, o)
				}
			}
		}
	}
	return nil
}

func listTasks(w io.Writer, tasks []*playbook.Task, inheritedTags []string, o playOptions) {
	for _, t := range tasks {
		tags := append(append([]string(nil), inheritedTags...), t.Tags...)
		if t.IsBlock() {
			listTasks(w, t.Block, tags, o)
			listTasks(w, t.Rescue, tags, o)
			listTasks(w, t.Always, tags, o)
			continue
		}
		if !executor.TagsMatch(tags, o.tags, o.skipTags) {
			continue
		}
		name := t.DisplayName()
		if t.Role != nil {
			name = t.Role.Name + " : " + name
		}
		uniq := map[string]bool{}
		var tl []string
		for _, tg := range tags {
			if !uniq[tg] {
				uniq[tg] = true
				tl = append(tl, tg)
			}
		}
		sort.Strings(tl)
		fmt.Fprintf(w, "      %s\tTAGS: [%s]\n", name, strings.Join(tl, ", "))
	}
}

// hideExtraVars returns args with the values of -e/--extra-vars
// replaced: they often carry passwords, and the HTML report is read by
// people who may not see them. "@file" values name a file and stay.
func hideExtraVars(args []string) []string {
	out := append([]string(nil), args...)
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case a == "-e" || a == "--extra-vars":
			if i+1 < len(out) && !strings.HasPrefix(out[i+1], "@") {
				out[i+1] = "<hidden>"
			}
			i++
		case strings.HasPrefix(a, "--extra-vars="):
			if !strings.HasPrefix(a[len("--extra-vars="):], "@") {
				out[i] = "--extra-vars=<hidden>"
			}
		case strings.HasPrefix(a, "-e") && !strings.HasPrefix(a, "--"):
			v := strings.TrimPrefix(strings.TrimPrefix(a, "-e"), "=")
			if !strings.HasPrefix(v, "@") {
				out[i] = "-e<hidden>"
			}
		}
	}
	return out
}

// customModules finds the modules the content ships (library/ directories
// of the playbooks and roles, ANSIBLE_LIBRARY) as the loader sees them.
func customModules(loader *playbook.Loader) *custommodule.Library {
	return &custommodule.Library{
		Find: loader.FindModule, ModuleUtils: loader.ModuleUtilsDirs, CollectionRoots: loader.CollectionRoots,
		// The Ansible version whose language tend speaks, as modules are
		// told it (_ansible_version).
		Version: "2.14.0",
	}
}
