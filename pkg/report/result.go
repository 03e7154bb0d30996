package report

import (
	"slices"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// CensoredMessage is the text Ansible puts in place of a no_log result.
const CensoredMessage = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

// Censor returns r as it may be shown. A no_log result keeps its host,
// task, status and counters, but its result is replaced by Ansible's
// censored stand-in (only "changed", "attempts" and "retries" stay, and
// an include's file name), and its item label, diff and message are
// dropped. Every reporter passes results through Censor first, and the
// executor's reporter is wrapped in Censoring, so no output path (text at
// any verbosity, retry lines, JSON, JSON lines) can show what no_log
// hides. Censoring a censored result changes nothing.
func Censor(r HostResult) HostResult {
	if !r.NoLog {
		return r
	}
	res := map[string]any{"censored": CensoredMessage, "changed": isChanged(r)}
	for _, k := range []string{"attempts", "retries"} {
		if v, ok := r.Result[k]; ok {
			res[k] = v
		}
	}
	if r.Status == Included {
		if v, ok := r.Result["include"]; ok {
			res["include"] = v
		}
	}
	msg := ""
	if r.Status == Async {
		// The job id and progress of an async task are tend's, not the task's.
		for _, k := range []string{"ansible_job_id", "started", "finished"} {
			if v, ok := r.Result[k]; ok {
				res[k] = v
			}
		}
		msg = r.Msg
	}
	r.Result = res
	r.Item, r.Diff, r.Msg = nil, nil, msg
	return r
}

// censoring hands every result to its reporter through Censor.
type censoring struct{ Reporter }

// Censoring returns a Reporter that forwards every event to rep, with
// each HostResult passed through Censor first. It is as safe for
// concurrent use as rep.
func Censoring(rep Reporter) Reporter {
	if _, ok := rep.(censoring); ok {
		return rep
	}
	return censoring{rep}
}

func (c censoring) HostResult(r HostResult) { c.Reporter.HostResult(Censor(r)) }

// HostStart and HostDone carry host and task names only, which every
// output shows; they are passed on to a reporter that follows activity.
func (c censoring) HostStart(host string, t Task) {
	if a, ok := c.Reporter.(Activity); ok {
		a.HostStart(host, t)
	}
}

func (c censoring) HostDone(host string, t Task) {
	if a, ok := c.Reporter.(Activity); ok {
		a.HostDone(host, t)
	}
}

// isChanged reports whether r changed the host: its status says so, or
// (for failures) the result does.
func isChanged(r HostResult) bool {
	if r.Status == Changed {
		return true
	}
	if r.Status == OK || r.Status == Skipped {
		return false
	}
	c, _ := r.Result["changed"].(bool)
	return c
}

// cleanResult is what Ansible's TaskResult.clean_copy hands to callbacks:
// the censored stand-in for no_log results; otherwise a deep copy without
// "failed" and "skipped" (the event says that) and without internal
// "_ansible_" keys other than the ones callbacks use. "changed" is
// present, as Ansible's task executor guarantees for every result of a
// module; a failure raised before a module ran keeps it out, as there.
func cleanResult(r HostResult) map[string]any {
	changed := isChanged(r)
	if r.NoLog {
		x := map[string]any{"censored": CensoredMessage, "changed": changed}
		for _, k := range []string{"attempts", "retries"} {
			if v, ok := r.Result[k]; ok {
				x[k] = v
			}
		}
		return x
	}
	out, _ := deepCopy(map[string]any(r.Result)).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	delete(out, "failed")
	delete(out, "skipped")
	if isDebug(r.Task) {
		delete(out, "invocation")
	}
	// A failure the executor raised before any module ran (a template
	// error, a module not found) has no "changed" in Ansible either.
	if _, ok := out["changed"]; (!ok && r.Status != Failed && r.Status != Ignored) || r.Status == Changed {
		out["changed"] = changed
	}
	if _, ok := out["msg"]; !ok && r.Msg != "" {
		out["msg"] = r.Msg
	}
	stripInternal(out, true)
	return out
}

// isCallbackKey reports whether k is an internal key clean_copy keeps
// for callbacks.
func isCallbackKey(k string) bool {
	switch k {
	case "_ansible_verbose_always", "_ansible_item_label", "_ansible_no_log", "_ansible_verbose_override":
		return true
	}
	return false
}

// stripInternal removes "_ansible_" keys recursively, as Ansible's
// strip_internal_keys; keepCallback keeps the ones callbacks read.
func stripInternal(v any, keepCallback bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.HasPrefix(k, "_ansible_") && !(keepCallback && isCallbackKey(k)) {
				delete(x, k)
				continue
			}
			stripInternal(val, keepCallback)
		}
	case *odict.Dict:
		for _, k := range slices.Clone(x.Keys()) {
			if strings.HasPrefix(k, "_ansible_") && !(keepCallback && isCallbackKey(k)) {
				x.Delete(k)
				continue
			}
			val, _ := x.Get(k)
			stripInternal(val, keepCallback)
		}
	case []any:
		for _, e := range x {
			stripInternal(e, keepCallback)
		}
	}
}

// deepCopy copies the generic containers of a result so cleaning never
// touches the executor's (possibly registered) value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any{}
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case *odict.Dict:
		return x.MapValues(deepCopy)
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// moduleIs reports whether the task's action is one of the builtin names,
// with or without the ansible.builtin/ansible.legacy prefix.
func moduleIs(t Task, names ...string) bool {
	m := t.Module
	m = strings.TrimPrefix(m, "ansible.builtin.")
	m = strings.TrimPrefix(m, "ansible.legacy.")
	for _, n := range names {
		if m == n {
			return true
		}
	}
	return false
}

func isDebug(t Task) bool { return moduleIs(t, "debug") }

// isLoopAggregate reports whether r is a loop's per-host summary, which
// Ansible does not print when ok or failed (its items were). A no_log
// aggregate is censored, loses its "results", and is printed like any
// result, as in Ansible.
func isLoopAggregate(r HostResult) bool {
	if r.IsItem || !r.Task.Loop || r.NoLog {
		return false
	}
	_, ok := r.Result["results"]
	return ok
}

// itemLabel is the "(item=...)" text: Python's str() of the label, and
// None when no_log hides it.
func itemLabel(r HostResult) string {
	if r.NoLog {
		return "None"
	}
	return pyStr(r.Item)
}

// taskName is the name in banners: "role : name", the action when the
// task has no name.
func taskName(t Task) string {
	n := strings.TrimSpace(t.Name)
	if n == "" {
		n = t.Module
	}
	if t.Role != "" {
		n = t.Role + " : " + n
	}
	return n
}

// hostLabel is "host" or "host -> delegate" as in Ansible's host_label.
func hostLabel(r HostResult) string {
	if r.Delegated != "" && r.Delegated != r.Host {
		return r.Host + " -> " + r.Delegated
	}
	return r.Host
}

// resultWarnings returns the "warnings" strings of a result.
func resultWarnings(res map[string]any) []string {
	var out []string
	switch w := res["warnings"].(type) {
	case []string:
		out = append(out, w...)
	case []any:
		for _, e := range w {
			out = append(out, pyStr(e))
		}
	case string:
		out = append(out, w)
	}
	return out
}
