package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Alternatives manages symbolic links with update-alternatives.
type Alternatives struct{}

var _ module.Module = (*Alternatives)(nil)

// Spec implements module.Module.
func (*Alternatives) Spec() *module.Spec {
	return &module.Spec{
		Name:  "alternatives",
		Short: "Manage alternative programs for common commands",
		Description: "Installs, selects, sets to auto or removes an alternative with update-alternatives, as " +
			"community.general's alternatives does: the alternative is (re)installed when it is missing " +
			"or its priority or subcommands differ, then selected (state selected) or the group put back " +
			"in auto mode (state auto). `update-alternatives --display` and the path's existence are " +
			"read in one round trip.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "The generic name, e.g. `editor`."},
			{Name: "path", Required: true, Type: module.Path, Expand: true, NotOption: true, Doc: "The alternative's target."},
			{Name: "link", Type: module.Path, Expand: true, NotOption: true, Doc: "The generic link (e.g. /usr/bin/editor); needed to install unless the group exists."},
			{Name: "priority", Type: module.Int, Doc: "Priority; default: the installed one, or 50."},
			{Name: "state", Type: module.String, Default: "selected", Choices: []string{"present", "selected", "absent", "auto"}, Doc: "present: installed; selected: installed and chosen; auto: installed, group in auto mode; absent: removed."},
			{Name: "subcommands", Aliases: []string{"slaves"}, Type: module.List, Elements: module.Dict, Doc: "Follower links: list of {name, path, link}."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- alternatives:
    name: java
    path: /usr/lib/jvm/java-17-openjdk-amd64/bin/java
`,
	}
}

type altSub struct{ name, path, link string }

type altEntry struct {
	priority int
	subs     []altSub
}

// altDisplay is what `update-alternatives --display` says of a group.
type altDisplay struct {
	mode, current, link string
	alts                map[string]altEntry
}

var (
	altModeRe    = regexp.MustCompile(`(?m)\s-\s(?:status\sis\s)?(\w*)(?:\smode|.)$`)
	altPathRe    = regexp.MustCompile(`(?m)^\s*link currently points to (.*)$`)
	altLinkRe    = regexp.MustCompile(`(?m)^\s*link \w+ is (.*)$`)
	altSubLinkRe = regexp.MustCompile(`(?m)^\s*(?:slave|follower) (\S+) is (.*)$`)
	altRe        = regexp.MustCompile(`(?m)^(/.*)\s-\s(?:family\s\S+\s)?priority\s(\d+)((?:\s+(?:slave|follower).*)*)`)
	altSubRe     = regexp.MustCompile(`(?m)^\s+(?:slave|follower) (.*): (.*)$`)
)

// parseAltDisplay is the module's parse(); nil when the group is unknown.
func parseAltDisplay(out string, given []altSub) *altDisplay {
	m := altModeRe.FindStringSubmatch(out)
	if m == nil {
		return nil
	}
	d := &altDisplay{mode: m[1], alts: map[string]altEntry{}}
	if m := altPathRe.FindStringSubmatch(out); m != nil {
		d.current = m[1]
	}
	if m := altLinkRe.FindStringSubmatch(out); m != nil {
		d.link = m[1]
	}
	subLinks := map[string]string{}
	for _, m := range altSubLinkRe.FindAllStringSubmatch(out, -1) {
		subLinks[m[1]] = m[2]
	}
	if len(subLinks) == 0 {
		for _, s := range given {
			subLinks[s.name] = s.link
		}
	}
	for _, m := range altRe.FindAllStringSubmatch(out, -1) {
		prio, _ := strconv.Atoi(m[2])
		e := altEntry{priority: prio}
		for _, s := range altSubRe.FindAllStringSubmatch(m[3], -1) {
			if s[2] != "(null)" {
				e.subs = append(e.subs, altSub{name: s[1], path: s[2], link: subLinks[s[1]]})
			}
		}
		d.alts[m[1]] = e
	}
	return d
}

func altSubsEqual(a, b []altSub) bool {
	in := func(s altSub, l []altSub) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, s := range a {
		if !in(s, b) {
			return false
		}
	}
	for _, s := range b {
		if !in(s, a) {
			return false
		}
	}
	return true
}

// altInstall is the update-alternatives --install command for the task's
// path, with the link, priority and subcommands Ansible would use, or why
// it cannot be run.
func altInstall(a module.Args, d *altDisplay, ua string, pathExists bool, given []altSub) (string, string) {
	name, p := a.String("name"), a.String("path")
	if !pathExists {
		return "", "Specified path " + p + " does not exist"
	}
	link := a.String("link")
	if link == "" {
		link = d.link
	}
	if link == "" {
		return "", "Needed to install the alternative, but unable to do so as we are missing the link"
	}
	cur, installed := d.alts[p]
	prio := 50
	if installed {
		prio = cur.priority
	}
	if a.Has("priority") {
		prio = a.Int("priority")
	}
	c := ua + " --install " + shell.Quote(link) + " " + shell.Quote(name) + " " + shell.Quote(p) + " " + strconv.Itoa(prio)
	if a.Has("subcommands") {
		for _, s := range given {
			c += " --slave " + shell.Quote(s.link) + " " + shell.Quote(s.name) + " " + shell.Quote(s.path)
		}
	}
	return c, ""
}

// Plan implements module.Module.
func (*Alternatives) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	name, p, state := a.String("name"), a.String("path"), a.String("state")
	var given []altSub
	subList, _ := a["subcommands"].([]any)
	for _, raw := range subList {
		m, _ := raw.(map[string]any)
		s := altSub{name: fmt.Sprint(m["name"]), path: fmt.Sprint(m["path"]), link: fmt.Sprint(m["link"])}
		if m["name"] == nil || m["path"] == nil || m["link"] == nil {
			return module.Unchanged(module.Failed("subcommands: each needs name, path and link")), nil
		}
		given = append(given, s)
	}
	ua := "LC_ALL=C update-alternatives"
	secs, err := runProbe(ctx, h, "alternatives "+name, ua+" --display "+shell.Quote(name)+" 2>/dev/null",
		"[ -e "+shell.Path(p)+" ] && echo Y || echo N")
	if err != nil {
		return nil, err
	}
	d := parseAltDisplay(secs[0], given)
	if d == nil {
		d = &altDisplay{alts: map[string]altEntry{}}
	}
	cur, installed := d.alts[p]
	var cmds, msgs []string
	switch state {
	case "absent":
		if installed {
			cmds = append(cmds, ua+" --remove "+shell.Quote(name)+" "+shell.Quote(p))
			msgs = append(msgs, fmt.Sprintf("Remove alternative '%s' from '%s'.", p, name))
		}
	default:
		if !installed || (a.Has("priority") && cur.priority != a.Int("priority")) || (a.Has("subcommands") && !altSubsEqual(cur.subs, given)) {
			c, fail := altInstall(a, d, ua, strings.TrimSpace(secs[1]) == "Y", given)
			if fail != "" {
				return module.Unchanged(module.Failed("%s", fail)), nil
			}
			cmds = append(cmds, c)
			msgs = append(msgs, fmt.Sprintf("Install alternative '%s' for '%s'.", p, name))
		}
		if state == "selected" && d.current != p {
			cmds = append(cmds, ua+" --set "+shell.Quote(name)+" "+shell.Quote(p))
			msgs = append(msgs, fmt.Sprintf("Set alternative '%s' for '%s'.", p, name))
		}
		if state == "auto" && d.mode == "manual" {
			cmds = append(cmds, ua+" --auto "+shell.Quote(name))
			msgs = append(msgs, fmt.Sprintf("Set alternative to auto for '%s'.", name))
		}
	}
	result := module.Result{"msg": strings.Join(msgs, " ")}
	if len(cmds) == 0 {
		return module.Unchanged(result), nil
	}
	before := "absent"
	if installed {
		before = fmt.Sprintf("present, priority %d", cur.priority)
	}
	diff := module.Diff{BeforeHeader: name, AfterHeader: name,
		Before: fmt.Sprintf("%s: %s (mode %s, current %s)\n", p, before, d.mode, d.current), After: p + ": " + state + "\n"}
	script := strings.Join(cmds, " && ")
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "update-alternatives", script)
			if err != nil || !ok {
				return r, err
			}
			return result, nil
		}}, nil
}
