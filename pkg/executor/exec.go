package executor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/pyfmt"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
	"github.com/tend-dev/tend/pkg/vars"
)

// execute runs one task (or one loop item) on a host: include and meta
// actions, or a module with until/retries, changed_when and failed_when.
// noLog censors what it reports itself (retries, warnings).
func (p *playRun) execute(ctx context.Context, t *playbook.Task, rt report.Task, h *hostState, vars map[string]any, noLog bool) *outcome {
	if isInclude(t) {
		if o := p.includeStep(t, h, vars, noLog); o != nil {
			return o
		}
	}
	if t.ArgsError != "" {
		return &outcome{status: report.Failed, result: module.Failed("%s (task at %s)", t.ArgsError, t.Pos)}
	}
	if o := p.controlAction(t, h, vars); o != nil {
		return o
	}

	if template.IsTemplate(t.Action) {
		rt, failure := p.resolveAction(t, vars)
		if failure != nil {
			return failure
		}
		t = rt
	}
	mod, ok := p.r.opts.Registry.Lookup(t.Action)
	if !ok {
		if mod, t, ok = p.customModule(t); !ok {
			return unknownModule(t)
		}
	}
	retries, delay := p.untilSettings(t, vars)
	var o *outcome
	for attempt := 0; ; attempt++ {
		o = p.runModule(ctx, t, rt, mod, h, vars, noLog, attempt)
		// As Ansible: with a single attempt (retries: 0) until is not even
		// evaluated.
		if o.status == report.Unreachable || len(t.Until) == 0 || retries <= 1 {
			break
		}
		uvars := vars
		res := template.MarkUnsafe(map[string]any(o.result))
		if t.Register != "" {
			uvars = mergeVars(vars, map[string]any{t.Register: res})
		}
		uvars = mergeVars(uvars, map[string]any{"result": res})
		done, err := p.allTrue(t.Until, uvars)
		if err != nil {
			return p.templateFailure(t, "until", err)
		}
		o.result["attempts"] = attempt + 1
		if done {
			break
		}
		if attempt >= retries-1 {
			// The result says failed, but as in Ansible's TaskResult a
			// failed_when that held false decides the task's status.
			if fw, has := o.result["failed_when_result"].(bool); !has || fw {
				o.status = report.Failed
			}
			o.result["failed"] = true
			// Ansible reports the retries asked for, one fewer than the
			// attempts made.
			o.result["attempts"] = retries - 1
			break
		}
		o.result["retries"] = retries
		p.r.opts.Reporter.HostResult(report.HostResult{Host: h.name, Task: rt, Status: report.Retrying, Result: o.result, Retries: attempt + 1, NoLog: noLog})
		select {
		case <-ctx.Done():
			return o
		case <-time.After(delay):
		}
	}
	return o
}

// controlAction runs meta, include_tasks and include_role, which the
// executor carries out itself; nil for any other action.
func (p *playRun) controlAction(t *playbook.Task, h *hostState, vars map[string]any) *outcome {
	switch t.Action {
	case "meta":
		return p.meta(h, t)
	case "include_tasks":
		file, err := p.renderString(t.Args["file"], vars)
		if err != nil {
			return p.templateFailure(t, "include_tasks file", err)
		}
		path, ok := playbook.ResolveTaskFile(file, filepath.Dir(t.Pos.File), p.play.Dir, roleOf(t))
		if !ok {
			return &outcome{status: report.Failed, result: module.Failed("include_tasks: cannot find task file %q (task at %s)", file, t.Pos)}
		}
		return &outcome{status: report.OK, result: module.Result{"changed": false, "include": path}, includes: []*includeReq{{file: path, vars: t.Vars}}}
	case "include_role":
		args, err := p.r.opts.Templates.RenderValue(map[string]any(t.Args), vars)
		if err != nil {
			return p.templateFailure(t, "include_role", err)
		}
		am, _ := args.(map[string]any)
		name, _ := am["name"].(string)
		return &outcome{status: report.OK, result: module.Result{"changed": false, "include_role": name}, includes: []*includeReq{{role: name, args: am, vars: t.Vars}}}
	}

	return nil
}

// untilSettings returns how many attempts a task with until gets and the
// delay between them: Ansible's retries+1 when retries is set, 3 when not.
func (p *playRun) untilSettings(t *playbook.Task, vars map[string]any) (int, time.Duration) {
	retries, delay := 0, 5*time.Second
	if len(t.Until) > 0 {
		retries = 3
		if t.Retries != nil {
			v, err := p.r.opts.Templates.RenderValue(t.Retries, vars)
			if n, ok := intField(v); err == nil && ok {
				retries = n + 1
				if n <= 0 {
					retries = 1
				}
			}
		}
		if t.Delay != nil {
			v, err := p.r.opts.Templates.RenderValue(t.Delay, vars)
			if n, ok := intField(v); err == nil && ok {
				delay = time.Duration(n) * time.Second
				if n < 0 {
					delay = time.Second
				}
			}
		}
	}
	return retries, delay
}

