package executor

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// searchPath returns where Ansible looks for a task's files (its
// ansible_search_path): the paths of the roles around the task, innermost
// first, the directory of the task's file, then the playbook's directory.
func searchPath(t *playbook.Task, playDir string) []string {
	var out []string
	add := func(d string) {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		for _, e := range out {
			if e == d {
				return
			}
		}
		out = append(out, d)
	}
	if t != nil {
		roles := roleChain(t)
		for i := len(roles) - 1; i >= 0; i-- {
			add(roles[i].Path)
		}
		if t.Pos.File != "" {
			add(filepath.Dir(t.Pos.File))
		}
	}
	add(playDir)
	return out
}

// firstFoundSubdir is the folder with_first_found searches in each
// directory of the search path, chosen from the action's name as Ansible
// does: templates/ for template, vars/ for include_vars, files/ otherwise.
func firstFoundSubdir(action string) string {
	for _, s := range []string{"template", "var", "file"} {
		if strings.Contains(action, s) {
			return s + "s"
		}
	}
	return "files"
}

// firstFound runs a with_first_found loop: every term is rendered on its
// own and dropped when it cannot be (an undefined variable), then the
// names are tried in the action's folder of each search directory.
func (p *playRun) firstFound(t *playbook.Task, vars map[string]any) ([]any, error) {
	var terms []any
	for _, term := range asList(t.Loop) {
		v, err := p.r.opts.Templates.RenderValueMarked(term, vars)
		if err != nil {
			continue
		}
		terms = append(terms, v)
	}
	names, skip, err := template.FirstFoundNames(terms, nil)
	if err != nil {
		return nil, fmt.Errorf("with_first_found: %w", err)
	}
	ff := p.fileFinder(t)
	kind := firstFoundSubdir(t.Action)
	for _, name := range names {
		if path, err := ff.Find(kind, name); err == nil {
			return []any{path}, nil
		}
	}
	if skip {
		return nil, nil
	}
	return nil, plainError("No file was found when using first_found.")
}

// plainError is a task failure whose message Ansible prints as it is,
// without the location of the task.
type plainError string

func (e plainError) Error() string { return string(e) }

func (p *playRun) fileFinder(t *playbook.Task) *fileFinder {
	return &fileFinder{play: p.play, role: roleOf(t), stack: searchPath(t, p.play.Dir)}
}
