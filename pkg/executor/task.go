package executor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
)

// outcome is one host's result for one task.
type outcome struct {
	status   report.Status
	result   module.Result
	includes []*includeReq // include_tasks / include_role to expand, one per loop item
	meta     string        // meta action that needs the coordinator
	// delegateFacts is the task's delegate_facts as read for this host.
	delegateFacts bool
}

type includeReq struct {
	file  string
	role  string
	args  map[string]any
	vars  map[string]any
	item  any
	hasIt bool
	noLog bool // the include's task has no_log: its item label is hidden
}

// runTask runs one task on the given hosts and applies its effects.
func (p *playRun) runTask(ctx context.Context, t *playbook.Task, hosts []*hostState) {
	if !p.selected(t) {
		return
	}
	rt := p.reportTask(t)
	p.r.opts.Reporter.TaskStart(rt)
	p.refreshActive()
	targets := hosts
	once, err := p.runOnce(t, hosts)
	if err != nil {
		p.failAll(t, rt, hosts, err)
		return
	}
	if once {
		targets = hosts[:1]
	}
	throttle, err := p.throttle(t, hosts)
	if err != nil {
		p.failAll(t, rt, hosts, err)
		return
	}
	outcomes := make(map[*hostState]*outcome, len(targets))
	var mu = make(chan struct{}, 1)
	p.forEachHost(ctx, targets, throttle, func(h *hostState) {
		defer p.hostBusy(h.name, rt)()
		o := p.runOnHost(ctx, t, rt, h)
		mu <- struct{}{}
		outcomes[h] = o
		<-mu
	})
	if once && len(targets) == 1 && len(hosts) > 1 && !bypassHostLoop(t) {
		if o := outcomes[targets[0]]; o != nil {
			for _, h := range hosts[1:] {
				if t.Register != "" {
					h.setFacts("register", map[string]any{t.Register: template.MarkUnsafe(map[string]any(o.result))})
				}
			}
			p.applyFacts(t, o, hosts[1:])
		}
	}
	// Coordinator-level effects, in host order.
	includes := map[string][]*hostState{}
	var includeOrder []string
	reqs := map[string]*includeReq{}
	for _, h := range targets {
		o := outcomes[h]
		if o == nil {
			continue
		}
		switch o.meta {
		case "flush_handlers":
			p.flushHandlers(ctx, p.activeHosts(hosts))
			o.meta = "" // once for all hosts
			for _, o2 := range outcomes {
				if o2.meta == "flush_handlers" {
					o2.meta = ""
				}
			}
		case "end_play":
			p.mu.Lock()
			p.endPlay = true
			p.mu.Unlock()
		case "end_batch":
			p.mu.Lock()
			p.endBatch = true
			p.mu.Unlock()
		}
		for _, inc := range o.includes {
			key := fmt.Sprintf("%s\x00%s\x00%v", inc.file, inc.role, inc.item)
			if _, ok := includes[key]; !ok {
				includeOrder = append(includeOrder, key)
				reqs[key] = inc
			}
			includes[key] = append(includes[key], h)
		}
	}
	// Ansible announces every include first, then runs them in order.
	for _, key := range includeOrder {
		req := reqs[key]
		if req.file == "" {
			continue
		}
		names := make([]string, len(includes[key]))
		for i, h := range includes[key] {
			names[i] = h.name
		}
		p.r.opts.Reporter.HostResult(report.HostResult{Host: strings.Join(names, ", "), Task: rt, Status: report.Included,
			Result: module.Result{"include": req.file}, Item: req.item, IsItem: req.hasIt, NoLog: req.noLog})
	}
	for _, key := range includeOrder {
		if reqs[key].file == "" {
			continue // include_role: not counted, as in Ansible
		}
		for _, h := range includes[key] {
			p.countAndReport(h, rt, report.HostResult{Host: h.name, Task: rt, Status: report.OK}, false)
		}
	}
	for _, key := range includeOrder {
		p.runInclude(ctx, t, reqs[key], includes[key])
	}
	p.checkFailureLimits(t, hosts)
}

