package modules

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/template"
)

// Assert fails the task unless every condition holds.
type Assert struct{}

var _ module.Module = (*Assert)(nil)

// Spec implements module.Module.
func (*Assert) Spec() *module.Spec {
	return &module.Spec{
		Name:         "assert",
		ActionPlugin: true,
		Short:        "Fail unless conditions hold",
		Description:  "Evaluates each expression in that (bare Jinja2 expressions, like when). Fails with fail_msg (or msg) at the first false one.",
		Args: []module.Arg{
			{Name: "that", Type: module.Raw, Required: true, Doc: "Expressions that must all be true (a list, or one expression: a string is never split at commas)."},
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
	// As Ansible's assert: one string is one expression, commas and all.
	that, ok := a["that"].([]any)
	if !ok && a["that"] != nil {
		that = []any{a["that"]}
	}
	res := module.Result{}
	if !a.Bool("quiet") {
		// Ansible's assert shows its result in full unless quiet.
		res["_ansible_verbose_always"] = true
	}
	for _, c := range that {
		ok, err := truthy(h, c)
		if err != nil {
			// Ansible's assert fails with the conditional's error alone.
			reason := err.Error()
			var ue *template.UndefinedError
			if errors.As(err, &ue) {
				reason = ue.Hint
				if reason == "" {
					reason = fmt.Sprintf("'%s' is undefined", ue.Name)
				}
				reason += ". " + reason
			}
			return module.Unchanged(module.Result{"failed": true, "msg": fmt.Sprintf("The conditional check '%v' failed. The error was: error while evaluating conditional (%v): %s", c, c, reason)}), nil
		}
		if !ok {
			msg := any("Assertion failed")
			if a.Has("fail_msg") {
				msg = a["fail_msg"]
			}
			res["failed"], res["assertion"], res["evaluated_to"], res["msg"] = true, c, false, msg
			return module.Unchanged(res), nil
		}
	}
	msg := any("All assertions passed")
	if a.Has("success_msg") {
		msg = a["success_msg"]
	}
	res["msg"] = msg
	return module.Unchanged(res), nil
}

// truthy evaluates a condition with the task's templar. An empty
// condition (null or "") holds, as in Ansible's evaluate_conditional.
func truthy(h *module.Host, c any) (bool, error) {
	switch x := c.(type) {
	case nil:
		return true, nil
	case bool:
		return x, nil
	case string:
		if x == "" {
			return true, nil
		}
		v, err := h.Templar.Condition(x)
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
