package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// PamLimits manages entries of /etc/security/limits.conf.
type PamLimits struct{}

var _ module.Module = (*PamLimits)(nil)

var pamItems = []string{"core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as", "maxlogins",
	"maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot"}

// Spec implements module.Module.
func (*PamLimits) Spec() *module.Spec {
	return &module.Spec{
		Name:  "pam_limits",
		Short: "Modify Linux PAM limits",
		Description: "Sets one `domain type item value` entry of /etc/security/limits.conf (or `dest`), line for " +
			"line as community.general's pam_limits writes it: an existing entry for the same domain, type " +
			"and item is rewritten in place (tab-separated), else the entry is appended; use_max and use_min " +
			"keep the larger or smaller of the old and new values. A missing dest is created. The file is " +
			"read in one round trip.",
		Args: []module.Arg{
			{Name: "domain", Required: true, Type: module.String, Doc: "User, @group, wildcard or uid/gid range."},
			{Name: "limit_type", Required: true, Type: module.String, Choices: []string{"soft", "hard", "-"}, Doc: "Limit type."},
			{Name: "limit_item", Required: true, Type: module.String, Choices: pamItems, Doc: "The limit to set."},
			{Name: "value", Required: true, Type: module.String, Doc: "A number, or unlimited, infinity or -1."},
			{Name: "use_max", Type: module.Bool, Default: false, Doc: "Keep the larger of the existing and given values."},
			{Name: "use_min", Type: module.Bool, Default: false, Doc: "Keep the smaller of the existing and given values."},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a timestamped copy of the file before changing it."},
			{Name: "dest", Type: module.String, Default: "/etc/security/limits.conf", Doc: "The limits file."},
			{Name: "comment", Type: module.String, Default: "", Doc: "Comment appended to the entry."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- pam_limits:
    domain: postgres
    limit_type: '-'
    limit_item: nofile
    value: "65536"
`,
	}
}

// pamValueError is Ansible's _assert_is_valid_value, "" when valid.
func pamValueError(item, value, prefix string) string {
	if item == "nice" || item == "priority" {
		if n, err := strconv.Atoi(value); err == nil && n >= -20 && n <= 19 {
			return ""
		}
		return fmt.Sprintf("%s Value of '%s' for item '%s' is invalid. Value must be a number in the range -20 to 19 inclusive. "+
			"Refer to the limits.conf(5) manual pages for more details.", prefix, value, item)
	}
	if value == "unlimited" || value == "infinity" || value == "-1" || isDigits(value) {
		return ""
	}
	return fmt.Sprintf("%s Value of '%s' for item '%s' is invalid. Value must either be 'unlimited', 'infinity' or -1, all of "+
		"which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details.", prefix, value, item)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

var pamSpace = regexp.MustCompile(`\s+`)

// pamWant is what a pam_limits task asks for.
type pamWant struct {
	domain, typ, item, value, comment string
	useMax, useMin                    bool
}

// editPamLimits is the loop of Ansible's pam_limits: the new content,
// whether it changed and the entry's line (msg), or a failure message.
// Its quirks are kept: a comment found on an earlier entry is reused when
// the task gives none.
func editPamLimits(content string, w pamWant, dest string) (out string, changed bool, msg, fail string) {
	var b strings.Builder
	found := false
	newValue := w.value
	comment := w.comment
	for _, line := range strings.SplitAfter(content, "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			b.WriteString(line)
			continue
		}
		nl := strings.TrimSpace(pamSpace.ReplaceAllString(line, " "))
		if nl == "" {
			b.WriteString(line)
			continue
		}
		nl, _, _ = strings.Cut(nl, "#")
		if _, old, ok := strings.Cut(line, "#"); ok && comment == "" {
			comment = old
		}
		f := strings.Split(strings.TrimRight(nl, " "), " ")
		if len(f) != 4 {
			b.WriteString(line)
			continue
		}
		if e := pamValueError(f[2], f[3], "Invalid configuration found in '"+dest+"'."); e != "" {
			return "", false, "", e
		}
		if f[0] != w.domain || f[1] != w.typ || f[2] != w.item {
			b.WriteString(line)
			continue
		}
		found = true
		actual := f[3]
		if w.value == actual {
			msg = line
			b.WriteString(line)
			continue
		}
		newValue = pamNewValue(w, f[1], actual, newValue)
		if newValue == actual {
			msg = line
			b.WriteString(line)
			continue
		}
		changed = true
		if comment != "" {
			comment = "\t#" + comment
		}
		msg = w.domain + "\t" + w.typ + "\t" + w.item + "\t" + newValue + comment + "\n"
		b.WriteString(msg)
	}
	if !found {
		changed = true
		if comment != "" {
			comment = "\t#" + comment
		}
		msg = w.domain + "\t" + w.typ + "\t" + w.item + "\t" + newValue + comment + "\n"
		b.WriteString(msg)
	}
	return b.String(), changed, msg, ""
}

// pamNewValue is the value use_max or use_min keep for an entry of type
// typ holding actual; otherwise cur (the task's value).
func pamNewValue(w pamWant, typ, actual, cur string) string {
	if !w.useMax && !w.useMin {
		return cur
	}
	unlimited := func(v string) bool { return v == "unlimited" || v == "infinity" || v == "-1" }
	// Ansible tests the type, not the item, here: kept.
	au, vu := unlimited(actual), unlimited(w.value)
	if typ == "nice" || typ == "priority" {
		au, vu = false, false
	}
	a, _ := strconv.Atoi(actual)
	v, _ := strconv.Atoi(w.value)
	switch {
	case w.useMax && au:
		return actual
	case w.useMax && vu:
		return w.value
	case w.useMax:
		return strconv.Itoa(max(a, v))
	case au && vu:
		return actual
	case au:
		return w.value
	case vu:
		return actual
	}
	return strconv.Itoa(min(a, v))
}

// Plan implements module.Module.
func (*PamLimits) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	dest := a.String("dest")
	if a.Bool("use_max") && a.Bool("use_min") {
		return module.Unchanged(module.Failed("Cannot use use_min and use_max at the same time.")), nil
	}
	if e := pamValueError(a.String("limit_item"), a.String("value"), ""); e != "" {
		return module.Unchanged(module.Failed("%s", e)), nil
	}
	secs, err := runProbe(ctx, h, "limits "+dest, catIfExists(dest), "[ -d "+shell.Path(path.Dir(dest))+" ] && echo Y || echo N",
		"stat -c %a "+shell.Path(dest)+" 2>/dev/null")
	if err != nil {
		return nil, err
	}
	content, exists := readCat(secs[0])
	if !exists && strings.TrimSpace(secs[1]) != "Y" {
		return module.Unchanged(module.Failed("directory %s is not writable (check presence, access rights, use sudo)", path.Dir(dest))), nil
	}
	out, changed, msg, fail := editPamLimits(content, pamWant{domain: a.String("domain"), typ: a.String("limit_type"),
		item: a.String("limit_item"), value: a.String("value"), comment: a.String("comment"),
		useMax: a.Bool("use_max"), useMin: a.Bool("use_min")}, dest)
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	result := module.Result{"msg": msg}
	if !changed && exists {
		return module.Unchanged(result), nil
	}
	return &module.Plan{Changed: true, Result: result,
		Diff: []module.Diff{{BeforeHeader: dest, AfterHeader: dest, Before: content, After: out}},
		Apply: func(ctx context.Context) (module.Result, error) {
			r := module.Result{"msg": msg}
			if a.Bool("backup") && exists {
				b, err := backupRemote(ctx, h, dest)
				if err != nil {
					return nil, err
				}
				r["backup_file"] = b
			}
			mode := uint32(0o644) // Ansible keeps an existing file's mode
			if m, err := strconv.ParseUint(strings.TrimSpace(secs[2]), 8, 32); err == nil && exists {
				mode = uint32(m)
			}
			if err := writeRemote(ctx, h, dest, []byte(out), writeOptions{Mode: mode}); err != nil {
				return nil, err
			}
			return r, nil
		}}, nil
}
