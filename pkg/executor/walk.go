package executor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// walk runs tasks on hosts. In the linear strategy every task runs on all
// active hosts before the next starts; in the free strategy each host
// walks on its own.
func (p *playRun) walk(ctx context.Context, tasks []*playbook.Task, hosts []*hostState) {
	if p.play.Strategy == "free" && len(hosts) > 1 {
		var wg sync.WaitGroup
		for _, h := range hosts {
			wg.Add(1)
			go func(h *hostState) {
				defer wg.Done()
				p.walkLinear(ctx, tasks, []*hostState{h})
			}(h)
		}
		wg.Wait()
		return
	}
	p.walkLinear(ctx, tasks, hosts)
}

func (p *playRun) walkLinear(ctx context.Context, tasks []*playbook.Task, hosts []*hostState) {
	for _, t := range tasks {
		if ctx.Err() != nil || p.stopped() {
			return
		}
		active := p.activeHosts(hosts)
		if len(active) == 0 {
			return
		}
		if t.IsBlock() {
			p.runBlock(ctx, t, active)
			continue
		}
		p.runTask(ctx, t, active)
	}
}

func (p *playRun) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endPlay || p.endBatch
}

// runBlock runs a block's tasks, then its rescue for the hosts that failed
// in it, then its always for every host that entered it.
func (p *playRun) runBlock(ctx context.Context, b *playbook.Task, hosts []*hostState) {
	key := roleRunKey(b)
	if key != "" {
		if hosts = p.roleNotRun(key, hosts); len(hosts) == 0 {
			return
		}
		defer p.roleRan(key, hosts)
	}
	p.walkLinear(ctx, b.Block, hosts)
	var failed []*hostState
	for _, h := range hosts {
		h.mu.Lock()
		if h.failed && !h.unreachable {
			failed = append(failed, h)
		}
		h.mu.Unlock()
	}
	if len(b.Rescue) > 0 && len(failed) > 0 {
		for _, h := range failed {
			h.mu.Lock()
			h.failed = false
			h.mu.Unlock()
		}
		p.walkLinear(ctx, b.Rescue, failed)
		for _, h := range failed {
			h.mu.Lock()
			h.failedTask, h.failedRes = nil, nil
			h.mu.Unlock()
		}
	}
	if len(b.Always) > 0 {
		// always runs for failed hosts too; they stay failed afterwards.
		var stillFailed []*hostState
		for _, h := range hosts {
			h.mu.Lock()
			if h.failed && !h.unreachable {
				h.failed = false
				stillFailed = append(stillFailed, h)
			}
			h.mu.Unlock()
		}
		p.walkLinear(ctx, b.Always, hosts)
		for _, h := range stillFailed {
			h.mu.Lock()
			h.failed = true
			h.mu.Unlock()
		}
	}
}

// inRescuedBlock reports whether a failure of t is caught by the rescue
// of an enclosing block (t is in the block part, not rescue/always).
func inRescuedBlock(t *playbook.Task) bool {
	child := t
	for a := t.Parent; a != nil; a = a.Parent {
		if a.IsBlock() && len(a.Rescue) > 0 {
			for _, c := range a.Block {
				if c == child {
					return true
				}
			}
		}
		child = a
	}
	return false
}

// selected applies --tags, --skip-tags and --start-at-task.
func (p *playRun) selected(t *playbook.Task) bool {
	tags := p.effectiveTags(t)
	if !TagsMatch(tags, p.r.opts.Tags, p.r.opts.SkipTags) {
		return false
	}
	if !t.Handler {
		p.r.startMu.Lock()
		defer p.r.startMu.Unlock()
		if !p.r.startSeen {
			if ok, _ := filepath.Match(p.r.opts.StartAtTask, t.Name); ok || t.Name == p.r.opts.StartAtTask || p.displayName(t) == p.r.opts.StartAtTask {
				p.r.startSeen = true
			} else {
				return false
			}
		}
	}
	return true
}

