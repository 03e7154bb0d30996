package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/plan"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// planHooks are what a run needs for saved plans: the step gate (a
// recorder with --plan-out, the comparing gate in tend apply), the input
// and event recorders of --plan-out, and the run's summary once it ends.
type planHooks struct {
	recorder *plan.Recorder
	gate     *plan.Gate
	inputs   *plan.Inputs
	events   *plan.EventRecorder
	// quiet discards the run's output (the --all-or-nothing preflight).
	quiet   bool
	summary *executor.Summary
}

// runHooks returns the executor's Steps and Input options and its diff
// mode: plans are always computed with diffs, whatever is shown.
func (h *planHooks) runHooks(diff bool) (executor.StepGate, func(string), bool) {
	if h == nil {
		return nil, nil, diff
	}
	var input func(string)
	if h.inputs != nil {
		input = h.inputs.Add
	}
	if h.recorder != nil {
		return h.recorder, input, true
	}
	if h.gate != nil {
		return h.gate, input, true
	}
	return nil, input, true
}

// watchLoader binds a --plan-out run's plan to the files loader reads.
func (h *planHooks) watchLoader(l *playbook.Loader) {
	if h != nil && h.inputs != nil {
		l.Read = h.inputs.Add
	}
}

// reporter is the run's reporter: none for the preflight, and with the
// event recorder of --plan-out; it also binds the plan to the inventory.
func (h *planHooks) reporter(rep report.Reporter, inventories []string, pbs []*playbook.Playbook) report.Reporter {
	if h == nil {
		return rep
	}
	if h.quiet {
		rep = report.Multi()
	}
	if h.events != nil {
		rep = report.Multi(rep, h.events)
	}
	if h.inputs != nil {
		addInventoryInputs(h.inputs, inventories, pbs)
	}
	return rep
}

// done keeps the run's summary.
func (h *planHooks) done(s *executor.Summary) {
	if h != nil {
		h.summary = s
	}
}

