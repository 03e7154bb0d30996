package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
	"github.com/tend-dev/tend/pkg/vars"
)

// playRun is the state of one play.
type playRun struct {
	r    *runner
	play *playbook.Play

	roleDefaults map[string]any
	roleVars     map[string]any
	groups       map[string]any
	allList      []any
	batchList    []any
	batch        []*hostState

	mu        sync.Mutex
	varsFiles map[string]map[string]any
	hvCache   map[string]any
	hvVersion map[string]int
	hvChanges int64          // r.changes when hvCache was built
	invHosts  []string       // inventory host names, for hostvars
	active    []any          // ansible_play_hosts at the start of the current task
	magic     map[string]any // magic variables shared by all hosts and tasks
	endPlay   bool
	// stopRun ends the playbook after this play, as Ansible's break_play:
	// any_errors_fatal, max_fail_percentage or a batch in which every
	// host failed.
	stopRun  bool
	endBatch bool
	groupsOf map[string][]any
	// rolesRun are the hosts each role block (roleRunKey) ran on.
	rolesRun map[string]map[string]bool
}

// runPlay runs one play; stop says the playbook ends with it.
func (r *runner) runPlay(ctx context.Context, play *playbook.Play) (stop bool, err error) {
	if play, err = r.promptVars(ctx, play); err != nil {
		return true, err
	}
	pattern := play.Hosts
	if module.IsTemplated(pattern) {
		v, err := r.opts.Templates.RenderString(pattern, r.playVars(play))
		if err != nil {
			return false, fmt.Errorf("%s: play hosts: %w", play.Pos, err)
		}
		pattern = v
	}
	names, err := r.selectHosts(play, pattern)
	if err != nil {
		return false, err
	}
	if len(names) == 0 {
		r.opts.Reporter.PlayStart(playName(play), names, r.opts.Check)
		r.opts.Reporter.Warn("", fmt.Sprintf("no hosts matched %q; skipping play %q", pattern, playName(play)))
		return false, nil
	}
	p := &playRun{r: r, play: play, varsFiles: map[string]map[string]any{}, hvVersion: map[string]int{}, groupsOf: map[string][]any{}}
	p.groups = r.opts.Inventory.GroupsVar()
	for _, n := range names {
		p.allList = append(p.allList, n)
	}
	p.magic = p.playMagic()
	p.roleDefaults, p.roleVars = map[string]any{}, map[string]any{}
	for _, role := range play.RoleList {
		for k, v := range role.Defaults {
			p.roleDefaults[k] = v
		}
		for k, v := range role.Vars {
			p.roleVars[k] = v
		}
	}
	// Hosts that failed or were unreachable in an earlier play stay out.
	var live []string
	for _, n := range names {
		h := r.host(n)
		h.mu.Lock()
		gone := h.failed || h.unreachable
		h.ended = false
		h.notified = map[string]bool{}
		h.mu.Unlock()
		if !gone {
			live = append(live, n)
		}
	}
	serial, err := p.serial()
	if err != nil {
		return false, fmt.Errorf("%s: %w", play.Pos, err)
	}
	bs, err := batches(live, serial)
	if err != nil {
		return false, fmt.Errorf("%s: %w", play.Pos, err)
	}
	for _, b := range bs {
		if ctx.Err() != nil || p.endPlay {
			break
		}
		p.batch = nil
		p.batchList = nil
		for _, n := range b {
			p.batch = append(p.batch, r.host(n))
			p.batchList = append(p.batchList, n)
		}
		p.endBatch = false
		// Ansible prints the play banner again for every serial batch.
		r.opts.Reporter.PlayStart(playName(play), b, r.opts.Check)
		p.runBatch(ctx)
		if p.stopRun || p.batchFailed() {
			// Ansible's break_play: the play and the playbook end here.
			return true, nil
		}
	}
	return false, nil
}

// batchFailed reports whether every host of the batch failed or was
// unreachable (hosts that ended with meta end_host did not fail).
func (p *playRun) batchFailed() bool {
	for _, h := range p.batch {
		h.mu.Lock()
		failed := h.failed || h.unreachable
		h.mu.Unlock()
		if !failed {
			return false
		}
	}
	return len(p.batch) > 0
}

func playName(p *playbook.Play) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Hosts
}

func (p *playRun) runBatch(ctx context.Context) {
	for _, h := range p.activeHosts(p.batch) {
		if err := p.loadVarsFiles(h); err != nil {
			task := report.Task{Name: "vars_files", File: p.play.Pos.File, Line: p.play.Pos.Line}
			noLog := p.playNoLog(p.taskVars(h, &playbook.Task{}, nil))
			p.markFailed(h, task, nil, module.Result{"failed": true, "msg": fmt.Sprintf("%s: %v", p.play.Pos, err)}, noLog)
		}
	}
	if gather, err := p.gatherFacts(); err != nil {
		p.failGather(err)
	} else if gather {
		p.gather(ctx, p.batch)
	}
	sections := [][]*playbook.Task{p.play.PreTasks, nil, p.play.Roles, p.play.Tasks, nil, p.play.PostTasks, nil}
	for _, sec := range sections {
		if ctx.Err() != nil || p.endPlay || p.endBatch {
			return
		}
		if sec == nil {
			p.flushHandlers(ctx, p.batch)
			continue
		}
		p.walk(ctx, sec, p.batch)
	}
}

