package modules

import (
	"context"
	"regexp"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// LocaleGen enables or disables locales and generates them.
type LocaleGen struct{}

var _ module.Module = (*LocaleGen)(nil)

// Spec implements module.Module.
func (*LocaleGen) Spec() *module.Spec {
	return &module.Spec{
		Name:  "locale_gen",
		Short: "Create or remove locales",
		Description: "Makes a locale present (generated, listed by `locale -a`) or absent, as community.general's " +
			"locale_gen does. On Debian the locale's line in /etc/locale.gen is uncommented (or commented) " +
			"and locale-gen run; where /var/lib/locales/supported.d exists (Ubuntu) `locale-gen NAME` adds " +
			"it and removal drops it from supported.d/local and runs `locale-gen --purge`. The locale " +
			"must be listed in /etc/locale.gen (Ubuntu: /usr/share/i18n/SUPPORTED). The files and " +
			"`locale -a` are read in one round trip.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "Locale with its encoding, e.g. `de_CH.UTF-8`."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"absent", "present"}, Doc: "Whether the locale is generated."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- locale_gen:
    name: en_US.UTF-8
`,
	}
}

// localeNormalization is Ansible's fix_case table: locale -a prints
// encodings in lower case without dashes.
var localeNormalization = [][2]string{{".utf8", ".UTF-8"}, {".eucjp", ".EUC-JP"}, {".iso885915", ".ISO-8859-15"},
	{".cp1251", ".CP1251"}, {".koi8r", ".KOI8-R"}, {".armscii8", ".ARMSCII-8"}, {".euckr", ".EUC-KR"},
	{".gbk", ".GBK"}, {".gb18030", ".GB18030"}, {".euctw", ".EUC-TW"}}

func localeFixCase(s string) string {
	for _, r := range localeNormalization {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// localeAvailable is Ansible's is_available: name is listed (commented or
// not on Debian) in the file of available locales.
func localeAvailable(content, name string, ubuntu bool) bool {
	re := regexp.MustCompile(`^#?\s*(\S+_\S+) (\S+)\s*$`)
	if ubuntu {
		re = regexp.MustCompile(`^(\S+_\S+) (\S+)\s*$`)
	}
	for _, line := range strings.Split(content, "\n") {
		if m := re.FindStringSubmatch(line); m != nil && m[1] == name {
			return true
		}
	}
	return false
}

// localePresent is Ansible's is_present over `locale -a` output.
func localePresent(list, name string) bool {
	for _, l := range strings.Split(list, "\n") {
		if l = strings.TrimSpace(l); l != "" && localeFixCase(l) == localeFixCase(name) {
			return true
		}
	}
	return false
}

// setLocaleLine is Ansible's set_locale: the name's line in locale.gen
// uncommented (enabled) or commented.
func setLocaleLine(content, name string, enabled bool) string {
	re := regexp.MustCompile(`#?\s*` + regexp.QuoteMeta(name) + ` (.+)`)
	repl := name + " ${1}"
	if !enabled {
		repl = "# " + name + " ${1}"
	}
	lines := strings.SplitAfter(content, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		lines[i] = re.ReplaceAllString(body, repl) + l[len(body):]
	}
	return strings.Join(lines, "")
}

// Plan implements module.Module.
func (*LocaleGen) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	name, state := a.String("name"), a.String("state")
	secs, err := runProbe(ctx, h, "locales", "[ -d /var/lib/locales/supported.d/ ] && echo Y || echo N",
		catIfExists("/etc/locale.gen"), catIfExists("/usr/share/i18n/SUPPORTED"), catIfExists("/var/lib/locales/supported.d/local"),
		"locale -a 2>/dev/null")
	if err != nil {
		return nil, err
	}
	ubuntu := strings.TrimSpace(secs[0]) == "Y"
	gen, genExists := readCat(secs[1])
	if !ubuntu && !genExists {
		return module.Unchanged(module.Failed("/etc/locale.gen and /var/lib/locales/supported.d/local are missing. Is the package \"locales\" installed?")), nil
	}
	avail := gen
	if ubuntu {
		avail, _ = readCat(secs[2])
	}
	if !localeAvailable(avail, name, ubuntu) {
		return module.Unchanged(module.Failed("The locale you've entered is not available on your system.")), nil
	}
	prev := "absent"
	if localePresent(secs[4], name) {
		prev = "present"
	}
	result := module.Result{"name": name, "msg": "OK"}
	if prev == state {
		return module.Unchanged(result), nil
	}
	var cmd string
	diff := module.Diff{Before: "locale " + name + ": " + prev + "\n", After: "locale " + name + ": " + state + "\n"}
	var newGen string
	switch {
	case !ubuntu:
		newGen = setLocaleLine(gen, name, state == "present")
		diff = module.Diff{BeforeHeader: "/etc/locale.gen", AfterHeader: "/etc/locale.gen", Before: gen, After: newGen}
		cmd = "locale-gen"
	case state == "present":
		cmd = "locale-gen " + shell.Quote(name)
	default:
		local, _ := readCat(secs[3])
		var keep []string
		for _, l := range strings.SplitAfter(local, "\n") {
			if loc, _, _ := strings.Cut(l, " "); l != "" && loc != name {
				keep = append(keep, l)
			}
		}
		cmd = "printf '%s' " + shell.Quote(strings.Join(keep, "")) + " > /var/lib/locales/supported.d/local && locale-gen --purge"
	}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			if newGen != "" {
				if err := writeRemote(ctx, h, "/etc/locale.gen", []byte(newGen), writeOptions{Mode: 0o644}); err != nil {
					return nil, err
				}
			}
			r, ok, err := runCmd(ctx, h, "locale-gen", cmd)
			if err != nil || !ok {
				return r, err
			}
			return result, nil
		}}, nil
}
