package modules

import (
	"context"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
)

// Assert fails the task unless every condition holds.
type Assert struct{}

var _ module.Module = (*Assert)(nil)

// Spec implements module.Module.
func (*Assert) Spec() *module.Spec {
	return &module.Spec{
		Name:        "assert",
		Short:       "Fail unless conditions hold",
		Description: "Evaluates each expression in that (bare Jinja2 expressions, like when). Fails with fail_msg (or msg) at the first false one.",
		Args: []module.Arg{
			{Name: "that", Type: module.List, Required: true, Doc: "Expressions that must all be true."},
			{Name: "fail_msg", Aliases: []string{"msg"}, Type: module.Raw, Doc: "Message on failure."},
			{Name: "success_msg", Type: module.Raw, Doc: "Message on success (default \"All assertions passed\")."},
			{Name: "quiet", Type: module.Bool, Default: false, Doc: "Show less output."},
		},
		Controller: true,
		Examples: `- assert:
    that:
      - db_password != "changeme"
      - groups['workbench'] | length >= 1
    fail_msg: "set db_password in secrets.yml"`,
	}
}

// Plan implements module.Module.
func (*Assert) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	that, _ := a["that"].([]any)
	for _, c := range that {
		ok, err := truthy(h, c)
		if err != nil {
			return module.Unchanged(module.Result{"failed": true, "assertion": fmt.Sprint(c), "evaluated_to": false, "msg": fmt.Sprintf("the conditional check '%v' failed: %v", c, err)}), nil
		}
		if !ok {
			msg := any("Assertion failed")
			if a.Has("fail_msg") {
				msg = a["fail_msg"]
			}
			return module.Unchanged(verbose(a, module.Result{"failed": true, "assertion": fmt.Sprint(c), "evaluated_to": false, "msg": msg})), nil
		}
	}
	msg := any("All assertions passed")
	if a.Has("success_msg") {
		msg = a["success_msg"]
	}
	return module.Unchanged(verbose(a, module.Result{"msg": msg})), nil
}

// verbose marks the result to be shown in full, as Ansible's assert does
// unless quiet: the output then shows the message of a passing assert and
// the failed assertion, indented.
func verbose(a module.Args, r module.Result) module.Result {
	if !a.Bool("quiet") {
		r["_ansible_verbose_always"] = true
	}
	return r
}

// truthy evaluates a condition with the task's templar.
func truthy(h *module.Host, c any) (bool, error) {
	switch x := c.(type) {
	case bool:
		return x, nil
	case string:
		v, err := h.Templar.Eval(x)
		if err != nil {
			return false, err
		}
		b, _ := pyTruth(v)
		return b, nil
	}
	b, _ := pyTruth(c)
	return b, nil
}

// pyTruth is Python's truthiness.
func pyTruth(v any) (bool, bool) {
	switch x := v.(type) {
	case nil:
		return false, true
	case bool:
		return x, true
	case int:
		return x != 0, true
	case float64:
		return x != 0, true
	case string:
		return x != "", true
	case []any:
		return len(x) > 0, true
	case map[string]any:
		return len(x) > 0, true
	}
	return true, false
}
