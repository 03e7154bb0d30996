package module

import (
	"context"

	"github.com/tend-dev/tend/pkg/connection"
)

// Execute runs a module the way the engine does once its arguments are
// validated: Plan, then Apply only when the plan changes something and
// check is false. In check mode an Unpredictable plan is reported as
// skipped. The returned Result always carries "changed"; the Plan is
// returned for its Diff (nil when Plan failed).
//
// Plan's commands are marked connection.ReadOnly, so a connection may run
// them in its long-lived shell; Apply's run in sessions of their own, since
// they may start services that outlive the command.
func Execute(ctx context.Context, m Module, h *Host, args Args, check bool) (Result, *Plan, error) {
	return ExecuteGated(ctx, m, h, args, check, nil)
}

// ExecuteGated is Execute with a gate called between Plan and anything
// else (housekeeping, Apply, the check-mode result): an error from gate
// fails the task before the host is changed, and is returned with the
// plan. Saved plans (tend apply) use it to apply only what was reviewed.
// When Plan fails, gate is called with nil, and the error it returns, if
// any, is returned instead of Plan's.
func ExecuteGated(ctx context.Context, m Module, h *Host, args Args, check bool, gate func(*Plan) error) (Result, *Plan, error) {
	plan, err := m.Plan(connection.ReadOnly(ctx), h, args)
	if err != nil {
		if gate != nil {
			if gerr := gate(nil); gerr != nil {
				return nil, nil, gerr
			}
		}
		return nil, nil, err
	}
	if gate != nil {
		if err := gate(plan); err != nil {
			return nil, plan, err
		}
	}
	if check && h.Warn != nil {
		for _, w := range plan.CheckWarnings {
			h.Warn(w)
		}
	}
	if plan.Housekeeping != nil && !check {
		res, err := plan.Housekeeping(ctx)
		if err != nil {
			return nil, plan, err
		}
		if res != nil {
			if _, set := res["changed"]; !set {
				res["changed"] = false
			}
			return res, plan, nil
		}
	}
	switch {
	case check && plan.Changed && plan.Unpredictable:
		return Result{"changed": false, "skipped": true, "msg": "Command would have run if not in check mode"}, plan, nil
	case plan.Changed && !check && plan.Apply != nil:
		res, err := plan.Apply(ctx)
		if err != nil {
			return nil, plan, err
		}
		if res == nil {
			res = plan.Result
		}
		if res == nil {
			res = Result{}
		}
		if _, set := res["changed"]; !set {
			res["changed"] = plan.Changed
		}
		return res, plan, nil
	}
	res := Result{}
	for k, v := range plan.Result {
		res[k] = v
	}
	res["changed"] = plan.Changed
	return res, plan, nil
}