// TagsMatch implements Ansible's tag selection, including the special
// tags always, never, tagged, untagged and all.
func TagsMatch(taskTags, only, skip []string) bool {
	has := func(l []string, s string) bool {
		for _, e := range l {
			if e == s {
				return true
			}
		}
		return false
	}
	intersects := func(a, b []string) bool {
		for _, x := range a {
			if has(b, x) {
				return true
			}
		}
		return false
	}
	if len(skip) > 0 {
		if intersects(taskTags, skip) || (has(skip, "tagged") && len(taskTags) > 0) || (has(skip, "untagged") && len(taskTags) == 0) {
			return false
		}
		if has(skip, "all") && !has(taskTags, "always") {
			return false
		}
	}
	if len(only) == 0 {
		only = []string{"all"}
	}
	if has(taskTags, "always") && !has(skip, "always") {
		return true
	}
	if has(taskTags, "never") {
		for _, t := range taskTags {
			if t != "never" && has(only, t) {
				return true
			}
		}
		return has(only, "never")
	}
	if has(only, "all") || intersects(taskTags, only) {
		return true
	}
	if has(only, "tagged") && len(taskTags) > 0 {
		return true
	}
	if has(only, "untagged") && len(taskTags) == 0 {
		return true
	}
	return false
}

// displayName is the task name shown in output, "role : name" for role
// tasks, templated with play variables when possible.
func (p *playRun) displayName(t *playbook.Task) string {
	name := t.Name
	if name == "" {
		name = t.Action
	} else if module.IsTemplated(name) {
		if s, err := p.r.opts.Templates.RenderString(name, p.playLevelVars()); err == nil {
			name = s
		}
	}
	return name
}

func (p *playRun) playLevelVars() map[string]any {
	m := map[string]any{}
	for k, v := range p.roleDefaults {
		m[k] = v
	}
	for k, v := range p.play.Vars {
		m[k] = v
	}
	for k, v := range p.r.opts.ExtraVars {
		m[k] = v
	}
	return m
}

func (p *playRun) reportTask(t *playbook.Task) report.Task {
	rt := report.Task{Name: p.displayName(t), Module: t.Action, File: t.Pos.File, Line: t.Pos.Line, Handler: t.Handler, Loop: t.HasLoop, ID: p.r.taskSeq.Add(1)}
	if r := roleOf(t); r != nil {
		rt.Role = r.Name
	}
	if t.Action == "include_role" {
		// Ansible's IncludeRole names itself, without the role it is in:
		// its name, else "include_role : ROLE".
		rt.Role = ""
		if t.Name == "" {
			rt.Name = fmt.Sprintf("include_role : %v", t.Args["name"])
		}
	}
	return rt
}

// forEachHost runs f for each host concurrently, at most Forks (and the
// task's throttle) at a time.
func (p *playRun) forEachHost(ctx context.Context, hosts []*hostState, throttle int, f func(h *hostState)) {
	if len(hosts) == 1 {
		p.r.sem <- struct{}{}
		f(hosts[0])
		<-p.r.sem
		return
	}
	var local chan struct{}
	if throttle > 0 {
		local = make(chan struct{}, throttle)
	}
	var wg sync.WaitGroup
	for _, h := range hosts {
		if ctx.Err() != nil {
			break
		}
		if local != nil {
			local <- struct{}{}
		}
		p.r.sem <- struct{}{}
		wg.Add(1)
		go func(h *hostState) {
			defer func() {
				<-p.r.sem
				if local != nil {
					<-local
				}
				wg.Done()
			}()
			f(h)
		}(h)
	}
	wg.Wait()
}

