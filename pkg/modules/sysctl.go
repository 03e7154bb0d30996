package modules

import (
	"context"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Sysctl manages kernel parameters in a sysctl file and, optionally, the
// running kernel.
type Sysctl struct{}

var _ module.Module = (*Sysctl)(nil)

// Spec implements module.Module.
func (Sysctl) Spec() *module.Spec {
	return &module.Spec{
		Name:  "sysctl",
		Short: "Manage kernel parameters (sysctl)",
		Description: "Sets or removes a `name=value` entry in a sysctl file and optionally applies it to " +
			"the running kernel. The file and the live value are read in one round trip. Like Ansible, " +
			"the rewritten file has every `key = value` line normalized to `key=value` and duplicate keys " +
			"dropped; comments and blank lines are kept. With reload (the default) a live value that " +
			"differs from the file also counts as a change and `sysctl -p FILE` is run.",
		Args: []module.Arg{
			{Name: "name", Aliases: []string{"key"}, Required: true, Type: module.String, NotOption: true, Doc: "Parameter, e.g. `net.ipv4.ip_forward`."},
			{Name: "value", Aliases: []string{"val"}, Type: module.String, Doc: "Desired value (booleans become 1/0). Required for state=present."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the entry is in the file."},
			{Name: "sysctl_file", Type: module.Path, Expand: true, Default: "/etc/sysctl.conf", Doc: "File holding the entry."},
			{Name: "reload", Type: module.Bool, Default: true, Doc: "Run `sysctl -p FILE` after a change."},
			{Name: "sysctl_set", Type: module.Bool, Default: false, Doc: "Set the live value with `sysctl -w` when it differs."},
			{Name: "ignoreerrors", Type: module.Bool, Default: false, Doc: "Ignore unknown keys when reloading (`sysctl -e`)."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Route packets
  sysctl:
    name: net.ipv4.ip_forward
    value: "1"
    sysctl_set: true
    sysctl_file: /etc/sysctl.d/90-forward.conf
`,
	}
}

// sysctlValue is Ansible's _parse_value: booleans become 1/0.
func sysctlValue(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "on", "true", "y", "t":
		return "1"
	case "no", "off", "false", "n", "f":
		return "0"
	}
	return strings.TrimSpace(v)
}

// sysctlEqual compares values ignoring whitespace differences, as
// Ansible's _values_is_equal does ("4096 87380" vs "4096\t87380").
func sysctlEqual(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// parseSysctlFile returns the file's key values; a key given twice keeps
// its last value, as in Ansible's read_sysctl_file.
func parseSysctlFile(content string) map[string]string {
	vals := map[string]string{}
	for _, line := range strings.Split(content, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || !strings.Contains(t, "=") {
			continue
		}
		k, v, _ := strings.Cut(t, "=")
		vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return vals
}

// fixSysctlLines is Ansible's fix_lines: the new file content.
func fixSysctlLines(content, name, value, state string) string {
	var out []string
	checked := map[string]bool{}
	lines := strings.Split(content, "\n")
	if strings.HasSuffix(content, "\n") {
		lines = lines[:len(lines)-1]
	}
	if content == "" {
		lines = nil
	}
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || !strings.Contains(t, "=") {
			out = append(out, line)
			continue
		}
		k, v, _ := strings.Cut(t, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if checked[k] {
			continue
		}
		checked[k] = true
		if k == name {
			if state == "present" {
				out = append(out, k+"="+value)
			}
		} else {
			out = append(out, k+"="+v)
		}
	}
	if !checked[name] && state == "present" {
		out = append(out, name+"="+value)
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// sysctlWant is what a sysctl task asks for.
type sysctlWant struct {
	state, name, value string
	// reload runs sysctl -p on the file; set writes the value to the
	// running kernel.
	reload, set bool
}

// decideSysctl decides from the file's values and the kernel's (live,
// when liveKnown) whether the file is rewritten, the kernel value set,
// and whether the task changes anything: a reload counts as a change when
// the kernel does not hold the value yet.
func decideSysctl(w sysctlWant, vals map[string]string, live string, liveKnown bool) (writeFile, setProc, changed bool) {
	liveDiffers := !liveKnown || !sysctlEqual(live, w.value)
	switch w.state {
	case "absent":
		if _, ok := vals[w.name]; ok {
			writeFile, changed = true, true
		}
	case "present":
		cur, ok := vals[w.name]
		switch {
		case !ok || !sysctlEqual(cur, w.value):
			writeFile, changed = true, true
		case w.reload && liveDiffers:
			changed = true
		}
		if w.set && liveDiffers {
			setProc, changed = true, true
		}
	}
	return writeFile, setProc, changed
}

// Plan implements module.Module: one probe of the file and the kernel,
// decideSysctl, then the file write, sysctl -w and sysctl -p.
func (Sysctl) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	name := strings.TrimSpace(args.String("name"))
	state := args.String("state")
	if state == "present" && !args.Has("value") {
		return module.Unchanged(module.Failed("value is required when state=present")), nil
	}
	value := sysctlValue(args.String("value"))
	file := args.String("sysctl_file")
	token := strings.ReplaceAll(name, "/", ".")
	secs, err := runProbe(ctx, h, "sysctl "+name, catIfExists(file),
		"sysctl -n "+shell.Quote(token)+" 2>/dev/null || echo '@@tend-unset@@'")
	if err != nil {
		return nil, err
	}
	content, _ := readCat(secs[0])
	live := strings.TrimRight(secs[1], "\n")
	liveKnown := live != "@@tend-unset@@"
	writeFile, setProc, changed := decideSysctl(sysctlWant{state: state, name: name, value: value,
		reload: args.Bool("reload"), set: args.Bool("sysctl_set")}, parseSysctlFile(content), live, liveKnown)
	result := module.Result{"name": name, "state": state, "sysctl_file": file}
	if state == "present" {
		result["value"] = value
	}
	if !changed {
		return module.Unchanged(result), nil
	}
	newContent := content
	var diffs []module.Diff
	if writeFile {
		newContent = fixSysctlLines(content, name, value, state)
		diffs = append(diffs, module.Diff{BeforeHeader: file, AfterHeader: file, Before: content, After: newContent})
	}
	if setProc {
		before := ""
		if liveKnown {
			before = name + " = " + live + "\n"
		}
		diffs = append(diffs, module.Diff{BeforeHeader: "kernel", AfterHeader: "kernel", Before: before, After: name + " = " + value + "\n"})
	}
	return &module.Plan{Changed: true, Result: result, Diff: diffs,
		Apply: func(ctx context.Context) (module.Result, error) {
			if writeFile {
				if err := writeRemote(ctx, h, file, []byte(newContent), writeOptions{Mode: 0o644}); err != nil {
					return nil, err
				}
			}
			if setProc {
				r, ok, err := runCmd(ctx, h, "setting "+token+" failed", shell.Join("sysctl", "-w", token+"="+value))
				if err != nil || !ok {
					return r, err
				}
			}
			if args.Bool("reload") {
				c := []string{"sysctl"}
				if args.Bool("ignoreerrors") {
					c = append(c, "-e")
				}
				// sysctl's -p takes an optional argument, so the file is a
				// separate word that must not look like an option.
				c = append(c, "-p")
				r, ok, err := runCmd(ctx, h, "Failed to reload sysctl", shell.Join(c...)+" "+shell.Path(file))
				if err != nil || !ok {
					return r, err
				}
			}
			return result, nil
		}}, nil
}