// startPlan prepares a --plan-out run: the paths it will save are made
// absolute, so tend apply finds them from any directory, and the
// recorders are set up. It returns the playbook paths, made absolute.
func startPlan(o *playOptions, paths []string) ([]string, error) {
	if !o.check {
		return nil, exitWith(ExitError, errors.New("--plan-out saves what --check predicts: add --check"))
	}
	abs := func(p string) string {
		if p == "" || p == "none" {
			return p
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = abs(p)
	}
	for i, inv := range o.inventories {
		if _, err := os.Stat(inv); err == nil {
			o.inventories[i] = abs(inv)
		}
	}
	o.knownHosts, o.sshConfig, o.privateKey = abs(o.knownHosts), abs(o.sshConfig), abs(o.privateKey)
	planOut := abs(o.planOut)
	if st, err := os.Stat(filepath.Dir(planOut)); err != nil || !st.IsDir() {
		return nil, exitWith(ExitError, fmt.Errorf("--plan-out %s: directory %s does not exist", o.planOut, filepath.Dir(planOut)))
	}
	o.planOut = planOut
	h := &planHooks{recorder: &plan.Recorder{}, events: &plan.EventRecorder{}, inputs: &plan.Inputs{Skip: []string{planOut}}}
	for _, e := range o.extraVars {
		if name, ok := strings.CutPrefix(e, "@"); ok {
			h.inputs.Add(name)
		}
	}
	o.plan = h
	return out, nil
}

// addInventoryInputs binds a plan to the inventory sources and the
// group_vars/host_vars directories beside them and beside the playbooks.
func addInventoryInputs(in *plan.Inputs, sources []string, pbs []*playbook.Playbook) {
	if len(sources) == 0 {
		if _, err := os.Stat("/etc/ansible/hosts"); err == nil {
			sources = []string{"/etc/ansible/hosts"}
		}
	}
	var dirs []string
	for _, src := range sources {
		st, err := os.Stat(src)
		if err != nil {
			continue // a host list (web1,web2,)
		}
		in.Add(src)
		if !st.IsDir() {
			dirs = append(dirs, filepath.Dir(src))
		}
	}
	for _, pb := range pbs {
		dirs = append(dirs, pb.Dir)
	}
	for _, d := range dirs {
		in.Add(filepath.Join(d, "group_vars"))
		in.Add(filepath.Join(d, "host_vars"))
	}
}

// savePlan writes the plan of a --check --plan-out run that finished
// (hosts may have failed; a run that did not finish saves nothing) and
// returns the run's exit, or the error of writing the plan.
func savePlan(o playOptions, paths []string, runErr error, total *executor.Summary, exit error, stderr io.Writer) error {
	if o.planOut == "" || runErr != nil || total == nil || total.Interrupted {
		return exit
	}
	if err := writePlan(o, paths, stderr); err != nil {
		return exitWith(ExitError, err)
	}
	return exit
}

func writePlan(o playOptions, paths []string, stderr io.Writer) error {
	inputs, err := o.plan.inputs.List()
	if err != nil {
		return err
	}
	f := &plan.File{
		Created:     time.Now().UTC(),
		TendVersion: Version,
		Command:     hideExtraVars(o.args),
		Options: plan.Options{
			Playbooks: paths, Inventories: o.inventories, Limit: o.limit, Tags: o.tags, SkipTags: o.skipTags,
			StartAtTask: o.startAtTask, Forks: o.forks, User: o.user, Connection: o.connection, PrivateKey: o.privateKey,
			Become: o.become, BecomeUser: o.becomeUser, BecomeMethod: o.becomeMethod, AskPass: o.askPass, AskBecomePass: o.askBecomePass,
			RolesPath: o.rolesPath, HostKeyPolicy: o.hostKeyPolicy, KnownHosts: o.knownHosts, SSHConfig: o.sshConfig,
			ConnectTimeout: o.connectTimeout, TaskTimeout: o.commandTimeout,
		},
		Inputs: inputs,
		Hosts:  o.plan.recorder.Steps(),
		Events: o.plan.events.Events(),
	}
	for _, e := range o.extraVars {
		f.ExtraVars = append(f.ExtraVars, plan.NewExtraVar(e))
	}
	if err := f.Write(o.planOut); err != nil {
		return err
	}
	changes, hosts := 0, 0
	for _, steps := range f.Hosts {
		n := 0
		for _, s := range steps {
			if s.Changed {
				n++
			}
		}
		changes += n
		if n > 0 {
			hosts++
		}
	}
	fmt.Fprintf(stderr, "Plan saved to %s: %d changes on %d hosts, %d input files", o.planOut, changes, hosts, len(inputs))
	if u := f.Unpredictable(); len(u) > 0 {
		fmt.Fprintf(stderr, ", %d unpredictable tasks (tend apply runs them only with --allow-unpredictable)", len(u))
	}
	fmt.Fprintf(stderr, ".\nReview it with: tend show %s; apply it with: tend apply %s\n", o.planOut, o.planOut)
	return nil
}

func showCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "show",
		Usage:     "print a saved plan as --check --diff would",
		ArgsUsage: "PLAN",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "human", Usage: "output format: human or json"},
			&ucli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when the plan changes nothing, 2 when it changes something, 1 on errors"},
			&ucli.StringFlag{Name: "color", Value: "auto", Usage: "colour output: auto, always or never"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return exitWith(ExitError, errors.New("show: give one plan file (usage: tend show PLAN)"))
			}
			f, err := plan.Read(c.Args().First())
			if err != nil {
				return exitWith(ExitError, err)
			}
			if err := showPlan(c.App.Writer, c.Args().First(), f, c.String("output"), useColor(c.String("color"), c.App.Writer)); err != nil {
				return exitWith(ExitError, err)
			}
			if c.Bool("detailed-exitcode") && f.Changed() {
				return exitWith(ExitFailed, nil)
			}
			return nil
		},
	}
}