// intField reads a playbook keyword Ansible declares as an integer
// (retries, delay): Python's int() truncates a float, so `delay: 0.5` is
// no delay at all, not the default five seconds.
func intField(v any) (int, bool) {
	if f, ok := v.(float64); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return int(f), true
	}
	return module.ToInt(v)
}

// resolveAction renders a module name written as a template (action:
// "{{ m }} x=1") and returns the task with that module and its arguments
// read with the module's spec, or the task's failure: Ansible's message
// for a module it cannot find.
func (p *playRun) resolveAction(t *playbook.Task, vars map[string]any) (*playbook.Task, *outcome) {
	name, err := p.renderString(t.Action, vars)
	if err != nil {
		return nil, p.templateFailure(t, "action", err)
	}
	name = strings.TrimSpace(name)
	mod, ok := p.r.opts.Registry.Lookup(name)
	if !ok {
		if p.r.opts.Custom != nil {
			if _, found := p.r.opts.Custom.Lookup(name); found {
				rt := *t
				rt.Action, rt.Args, rt.RawArgs = name, playbook.CustomModuleArgs(t.RawArgs), nil
				for k, v := range t.Args {
					rt.Args[k] = v
				}
				return &rt, nil
			}
		}
		return nil, &outcome{status: report.Failed, result: module.Failed("The module %s was not found in configured module paths", name)}
	}
	args, err := playbook.ModuleArgs(t.RawArgs, mod.Spec())
	if err != nil {
		return nil, &outcome{status: report.Failed, result: module.Failed("module %s: %v (task %q at %s)", name, err, t.DisplayName(), t.Pos)}
	}
	for k, v := range t.Args {
		args[k] = v
	}
	rt := *t
	rt.Action, rt.Args, rt.RawArgs = module.Canonical(name), args, nil
	return &rt, nil
}

// customModule finds the module a task names among those the content
// ships (library/ directories). A task whose module was found only now
// (its role's library/ was loaded after it was read) had its key=value
// text kept whole: it is read again as the module's arguments.
func (p *playRun) customModule(t *playbook.Task) (module.Module, *playbook.Task, bool) {
	if p.r.opts.Custom == nil {
		return nil, t, false
	}
	name := t.Action
	if t.UnknownModule != "" {
		name = t.UnknownModule
	}
	mod, ok := p.r.opts.Custom.Lookup(name)
	if !ok {
		return nil, t, false
	}
	if raw, only := t.Args["_raw_params"].(string); only && len(t.Args) == 1 && t.UnknownModule != "" {
		rt := *t
		rt.Args = playbook.CustomModuleArgs(raw)
		t = &rt
	}
	return mod, t, true
}

// unknownModule is the failure of a task naming a module tend does not
// have, which the loader warned about: Ansible's message for a module it
// cannot find when the task runs, with the task's place and what to do.
func unknownModule(t *playbook.Task) *outcome {
	name := t.UnknownModule
	if name == "" {
		name = t.Action
	}
	return &outcome{status: report.Failed, result: module.Failed(
		"The module %s was not found in configured module paths (tend has no module %s; task at %s: run 'tend doc --list' for the modules tend has)",
		name, name, t.Pos)}
}

func (p *playRun) renderString(v any, vars map[string]any) (string, error) {
	s := fmt.Sprint(v)
	if !template.IsTemplate(s) {
		return s, nil
	}
	return p.r.opts.Templates.RenderString(s, vars)
}

