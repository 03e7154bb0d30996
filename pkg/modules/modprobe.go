package modules

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Modprobe loads or unloads kernel modules and makes that persistent.
type Modprobe struct{}

var _ module.Module = (*Modprobe)(nil)

const (
	modulesLoadDir = "/etc/modules-load.d"
	modprobeDir    = "/etc/modprobe.d"
)

// Spec implements module.Module.
func (*Modprobe) Spec() *module.Spec {
	return &module.Spec{
		Name:  "modprobe",
		Short: "Load or unload kernel modules",
		Description: "Loads (`modprobe NAME PARAMS`) or unloads (`modprobe -r`) a kernel module, as " +
			"community.general.modprobe does: a module is loaded when /proc/modules lists it or it is built " +
			"into the kernel (modules.builtin). persistent=present writes /etc/modules-load.d/NAME.conf and, " +
			"when the parameters differ, comments out the old `options NAME key=value` lines of /etc/modprobe.d " +
			"and writes /etc/modprobe.d/NAME.conf; persistent=absent comments the module and its options out. " +
			"Files are edited line for line as community.general does (including its extra blank line after " +
			"each line of a file it comments out). Check mode runs `modprobe -n` (a dry run), as Ansible does. " +
			"params are split on whitespace (quotes are not interpreted).",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, NotOption: true, Doc: "The kernel module."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"absent", "present"}, Doc: "Whether the module is loaded."},
			{Name: "params", Type: module.String, Default: "", Doc: "Module parameters (`numdummies=2`), separated by spaces."},
			{Name: "persistent", Type: module.String, Default: "disabled", Choices: []string{"disabled", "absent", "present"},
				Doc: "Also load the module (with params) at boot (present), stop loading it at boot (absent), or leave boot configuration alone (disabled)."},
		},
		Check: module.CheckFull,
		Examples: `- modprobe:
    name: br_netfilter
    persistent: present
`,
	}
}

// confFile is a file of a configuration directory as a probe read it.
type confFile struct {
	path, content string
	mode          uint32
}

// listConfFiles is a probe snippet printing every regular file of dir as
// "@@F SIZE MODE PATH" and its content; parseConfFiles reads it.
func listConfFiles(dir string) string {
	d := shell.Quote(dir)
	return "for f in " + d + "/* " + d + "/.[!.]*; do [ -f \"$f\" ] || continue; " +
		`printf '@@F %s %s %s\n' "$(wc -c < "$f")" "$(stat -c %a -- "$f")" "$f"; cat -- "$f"; done`
}

func parseConfFiles(out string) ([]confFile, error) {
	var files []confFile
	for out != "" {
		hdr, rest, ok := strings.Cut(out, "\n")
		if !ok || !strings.HasPrefix(hdr, "@@F ") {
			return nil, fmt.Errorf("unexpected listing line %q", truncate(hdr, 200))
		}
		f := strings.SplitN(strings.TrimPrefix(hdr, "@@F "), " ", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("unexpected listing line %q", hdr)
		}
		n, err := strconv.Atoi(strings.TrimSpace(f[0]))
		if err != nil || n > len(rest) {
			return nil, fmt.Errorf("unexpected listing line %q", hdr)
		}
		mode, _ := strconv.ParseUint(f[1], 8, 32)
		files = append(files, confFile{path: f[2], content: rest[:n], mode: uint32(mode)})
		out = rest[n:]
	}
	return files, nil
}