// gatherFacts reads the play's gather_facts (default true); a template
// sees the play's vars and extra vars, as the play's hosts do.
func (p *playRun) gatherFacts() (bool, error) {
	if p.play.GatherFacts == nil {
		return true, nil
	}
	return p.boolKeyword(&playbook.Task{}, "gather_facts", func(*playbook.Task) any { return nil }, p.play.GatherFacts, p.r.playVars(p.play))
}

// failGather fails the batch's hosts on a gather_facts that is not a
// boolean, as Ansible fails a play whose keywords do not validate.
func (p *playRun) failGather(err error) {
	task := report.Task{Name: "Gathering Facts", Module: "setup", File: p.play.Pos.File, Line: p.play.Pos.Line}
	p.r.opts.Reporter.TaskStart(task)
	for _, h := range p.activeHosts(p.batch) {
		noLog := p.playNoLog(p.taskVars(h, &playbook.Task{}, nil))
		p.markFailed(h, task, nil, module.Result{"failed": true, "msg": fmt.Sprintf("%s: %v", p.play.Pos, err)}, noLog)
	}
}

// gather runs the implicit "Gathering Facts" task.
func (p *playRun) gather(ctx context.Context, hosts []*hostState) {
	if p.r.opts.Facts == nil {
		return
	}
	active := p.activeHosts(hosts)
	if len(active) == 0 {
		return
	}
	task := report.Task{Name: "Gathering Facts", Module: "setup", File: p.play.Pos.File, Line: p.play.Pos.Line}
	p.r.opts.Reporter.TaskStart(task)
	subset := p.play.GatherSubset
	if len(subset) == 0 {
		subset = []string{"all"}
	}
	p.forEachHost(ctx, active, 0, func(h *hostState) {
		defer p.hostBusy(h.name, task)()
		hv := p.taskVars(h, &playbook.Task{}, nil)
		noLog := p.playNoLog(hv)
		if len(p.play.ImportWhen) > 0 {
			// A play from a conditional import_playbook gathers only
			// where its conditions hold, as Ansible's does.
			ok, err := p.allTrue(p.play.ImportWhen, hv)
			if err != nil {
				p.markFailed(h, task, nil, module.Result{"failed": true, "msg": fmt.Sprintf("The conditional check failed: %v", err)}, noLog)
				return
			}
			if !ok {
				p.report(h, task, report.HostResult{Host: h.name, Task: task, Status: report.Skipped, Result: module.Result{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}})
				return
			}
		}
		hv, err := p.withConnKeywords(&playbook.Task{}, hv)
		var conn connection.Connection
		if err == nil {
			conn, err = p.r.opts.Connector.Get(ctx, h.name, hv)
		}
		if err == nil {
			var facts map[string]any
			facts, err = p.r.opts.Facts(ctx, conn, subset, "")
			if err == nil {
				h.setFacts("facts", template.MarkUnsafe(facts).(map[string]any))
				p.report(h, task, report.HostResult{Host: h.name, Task: task, Status: report.OK, Result: module.Result{"changed": false}})
				return
			}
		}
		if errors.Is(err, connection.ErrUnreachable) {
			p.markUnreachable(h, task, err.Error(), noLog)
			return
		}
		p.markFailed(h, task, nil, module.Result{"failed": true, "msg": fmt.Sprintf("gathering facts: %v", err)}, noLog)
	})
}

// playNoLog reads the play's no_log for its own implicit tasks (fact
// gathering), failing closed: a value that cannot be read hides output.
func (p *playRun) playNoLog(tv map[string]any) bool {
	noLog, err := p.boolKeyword(&playbook.Task{}, "no_log", func(*playbook.Task) any { return nil }, p.play.NoLog, tv)
	return noLog || err != nil
}

// varsFilesOf loads the play's vars_files for a host (names may be
// templates; a list entry is a first-found list).
func (p *playRun) varsFilesOf(host string) map[string]any {
	p.mu.Lock()
	m, ok := p.varsFiles[host]
	p.mu.Unlock()
	if ok {
		return m
	}
	// Loaded lazily; errors are reported when the play starts (below).
	return nil
}

