package executor

import (
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/playbook"
)

// keywordConnVars are the connection keywords of plays and tasks and the
// variables they stand for.
var keywordConnVars = []struct {
	keyword, variable string
	value             func(*playbook.Task, *playbook.Play) string
}{
	{"connection", "ansible_connection", func(t *playbook.Task, p *playbook.Play) string { return pick(t.Connection, p.Connection) }},
	{"remote_user", "ansible_user", func(t *playbook.Task, p *playbook.Play) string { return pick(t.RemoteUser, p.RemoteUser) }},
}

func pick(task, play string) string {
	if task != "" {
		return task
	}
	return play
}

// withConnKeywords returns the variables a host is connected with: the
// task's or else the play's `connection` and `remote_user` keywords fill
// ansible_connection and ansible_user. As in Ansible, a variable set for
// the host (inventory, vars, -e) wins over the keyword, and the keyword
// wins over the command line's defaults (-u). vars is not modified.
func (p *playRun) withConnKeywords(t *playbook.Task, vars map[string]any) (map[string]any, error) {
	var out map[string]any
	for _, k := range keywordConnVars {
		kw := k.value(t, p.play)
		if kw == "" || p.setByVariable(vars, k.variable) {
			continue
		}
		if strings.Contains(kw, "{{") || strings.Contains(kw, "{%") {
			r, err := p.r.opts.Templates.RenderString(kw, vars)
			if err != nil {
				return nil, fmt.Errorf("the field '%s' has an invalid value (%s): %w", k.keyword, kw, err)
			}
			kw = r
		}
		if out == nil {
			out = mergeVars(vars, nil)
		}
		out[k.variable] = kw
	}
	if out == nil {
		return vars, nil
	}
	return out, nil
}

// setByVariable reports whether name is set by a variable other than the
// command line's defaults, which rank below playbook keywords.
func (p *playRun) setByVariable(vars map[string]any, name string) bool {
	v, ok := vars[name]
	if !ok {
		return false
	}
	d, isDefault := p.r.opts.DefaultVars[name]
	return !isDefault || fmt.Sprint(d) != fmt.Sprint(v)
}