// bypassHostLoop reports whether Ansible runs t's action once for the
// task, on the first host, rather than once per host (its actions'
// BYPASS_HOST_LOOP): unlike run_once, only that host registers the result.
func bypassHostLoop(t *playbook.Task) bool {
	return t.Action == "add_host" || t.Action == "pause"
}

// runOnce reads run_once for t with the first host's variables, as
// Ansible does.
func (p *playRun) runOnce(t *playbook.Task, hosts []*hostState) (bool, error) {
	if len(hosts) == 0 {
		return false, nil
	}
	if bypassHostLoop(t) {
		return true, nil
	}
	return p.boolKeyword(t, "run_once", func(a *playbook.Task) any { return a.RunOnce }, p.play.RunOnce, p.taskVars(hosts[0], t, nil))
}

// throttle reads t's throttle keyword, templated with the first host's
// variables as run_once is (0: no limit).
func (p *playRun) throttle(t *playbook.Task, hosts []*hostState) (int, error) {
	if t.Throttle == nil || len(hosts) == 0 {
		return 0, nil
	}
	v, err := p.r.opts.Templates.Render(fmt.Sprint(t.Throttle), p.taskVars(hosts[0], t, nil))
	if err != nil {
		return 0, fmt.Errorf("throttle: %w", err)
	}
	n, ok := module.ToInt(v)
	if !ok {
		return 0, fmt.Errorf("throttle must be an integer, not %v", v)
	}
	return n, nil
}

// failAll fails t on every host with err: a keyword read once for all
// hosts that is not a boolean. The result is censored when no_log is set
// or cannot be read.
func (p *playRun) failAll(t *playbook.Task, rt report.Task, hosts []*hostState, err error) {
	for _, h := range hosts {
		noLog, nlErr := p.boolKeyword(t, "no_log", noLogOf, p.play.NoLog, p.taskVars(h, t, nil))
		p.markFailed(h, rt, t, keywordFailure(t, err).result, noLog || nlErr != nil)
	}
	p.checkFailureLimits(t, hosts)
}

// checkFailureLimits applies any_errors_fatal and max_fail_percentage.
func (p *playRun) checkFailureLimits(t *playbook.Task, hosts []*hostState) {
	failed := 0
	for _, h := range p.batch {
		h.mu.Lock()
		if h.failed || h.unreachable {
			failed++
		}
		h.mu.Unlock()
	}
	if failed == 0 {
		return
	}
	abort := p.anyErrorsFatal(t)
	if pct := p.play.MaxFailPercentage; pct != nil && len(p.batch) > 0 {
		if float64(failed)*100/float64(len(p.batch)) > *pct {
			abort = true
		}
	}
	if abort {
		p.mu.Lock()
		p.endPlay = true
		p.stopRun = true
		p.mu.Unlock()
		for _, h := range p.batch {
			h.mu.Lock()
			if !h.failed && !h.unreachable && !h.ended {
				h.failed = true
			}
			h.mu.Unlock()
		}
		p.r.opts.Reporter.NoHostsLeft()
	}
}

// anyErrorsFatal reads any_errors_fatal for t, with the variables of the
// batch's first host. It fails closed: a value that is not a boolean
// stops the play, with a warning saying why.
func (p *playRun) anyErrorsFatal(t *playbook.Task) bool {
	var tv map[string]any
	if len(p.batch) > 0 {
		tv = p.taskVars(p.batch[0], t, nil)
	}
	fatal, err := p.boolKeyword(t, "any_errors_fatal", func(a *playbook.Task) any { return a.AnyErrorsFatal }, p.play.AnyErrorsFatal, tv)
	if err != nil {
		p.r.opts.Reporter.Warn("", fmt.Sprintf("%v (%s): stopping the play as any_errors_fatal would", err, t.Pos))
		return true
	}
	return fatal
}