// flushHandlers runs notified handlers in one pass in definition order,
// as Ansible does: a handler notified by another runs in the same flush
// when it comes later in the list, at the next flush when it comes
// earlier. With force_handlers, hosts that failed run theirs too (not
// unreachable ones), as in Ansible.
func (p *playRun) flushHandlers(ctx context.Context, hosts []*hostState) {
	force := p.forceHandlers()
	for _, hd := range p.play.Handlers {
		key := handlerKey(hd)
		var targets []*hostState
		for _, h := range p.handlerHosts(hosts, force) {
			h.mu.Lock()
			if h.notified[key] {
				delete(h.notified, key)
				targets = append(targets, h)
			}
			h.mu.Unlock()
		}
		if len(targets) == 0 {
			continue
		}
		if hd.IsBlock() {
			p.walkLinear(ctx, hd.Block, targets)
			continue
		}
		p.runTask(ctx, hd, targets)
	}
}

// forceHandlers is --force-handlers or the play's force_handlers keyword
// (a template sees the extra vars; a value that cannot be read is false).
func (p *playRun) forceHandlers() bool {
	if p.r.opts.ForceHandlers {
		return true
	}
	force, err := p.boolKeyword(&playbook.Task{}, "force_handlers", func(*playbook.Task) any { return nil }, p.play.ForceHandlers, p.r.opts.ExtraVars)
	return force && err == nil
}

// handlerHosts are the hosts that run notified handlers: those still in
// the play, and with force those that failed in it.
func (p *playRun) handlerHosts(hosts []*hostState, force bool) []*hostState {
	if !force {
		return p.activeHosts(hosts)
	}
	var out []*hostState
	for _, h := range hosts {
		h.mu.Lock()
		ok := !h.unreachable && !h.ended
		h.mu.Unlock()
		if ok {
			out = append(out, h)
		}
	}
	return out
}

func handlerKey(t *playbook.Task) string {
	return fmt.Sprintf("%s:%d:%d", t.Pos.File, t.Pos.Line, t.Pos.Col)
}

// notify marks the handlers matching names as notified for h.
func (p *playRun) notify(h *hostState, t *playbook.Task, names []string, vars map[string]any) {
	for _, n := range names {
		if module.IsTemplated(n) {
			if s, err := p.r.opts.Templates.RenderString(n, vars); err == nil {
				n = s
			}
		}
		found := false
		for _, hd := range p.play.Handlers {
			if handlerMatches(hd, n, p.handlerName) {
				found = true
				h.mu.Lock()
				h.notified[handlerKey(hd)] = true
				h.mu.Unlock()
			}
		}
		if !found {
			p.r.opts.Reporter.Warn(h.name, fmt.Sprintf("task %q notified handler %q, but no handler has that name or listens to it", t.Name, n))
		}
	}
}

// handlerMatches says whether notifying name runs handler hd. A handler
// that is a block also answers to the names (and listen topics) of the
// tasks in it, which is how Ansible matches handler blocks; tend then runs
// the whole block, so its rescue and always apply.
func handlerMatches(hd *playbook.Task, name string, nameOf func(*playbook.Task) string) bool {
	if handlerNamed(hd, name, nameOf) {
		return true
	}
	if !hd.IsBlock() {
		return false
	}
	for _, list := range [][]*playbook.Task{hd.Block, hd.Rescue, hd.Always} {
		for _, t := range list {
			if handlerMatches(t, name, nameOf) {
				return true
			}
		}
	}
	return false
}

func handlerNamed(hd *playbook.Task, name string, nameOf func(*playbook.Task) string) bool {
	hdName := nameOf(hd)
	if hdName == name {
		return true
	}
	if r := roleOf(hd); r != nil && r.Name+" : "+hdName == name {
		return true
	}
	for _, l := range hd.Listen {
		if l == name {
			return true
		}
	}
	return strings.TrimSpace(hdName) == strings.TrimSpace(name) && name != ""
}

// handlerName is a handler's name as notify matches it: templated with
// the play's variables and the handler's own, as Ansible templates it.
func (p *playRun) handlerName(hd *playbook.Task) string {
	if !module.IsTemplated(hd.Name) {
		return hd.Name
	}
	v := p.r.playVars(p.play, hd.Vars)
	if s, err := p.r.opts.Templates.RenderString(hd.Name, v); err == nil {
		return s
	}
	return hd.Name
}
