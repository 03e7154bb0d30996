package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Capabilities manages Linux file capabilities (getcap/setcap).
type Capabilities struct{}

var _ module.Module = (*Capabilities)(nil)

// Spec implements module.Module.
func (*Capabilities) Spec() *module.Spec {
	return &module.Spec{
		Name:  "capabilities",
		Short: "Manage Linux capabilities",
		Description: "Adds or removes one capability of a file, as community.general.capabilities does: the file's " +
			"capabilities are read with `getcap -v`, and the new set (the others kept, the named one replaced or " +
			"dropped) is written with `setcap`. A wanted `+flags` matches the same flags getcap prints with `=` " +
			"(community.general 6.6.2 reports those as changed on every run). Needs getcap and setcap (Debian: libcap2-bin) on the host.",
		Args: []module.Arg{
			{Name: "path", Aliases: []string{"key"}, Required: true, Type: module.String, Doc: "The file."},
			{Name: "capability", Aliases: []string{"cap"}, Required: true, Type: module.String,
				Doc: "The capability with operator and flags (`cap_net_bind_service+ep`); for state=absent the name alone is enough."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"absent", "present"}, Doc: "Whether the capability is set."},
		},
		Check: module.CheckFull,
		Examples: `- capabilities:
    path: /usr/bin/ping
    capability: cap_net_raw+ep
`,
	}
}

// fileCap is one capability as community.general splits it: name,
// operator and flags.
type fileCap struct{ name, op, flags string }

func (c fileCap) String() string { return c.name + c.op + c.flags }

// parseCap is community.general's _parse_cap: the first of "=", "-", "+"
// found (in that order of preference) splits name and flags.
func parseCap(s string, opRequired bool) (fileCap, bool) {
	for _, op := range []string{"=", "-", "+"} {
		if name, flags, ok := strings.Cut(s, op); ok {
			return fileCap{name, op, flags}, true
		}
	}
	if opRequired {
		return fileCap{}, false
	}
	return fileCap{name: s}, true
}

// sameCap compares a capability of the file with the wanted one. getcap
// prints "=": a wanted "+" is the same when the flags are (community.general
// 6.6.2 compares the operators too, so `cap_net_raw+ep` is changed on
// every run there; tend reports it once).
func sameCap(have, want fileCap) bool {
	if have.name != want.name {
		return false
	}
	if have == want {
		return true
	}
	sorted := func(s string) string {
		b := []byte(s)
		sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
		return string(b)
	}
	return have.op == "=" && want.op == "+" && sorted(have.flags) == sorted(want.flags)
}

// parseGetcap reads `getcap -v PATH` output into capabilities.
func parseGetcap(out, path string) []fileCap {
	out = strings.TrimSpace(out)
	if out == path {
		return nil
	}
	var caps []string
	if _, after, ok := strings.Cut(out, " ="); ok {
		caps = strings.Fields(after)
	} else if f := strings.Fields(out); len(f) > 1 {
		caps = strings.Fields(f[1])
	}
	var res []fileCap
	for _, c := range caps {
		c = strings.ToLower(c)
		if strings.Contains(c, ",") {
			group := strings.Split(c, ",")
			last, _ := parseCap(group[len(group)-1], true)
			group[len(group)-1] = last.name
			for _, g := range group {
				res = append(res, fileCap{g, last.op, last.flags})
			}
			continue
		}
		if fc, ok := parseCap(c, true); ok {
			res = append(res, fc)
		}
	}
	return res
}

// Plan implements module.Module.
func (*Capabilities) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	path := strings.TrimSpace(a.String("path"))
	state := a.String("state")
	want, ok := parseCap(strings.ToLower(strings.TrimSpace(a.String("capability"))), state == "present")
	if !ok {
		return module.Unchanged(module.Failed("Couldn't find operator (one of: ('=', '-', '+'))")), nil
	}
	res, err := h.Run(ctx, "command -v getcap >/dev/null && command -v setcap >/dev/null || exit 127; getcap -v "+shell.Path(path))
	if err != nil {
		return nil, fmt.Errorf("getcap on %s: %w", h.Name, err)
	}
	if res.ExitCode == 127 {
		return module.Unchanged(module.Failed("Failed to find required executable \"getcap\" or \"setcap\" in paths (install libcap2-bin)")), nil
	}
	stdout, stderr := string(res.Stdout), string(res.Stderr)
	if res.ExitCode != 0 || stderr != "" {
		r := module.Failed("Unable to get capabilities of %s", path)
		r["stdout"], r["stderr"] = strings.TrimSpace(stdout), stderr
		return module.Unchanged(r), nil
	}
	current := parseGetcap(stdout, path)
	var keep []fileCap
	has, exact := false, false
	for _, c := range current {
		if sameCap(c, want) {
			exact = true
		}
		if c.name == want.name {
			has = true
			continue
		}
		keep = append(keep, c)
	}
	result := module.Result{"state": state}
	switch {
	case state == "present" && !exact:
		keep = append(keep, want)
	case state == "absent" && has:
	default:
		return module.Unchanged(result), nil
	}
	words := make([]string, len(keep))
	for i, c := range keep {
		words[i] = c.String()
	}
	return &module.Plan{Changed: true, Result: module.Result{"state": state, "msg": "capabilities changed"},
		Apply: func(ctx context.Context) (module.Result, error) {
			// An empty set is removed (setcap -r) rather than written empty.
			cmd := "setcap " + shell.Quote(strings.Join(words, " ")) + " " + shell.Path(path)
			if len(words) == 0 {
				cmd = "setcap -r " + shell.Path(path)
			}
			res, err := h.Run(ctx, cmd)
			if err != nil {
				return nil, err
			}
			if res.ExitCode != 0 {
				r := module.Failed("Unable to set capabilities of %s", path)
				r["stdout"], r["stderr"] = string(res.Stdout), string(res.Stderr)
				return r, nil
			}
			return module.Result{"state": state, "msg": "capabilities changed", "stdout": string(res.Stdout)}, nil
		}}, nil
}