// runInclude expands an include_tasks/include_role for the hosts that
// asked for the same file.
func (p *playRun) runInclude(ctx context.Context, t *playbook.Task, req *includeReq, hosts []*hostState) {
	if depth := includeDepth(t); depth > maxIncludeDepth {
		// A file that includes itself, directly or not, would never end.
		rt := p.reportTask(t)
		for _, h := range hosts {
			p.markFailed(h, rt, t, module.Result{"failed": true,
				"msg": fmt.Sprintf("%s: includes nested deeper than %d: does a file include itself? (task at %s)", t.Action, maxIncludeDepth, t.Pos)}, req.noLog)
		}
		return
	}
	p.r.loaderMu.Lock()
	var tasks []*playbook.Task
	var err error
	holder := &playbook.Task{Pos: t.Pos, Action: t.Action, Parent: t, Vars: req.vars, Role: t.Role, Implicit: true, Collections: t.Collections}
	if req.role != "" {
		var block *playbook.Task
		block, err = p.r.opts.Loader.IncludeRole(req.role, p.play.Dir, req.args, holder)
		if err == nil {
			tasks = []*playbook.Task{block}
			p.addRoleHandlers(block)
		}
	} else {
		tasks, err = p.r.opts.Loader.LoadTaskFile(req.file, p.play.Dir, roleOf(t), holder, t.Handler)
	}
	p.r.loaderMu.Unlock()
	if err != nil {
		rt := p.reportTask(t)
		for _, h := range hosts {
			p.markFailed(h, rt, t, module.Result{"failed": true, "msg": fmt.Sprintf("%v\n(%s at %s)", err, t.Action, t.Pos)}, req.noLog)
		}
		return
	}
	holder.Action = "block"
	holder.Block = tasks
	p.walkLinear(ctx, tasks, hosts)
}

// maxIncludeDepth is how deep include_tasks and include_role may nest at
// run time, as import_tasks may when a playbook is loaded.
const maxIncludeDepth = 50

// includeDepth counts the includes t runs inside, t included.
func includeDepth(t *playbook.Task) int {
	n := 0
	for a := t; a != nil; a = a.Parent {
		if isInclude(a) {
			n++
		}
	}
	return n
}

func (p *playRun) addRoleHandlers(block *playbook.Task) {
	if block.Role == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, hd := range block.RoleHandlers {
		dup := false
		for _, e := range p.play.Handlers {
			if handlerKey(e) == handlerKey(hd) {
				dup = true
			}
		}
		if !dup {
			p.play.Handlers = append(p.play.Handlers, hd)
		}
	}
}

// hostBusy tells a reporter that follows activity (the live progress
// line) that host began task rt; the function returned says it ended.
func (p *playRun) hostBusy(host string, rt report.Task) func() {
	a, ok := p.r.opts.Reporter.(report.Activity)
	if !ok {
		return func() {}
	}
	a.HostStart(host, rt)
	return func() { a.HostDone(host, rt) }
}

// runOnHost runs task t on host h, with its loop, conditions, retries,
// registration and notifications, and reports the result.
func (p *playRun) runOnHost(ctx context.Context, t *playbook.Task, rt report.Task, h *hostState) *outcome {
	start := time.Now()
	vars := p.taskVars(h, t, nil)
	f, flagErr := p.taskFlags(t, vars)
	if !t.HasLoop {
		return p.runSingle(ctx, t, rt, h, vars, f, flagErr, start)
	}
	if flagErr != nil {
		return p.finish(h, t, rt, keywordFailure(t, flagErr), nil, f, start)
	}
	return p.runLoop(ctx, t, rt, h, vars, f, start)
}

// conditionSkipped is the result of a task (or item) whose when: is false.
func conditionSkipped(t *playbook.Task) *outcome {
	return &outcome{status: report.Skipped, result: module.Result{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}}
}

// runSingle runs a task without a loop.
func (p *playRun) runSingle(ctx context.Context, t *playbook.Task, rt report.Task, h *hostState, vars map[string]any, f taskFlags, flagErr error, start time.Time) *outcome {
	// As in Ansible, when is evaluated first: a skipped task's other
	// keywords do not matter.
	ok, err := p.conditionsHold(t, vars)
	if err != nil {
		return p.finish(h, t, rt, p.templateFailure(t, "when", err), nil, f, start)
	}
	if !ok {
		return p.finish(h, t, rt, p.skippedStep(t, h, vars, f.noLog), nil, f, start)
	}
	if flagErr != nil {
		return p.finish(h, t, rt, keywordFailure(t, flagErr), nil, f, start)
	}
	o := p.execute(ctx, t, rt, h, vars, f.noLog)
	return p.finish(h, t, rt, o, vars, f, start)
}