// fileLines splits content into lines that keep their "\n", as Python's
// readlines does.
func fileLines(content string) []string {
	lines := strings.SplitAfter(content, "\n")
	if n := len(lines); lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// modprobeState is what the module works out from the host's files.
type modprobeState struct {
	name                              string
	findModule, findParams, getParams *regexp.Regexp
	modules, options                  []confFile
}

func newModprobeState(name string, modules, options []confFile) *modprobeState {
	q := regexp.QuoteMeta(name)
	return &modprobeState{name: name, modules: modules, options: options,
		findModule: regexp.MustCompile(`^ *` + q + ` *(?:[#;].*)?\n?$`),
		findParams: regexp.MustCompile(`^options ` + q + ` \w+=\S+ *(?:[#;].*)?\n?$`),
		getParams:  regexp.MustCompile(`^options ` + q + ` (\w+=\S+) *(?:[#;].*)?\n?$`),
	}
}

func (s *modprobeState) persistentlyLoaded() bool {
	for _, f := range s.modules {
		for _, l := range fileLines(f.content) {
			if s.findModule.MatchString(l) {
				return true
			}
		}
	}
	return false
}

func (s *modprobeState) permanentParams() map[string]bool {
	set := map[string]bool{}
	for _, f := range s.options {
		for _, l := range fileLines(f.content) {
			if m := s.getParams.FindStringSubmatch(l); m != nil {
				set[m[1]] = true
			}
		}
	}
	return set
}

func (s *modprobeState) paramsSet(params string) bool {
	want := map[string]bool{}
	for _, p := range strings.Fields(params) {
		want[p] = true
	}
	have := s.permanentParams()
	if len(want) != len(have) {
		return false
	}
	for p := range want {
		if !have[p] {
			return false
		}
	}
	return true
}

// commentOut returns the files whose lines matching re are commented out,
// written back the way community.general does ('\n'.join(readlines())).
func commentOut(files []confFile, re *regexp.Regexp, out map[string]confFile) {
	for _, f := range files {
		lines := fileLines(f.content)
		changed := false
		for i, l := range lines {
			if re.MatchString(l) {
				lines[i] = "#" + l
				changed = true
			}
		}
		if changed {
			f.content = strings.Join(lines, "\n")
			out[f.path] = f
		}
	}
}

// persistentWrites returns the files persistent=present or absent
// rewrites (nil when nothing changes).
func (s *modprobeState) persistentWrites(persistent, params string) map[string]confFile {
	out := map[string]confFile{}
	switch {
	case persistent == "present" && !(s.persistentlyLoaded() && s.paramsSet(params)):
		if !s.persistentlyLoaded() {
			out[modulesLoadDir+"/"+s.name+".conf"] = confFile{path: modulesLoadDir + "/" + s.name + ".conf", content: s.name + "\n"}
		}
		if !s.paramsSet(params) {
			commentOut(s.options, s.findParams, out)
			var lines []string
			for _, p := range strings.Fields(params) {
				lines = append(lines, "options "+s.name+" "+p)
			}
			p := modprobeDir + "/" + s.name + ".conf"
			f := confFile{path: p, content: strings.Join(lines, "\n") + "\n"}
			if old, ok := out[p]; ok {
				f.mode = old.mode
			}
			for _, o := range s.options {
				if o.path == p {
					f.mode = o.mode
				}
			}
			out[p] = f
		}
	case persistent == "absent" && (s.persistentlyLoaded() || len(s.permanentParams()) > 0):
		commentOut(s.modules, s.findModule, out)
		commentOut(s.options, s.findParams, out)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Plan implements module.Module.
func (*Modprobe) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	name, state, params, persistent := a.String("name"), a.String("state"), a.String("params"), a.String("persistent")
	var words []string
	for _, p := range strings.Fields(params) {
		words = append(words, shell.Quote(p))
	}
	qn := shell.Quote(name)
	loaded := "grep -q " + shell.Quote("^"+strings.ReplaceAll(name, "-", "_")+" ") + " /proc/modules 2>/dev/null || " +
		"awk -v m=" + shell.Quote("/"+name+".ko") + ` '{sub(/[ \t\r\n]+$/, "")} length($0) >= length(m) && substr($0, length($0)-length(m)+1) == m {f=1} END {exit !f}' ` +
		`"/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null`
	// The dry run Ansible does in check mode, here in every Plan: it
	// changes nothing and fails when the real command would.
	dry := "if " + loaded + "; then echo L; else echo N; "
	if state == "present" {
		dry += "e=$(modprobe -n " + qn + " " + strings.Join(words, " ") + " 2>&1); echo \"rc=$?\"; printf '%s' \"$e\"; "
	} else {
		dry += "true; "
	}
	dry += "fi"
	if state == "absent" {
		dry = "if " + loaded + "; then echo L; e=$(modprobe -r -n " + qn + " 2>&1); echo \"rc=$?\"; printf '%s' \"$e\"; else echo N; fi"
	}
	secs, err := runProbe(ctx, h, "kernel module "+name, "command -v modprobe", dry, listConfFiles(modulesLoadDir), listConfFiles(modprobeDir))
	if err != nil {
		return nil, err
	}
	result := module.Result{"name": name, "params": params, "state": state}
	if strings.TrimSpace(secs[0]) == "" {
		return module.Unchanged(module.Failed("Failed to find required executable \"modprobe\" in paths: %s", "PATH")), nil
	}
	isLoaded := strings.HasPrefix(secs[1], "L\n")
	load := state == "present" && !isLoaded
	unload := state == "absent" && isLoaded
	if load || unload {
		_, rest, _ := strings.Cut(secs[1], "rc=")
		rcs, msg, _ := strings.Cut(rest, "\n")
		if rc, _ := strconv.Atoi(rcs); rc != 0 {
			r := module.Failed("%s", msg)
			r["rc"], r["stdout"], r["stderr"] = rc, "", msg
			return module.Unchanged(r), nil
		}
	}
	modules, err := parseConfFiles(secs[2])
	if err != nil {
		return nil, fmt.Errorf("inspect %s on %s: %w", modulesLoadDir, h.Name, err)
	}
	options, err := parseConfFiles(secs[3])
	if err != nil {
		return nil, fmt.Errorf("inspect %s on %s: %w", modprobeDir, h.Name, err)
	}
	writes := newModprobeState(name, modules, options).persistentWrites(persistent, params)
	if !load && !unload && writes == nil {
		return module.Unchanged(result), nil
	}
	paths := make([]string, 0, len(writes))
	for p := range writes {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return &module.Plan{Changed: true, Result: result, Apply: func(ctx context.Context) (module.Result, error) {
		cmd := ""
		switch {
		case load:
			cmd = "modprobe " + qn + " " + strings.Join(words, " ")
		case unload:
			cmd = "modprobe -r " + qn
		}
		if cmd != "" {
			res, err := h.Run(ctx, cmd)
			if err != nil {
				return nil, fmt.Errorf("modprobe on %s: %w", h.Name, err)
			}
			if res.ExitCode != 0 {
				r := module.CommandResult(res)
				r["failed"], r["msg"] = true, strings.TrimRight(string(res.Stderr), "\n")
				for k, v := range result {
					r[k] = v
				}
				return r, nil
			}
		}
		for _, p := range paths {
			f := writes[p]
			mode := f.mode
			if mode == 0 {
				mode = 0o644
			}
			if err := writeRemote(ctx, h, p, []byte(f.content), writeOptions{Mode: mode}); err != nil {
				return nil, err
			}
		}
		return result, nil
	}}, nil
}
