package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// planRemoteDirCopy copies a directory that is on the host (remote_src),
// as Ansible's copy module does: "src/" into dest, "src" to
// dest/basename(src); what is missing or differs is copied (diff -r
// compares the trees, so a converged copy costs one round trip),
// nothing is removed; with local_follow false symbolic links are copied
// as links; owner and group are then set on the whole tree.
func planRemoteDirCopy(ctx context.Context, h *module.Host, args module.Args, src, dest string) (*module.Plan, error) {
	target := dest
	if !strings.HasSuffix(src, "/") {
		target = path.Join(dest, path.Base(src))
	}
	// Ansible's copy module has no default for local_follow, and only
	// true follows links.
	follow := args.Has("local_follow") && args.Bool("local_follow")
	diffFlags := "-r -q"
	cpFlags := "-R -L"
	if !follow {
		diffFlags += " --no-dereference"
		cpFlags = "-R -P"
	}
	owner, group := args.String("owner"), args.String("group")
	var ownConds []string
	if owner != "" {
		ownConds = append(ownConds, "! -user "+shell.Quote(owner))
	}
	if group != "" {
		ownConds = append(ownConds, "! -group "+shell.Quote(group))
	}
	// diff prints "Only in TARGET..." for what only the copy has, which
	// is left alone; any other line is a difference.
	check := "if [ -d " + shell.Path(target) + " ]; then diff " + diffFlags + " -- " + shell.Quote(src) + " " + shell.Quote(target) +
		" 2>&1 | grep -v -F -e " + shell.Quote("Only in "+strings.TrimSuffix(target, "/")+":") +
		" -e " + shell.Quote("Only in "+strings.TrimSuffix(target, "/")+"/") + " | head -n 1"
	if len(ownConds) > 0 {
		check += "; find " + shell.Path(target) + " \\( " + strings.Join(ownConds, " -o ") + " \\) -print -quit 2>/dev/null"
	}
	check += "; else echo missing; fi"
	res, err := h.Run(ctx, check)
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: %w", src, target, err)
	}
	result := module.Result{"dest": dest, "src": src}
	if strings.TrimSpace(string(res.Stdout)) == "" {
		return module.Unchanged(result), nil
	}
	cmd := "mkdir -p -- " + shell.Quote(target) + " && cp " + cpFlags + " --preserve=mode,timestamps -- " +
		shell.Quote(strings.TrimSuffix(src, "/")+"/.") + " " + shell.Quote(target+"/")
	if c := attrCommand(target, owner, group, 0, false, true, true); c != "" {
		cmd += " && " + c
	}
	return &module.Plan{Changed: true, Result: result, Apply: func(ctx context.Context) (module.Result, error) {
		if err := runOK(ctx, h, cmd, "copy "+src+" to "+target); err != nil {
			return nil, err
		}
		return finalFileResult(ctx, h, dest, result, "")
	}}, nil
}
