// Package executor runs loaded playbooks against inventory hosts: one
// goroutine per host, at most Forks at a time, in the linear (lockstep
// per task) or free strategy, with blocks, loops, handlers, check and diff
// mode. It reports every result to a report.Reporter and returns the
// per-host counters.
package executor

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
	"github.com/tend-dev/tend/pkg/vars"
)

// Connector opens (or reuses) the connection to a host. vars are the
// host's variables (ansible_host, ansible_user, ansible_connection...).
type Connector interface {
	Get(ctx context.Context, host string, vars map[string]any) (connection.Connection, error)
}

// FactGatherer gathers facts from a host (the setup step of a play).
type FactGatherer func(ctx context.Context, conn connection.Connection, subset []string, filter string) (map[string]any, error)

// Options configure a run. Inventory, Registry, Loader, Connector and
// Reporter are required.
type Options struct {
	Inventory *inventory.Inventory
	Registry  *module.Registry
	Loader    *playbook.Loader
	Connector Connector
	Reporter  report.Reporter
	// Templates is the base template engine; nil makes one for the
	// playbook directory.
	Templates *template.Engine
	// Facts gathers facts; nil disables fact gathering.
	Facts FactGatherer

	Forks int // default 50
	Check bool
	Diff  bool
	// ForceHandlers (--force-handlers) runs the handlers a host was
	// notified of even when the host failed afterwards, as the play
	// keyword force_handlers does.
	ForceHandlers bool
	Limit         string
	Tags          []string
	SkipTags      []string
	StartAtTask   string
	ExtraVars     map[string]any
	// DefaultVars are the lowest-precedence variables: command-line
	// connection settings (-u, -b, --private-key) that inventory wins over.
	DefaultVars map[string]any
	Verbosity   int
	// BecomePassword is the -K password, used when a host sets none.
	BecomePassword string
	// Version is reported as ansible_version.full.
	Version string
	// Vault decrypts vault-encrypted vars_files and include_vars files
	// (*vault.Keyring); nil refuses them with an error naming the file.
	Vault vars.Decrypter
	// Steps, when set, sees every host module's plan before it is applied
	// (saved plans: tend play --plan-out, tend apply).
	Steps StepGate
	// Input, when set, is told each controller file a task reads by path
	// (vars_files, src: of copy and template, include_vars), so a saved
	// plan can be bound to it. It is called from many goroutines.
	Input func(path string)
	// Prompt asks the user for a vars_prompt variable and returns the
	// answer, ok false when nobody can answer (no terminal). nil: never.
	Prompt func(ctx context.Context, p playbook.VarPrompt) (answer string, ok bool, err error)
	// Custom finds the modules the content ships (library/ directories,
	// *custommodule.Library) for a module name tend has no module for;
	// nil: such a task fails as a module that does not exist.
	Custom CustomModules
}

// CustomModules finds a module the content ships by its name.
type CustomModules interface {
	Lookup(name string) (module.Module, bool)
}

// Summary is the outcome of a run.
type Summary struct {
	Hosts       []string
	Stats       map[string]*report.Stats
	Interrupted bool
}

// Failed reports whether any host failed.
func (s *Summary) Failed() bool {
	for _, st := range s.Stats {
		if st.Failed > 0 {
			return true
		}
	}
	return false
}

// Unreachable reports whether any host was unreachable.
func (s *Summary) Unreachable() bool {
	for _, st := range s.Stats {
		if st.Unreachable > 0 {
			return true
		}
	}
	return false
}

// Changed reports whether any host changed (or would change, in check
// mode).
func (s *Summary) Changed() bool {
	for _, st := range s.Stats {
		if st.Changed > 0 {
			return true
		}
	}
	return false
}

// runner is the state of one run across plays.
type runner struct {
	opts       Options
	pb         *playbook.Playbook
	sem        chan struct{}
	loaderMu   sync.Mutex
	omit       string
	started    time.Time
	statsMu    sync.Mutex
	stats      map[string]*report.Stats
	statsOrder []string
	hostsMu    sync.Mutex
	hosts      map[string]*hostState
	startSeen  bool
	taskSeq    atomic.Uint64
	changes    atomic.Int64 // variable changes of any host (hostvars cache)
	startMu    sync.Mutex
	jobs       *jobTable // async jobs
	hostEnvs   hostEnvs  // environments $VAR in path arguments expands with
}

// Run executes every play of pb.
func Run(ctx context.Context, pb *playbook.Playbook, opts Options) (*Summary, error) {
	return runPlaybook(ctx, pb, opts, nil, time.Now())
}

// RunPlaybooks executes several playbooks as one run, as ansible-playbook
// does with several playbook arguments: the counters continue from one
// playbook to the next (each playbook's recap shows the run so far), and a
// playbook in which a host failed or was unreachable is the last one run,
// so the returned Summary always holds every failure. Templates must be
// nil: each playbook gets an engine for its own directory.
func RunPlaybooks(ctx context.Context, pbs []*playbook.Playbook, opts Options) (*Summary, error) {
	started := time.Now()
	var sum *Summary
	for _, pb := range pbs {
		next, err := runPlaybook(ctx, pb, opts, sum, started)
		if next != nil {
			sum = next
		}
		if err != nil || ctx.Err() != nil || sum.Failed() || sum.Unreachable() {
			return sum, err
		}
	}
	if sum == nil {
		sum = &Summary{Stats: map[string]*report.Stats{}}
	}
	return sum, nil
}

