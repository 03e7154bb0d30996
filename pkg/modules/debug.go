package modules

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/template"
)

// Debug prints a message or a variable's value.
type Debug struct{}

var _ module.Module = (*Debug)(nil)

// Spec implements module.Module.
func (*Debug) Spec() *module.Spec {
	return &module.Spec{
		Name:         "debug",
		ActionPlugin: true,
		Short:        "Print a message or a variable",
		Description:  "Prints msg, or the value of the expression in var. verbosity hides the output below that many -v. Runs on the controller; never changes anything.",
		Args: []module.Arg{
			{Name: "msg", Type: module.Raw, Doc: "The message to print (default \"Hello world!\")."},
			{Name: "var", Type: module.String, Doc: "A variable name or expression whose value is printed."},
			{Name: "verbosity", Type: module.Int, Default: 0, Doc: "Print only when run with at least this many -v."},
		},
		MutuallyExclusive: [][]string{{"msg", "var"}},
		Controller:        true,
		Examples: `- debug:
    msg: "Workbench is at {{ workbench_url }}"
- debug: var=ansible_default_ipv4.address`,
	}
}

// Plan implements module.Module.
func (*Debug) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	if want, have := a.Int("verbosity"), verbosityOf(h.Vars); want > have {
		return module.Unchanged(module.Result{"skipped": true, "skipped_reason": "Verbosity threshold not met."}), nil
	}
	// Shown in full at any verbosity, failed too (by changed_when or
	// failed_when), as Ansible's debug action marks its results.
	r := module.Result{"_ansible_verbose_always": true}
	if a.Has("var") {
		expr := a.String("var")
		v, err := h.Templar.Value(expr)
		if err != nil {
			// Only an undefined variable is shown; any other error (a
			// filter's) fails the task, as in Ansible.
			var ue *template.UndefinedError
			if !errors.As(err, &ue) {
				return module.Unchanged(module.Failed("%v", err)), nil
			}
			v = fmt.Sprintf("VARIABLE IS NOT DEFINED!: %v", err)
		}
		r[expr] = v
		return module.Unchanged(r), nil
	}
	if m, ok := a["msg"]; ok {
		// msg: null prints null, as in Ansible.
		r["msg"] = m
	} else {
		r["msg"] = "Hello world!"
	}
	return module.Unchanged(r), nil
}

// verbosityOf reads the run's -v count from the magic variable.
func verbosityOf(vars map[string]any) int {
	n, _ := module.ToInt(vars["ansible_verbosity"])
	return n
}
