package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// The file module with an owner or group the host does not have, as
// Ansible's file module and AnsibleModule.set_owner_if_different /
// set_group_if_different behave:
//
//   - in check mode (state other than absent) a warning per unknown
//     owner and group: "failed to look up user NAME. Create user up to
//     this point in real play" ("user with uid N" for a number);
//   - an unknown name fails where it would be applied ("chown failed:
//     failed to look up user NAME", "chgrp failed: failed to look up
//     group NAME"), in check mode too when the path exists; a path that
//     does not exist yet is reported changed in check mode, and created,
//     then failed, in a real run;
//   - an unknown number is applied as it is (chown takes any id).

// ownerLookup is what looking up a file task's owner and group found.
type ownerLookup struct {
	// warnings are the check-mode warnings.
	warnings []string
	// fail is the failure of applying an unknown name ("" when none).
	fail string
}

// lookupOwners looks up t's owner and group on the host when they may be
// applied: not for state absent, nor for an owner or group the path
// already has (the stat named it). It costs one round trip, only then.
func (t *fileTask) lookupOwners(ctx context.Context, state string) (ownerLookup, error) {
	var l ownerLookup
	if state == "absent" {
		return l, nil
	}
	has := func(want string, name func(*RemoteStat) (string, int)) bool {
		for _, st := range []*RemoteStat{t.lst, t.target} {
			if st.Exists {
				if n, id := name(st); sameID(want, n, id) {
					return true
				}
			}
		}
		return false
	}
	type query struct{ db, key, kind string }
	var qs []query
	if t.owner != "" && !has(t.owner, func(st *RemoteStat) (string, int) { return st.Owner, st.UID }) {
		qs = append(qs, query{"passwd", t.owner, "user"})
	}
	if t.group != "" && !has(t.group, func(st *RemoteStat) (string, int) { return st.Group, st.GID }) {
		qs = append(qs, query{"group", t.group, "group"})
	}
	if len(qs) == 0 {
		return l, nil
	}
	var cmd strings.Builder
	for _, q := range qs {
		// getent exits 2 for a key the database does not hold.
		cmd.WriteString("getent " + q.db + " -- " + shell.Quote(q.key) + " >/dev/null 2>&1; echo $?; ")
	}
	res, err := t.h.Run(ctx, cmd.String())
	if err != nil {
		return l, fmt.Errorf("look up %s: %w", t.owner+" "+t.group, err)
	}
	codes := strings.Fields(string(res.Stdout))
	if len(codes) != len(qs) {
		return l, fmt.Errorf("look up %s: unexpected output %q", t.owner+" "+t.group, res.Stdout)
	}
	for i, q := range qs {
		if codes[i] != "2" {
			// Found, or no getent to tell: chown will say.
			continue
		}
		idWord := map[string]string{"user": "uid", "group": "gid"}[q.kind]
		if n, err := strconv.Atoi(q.key); err == nil {
			l.warnings = append(l.warnings, fmt.Sprintf("failed to look up %s with %s %d. Create %s up to this point in real play", q.kind, idWord, n, q.kind))
			continue
		}
		l.warnings = append(l.warnings, fmt.Sprintf("failed to look up %s %s. Create %s up to this point in real play", q.kind, q.key, q.kind))
		if l.fail == "" {
			verb := map[string]string{"user": "chown", "group": "chgrp"}[q.kind]
			l.fail = fmt.Sprintf("%s failed: failed to look up %s %s", verb, q.kind, q.key)
		}
	}
	return l, nil
}

// withOwnerLookup applies what lookupOwners found to plan: the check-mode
// warnings, and the failure of an unknown name, at once when the path
// exists (its attributes are set on it), else when Apply, having created
// the path, fails to set them.
func (t *fileTask) withOwnerLookup(plan *module.Plan, l ownerLookup) *module.Plan {
	plan.CheckWarnings = append(plan.CheckWarnings, l.warnings...)
	if l.fail == "" || plan.Result["failed"] == true {
		return plan
	}
	if t.target.Exists {
		r := fileResult(module.Result{"path": t.lst.Path}, t.target)
		r["failed"] = true
		r["msg"] = l.fail
		return &module.Plan{Result: r, CheckWarnings: plan.CheckWarnings}
	}
	if apply := plan.Apply; plan.Changed && apply != nil {
		plan.Apply = func(ctx context.Context) (module.Result, error) {
			res, err := apply(ctx)
			if err != nil {
				return module.Result{"failed": true, "changed": false, "msg": l.fail, "path": t.lst.Path}, nil
			}
			return res, nil
		}
	}
	return plan
}
