package playbook

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/module"
)

// Error is a problem in a playbook, task file or role, at a position.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
	// Snippet is the offending source line with a caret under the column.
	Snippet string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(e.Snippet)
	}
	if e.Hint != "" {
		b.WriteString("\n  hint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// errorList collects errors so one run reports every problem it finds.
type errorList struct {
	errs    []error
	sources map[string][]string
}

func (l *errorList) add(err error) {
	if err != nil {
		l.errs = append(l.errs, err)
	}
}

func (l *errorList) at(file string, n *yaml.Node, hint, format string, a ...any) {
	pos := Pos{File: file}
	if n != nil {
		pos.Line, pos.Col = n.Line, n.Column
	}
	l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, a...), Hint: hint, Snippet: l.snippet(pos)})
}

func (l *errorList) snippet(p Pos) string {
	if p.Line == 0 {
		return ""
	}
	if l.sources == nil {
		l.sources = map[string][]string{}
	}
	lines, ok := l.sources[p.File]
	if !ok {
		src, err := os.ReadFile(p.File)
		if err == nil {
			lines = strings.Split(string(src), "\n")
		}
		l.sources[p.File] = lines
	}
	if p.Line > len(lines) {
		return ""
	}
	line := strings.TrimRight(lines[p.Line-1], "\r")
	caret := ""
	if p.Col > 0 {
		caret = "\n     | " + strings.Repeat(" ", p.Col-1) + "^"
	}
	return fmt.Sprintf("%4d | %s%s", p.Line, line, caret)
}

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return errors.Join(l.errs...)
}

// warnAt records a problem that does not stop the run: Ansible finds it
// only when the task runs (an unknown module or argument, a template that
// does not parse) or never, when the task is not reached. The task fails
// when it runs; --strict and --syntax-check make these errors.
func (l *Loader) warnAt(file string, n *yaml.Node, hint, format string, a ...any) {
	l.warns.at(file, n, hint, format, a...)
}

// Warnings returns the problems found by the last LoadPlaybook,
// LoadTaskFile or IncludeRole that do not stop a run (see warnAt), each an
// *Error naming its file:line:col.
func (l *Loader) Warnings() []error { return l.warns.errs }

// lazily runs load, which reads files that Ansible reads only when a task
// reaches them (include_tasks, include_role): every problem it finds,
// structural ones included, becomes a warning, and the include fails when
// it runs. Roles cached while loading with problems are dropped from the
// cache, so that a static import of the same role reports them as errors.
func (l *Loader) lazily(load func()) {
	saved := l.errs
	cached := make(map[string]bool, len(l.roleCache))
	for k := range l.roleCache {
		cached[k] = true
	}
	l.errs = errorList{sources: saved.sources}
	load()
	if len(l.errs.errs) > 0 {
		l.warns.errs = append(l.warns.errs, l.errs.errs...)
		for k := range l.roleCache {
			if !cached[k] {
				delete(l.roleCache, k)
			}
		}
	}
	l.errs = saved
}

// closest returns the candidate nearest to s by edit distance, if close.
func closest(s string, candidates []string) string { return module.Closest(s, candidates) }
