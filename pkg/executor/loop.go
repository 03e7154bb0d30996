package executor

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
)

// loopItems renders a task's loop (loop: or with_*) into its items. The
// items of with_<lookup> are host data, as Ansible wraps a lookup's
// results: never templated again, and what a template makes of them is
// marked too.
func (p *playRun) loopItems(t *playbook.Task, vars map[string]any) ([]any, error) {
	if t.LoopKind == "loop" {
		raw, err := p.renderLoop(t.Loop, vars)
		if err != nil {
			return nil, err
		}
		return loopList(raw)
	}
	items, err := p.lookupItems(t, vars)
	if err != nil {
		return nil, err
	}
	return template.MarkUnsafe(items).([]any), nil
}

// lookupItems runs the lookup of a with_<lookup> loop.
func (p *playRun) lookupItems(t *playbook.Task, vars map[string]any) ([]any, error) {
	if t.LoopKind == "first_found" {
		return p.firstFound(t, vars)
	}
	raw, err := p.renderLoop(t.Loop, vars)
	if err != nil {
		return nil, err
	}
	if t.LoopKind == "fileglob" {
		return p.fileglob(raw), nil
	}
	out, err := p.r.opts.Templates.LoopLookup(t.LoopKind, raw, vars)
	if err != nil {
		// The lookup's own message, as Ansible reports it.
		return nil, plainError(err.Error())
	}
	return out, nil
}

// renderLoop renders the loop's value; a string is one template whose
// result may be any value (a list, usually).
func (p *playRun) renderLoop(raw any, vars map[string]any) (any, error) {
	if s, ok := raw.(string); ok {
		return p.r.opts.Templates.RenderMarked(strings.TrimSpace(s), vars)
	}
	return p.r.opts.Templates.RenderValueMarked(raw, vars)
}

// loopList is the items of loop:, which must be a list.
func loopList(raw any) ([]any, error) {
	l, ok := raw.([]any)
	if !ok {
		if raw == nil {
			return nil, fmt.Errorf("loop value is empty (null); expected a list")
		}
		return nil, fmt.Errorf("invalid data passed to 'loop', it requires a list, got this instead: %v. Hint: if you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup", raw)
	}
	return l, nil
}

// fileglob is with_fileglob: the files matching each pattern in the play's
// files/ directory, else in the play's directory, sorted.
func (p *playRun) fileglob(raw any) []any {
	var out []any
	for _, pat := range asList(raw) {
		full := resolvePath(filepath.Join(p.play.Dir, "files"), fmt.Sprint(pat))
		matches, _ := filepath.Glob(full)
		if len(matches) == 0 {
			matches, _ = filepath.Glob(resolvePath(p.play.Dir, fmt.Sprint(pat)))
		}
		sort.Strings(matches)
		for _, m := range matches {
			out = append(out, m)
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

func (p *playRun) report(h *hostState, rt report.Task, hr report.HostResult) {
	p.countAndReport(h, rt, hr, true)
}

var _ = module.Result{}
