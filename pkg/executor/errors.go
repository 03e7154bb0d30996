package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// undefinedMessage formats a templating failure in a task's options the
// way Ansible does, naming the variable, the file, line and column, and
// quoting the offending lines.
func undefinedMessage(t *playbook.Task, err error) string {
	var ue *template.UndefinedError
	if errors.As(err, &ue) {
		msg := ue.Hint
		if msg == "" {
			msg = fmt.Sprintf("'%s' is undefined", ue.Name)
		}
		return fmt.Sprintf("The task includes an option with an undefined variable. The error was: %s. %s", msg, msg) + errorLocation(t)
	}
	return fmt.Sprintf("template error while templating the task's options: %v", err) + errorLocation(t)
}

// conditionalMessage formats a when/changed_when/failed_when/until failure.
func conditionalMessage(t *playbook.Task, cond any, err error) string {
	c := fmt.Sprint(cond)
	return fmt.Sprintf("The conditional check '%s' failed. The error was: error while evaluating conditional (%s): %s", c, c, conditionReason(err)) + errorLocation(t)
}

// conditionReason is why a condition failed to evaluate, as Ansible words
// it: an undefined variable's message comes twice (Ansible's
// AnsibleUndefinedVariable appends its cause, the same text).
func conditionReason(err error) string {
	var ue *template.UndefinedError
	if !errors.As(err, &ue) {
		return err.Error()
	}
	reason := ue.Hint
	if reason == "" {
		reason = fmt.Sprintf("'%s' is undefined", ue.Name)
	}
	return reason + ". " + reason
}

// conditionalError is conditionalMessage without the task's location, as
// Ansible records it under changed_when_result or failed_when_result.
func conditionalError(cond any, err error) string {
	c := fmt.Sprint(cond)
	return fmt.Sprintf("The conditional check '%s' failed. The error was: error while evaluating conditional (%s): %s", c, c, conditionReason(err))
}

// errorLocation is Ansible's extended error text: where the task is, and
// its source lines with a caret.
func errorLocation(t *playbook.Task) string {
	if t == nil || t.Pos.File == "" || t.Pos.Line == 0 {
		return ""
	}
	file := t.Pos.File
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nThe error appears to be in '%s': line %d, column %d, but may\nbe elsewhere in the file depending on the exact syntax problem.\n", file, t.Pos.Line, t.Pos.Col)
	src, err := os.ReadFile(file)
	if err != nil {
		return b.String()
	}
	lines := strings.SplitAfter(string(src), "\n")
	n := t.Pos.Line - 1
	if n >= len(lines) {
		n = len(lines) - 1
	}
	for n > 0 && strings.TrimSpace(lines[n]) == "" {
		n--
	}
	if n < 0 {
		return b.String()
	}
	prev := ""
	if n > 0 {
		prev = lines[n-1]
	}
	fmt.Fprintf(&b, "\nThe offending line appears to be:\n\n%s\n%s\n%s^ here\n",
		strings.TrimRight(prev, " \t\r\n"), strings.TrimRight(lines[n], " \t\r\n"), strings.Repeat(" ", max(t.Pos.Col-1, 0)))
	return b.String()
}