// runPlaybook runs pb with the counters of prev (earlier playbooks of the
// same run, or nil) carried on.
func runPlaybook(ctx context.Context, pb *playbook.Playbook, opts Options, prev *Summary, started time.Time) (*Summary, error) {
	if opts.Forks <= 0 {
		opts.Forks = 50
	}
	if opts.Templates == nil {
		opts.Templates = template.New(template.Options{BaseDir: pb.Dir})
	}
	// Every result reaches the reporter censored when no_log says so,
	// whatever the reporter does with it.
	opts.Reporter = report.Censoring(opts.Reporter)
	// Templates stop with the run: a loop in a template can be endless.
	opts.Templates = opts.Templates.WithContext(ctx)
	r := &runner{
		opts:      opts,
		pb:        pb,
		sem:       make(chan struct{}, opts.Forks),
		omit:      fmt.Sprintf("__omit_place_holder__%016x", rand.Uint64()),
		started:   started,
		stats:     map[string]*report.Stats{},
		hosts:     map[string]*hostState{},
		startSeen: opts.StartAtTask == "",
		jobs:      newJobTable(ctx),
	}
	if prev != nil {
		for _, h := range prev.Hosts {
			st := *prev.Stats[h]
			r.stats[h] = &st
		}
		r.statsOrder = append(r.statsOrder, prev.Hosts...)
	}
	opts.Reporter.PlaybookStart(pb.Path)
	var runErr error
	for _, play := range pb.Plays {
		if ctx.Err() != nil {
			break
		}
		stop, err := r.runPlay(ctx, play)
		if err != nil {
			runErr = err
			break
		}
		if stop {
			break
		}
	}
	r.jobs.finish()
	opts.Reporter.Recap(r.statsOrder, r.stats, time.Since(r.started))
	sum := &Summary{Hosts: r.statsOrder, Stats: r.stats, Interrupted: ctx.Err() != nil}
	return sum, runErr
}

func (r *runner) host(name string) *hostState {
	r.hostsMu.Lock()
	defer r.hostsMu.Unlock()
	h, ok := r.hosts[name]
	if !ok {
		h = newHostState(name, r.opts.Inventory, &r.changes)
		r.hosts[name] = h
	}
	return h
}

func (r *runner) countStats(host string, f func(*report.Stats)) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	st, ok := r.stats[host]
	if !ok {
		st = &report.Stats{}
		r.stats[host] = st
		r.statsOrder = append(r.statsOrder, host)
		sort.Strings(r.statsOrder)
	}
	f(st)
}

// selectHosts resolves the play's hosts with --limit and order applied.
func (r *runner) selectHosts(p *playbook.Play, pattern string) ([]string, error) {
	hosts, err := r.opts.Inventory.Select(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: play %q: hosts: %w", p.Pos, p.Name, err)
	}
	var names []string
	allowed := map[string]bool{}
	if r.opts.Limit != "" {
		lim, err := r.opts.Inventory.Select(r.opts.Limit)
		if err != nil {
			return nil, fmt.Errorf("--limit: %w", err)
		}
		for _, h := range lim {
			allowed[h.Name] = true
		}
	}
	for _, h := range hosts {
		if r.opts.Limit != "" && !allowed[h.Name] {
			continue
		}
		names = append(names, h.Name)
	}
	switch p.Order {
	case "reverse_inventory":
		for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	case "sorted":
		sort.Strings(names)
	case "reverse_sorted":
		sort.Sort(sort.Reverse(sort.StringSlice(names)))
	case "shuffle":
		rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	}
	return names, nil
}

// batches splits hosts by the play's serial keyword.
func batches(hosts []string, serial []any) ([][]string, error) {
	if len(serial) == 0 {
		return [][]string{hosts}, nil
	}
	var out [][]string
	i, si := 0, 0
	for i < len(hosts) {
		spec := serial[min(si, len(serial)-1)]
		si++
		n, err := serialSize(spec, len(hosts))
		if err != nil {
			return nil, err
		}
		end := min(i+n, len(hosts))
		out = append(out, hosts[i:end])
		i = end
	}
	return out, nil
}

func serialSize(spec any, total int) (int, error) {
	switch x := spec.(type) {
	case int:
		if x <= 0 {
			return total, nil
		}
		return x, nil
	case string:
		var pct float64
		if _, err := fmt.Sscanf(x, "%g%%", &pct); err == nil {
			n := int(float64(total) * pct / 100)
			return max(n, 1), nil
		}
		if n, ok := module.ToInt(x); ok {
			return max(n, 1), nil
		}
	case float64:
		return max(int(x), 1), nil
	}
	return 0, fmt.Errorf("serial: %v is not a number or a percentage", spec)
}