// loadVarsFiles resolves vars_files for every host of the batch.
func (p *playRun) loadVarsFiles(h *hostState) error {
	if len(p.play.VarsFiles) == 0 {
		p.mu.Lock()
		p.varsFiles[h.name] = nil
		p.mu.Unlock()
		return nil
	}
	base := p.taskVars(h, &playbook.Task{}, nil)
	out := map[string]any{}
	for _, entry := range p.play.VarsFiles {
		cands := []any{entry}
		if l, ok := entry.([]any); ok {
			cands = l
		}
		var loaded bool
		var lastErr error
		for _, c := range cands {
			name, err := p.r.opts.Templates.RenderString(fmt.Sprint(c), vars.Merge(base, out))
			if err != nil {
				return fmt.Errorf("vars_files %q: %w", c, err)
			}
			path := resolvePath(p.play.Dir, name)
			m, err := vars.Loader{Vault: p.r.opts.Vault}.LoadFile(path)
			if err == nil {
				p.r.recordInput(path)
			}
			if err != nil {
				lastErr = err
				continue
			}
			for k, v := range m {
				out[k] = v
			}
			loaded = true
			break
		}
		if !loaded {
			return fmt.Errorf("vars_files: %w", lastErr)
		}
	}
	p.mu.Lock()
	p.varsFiles[h.name] = out
	p.mu.Unlock()
	return nil
}

// hostvars returns the hostvars magic variable, rebuilding only the
// entries of hosts whose variables changed.
func (p *playRun) hostvars() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	changes := p.r.changes.Load()
	if p.hvCache != nil && changes == p.hvChanges {
		return p.hvCache
	}
	if p.invHosts == nil {
		for _, ih := range p.r.opts.Inventory.Hosts() {
			p.invHosts = append(p.invHosts, ih.Name)
		}
	}
	// Rebuild the outer map; entries of unchanged hosts are reused.
	next := make(map[string]any, len(p.invHosts))
	for _, name := range p.invHosts {
		next[name] = p.r.host(name).hostvars(p.r.opts.ExtraVars, p.hostGroupNames, p.r.opts.Templates.HostScope)
	}
	p.hvCache, p.hvChanges = next, changes
	return next
}

// groupsVar returns the groups magic variable, which group_by and
// add_host change during the play.
func (p *playRun) groupsVar() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.groups
}

// inventoryChanged makes the play see hosts and groups that group_by or
// add_host added: groups, group_names, hostvars and the host's own
// inventory variables (group_vars of a new group).
func (p *playRun) inventoryChanged(hosts ...string) {
	inv := p.r.opts.Inventory
	groups := inv.GroupsVar()
	p.mu.Lock()
	p.groups = groups
	p.groupsOf = map[string][]any{}
	p.invHosts = nil
	p.hvCache = nil
	p.mu.Unlock()
	for _, n := range hosts {
		p.r.host(n).reloadInventory(inv)
	}
}

// hostGroupNames is a host's group_names for its hostvars entry; unlike
// groupNames it does not take p.mu (hostvars holds it).
func (p *playRun) hostGroupNames(host string) []any {
	names := p.r.opts.Inventory.GroupNamesOf(host)
	sort.Strings(names)
	return toAnyList(names)
}

func (p *playRun) groupNames(host string) []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g, ok := p.groupsOf[host]; ok {
		return g
	}
	names := p.r.opts.Inventory.GroupNamesOf(host)
	sort.Strings(names)
	out := toAnyList(names)
	p.groupsOf[host] = out
	return out
}

func (p *playRun) activeHosts(hosts []*hostState) []*hostState {
	var out []*hostState
	for _, h := range hosts {
		if h.active() {
			out = append(out, h)
		}
	}
	return out
}

// activeList is ansible_play_hosts: the batch's hosts still in the play
// when the current task started.
func (p *playRun) activeList() []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active == nil {
		p.active = p.computeActive()
	}
	return p.active
}

// refreshActive recomputes ansible_play_hosts; called when a task starts.
func (p *playRun) refreshActive() {
	a := p.computeActive()
	p.mu.Lock()
	p.active = a
	p.mu.Unlock()
}

func (p *playRun) computeActive() []any {
	out := []any{}
	for _, h := range p.batch {
		if h.active() {
			out = append(out, h.name)
		}
	}
	return out
}

// playVars are the variables a play keyword read before any host sees
// (hosts, serial, gather_facts, vars_prompt's defaults, handler names):
// the play's vars, then more, then the extra vars.
func (r *runner) playVars(play *playbook.Play, more ...map[string]any) map[string]any {
	return vars.Merge(append(append([]map[string]any{play.Vars}, more...), r.opts.ExtraVars)...)
}

// serial renders the play's serial keyword, a template or a list of them
// giving numbers or percentages, with the play's variables (as Ansible
// does when it splits the play into batches).
func (p *playRun) serial() ([]any, error) {
	out := make([]any, len(p.play.Serial))
	pv := p.r.playVars(p.play)
	for i, s := range p.play.Serial {
		str, ok := s.(string)
		if !ok {
			out[i] = s
			continue
		}
		v, err := p.r.opts.Templates.Render(str, pv)
		if err != nil {
			return nil, fmt.Errorf("serial: %w", err)
		}
		out[i] = v
	}
	return out, nil
}
