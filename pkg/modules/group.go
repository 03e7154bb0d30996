package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Group manages local groups with getent, groupadd, groupmod and groupdel.
type Group struct{}

var _ module.Module = (*Group)(nil)

// Spec implements module.Module.
func (Group) Spec() *module.Spec {
	return &module.Spec{
		Name:  "group",
		Short: "Manage groups",
		Description: "Creates, changes the GID of, or removes a group. The group is looked up with " +
			"`getent group` and changed with groupadd/groupmod/groupdel.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "Group name."},
			{Name: "gid", Type: module.Int, Doc: "Group ID."},
			{Name: "system", Type: module.Bool, Default: false, Doc: "Create a system group (only when creating)."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the group exists."},
			{Name: "non_unique", Type: module.Bool, Default: false, Doc: "Allow a GID another group already has (with gid)."},
			{Name: "local", Type: module.Bool, Default: false, Doc: "Accepted for compatibility; groups are always managed with the shadow tools."},
			{Name: "force", Type: module.Bool, Default: false, Doc: "With state=absent, remove the group even if it is some user's primary group."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: A group for the application
  group:
    name: app
    gid: 1500
`,
	}
}

// groupEntry is one `getent group` line.
type groupEntry struct {
	Name    string
	GID     int
	Members []string
}

// parseGetentGroup reads a `getent group NAME` line; ok is false when the
// line is empty (no such group).
func parseGetentGroup(line string) (groupEntry, bool, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return groupEntry{}, false, nil
	}
	f := strings.Split(line, ":")
	if len(f) < 4 {
		return groupEntry{}, false, fmt.Errorf("malformed group entry %q", line)
	}
	gid, err := strconv.Atoi(f[2])
	if err != nil {
		return groupEntry{}, false, fmt.Errorf("malformed gid in group entry %q", line)
	}
	var members []string
	if f[3] != "" {
		members = strings.Split(f[3], ",")
	}
	return groupEntry{Name: f[0], GID: gid, Members: members}, true, nil
}

// groupCommand returns the command bringing the group to the requested
// state, or "" when nothing changes.
func groupCommand(args module.Args, cur groupEntry, exists bool) string {
	name := args.String("name")
	if args.String("state") == "absent" {
		if !exists {
			return ""
		}
		if args.Bool("force") {
			return shell.Join("groupdel", "-f", name)
		}
		return shell.Join("groupdel", name)
	}
	if !exists {
		c := []string{"groupadd"}
		if args.Has("gid") {
			c = append(c, "-g", strconv.Itoa(args.Int("gid")))
			if args.Bool("non_unique") {
				c = append(c, "-o")
			}
		}
		if args.Bool("system") {
			c = append(c, "-r")
		}
		return shell.Join(append(c, name)...)
	}
	if args.Has("gid") && args.Int("gid") != cur.GID {
		c := []string{"groupmod", "-g", strconv.Itoa(args.Int("gid"))}
		if args.Bool("non_unique") {
			c = append(c, "-o")
		}
		return shell.Join(append(c, name)...)
	}
	return ""
}

// Plan implements module.Module.
func (Group) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	name := args.String("name")
	if _, hasGID := args["gid"]; args.Bool("non_unique") && !hasGID {
		// Ansible's required_if: a non-unique group needs the GID to share.
		return module.Unchanged(module.Failed("non_unique is True but all of the following are missing: gid")), nil
	}
	res, err := h.Run(ctx, "getent group "+shell.Quote(name))
	if err != nil {
		return nil, fmt.Errorf("look up group %s on %s: %w", name, h.Name, err)
	}
	cur, exists, err := parseGetentGroup(string(res.Stdout))
	if err != nil {
		return nil, fmt.Errorf("look up group %s on %s: %w", name, h.Name, err)
	}
	state := args.String("state")
	result := module.Result{"name": name, "state": state}
	if exists && state == "present" {
		result["gid"] = cur.GID
		result["system"] = args.Bool("system")
	}
	cmd := groupCommand(args, cur, exists)
	if cmd == "" {
		return module.Unchanged(result), nil
	}
	diff := module.Diff{BeforeHeader: "group " + name, AfterHeader: "group " + name}
	if exists {
		diff.Before = fmt.Sprintf("%s:x:%d\n", name, cur.GID)
	}
	if state == "present" {
		gid := "(assigned)"
		if args.Has("gid") {
			gid = strconv.Itoa(args.Int("gid"))
		}
		diff.After = fmt.Sprintf("%s:x:%s\n", name, gid)
	}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "change group "+name, cmd)
			if err != nil || !ok {
				return r, err
			}
			out := module.Result{"name": name, "state": state}
			if state == "present" {
				res, err := h.Run(ctx, "getent group "+shell.Quote(name))
				if err != nil {
					return nil, fmt.Errorf("look up group %s on %s: %w", name, h.Name, err)
				}
				if g, ok, _ := parseGetentGroup(string(res.Stdout)); ok {
					out["gid"] = g.GID
				}
				out["system"] = args.Bool("system")
			}
			return out, nil
		}}, nil
}