// allTrue reports whether every condition holds: Ansible ANDs the entries
// of a when, changed_when or failed_when list.
func (p *playRun) allTrue(conds []any, vars map[string]any) (bool, error) {
	for _, c := range conds {
		ok, err := p.r.opts.Templates.Truthy(c, vars)
		if err != nil {
			return false, &condError{cond: c, err: err}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func (p *playRun) meta(h *hostState, t *playbook.Task) *outcome {
	action, _ := t.Args["_raw_params"].(string)
	res := module.Result{"changed": false, "skipped": false}
	switch action {
	case "noop", "refresh_inventory", "reset_connection":
	case "flush_handlers", "end_play", "end_batch":
		return &outcome{status: report.OK, result: res, meta: action}
	case "end_host":
		h.mu.Lock()
		h.ended = true
		h.mu.Unlock()
		res["msg"] = "ending play for host"
	case "clear_facts":
		h.clearFacts()
	case "clear_host_errors":
		h.mu.Lock()
		h.failed = false
		h.mu.Unlock()
	default:
		return &outcome{status: report.Failed, result: module.Failed("unknown meta action %q (supported: %s)", action, strings.Join(module.MetaActions, ", "))}
	}
	return &outcome{status: report.OK, result: res, meta: action}
}

// runModule templates the arguments, plans, applies unless in check mode,
// and evaluates changed_when/failed_when.
func (p *playRun) runModule(ctx context.Context, t *playbook.Task, rt report.Task, mod module.Module, h *hostState, vars map[string]any, noLog bool, attempt int) *outcome {
	retry := attempt > 0
	spec := mod.Spec()
	args, failure := p.moduleArgs(t, spec, vars)
	if failure != nil {
		return failure
	}
	check, diff, err := p.checkDiffModes(t, vars)
	if err != nil {
		return keywordFailure(t, err)
	}
	async, poll, failure := p.asyncKeywords(t, vars)
	if failure != nil {
		return failure
	}
	if async > 0 {
		if refused := asyncRefusal(spec, check); refused != nil {
			return refused
		}
	}
	var gate func(*module.Plan) error
	if g := p.r.opts.Steps; g != nil && !spec.Controller {
		key := stepKey(t, vars)
		gate = func(pl *module.Plan) error {
			return g.Step(h.name, key, pl, StepMeta{NoLog: noLog, Retry: retry, Check: check, PlanFailed: pl == nil})
		}
	}
	if check && spec.Check == module.CheckNone {
		if gate != nil {
			// What a module without check mode would do cannot be known.
			if err := gate(&module.Plan{Changed: true, Unpredictable: true}); err != nil {
				return &outcome{status: report.Failed, result: module.Failed("%v", err)}
			}
		}
		return &outcome{status: report.Skipped, result: module.Result{"changed": false, "skipped": true, "msg": "remote module (" + spec.Name + ") does not support check mode"}}
	}

	mh := &module.Host{
		Name:    h.name,
		Vars:    vars,
		Templar: &templar{e: p.r.opts.Templates, vars: vars},
		Files:   p.fileFinder(t),
		Diff:    diff,
		Warn:    p.warner(h, noLog),
		Vault:   p.r.opts.Vault,
		Jobs:    p.r.jobs,
	}
	mh.Templar = p.templarFor(mh.Files.(*fileFinder), vars)
	mh.Files.(*fileFinder).input = p.r.opts.Input
	// Controller actions (set_fact, include_vars, debug) are delegated too:
	// the delegate is where delegate_facts puts their facts.
	delegated := ""
	if to := delegateTo(t); to != "" {
		d, err := p.renderString(to, vars)
		if err != nil {
			return p.templateFailure(t, "delegate_to", err)
		}
		delegated = d
	}
	var dial func(context.Context) (connection.Connection, error)
	if !spec.Controller {
		var envKey string
		if dial, envKey, failure = p.connect(ctx, t, h, mh, delegated, vars); failure != nil {
			return failure
		}
		if args, failure = p.expandPaths(ctx, spec, mh, envKey, args); failure != nil {
			return p.applyConditions(t, withAttempts(t, failure, attempt), vars)
		}
	}
	if async > 0 {
		return p.applyConditions(t, withAttempts(t, p.runAsync(ctx, asyncTask{gate: gate, t: t, rt: rt, mod: mod, mh: mh, args: args,
			async: async, poll: poll, diff: diff, delegated: delegated, noLog: noLog, dial: dial}), attempt), vars)
	}
	// A module's warnings are in its result (registered, and shown by
	// the reporter from there), as in Ansible.
	var warnings []any
	if !noLog {
		mh.Warn = func(msg string) { warnings = append(warnings, msg) }
	}
	var o *outcome
	if r, ok := mod.(module.Runner); ok {
		o = p.runRunner(ctx, r, mh, args, runnerCall{check: check, diff: diff, noLog: noLog, delegated: delegated, gate: gate})
	} else {
		res, plan, err := module.ExecuteGated(ctx, mod, mh, args, check, gate)
		o = executeOutcome(res, plan, err, diff, delegated)
	}
	if len(warnings) > 0 && o.result != nil {
		if prev, ok := o.result["warnings"].([]any); ok {
			warnings = append(prev, warnings...)
		}
		o.result["warnings"] = warnings
	}
	return p.applyConditions(t, withAttempts(t, o, attempt), vars)
}

// runnerCall is how a module.Runner is called for a task.
type runnerCall struct {
	check, diff, noLog bool
	delegated          string
	gate               func(*module.Plan) error
}

// runRunner runs a module that cannot plan (a custom module) once, with
// the task's check mode: its plan, for a saved plan's gate, is
// unpredictable.
func (p *playRun) runRunner(ctx context.Context, r module.Runner, mh *module.Host, args module.Args, c runnerCall) *outcome {
	if c.gate != nil {
		if err := c.gate(&module.Plan{Changed: true, Unpredictable: true}); err != nil {
			return &outcome{status: report.Failed, result: module.Failed("%v", err)}
		}
	}
	res, err := r.Run(ctx, mh, args, module.RunOptions{Check: c.check, NoLog: c.noLog, Verbosity: p.r.opts.Verbosity})
	o := executeOutcome(res, nil, err, c.diff, c.delegated)
	if c.diff && o.result != nil {
		// The module's own diff, in Ansible's shape, is shown as such.
		if d := module.DiffsOf(o.result["diff"]); len(d) > 0 {
			o.result[displayDiffKey] = d
		}
	}
	return o
}

// withAttempts puts the attempt number in the result of a task with
// until before changed_when and failed_when see it, as Ansible does.
func withAttempts(t *playbook.Task, o *outcome, attempt int) *outcome {
	if len(t.Until) > 0 && o != nil && o.result != nil {
		o.result["attempts"] = attempt + 1
	}
	return o
}

// moduleArgs renders a task's arguments (a templated args: mapping first),
// drops those set to omit and validates them against the module's spec.
func (p *playRun) moduleArgs(t *playbook.Task, spec *module.Spec, vars map[string]any) (module.Args, *outcome) {
	rawArgs := map[string]any(t.Args)
	if tmpl, ok := rawArgs["_args_template"].(string); ok {
		v, err := p.r.opts.Templates.Render(tmpl, vars)
		if err != nil {
			return nil, p.templateFailure(t, "args", err)
		}
		m, ok := odict.AsMap(v)
		if !ok {
			return nil, &outcome{status: report.Failed, result: module.Failed("args template %q did not produce a mapping (task at %s)", tmpl, t.Pos)}
		}
		rawArgs = m
	}
	render := p.r.opts.Templates.RenderValue
	if spec.AnyArgs {
		// set_fact: the arguments become variables and keep the mark of
		// values computed from host data.
		render = p.r.opts.Templates.RenderValueMarked
	}
	rendered, err := render(rawArgs, vars)
	if err != nil {
		return nil, p.templateFailure(t, "args", err)
	}
	argMap, _ := rendered.(map[string]any)
	argMap = removeOmit(argMap, p.r.omit)
	defaults, err := p.moduleDefaults(t, vars)
	if err != nil {
		return nil, p.templateFailure(t, "module_defaults", err)
	}
	if len(defaults) > 0 {
		// The task's own arguments win over the defaults.
		merged := removeOmit(defaults, p.r.omit)
		for k, v := range argMap {
			merged[k] = v
		}
		argMap = merged
	}
	if !spec.AnyArgs && argMap != nil {
		// Modules know Go maps; the order of the keys of a dict argument
		// is not theirs to see. set_fact's values keep theirs, and so do
		// arguments of type Ordered.
		plain := make(map[string]any, len(argMap))
		for k, v := range argMap {
			if a, ok := spec.Arg(k); !ok || a.Type != module.Ordered {
				v = odict.Plain(v)
			}
			plain[k] = v
		}
		argMap = plain
	}
	args, err := spec.Validate(argMap, false)
	if err != nil {
		// In Ansible the module itself refuses its arguments: a module
		// result, with "changed", that changed_when and failed_when see.
		res := module.Failed("%v (task %q at %s)", err, t.DisplayName(), t.Pos)
		var ae *module.ArgError
		switch {
		case errors.As(err, &ae) && spec.ActionPlugin && len(ae.Unknown) > 0:
			// Ansible's action plugin words it so; the warning before the
			// run named the file and line.
			res = module.Failed("Invalid options for %s: %s", t.Action, strings.Join(ae.Unknown, ","))
		case ae != nil && ae.Ansible != "":
			// Ansible's module's own words, which content may compare
			// with; the warning before the run named the file and line.
			res = module.Failed("%s", ae.Ansible)
		}
		res["changed"] = false
		return nil, p.applyConditions(t, &outcome{status: report.Failed, result: res}, vars)
	}
	return args, nil
}

// removeOmit drops the arguments whose value is the omit placeholder, in
// the mapping and in the mappings nested in it, directly or in lists, as
// Ansible's remove_omit does (a list element that is omit stays, there as
// in Ansible).
func removeOmit(args map[string]any, omit string) map[string]any {
	isOmit := func(v any) bool {
		switch s := v.(type) {
		case string:
			return s == omit
		case template.Unsafe:
			return string(s) == omit
		}
		return false
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				if !isOmit(e) {
					out[k] = walk(e)
				}
			}
			return out
		case *odict.Dict:
			out := odict.New(x.Len())
			for k, e := range x.All() {
				if !isOmit(e) {
					out.Set(k, walk(e))
				}
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				if odict.IsDict(e) {
					e = walk(e)
				}
				out[i] = e
			}
			return out
		}
		return v
	}
	if args == nil {
		return nil
	}
	return walk(args).(map[string]any)
}

// checkDiffModes are the task's check and diff modes: the run's, unless
// the task, a block or the play sets check_mode:/diff:.
func (p *playRun) checkDiffModes(t *playbook.Task, vars map[string]any) (check, diff bool, err error) {
	check, diff = p.r.opts.Check, p.r.opts.Diff
	checkOf := func(a *playbook.Task) any { return a.CheckMode }
	diffOf := func(a *playbook.Task) any { return a.Diff }
	if p.keywordSet(t, checkOf, p.play.CheckMode) {
		if check, err = p.boolKeyword(t, "check_mode", checkOf, p.play.CheckMode, vars); err != nil {
			return false, false, err
		}
	}
	if p.keywordSet(t, diffOf, p.play.Diff) {
		if diff, err = p.boolKeyword(t, "diff", diffOf, p.play.Diff, vars); err != nil {
			return false, false, err
		}
	}
	return check, diff, nil
}

// connect gives a module that runs on a host its connection (to the
// delegate when delegated), become and environment. dial gets the
// connection again (a new one once it dropped), for async jobs; envKey
// names the environment the module's commands run in (hostEnvKey).
func (p *playRun) connect(ctx context.Context, t *playbook.Task, h *hostState, mh *module.Host, delegated string, vars map[string]any) (dial func(context.Context) (connection.Connection, error), envKey string, failure *outcome) {
	connHost, connVars := h.name, vars
	if delegated != "" {
		connHost = delegated
		connVars = p.delegateVars(delegated, vars)
	}
	connVars, err := p.withConnKeywords(t, connVars)
	if err != nil {
		return nil, "", &outcome{status: report.Failed, result: module.Failed("%s", err)}
	}
	dial = func(ctx context.Context) (connection.Connection, error) {
		c, err := p.r.opts.Connector.Get(ctx, connHost, connVars)
		if l, ok := c.(connection.Local); ok && l.Dir == "" && p.r.pb != nil {
			// Ansible runs a local connection's commands in the
			// playbook's directory: relative paths of local tasks are
			// found there.
			c = connection.Local{Dir: p.r.pb.Dir}
		}
		return c, err
	}
	conn, err := dial(ctx)
	if err != nil {
		return nil, "", &outcome{status: report.Unreachable, result: module.Result{"unreachable": true, "changed": false, "msg": err.Error()}}
	}
	mh.Conn = conn
	mh.Become, err = p.become(t, connVars)
	if err != nil {
		return nil, "", keywordFailure(t, err)
	}
	mh.Env, err = p.environment(t, vars)
	if err != nil {
		return nil, "", p.templateFailure(t, "environment", err)
	}
	return dial, hostEnvKey(connHost, connVars, mh), nil
}

// executeOutcome turns what module.Execute returned into the task's
// outcome: unreachable, failed (with a message) or the status its result
// says, with the diff when asked for and the delegate it ran on.
func executeOutcome(res module.Result, plan *module.Plan, err error, diff bool, delegated string) *outcome {
	o := &outcome{result: res}
	switch {
	case err != nil && isUnreachable(err):
		return &outcome{status: report.Unreachable, result: module.Result{"unreachable": true, "changed": false, "msg": err.Error()}}
	case err != nil:
		o.status, o.result = report.Failed, module.Failed("%v", err)
		if plan != nil {
			o.result["changed"] = false
		}
	}
	if o.status == "" {
		if diff && plan != nil && len(plan.Diff) > 0 {
			if _, own := o.result["diff"]; own {
				// The module returns its own diff (file's before/after
				// dicts), registered as Ansible's; the text is for output.
				o.result[displayDiffKey] = plan.Diff
			} else {
				o.result["diff"] = plan.Diff
			}
		}
		if delegated != "" {
			o.result["_ansible_delegated_vars"] = delegated
		}
		o.status = statusOf(o.result)
	}
	if o.status == report.Failed && o.result["msg"] == nil && o.result["message"] == nil {
		// (include_vars reports its failures in message only.)
		o.result["msg"] = "module failed"
	}
	// Ansible's task executor sets it on every module result.
	if _, ok := o.result["changed"]; !ok {
		o.result["changed"] = false
	}
	o.result["failed"] = o.status == report.Failed
	return o
}

// displayDiffKey holds the diff shown in diff mode when the module's
// result has a diff of its own; internal, never registered.
const displayDiffKey = "_ansible_tend_diff"

func statusOf(r module.Result) report.Status {
	if f, _ := r["failed"].(bool); f {
		return report.Failed
	}
	if s, _ := r["skipped"].(bool); s {
		return report.Skipped
	}
	if c, _ := r["changed"].(bool); c {
		return report.Changed
	}
	return report.OK
}

// applyConditions evaluates changed_when and failed_when with the result
// registered under the task's register name.
func (p *playRun) applyConditions(t *playbook.Task, o *outcome, vars map[string]any) *outcome {
	if len(t.ChangedWhen) == 0 && len(t.FailedWhen) == 0 {
		return o
	}
	cvars := vars
	if t.Register != "" {
		cvars = mergeVars(vars, map[string]any{t.Register: template.MarkUnsafe(map[string]any(o.result))})
	}
	if len(t.ChangedWhen) > 0 && o.status != report.Skipped {
		changed, err := p.allTrue(t.ChangedWhen, cvars)
		if err != nil {
			return p.conditionFailure(t, o, "changed_when", err)
		}
		o.result["changed"] = changed
		if o.status != report.Failed {
			o.status = report.OK
			if changed {
				o.status = report.Changed
			}
		}
	}
	if len(t.FailedWhen) > 0 && o.status != report.Skipped {
		failed, err := p.allTrue(t.FailedWhen, cvars)
		if err != nil {
			return p.conditionFailure(t, o, "failed_when", err)
		}
		o.result["failed_when_result"] = failed
		o.result["failed"] = failed
		if failed {
			o.status = report.Failed
		} else {
			o.status = report.OK
			if c, _ := o.result["changed"].(bool); c {
				o.status = report.Changed
			}
		}
	}
	return o
}

// conditionFailure fails a task whose changed_when or failed_when could
// not be evaluated as Ansible's task executor does: the module's result
// stays (registered with it), failed is set and the error is recorded
// under changed_when_result or failed_when_result.
func (p *playRun) conditionFailure(t *playbook.Task, o *outcome, keyword string, err error) *outcome {
	var ce *condError
	if !errors.As(err, &ce) {
		return p.templateFailure(t, keyword, err)
	}
	o.result["failed"] = true
	o.result[keyword+"_result"] = conditionalError(ce.cond, ce.err)
	o.status = report.Failed
	return o
}

// keywordSet reports whether a keyword is set on t's chain or the play.
func (p *playRun) keywordSet(t *playbook.Task, get func(*playbook.Task) any, play any) bool {
	return inherited(t, get, play) != nil
}

// boolKeyword returns a boolean keyword's value from t's chain, or the
// play's: a template is rendered with tv, and the value read with
// Ansible's boolean rules. A template that fails to render or renders to
// anything else is an error naming the keyword, for the caller to fail
// the task with; it never reads as false. Unset, or a template rendering
// to null, is false.
func (p *playRun) boolKeyword(t *playbook.Task, name string, get func(*playbook.Task) any, play any, tv map[string]any) (bool, error) {
	v := inherited(t, get, play)
	if v == nil {
		return false, nil
	}
	src, templated := v.(string)
	templated = templated && template.IsTemplate(src)
	if templated {
		r, err := p.r.opts.Templates.Render(src, tv)
		if err != nil {
			return false, fmt.Errorf("the field '%s' has an invalid value (%s): %w", name, src, err)
		}
		if r == nil {
			return false, nil
		}
		v = r
	}
	b, err := vars.Boolean(v)
	if err != nil {
		if templated {
			return false, fmt.Errorf("the field '%s' has an invalid value (%s renders to %v): %w", name, src, v, err)
		}
		return false, fmt.Errorf("the field '%s' has an invalid value: %w", name, err)
	}
	return b, nil
}

// warner is how a module warns: on the reporter, unless no_log hides
// the result, warnings included, as Ansible censors a result's warnings.
func (p *playRun) warner(h *hostState, noLog bool) func(string) {
	if noLog {
		return func(string) {}
	}
	return func(msg string) { p.r.opts.Reporter.Warn(h.name, msg) }
}

// keywordFailure is the failed outcome of a boolean keyword that is not
// a boolean.
func keywordFailure(t *playbook.Task, err error) *outcome {
	return &outcome{status: report.Failed, result: module.Result{"failed": true, "msg": err.Error() + errorLocation(t)}}
}

// become resolves privilege escalation: host variables (ansible_become*)
// override task and play keywords, as in Ansible.
func (p *playRun) become(t *playbook.Task, vars map[string]any) (*connection.Become, error) {
	on, err := p.boolKeyword(t, "become", func(a *playbook.Task) any { return a.Become }, p.play.Become, vars)
	if err != nil {
		return nil, err
	}
	var user, method, flags string
	for _, a := range chain(t) {
		if user == "" {
			user = a.BecomeUser
		}
		if method == "" {
			method = a.BecomeMethod
		}
		if flags == "" {
			flags = a.BecomeFlags
		}
	}
	if user == "" {
		user = p.play.BecomeUser
	}
	if method == "" {
		method = p.play.BecomeMethod
	}
	if flags == "" {
		flags = p.play.BecomeFlags
	}
	if v, ok := vars["ansible_become"]; ok {
		if v, err = p.r.opts.Templates.RenderValue(v, vars); err != nil {
			return nil, fmt.Errorf("ansible_become: %w", err)
		}
		if on, err = boolean(v); err != nil {
			return nil, fmt.Errorf("ansible_become: %w", err)
		}
	}
	if v, ok := vars["ansible_become_user"]; ok {
		user = fmt.Sprint(v)
	}
	if v, ok := vars["ansible_become_method"]; ok {
		method = fmt.Sprint(v)
	}
	if v, ok := vars["ansible_become_flags"]; ok {
		flags = fmt.Sprint(v)
	}
	if !on {
		return nil, nil
	}
	b := &connection.Become{Method: method, User: user, Flags: flags, Password: p.r.opts.BecomePassword}
	for _, k := range []string{"ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"} {
		if v, ok := vars[k]; ok && v != nil {
			b.Password = fmt.Sprint(v)
			break
		}
	}
	for _, f := range []*string{&b.User, &b.Method, &b.Flags, &b.Password} {
		if *f, err = p.renderString(*f, vars); err != nil {
			return nil, fmt.Errorf("become: %w", err)
		}
	}
	if b.Method == "" {
		b.Method = "sudo"
	}
	if b.User == "" {
		b.User = "root"
	}
	return b, nil
}

// boolean is vars.Boolean, for functions whose vars parameter hides the
// package.
func boolean(v any) (bool, error) { return vars.Boolean(v) }

// moduleDefaults merges the module_defaults keyword from the play down to
// t for t's module: entries named by its short or fully qualified name,
// inner levels winning. service also takes the defaults of the service
// manager module it runs (systemd, sysvinit), as Ansible's service action
// does. Action groups (group/NAME) come from collections' metadata, which
// tend does not read: they are skipped.
func (p *playRun) moduleDefaults(t *playbook.Task, vars map[string]any) (map[string]any, error) {
	var layers []any
	if p.play.ModuleDefaults != nil {
		layers = append(layers, p.play.ModuleDefaults)
	}
	ch := chain(t)
	for i := len(ch) - 1; i >= 0; i-- {
		if ch[i].ModuleDefaults != nil {
			layers = append(layers, ch[i].ModuleDefaults)
		}
	}
	if len(layers) == 0 {
		return nil, nil
	}
	names := map[string]bool{t.Action: true}
	if t.Action == "service" {
		// A fact: host data, so maybe marked unsafe.
		if mgr := fmt.Sprint(vars["ansible_service_mgr"]); vars["ansible_service_mgr"] != nil && mgr != "" {
			names[mgr] = true
		}
	}
	out := map[string]any{}
	for _, l := range layers {
		v, err := p.r.opts.Templates.RenderValue(l, vars)
		if err != nil {
			return nil, err
		}
		dicts, ok := v.([]any) // Ansible also takes a list of mappings
		if !ok {
			dicts = []any{v}
		}
		for _, d := range dicts {
			m, ok := odict.AsMap(d)
			if !ok {
				return nil, fmt.Errorf("module_defaults must be a mapping of module names to arguments, not %s", pyfmt.Repr(d))
			}
			for name, args := range m {
				if !names[module.Canonical(name)] {
					continue
				}
				am, ok := odict.AsMap(args)
				if !ok {
					return nil, fmt.Errorf("module_defaults for %s must be a mapping of arguments, not %s", name, pyfmt.Repr(args))
				}
				for k, av := range am {
					out[k] = odict.Plain(av)
				}
			}
		}
	}
	return out, nil
}

// environment merges the environment keyword from the play down to t.
func (p *playRun) environment(t *playbook.Task, vars map[string]any) (map[string]string, error) {
	var layers []any
	if p.play.Environment != nil {
		layers = append(layers, p.play.Environment)
	}
	ch := chain(t)
	for i := len(ch) - 1; i >= 0; i-- {
		if ch[i].Environment != nil {
			layers = append(layers, ch[i].Environment)
		}
	}
	if len(layers) == 0 {
		return nil, nil
	}
	env := map[string]string{}
	for _, l := range layers {
		v, err := p.r.opts.Templates.RenderValue(l, vars)
		if err != nil {
			return nil, err
		}
		m, ok := odict.AsMap(v)
		if !ok {
			// Ansible warns and runs the task without this layer.
			p.r.opts.Reporter.Warn("", fmt.Sprintf("could not parse environment value, skipping: %s", pyfmt.Repr(v)))
			continue
		}
		for k, val := range m {
			env[k] = fmt.Sprint(val)
		}
	}
	// Names become shell assignments on the command line: one that is not
	// a shell name would run as code.
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := connection.CheckEnv(k, env[k]); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// delegateVars returns the connection variables for a delegated host: its
// own inventory variables (ansible_host, ansible_user...), with the task's
// other variables.
func (p *playRun) delegateVars(host string, vars map[string]any) map[string]any {
	out := mergeVars(vars, nil)
	for k := range out {
		if strings.HasPrefix(k, "ansible_") && isConnVar(k) {
			delete(out, k)
		}
	}
	for k, v := range p.r.opts.Inventory.HostVars(host) {
		out[k] = v
	}
	if _, ok := p.r.opts.Inventory.Host(host); !ok || host == "localhost" || host == "127.0.0.1" {
		if _, set := out["ansible_connection"]; !set {
			out["ansible_connection"] = "local"
		}
	}
	out["inventory_hostname"] = host
	return out
}

func isConnVar(k string) bool {
	switch k {
	case "ansible_host", "ansible_port", "ansible_user", "ansible_connection", "ansible_ssh_private_key_file",
		"ansible_password", "ansible_ssh_pass", "ansible_ssh_common_args", "ansible_ssh_extra_args":
		return true
	}
	return false
}

// templar adapts the template engine to module.Templater.
type templar struct {
	e    *template.Engine
	vars map[string]any
}

func (t *templar) Render(s string) (string, error) { return t.e.RenderString(s, t.vars) }
func (t *templar) Eval(expr string) (any, error)   { return t.e.Eval(expr, t.vars) }
func (t *templar) Value(expr string) (any, error)  { return t.e.EvalValue(expr, t.vars) }
func (t *templar) Condition(expr string) (any, error) {
	return t.e.EvalCondition(expr, t.vars)
}
func (t *templar) RenderWith(s string, extra map[string]any) (string, error) {
	return t.e.RenderFile(s, mergeVars(t.vars, extra))
}

func (p *playRun) templarFor(ff *fileFinder, vars map[string]any) module.Templater {
	e := p.r.opts.Templates
	if ff.role != nil {
		e = e.WithSearchPath(filepath.Join(ff.role.Path, "files"), filepath.Join(ff.role.Path, "templates"), ff.role.Path)
	}
	return &templar{e: e, vars: vars}
}

// fileFinder resolves controller files as Ansible does: in each directory
// of the task's search path, its kind folder (files/, templates/, vars/)
// then the directory itself, then the same in the playbook's directory.
type fileFinder struct {
	play  *playbook.Play
	role  *playbook.Role
	stack []string
	input func(path string) // Options.Input, or nil
}

func (f *fileFinder) Find(kind, name string) (string, error) {
	p, err := f.find(kind, name)
	if err == nil && f.input != nil {
		f.input(p)
	}
	return p, err
}

func (f *fileFinder) find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("could not find %s: %w", name, err)
		}
		return name, nil
	}
	var cands []string
	for _, d := range f.stack {
		for _, c := range []string{filepath.Join(d, kind, name), filepath.Join(d, name)} {
			if !slices.Contains(cands, c) {
				cands = append(cands, c)
			}
		}
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("could not find %q; searched %s", name, strings.Join(cands, ", "))
}

// resolvePath makes a playbook-relative path absolute.
func resolvePath(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}