// showPlan prints f: its header and the planned run as the human output
// of --check --diff shows it, or one JSON document holding the run
// document of --output json and, under "plan", the plan without its
// events.
func showPlan(w io.Writer, path string, f *plan.File, output string, color bool) error {
	switch output {
	case "human", "":
		fmt.Fprintf(w, "Plan %s, made %s (%s ago) with tend %s\n", path, f.Created.Format(time.RFC3339), time.Since(f.Created).Round(time.Second), f.TendVersion)
		fmt.Fprintf(w, "  command: %s\n  bound to %d input files; apply with: tend apply %s\n", strings.Join(f.Command, " "), len(f.Inputs), path)
		if u := f.Unpredictable(); len(u) > 0 {
			fmt.Fprintf(w, "  unpredictable tasks (their outcome is known only by running them; tend apply runs them only with --allow-unpredictable):\n")
			for _, s := range u {
				fmt.Fprintf(w, "    %s\n", s)
			}
		}
		return plan.Replay(f.Events, report.NewHuman(w, report.Options{Diff: true, Color: color}))
	case "json":
		var buf bytes.Buffer
		if err := plan.Replay(f.Events, report.NewJSON(&buf, report.Options{Diff: true})); err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			return fmt.Errorf("plan %s: %w", path, err)
		}
		head := *f
		head.Events = nil
		doc["plan"] = head
		out, err := json.MarshalIndent(doc, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	return fmt.Errorf("--output %q: expected human or json", output)
}

// applyOptions are the flags of tend apply.
type applyOptions struct {
	allOrNothing, allowUnpredictable bool
	maxAge                           time.Duration
}

func applyCommand() *ucli.Command {
	return &ucli.Command{
		Name:                   "apply",
		Usage:                  "apply a saved plan: only where each host's new plan equals the saved one",
		ArgsUsage:              "PLAN",
		UseShortOptionHandling: true,
		Flags: append([]ucli.Flag{
			&ucli.BoolFlag{Name: "all-or-nothing", Usage: "check every host against the plan first and change nothing anywhere on a mismatch; stop every host at a mismatch during the run"},
			&ucli.BoolFlag{Name: "allow-unpredictable", Usage: "run the tasks the plan lists as unpredictable (command/shell without creates/removes, tasks check mode skipped or could not check)"},
			&ucli.DurationFlag{Name: "max-age", Value: 24 * time.Hour, Usage: "refuse plans older than this (0: any age)"},
			&ucli.StringSliceFlag{Name: "extra-vars", Aliases: []string{"e"}, Usage: "the plan's -e arguments again (their values are not stored in the plan)"},
			&ucli.BoolFlag{Name: "diff", Aliases: []string{"D"}, Usage: "show differences in files and settings"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "human", Usage: "output format: human, json or jsonl"},
			&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Count: new(int), Usage: "more output (-v, -vv, -vvv)"},
			&ucli.StringFlag{Name: "color", Value: "auto", Usage: "colour output: auto, always or never"},
			&ucli.DurationFlag{Name: "wait-lock", Usage: "wait this long for another run against the same inventory and playbooks to finish"},
			&ucli.BoolFlag{Name: "no-lock", Usage: "do not take the run lock"},
			&ucli.StringSliceFlag{Name: "report", Usage: "also write a report file: json=PATH, junit=PATH, prometheus=PATH or html=PATH (repeatable)"},
			&ucli.StringFlag{Name: "report-dir", Usage: "keep every run's reports in a timestamped subdirectory of DIR"},
			&ucli.IntFlag{Name: "keep", Value: 10, Usage: "with --report-dir, the number of runs kept (0: all)"},
		}, vaultFlags()...),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return exitWith(ExitError, errors.New("apply: give one plan file (usage: tend apply PLAN)"))
			}
			f, err := plan.Read(c.Args().First())
			if err != nil {
				if _, statErr := os.Stat(c.Args().First()); statErr != nil {
					return exitWith(ExitError, err)
				}
				return exitWith(ExitPlanRefused, err)
			}
			ao := applyOptions{allOrNothing: c.Bool("all-or-nothing"), allowUnpredictable: c.Bool("allow-unpredictable"), maxAge: c.Duration("max-age")}
			extra := c.StringSlice("extra-vars")
			if err := checkPlan(f, ao, extra); err != nil {
				return exitWith(ExitPlanRefused, err)
			}
			po := f.Options
			o := playOptions{
				inventories: po.Inventories, diff: c.Bool("diff"), limit: po.Limit, tags: po.Tags, skipTags: po.SkipTags,
				extraVars: extra, forks: po.Forks, startAtTask: po.StartAtTask, output: c.String("output"), verbosity: c.Count("verbose"),
				hostKeyPolicy: po.HostKeyPolicy, knownHosts: po.KnownHosts, sshConfig: po.SSHConfig,
				connectTimeout: po.ConnectTimeout, commandTimeout: po.TaskTimeout, askPass: po.AskPass, askBecomePass: po.AskBecomePass,
				privateKey: po.PrivateKey, user: po.User, connection: po.Connection, become: po.Become, becomeUser: po.BecomeUser,
				becomeMethod: po.BecomeMethod, rolesPath: po.RolesPath, color: c.String("color"), vault: vaultSources(c),
				waitLock: c.Duration("wait-lock"), noLock: c.Bool("no-lock"), reports: c.StringSlice("report"),
				reportDir: c.String("report-dir"), keep: c.Int("keep"),
			}
			o.args, _ = c.App.Metadata["args"].([]string)
			return runApply(c.Context, f, o, ao, c.App.Reader, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// checkPlan refuses a plan before anything runs: too old, inputs changed,
// other -e arguments, or unpredictable tasks without --allow-unpredictable.
func checkPlan(f *plan.File, ao applyOptions, extra []string) error {
	if err := f.CheckAge(time.Now(), ao.maxAge); err != nil {
		return err
	}
	if err := f.CheckInputs(); err != nil {
		return err
	}
	if err := f.CheckExtraVars(extra); err != nil {
		return err
	}
	if u := f.Unpredictable(); len(u) > 0 && !ao.allowUnpredictable {
		return fmt.Errorf("the plan has tasks whose outcome cannot be predicted; review them and run tend apply with --allow-unpredictable:\n  %s", strings.Join(u, "\n  "))
	}
	return nil
}

// runApply runs the saved plan's playbooks with every host step compared
// with the plan; with --all-or-nothing, a check-mode pass over every host
// comes first and nothing is changed unless it matches everywhere.
func runApply(ctx context.Context, f *plan.File, o playOptions, ao applyOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	if ao.allOrNothing {
		fmt.Fprintln(stderr, "Checking every host against the plan before changing anything (--all-or-nothing)...")
		pre := o
		pre.check, pre.reports, pre.reportDir = true, nil, ""
		pre.plan = &planHooks{gate: plan.NewGate(f.Hosts, true, ao.allowUnpredictable, false), quiet: true}
		err := runPlay(ctx, pre, f.Options.Playbooks, stdin, stdout, stderr)
		if code := exitCode(err); code == ExitError || code == ExitInterrupted || code == ExitLocked {
			return err
		}
		mism := append(pre.plan.gate.Mismatches(), pre.plan.gate.Unreached(hostFailed(pre.plan.summary))...)
		if len(mism) > 0 || err != nil {
			printMismatches(stderr, mism)
			if len(mism) == 0 {
				return exitWith(ExitPlanMismatch, errors.New("a host failed or was unreachable in the check against the plan; no host was changed (--all-or-nothing)"))
			}
			return exitWith(ExitPlanMismatch, fmt.Errorf("%d plan mismatches; no host was changed (--all-or-nothing)", len(mism)))
		}
	}
	o.plan = &planHooks{gate: plan.NewGate(f.Hosts, false, ao.allowUnpredictable, ao.allOrNothing)}
	err := runPlay(ctx, o, f.Options.Playbooks, stdin, stdout, stderr)
	if code := exitCode(err); code == ExitError || code == ExitInterrupted || code == ExitLocked {
		return err
	}
	mism := append(o.plan.gate.Mismatches(), o.plan.gate.Unreached(hostFailed(o.plan.summary))...)
	if len(mism) > 0 {
		printMismatches(stderr, mism)
		return exitWith(ExitPlanMismatch, fmt.Errorf("%d plan mismatches: the hosts named above stopped before changing anything further", len(mism)))
	}
	return err
}

// hostFailed reports whether a host failed or was unreachable in s.
func hostFailed(s *executor.Summary) func(string) bool {
	return func(h string) bool {
		if s == nil {
			return false
		}
		st, ok := s.Stats[h]
		return ok && (st.Failed > 0 || st.Unreachable > 0)
	}
}

func printMismatches(w io.Writer, ms []plan.Mismatch) {
	for _, m := range ms {
		fmt.Fprintf(w, "PLAN MISMATCH: %v\n", m)
	}
}
