package executor

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// loopItems renders a task's loop (loop: or with_*) into its items.
func (p *playRun) loopItems(t *playbook.Task, vars map[string]any) ([]any, error) {
	switch t.LoopKind {
	case "first_found":
		return p.firstFound(t, vars)
	case "sequence":
		// sequence renders its own key=value terms.
		return p.sequence(t.Loop, vars)
	}
	raw, err := p.renderLoop(t.Loop, vars)
	if err != nil {
		return nil, err
	}
	if t.LoopKind == "fileglob" {
		return p.fileglob(raw), nil
	}
	items, ok := loopKinds[t.LoopKind]
	if !ok {
		return nil, fmt.Errorf("unsupported loop kind %q", t.LoopKind)
	}
	return items(raw)
}

// renderLoop renders the loop's value; a string is one template whose
// result may be any value (a list, usually).
func (p *playRun) renderLoop(raw any, vars map[string]any) (any, error) {
	if s, ok := raw.(string); ok {
		return p.r.opts.Templates.RenderMarked(s, vars)
	}
	return p.r.opts.Templates.RenderValueMarked(raw, vars)
}

// loopKinds turn the rendered value of loop: and of each with_<kind> into
// the list of items, as Ansible's lookup plugin of that name does.
var loopKinds = map[string]func(raw any) ([]any, error){
	"loop": func(raw any) ([]any, error) {
		l, ok := raw.([]any)
		if !ok {
			if raw == nil {
				return nil, fmt.Errorf("loop value is empty (null); expected a list")
			}
			return nil, fmt.Errorf("invalid data passed to 'loop', it requires a list, got this instead: %v. Hint: if you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup", raw)
		}
		return l, nil
	},
	"items": func(raw any) ([]any, error) {
		var out []any
		for _, e := range asList(raw) {
			if l, ok := e.([]any); ok {
				out = append(out, l...)
			} else {
				out = append(out, e)
			}
		}
		return out, nil
	},
	"list":      func(raw any) ([]any, error) { return asList(raw), nil },
	"flattened": func(raw any) ([]any, error) { return flatten(asList(raw)), nil },
	"indexed_items": func(raw any) ([]any, error) {
		var out []any
		for i, e := range asList(raw) {
			out = append(out, []any{i, e})
		}
		return out, nil
	},
	"dict":        withDict,
	"together":    withTogether,
	"nested":      withNested,
	"subelements": withSubelements,
	"random_choice": func(raw any) ([]any, error) {
		l := asList(raw)
		if len(l) == 0 {
			return nil, nil
		}
		return []any{l[rand.Intn(len(l))]}, nil
	},
}

// withDict is with_dict: {key, value} items, in the dict's order.
func withDict(raw any) ([]any, error) {
	keys, m, ok := odict.As(raw)
	if !ok {
		return nil, fmt.Errorf("with_dict expects a dict, got %T", raw)
	}
	var out []any
	for _, k := range keys {
		item := odict.New(2)
		item.Set("key", k)
		item.Set("value", m[k])
		out = append(out, item)
	}
	return out, nil
}

// withTogether is with_together: the lists zipped, shorter ones padded
// with None.
func withTogether(raw any) ([]any, error) {
	lists := asList(raw)
	n := 0
	for _, l := range lists {
		n = max(n, len(asList(l)))
	}
	var out []any
	for i := 0; i < n; i++ {
		var row []any
		for _, l := range lists {
			row = append(row, itemAt(asList(l), i))
		}
		out = append(out, row)
	}
	return out, nil
}

// withNested is with_nested: the cartesian product of the lists.
func withNested(raw any) ([]any, error) {
	out := []any{[]any{}}
	for _, l := range asList(raw) {
		var next []any
		for _, prefix := range out {
			for _, e := range asList(l) {
				next = append(next, append(append([]any{}, prefix.([]any)...), e))
			}
		}
		out = next
	}
	return out, nil
}

// withSubelements is with_subelements: [list of mappings, key] gives a
// [mapping, element] pair for each element of each mapping's key.
func withSubelements(raw any) ([]any, error) {
	l := asList(raw)
	if len(l) < 2 {
		return nil, fmt.Errorf("with_subelements expects [list, subkey]")
	}
	key := fmt.Sprint(l[1])
	var out []any
	for _, e := range asList(l[0]) {
		m, ok := odict.AsMap(e)
		if !ok {
			return nil, fmt.Errorf("with_subelements: element %v is not a mapping", e)
		}
		for _, sub := range asList(m[key]) {
			out = append(out, []any{e, sub})
		}
	}
	return out, nil
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

func flatten(l []any) []any {
	var out []any
	for _, e := range l {
		if sub, ok := e.([]any); ok {
			out = append(out, flatten(sub)...)
		} else {
			out = append(out, e)
		}
	}
	return out
}

// sequence implements with_sequence: "start=1 end=5 stride=1 format=x%02d",
// "count=3", or the shortcut "1-5/2:fmt".
func (p *playRun) sequence(raw any, vars map[string]any) ([]any, error) {
	spec, err := p.renderString(raw, vars)
	if err != nil {
		return nil, err
	}
	start, end, stride, count, format := 1, 0, 1, -1, "%d"
	hasEnd := false
	for _, w := range strings.Fields(spec) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			// shortcut form [start-]end[/stride][:format]
			if f, rest, ok := strings.Cut(w, ":"); ok {
				w, format = f, rest
			}
			if f, s, ok := strings.Cut(w, "/"); ok {
				w = f
				stride, _ = strconv.Atoi(s)
			}
			if a, b, ok := strings.Cut(w, "-"); ok {
				start, _ = strconv.Atoi(a)
				end, _ = strconv.Atoi(b)
			} else {
				end, _ = strconv.Atoi(w)
			}
			hasEnd = true
			continue
		}
		n, convErr := strconv.ParseInt(v, 0, 64)
		switch k {
		case "start":
			start = int(n)
		case "end":
			end, hasEnd = int(n), true
		case "stride":
			stride = int(n)
		case "count":
			count = int(n)
		case "format":
			format = v
			convErr = nil
		default:
			return nil, fmt.Errorf("with_sequence: unknown option %q", k)
		}
		if convErr != nil {
			return nil, fmt.Errorf("with_sequence: %s=%s is not a number", k, v)
		}
	}
	if count >= 0 {
		end, hasEnd = start+(count-1)*stride, true
		if count == 0 {
			return nil, nil
		}
	}
	if !hasEnd {
		return nil, fmt.Errorf("with_sequence needs end or count")
	}
	if stride == 0 {
		return nil, fmt.Errorf("with_sequence: stride must not be 0")
	}
	var out []any
	for i := start; (stride > 0 && i <= end) || (stride < 0 && i >= end); i += stride {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out, nil
}

func (p *playRun) report(h *hostState, rt report.Task, hr report.HostResult) {
	p.countAndReport(h, rt, hr, true)
}

var _ = module.Result{}