// loopPause is loop_control.pause (seconds, a number or a template giving
// one) as a duration; 0 when unset or not a number.
func (p *playRun) loopPause(t *playbook.Task, vars map[string]any) time.Duration {
	if t.LoopControl.Pause == nil {
		return 0
	}
	v, err := p.r.opts.Templates.RenderValue(t.LoopControl.Pause, vars)
	if err != nil {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(fmt.Sprint(v)), 64)
	if err != nil || f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// runLoop runs a task once per loop item, reports each item, and returns
// the aggregate result Ansible registers for a loop.
func (p *playRun) runLoop(ctx context.Context, t *playbook.Task, rt report.Task, h *hostState, vars map[string]any, f taskFlags, start time.Time) *outcome {
	items, err := p.loopItems(t, vars)
	if err != nil {
		// As in Ansible, a loop over an undefined variable is an error only
		// when the task's condition, evaluated without the item, holds:
		// `loop: "{{ x }}"` with `when: x is defined` is skipped.
		var undef *template.UndefinedError
		if errors.As(err, &undef) {
			if ok, cerr := p.conditionsHold(t, vars); cerr == nil && !ok {
				return p.finish(h, t, rt, p.skippedStep(t, h, vars, f.noLog), nil, f, start)
			}
			// Ansible's message for it: the error twice, without location.
			msg := undef.Hint
			if msg == "" {
				msg = fmt.Sprintf("'%s' is undefined", undef.Name)
			}
			err = plainError(msg + ". " + msg)
		}
		return p.finish(h, t, rt, p.templateFailure(t, "loop", err), nil, f, start)
	}
	loopVar := t.LoopControl.LoopVar
	if loopVar == "" {
		loopVar = "item"
	} else if module.IsTemplated(loopVar) {
		// loop_control is templated with the task's variables, as
		// Ansible does: loop_var: "{{ name }}".
		lv, err := p.renderString(loopVar, vars)
		if err != nil {
			return p.finish(h, t, rt, p.templateFailure(t, "loop_control", err), nil, f, start)
		}
		loopVar = lv
	}
	agg := loopAggregate{allSkipped: true}
	loopNoLog := len(items) == 0 && f.noLog
	var includes []*includeReq
	// What earlier items registered or set: Ansible updates the loop's
	// variables after every item, so `foo: "{{ foo + [item] }}"` builds up.
	carried := map[string]any{}
	pause := p.loopPause(t, vars)
	for i, item := range items {
		if ctx.Err() != nil {
			break
		}
		if i > 0 && pause > 0 {
			// loop_control.pause: seconds between items, as in Ansible.
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
		extra := loopItemVars(t, loopVar, items, i)
		ivars := p.taskVars(h, t, mergeVars(carried, extra))
		o, label, noLog := p.runItem(ctx, t, rt, h, ivars, item)
		loopNoLog = loopNoLog || noLog
		for _, inc := range o.includes {
			// include_tasks in a loop: the file runs once per item, after
			// the loop, with the item's variables.
			inc.vars = mergeVars(inc.vars, extra)
			inc.item, inc.hasIt = label, true
			includes = append(includes, inc)
		}
		o.includes = nil
		if o.status == report.Unreachable {
			f.noLog = loopNoLog
			return p.finish(h, t, rt, o, ivars, f, start)
		}
		p.applyInventory(h, t, o, ivars)
		markItem(o.result, t, loopVar, item, i)
		if o.status != report.Skipped {
			p.carryItem(h, t, carried, o.result)
		}
		agg.add(o.status)
		if !isInclude(t) || o.status != report.OK {
			p.r.opts.Reporter.HostResult(report.HostResult{Host: h.name, Delegated: delegatedName(o), Task: rt, Status: o.status, Result: o.result, Item: label, IsItem: true, NoLog: noLog, Diff: diffsOf(o.result), CheckMode: p.r.opts.Check})
		}
		agg.results = append(agg.results, map[string]any(o.result))
	}
	status, result := agg.outcome(len(items))
	f.noLog = loopNoLog
	return p.finish(h, t, rt, &outcome{status: status, result: result, includes: includes}, vars, f, start)
}

// loopItemVars are the variables one loop item adds: the loop variable,
// the index variable and, with loop_control.extended, ansible_loop.
func loopItemVars(t *playbook.Task, loopVar string, items []any, i int) map[string]any {
	extra := map[string]any{loopVar: items[i], "ansible_loop_var": loopVar}
	if t.LoopControl.IndexVar != "" {
		extra[t.LoopControl.IndexVar] = i
		extra["ansible_index_var"] = t.LoopControl.IndexVar
	}
	if !t.LoopControl.Extended {
		return extra
	}
	// As in Ansible, previtem and nextitem are undefined at the ends.
	loop := map[string]any{
		"index": i + 1, "index0": i, "revindex": len(items) - i, "revindex0": len(items) - i - 1,
		"first": i == 0, "last": i == len(items)-1, "length": len(items), "allitems": items,
	}
	if i > 0 {
		loop["previtem"] = items[i-1]
	}
	if i+1 < len(items) {
		loop["nextitem"] = items[i+1]
	}
	extra["ansible_loop"] = loop
	return extra
}

// runItem runs one loop item with its variables ivars and returns its
// outcome, its label and whether it is censored.
func (p *playRun) runItem(ctx context.Context, t *playbook.Task, rt report.Task, h *hostState, ivars map[string]any, item any) (o *outcome, label any, noLog bool) {
	// no_log may depend on the item; a loop is censored when any of
	// its items is, as in Ansible.
	noLog, nlErr := p.boolKeyword(t, "no_log", noLogOf, p.play.NoLog, ivars)
	noLog = noLog || nlErr != nil
	// The label also tells includes of different items apart; under
	// no_log, report.Censor keeps it out of the output.
	// Ansible renders the label, "{{ item }}" by default, so an item
	// holding a template shows rendered.
	label = template.Unmark(item)
	src := t.LoopControl.Label
	if src == "" {
		lv, _ := ivars["ansible_loop_var"].(string)
		src = "{{ " + lv + " }}"
	}
	if s, err := p.r.opts.Templates.Render(src, ivars); err == nil {
		label = s
	}
	ok, err := p.conditionsHold(t, ivars)
	switch {
	case nlErr != nil:
		o = keywordFailure(t, nlErr)
	case err != nil:
		o = p.templateFailure(t, "when", err)
	case !ok:
		o = p.skippedStep(t, h, ivars, noLog)
	default:
		o = p.execute(ctx, t, rt, h, ivars, noLog)
	}
	return o, label, noLog
}

// markItem records in an item's result which item it was.
func markItem(r module.Result, t *playbook.Task, loopVar string, item any, i int) {
	r[loopVar] = item
	r["item"] = item
	r["ansible_loop_var"] = loopVar
	if t.LoopControl.IndexVar != "" {
		r[t.LoopControl.IndexVar] = i
		r["ansible_index_var"] = t.LoopControl.IndexVar
	}
}

// loopAggregate collects the item results of a loop.
type loopAggregate struct {
	results                           []any
	anyChanged, anyFailed, allSkipped bool
}

func (a *loopAggregate) add(s report.Status) {
	if s != report.Skipped {
		a.allSkipped = false
	}
	if s == report.Changed {
		a.anyChanged = true
	}
	if s == report.Failed {
		a.anyFailed = true
	}
}

// outcome is the status and result Ansible gives a loop of n items.
func (a *loopAggregate) outcome(n int) (report.Status, module.Result) {
	// Ansible's loop result always says whether it was skipped, so
	// `when: not result.skipped` works after any loop.
	agg := module.Result{"changed": a.anyChanged, "results": a.results, "msg": "All items completed", "skipped": false}
	if a.results == nil {
		agg["results"] = []any{}
	}
	status := report.OK
	switch {
	case a.anyFailed:
		agg["failed"] = true
		agg["msg"] = "One or more items failed"
		status = report.Failed
	case n > 0 && a.allSkipped:
		agg["skipped"] = true
		agg["msg"] = "All items skipped"
		status = report.Skipped
	case n == 0:
		agg["skipped"] = true
		agg["skipped_reason"] = "No items in the list"
		status = report.Skipped
	case a.anyChanged:
		status = report.Changed
	}
	return status, agg
}

func mergeVars(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func delegatedName(o *outcome) string {
	if s, ok := o.result["_ansible_delegated_vars"].(string); ok {
		return s
	}
	return ""
}

func diffsOf(r module.Result) []module.Diff {
	if d, ok := r[displayDiffKey].([]module.Diff); ok {
		return d
	}
	d, _ := r["diff"].([]module.Diff)
	return d
}

func condString(t *playbook.Task) string {
	var parts []string
	for _, a := range chain(t) {
		for _, c := range a.When {
			parts = append(parts, fmt.Sprint(c))
		}
	}
	return strings.Join(parts, " and ")
}

// conditionsHold evaluates the when conditions of t and the blocks it
// inherits from (outermost first, as Ansible does).
func (p *playRun) conditionsHold(t *playbook.Task, vars map[string]any) (bool, error) {
	ch := chain(t)
	for i := len(ch) - 1; i >= 0; i-- {
		for _, c := range ch[i].When {
			ok, err := p.r.opts.Templates.Truthy(c, vars)
			if err != nil {
				return false, &condError{cond: c, err: err}
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

func (p *playRun) templateFailure(t *playbook.Task, what string, err error) *outcome {
	var ce *condError
	var pe plainError
	var msg string
	switch {
	case errors.As(err, &pe):
		msg = pe.Error()
	case errors.As(err, &ce):
		msg = conditionalMessage(t, ce.cond, ce.err)
	case what == "args":
		msg = undefinedMessage(t, err)
	default:
		msg = fmt.Sprintf("%s: %v", what, err) + errorLocation(t)
	}
	return &outcome{status: report.Failed, result: module.Result{"failed": true, "msg": msg}}
}

// condError is a condition that could not be evaluated.
type condError struct {
	cond any
	err  error
}

func (e *condError) Error() string {
	return fmt.Sprintf("evaluating %q: %v", fmt.Sprint(e.cond), e.err)
}
func (e *condError) Unwrap() error { return e.err }

// finish applies a host's outcome: registration, facts, notifications,
// failure handling, counters and output.
func (p *playRun) finish(h *hostState, t *playbook.Task, rt report.Task, o *outcome, vars map[string]any, f taskFlags, start time.Time) *outcome {
	noLog := f.noLog
	if o.result == nil {
		o.result = module.Result{}
	}
	if o.status == report.Failed && f.ignoreErrors {
		o.status = report.Ignored
	}
	for _, inc := range o.includes {
		inc.noLog = noLog
	}
	if !t.HasLoop {
		// Before registering: the inventory change makes the result changed.
		p.applyInventory(h, t, o, vars)
	}
	if t.Register != "" {
		// The registered result keeps ansible_facts, as in Ansible.
		reg := copyMap(o.result)
		delete(reg, "_ansible_verbose_always") // output only, as in Ansible
		delete(reg, module.FactsCacheable)
		delete(reg, displayDiffKey)
		h.setFacts("register", map[string]any{t.Register: template.MarkUnsafe(reg)})
	}
	o.delegateFacts = f.delegateFacts
	p.applyFacts(t, o, []*hostState{h})
	if o.status != report.Failed && o.status != report.Unreachable && o.status != report.Skipped {
		if o.status == report.Changed && len(t.Notify) > 0 {
			p.notify(h, t, t.Notify, vars)
		}
	}
	switch o.status {
	case report.Failed:
		p.markFailed(h, rt, t, o.result, noLog)
	case report.Unreachable:
		if f.ignoreUnreachable {
			p.countAndReport(h, rt, report.HostResult{Host: h.name, Task: rt, Status: report.Skipped, Result: o.result, NoLog: noLog, Duration: time.Since(start)}, !t.HasLoop)
			return o
		}
		p.markUnreachable(h, rt, fmt.Sprint(o.result["msg"]), noLog)
	default:
		if t.Action == "meta" && o.status == report.OK {
			// Ansible neither prints nor counts a meta action's result.
			return o
		}
		if t.Action == "include_role" && o.status == report.OK {
			// Ansible neither prints nor counts include_role's own result.
			return o
		}
		if isInclude(t) && o.status == report.OK {
			// Shown as "included:" lines and counted by the coordinator:
			// Ansible counts one ok per file include_tasks includes (per
			// loop item and host) and none for include_role.
			return o
		}
		hr := report.HostResult{Host: h.name, Delegated: delegatedName(o), Task: rt, Status: o.status, Result: o.result, NoLog: noLog, Diff: diffsOf(o.result), Duration: time.Since(start), CheckMode: p.r.opts.Check}
		p.countAndReport(h, rt, hr, true)
	}
	return o
}

// applyFacts stores the ansible_facts of a task's result on hosts (the
// host that ran it, or every host of a run_once task), or on the host the
// task was delegated to with delegate_facts. A loop's items are applied in
// turn, so a later item's value wins, as in Ansible. A failed task sets
// nothing, even when its failure is ignored.
func (p *playRun) applyFacts(t *playbook.Task, o *outcome, hosts []*hostState) {
	if o.status == report.Failed || o.status == report.Ignored || o.status == report.Unreachable || o.status == report.Skipped {
		return
	}
	results := []any{map[string]any(o.result)}
	if t.HasLoop {
		results, _ = o.result["results"].([]any)
	}
	for _, r := range results {
		res, _ := r.(map[string]any)
		f, ok := res["ansible_facts"].(map[string]any)
		if !ok {
			continue
		}
		targets := hosts
		if o.delegateFacts && delegateTo(t) != "" {
			if d, ok := res["_ansible_delegated_vars"].(string); ok {
				targets = []*hostState{p.r.host(d)}
			}
		}
		for _, target := range targets {
			if factLayer(t) == "facts" {
				target.setModuleFacts(storedFacts(t, f))
				continue
			}
			if res[module.FactsCacheable] == true {
				// set_fact's cacheable: a fact too, as in Ansible.
				target.setModuleFacts(f)
			}
			target.setFacts(factLayer(t), storedFacts(t, f), t.ArgOrder...)
		}
	}
}

// carryItem records what one loop item registered and the facts it set in
// carried, the variables the following items see.
func (p *playRun) carryItem(h *hostState, t *playbook.Task, carried map[string]any, res module.Result) {
	if t.Register != "" {
		carried[t.Register] = template.MarkUnsafe(copyMap(res))
	}
	f, ok := res["ansible_facts"].(map[string]any)
	if !ok {
		return
	}
	f = storedFacts(t, f)
	if factLayer(t) != "facts" {
		for k, v := range f {
			carried[k] = v
		}
		return
	}
	all, _ := carried["ansible_facts"].(map[string]any)
	if all == nil {
		_, hostFacts, _, _ := h.layers()
		all = hostFacts
	}
	all, plain := mergeModuleFacts(all, h.plainFacts(), f)
	for k, v := range factVarsOf(all, plain) {
		carried[k] = v
	}
}

// storedFacts returns the ansible_facts a task sets as they are to be
// stored: a module's facts are host data; set_fact's values were rendered
// with their marks kept and include_vars' come from controller files, which
// hold templates.
func storedFacts(t *playbook.Task, f map[string]any) map[string]any {
	if factLayer(t) != "facts" {
		return f
	}
	return template.MarkUnsafe(f).(map[string]any)
}

// taskFlags are a task's boolean keywords for one host, read before it
// runs, as Ansible validates them before running a task.
type taskFlags struct {
	noLog, ignoreErrors, ignoreUnreachable, delegateFacts bool
}

// taskFlags reads no_log, ignore_errors, ignore_unreachable and
// delegate_facts. no_log
// fails closed: when it cannot be read, the returned flags censor the
// task's output and the error fails the task (which ignore_errors may
// still ignore, as in Ansible). In a loop, no_log may need the item, so
// its error is left to each item.
func (p *playRun) taskFlags(t *playbook.Task, tv map[string]any) (taskFlags, error) {
	var f taskFlags
	noLog, nlErr := p.boolKeyword(t, "no_log", noLogOf, p.play.NoLog, tv)
	f.noLog = noLog || nlErr != nil
	var err error
	if f.ignoreErrors, err = p.boolKeyword(t, "ignore_errors", func(a *playbook.Task) any { return a.IgnoreErrors }, p.play.IgnoreErrors, tv); err != nil {
		f.ignoreErrors = false
		return f, err
	}
	if f.ignoreUnreachable, err = p.boolKeyword(t, "ignore_unreachable", func(a *playbook.Task) any { return a.IgnoreUnreachable }, p.play.IgnoreUnreachable, tv); err != nil {
		f.ignoreUnreachable = false
		return f, err
	}
	if f.delegateFacts, err = p.boolKeyword(t, "delegate_facts", func(a *playbook.Task) any { return a.DelegateFacts }, nil, tv); err != nil {
		f.delegateFacts = false
		return f, err
	}
	if nlErr != nil && !t.HasLoop {
		return f, nlErr
	}
	return f, nil
}

func noLogOf(a *playbook.Task) any { return a.NoLog }

// factLayer says which variable layer a task's ansible_facts go to.
func factLayer(t *playbook.Task) string {
	switch t.Action {
	case "include_vars":
		return "include_vars"
	case "set_fact":
		return "set_fact"
	}
	return "facts"
}

func (p *playRun) countAndReport(h *hostState, rt report.Task, hr report.HostResult, show bool) {
	p.r.countStats(h.name, func(s *report.Stats) {
		switch hr.Status {
		case report.OK:
			s.OK++
		case report.Changed:
			s.OK++
			s.Changed++
		case report.Skipped:
			s.Skipped++
		case report.Ignored:
			s.OK++
			s.Ignored++
			if c, _ := hr.Result["changed"].(bool); c {
				s.Changed++
			}
		case report.Rescued:
			s.Rescued++
		}
	})
	if show {
		p.r.opts.Reporter.HostResult(hr)
	}
}

// markFailed records a failure: rescued when an enclosing block has a
// rescue section, otherwise the host leaves the play.
func (p *playRun) markFailed(h *hostState, rt report.Task, t *playbook.Task, res module.Result, noLog bool) {
	h.mu.Lock()
	h.failed = true
	if t != nil {
		h.failedTask = map[string]any{"name": t.Name, "action": t.Action}
		// Like a registered result, data: never templated again (its msg
		// may quote the template that failed).
		h.failedRes = template.MarkUnsafe(map[string]any(res)).(map[string]any)
	}
	h.mu.Unlock()
	rescued := t != nil && inRescuedBlock(t)
	p.r.countStats(h.name, func(s *report.Stats) {
		if rescued {
			s.Rescued++
		} else {
			s.Failed++
		}
	})
	p.r.opts.Reporter.HostResult(report.HostResult{Host: h.name, Task: rt, Status: report.Failed, Result: res, NoLog: noLog, CheckMode: p.r.opts.Check})
}

func (p *playRun) markUnreachable(h *hostState, rt report.Task, msg string, noLog bool) {
	h.mu.Lock()
	h.unreachable = true
	h.mu.Unlock()
	p.r.countStats(h.name, func(s *report.Stats) { s.Unreachable++ })
	p.r.opts.Reporter.HostResult(report.HostResult{Host: h.name, Task: rt, Status: report.Unreachable, Result: module.Result{"unreachable": true, "changed": false, "msg": msg}, NoLog: noLog})
}

func isUnreachable(err error) bool { return errors.Is(err, connection.ErrUnreachable) }

func isInclude(t *playbook.Task) bool {
	return t.Action == "include_tasks" || t.Action == "include_role"
}
