package modules

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// systemModules lists this group's modules for Registry.
func systemModules() []module.Module {
	return []module.Module{
		&Apt{}, &AptRepository{}, &Deb822Repository{},
		&Dnf{}, &Yum{}, &Package{},
		&Systemd{}, &SystemdService{}, &Service{},
		&User{}, &Group{},
		&Mount{}, &Sysctl{}, &Cron{}, &Hostname{}, &AuthorizedKey{}, &Timezone{},
	}
}

// The helpers below are shared by the system modules. They are private
// on purpose: the file modules have their own (fileattrs.go,
// remotefile.go) and the lead may merge both sets later.

// sectionMarker separates the parts of a multi-part probe command's output.
// It holds characters no probed file or command output is expected to
// start a line with.
const sectionMarker = "@@tend-section@@"

// probeScript joins shell snippets into one command whose output is split
// back by splitSections, so a module inspects a host in one round trip.
// Each snippet's exit status is ignored; snippets print what they find.
func probeScript(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString("echo " + shell.Quote(sectionMarker) + "; { " + p + "; } 2>&1")
	}
	return b.String()
}

// splitSections splits probeScript output into one string per snippet.
func splitSections(out string, n int) ([]string, error) {
	parts := strings.Split(out, sectionMarker+"\n")
	if len(parts) > 0 && strings.TrimSpace(parts[0]) == "" {
		parts = parts[1:]
	}
	if len(parts) != n {
		return nil, fmt.Errorf("probe output has %d sections, want %d: %q", len(parts), n, truncate(out, 400))
	}
	return parts, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// catIfExists returns a snippet that prints "Y" and the file's content, or
// "N" when the file does not exist. readCat decodes it.
func catIfExists(path string) string {
	q := shell.Path(path)
	return "if [ -f " + q + " ]; then echo Y; cat -- " + q + "; else echo N; fi"
}

// readCat decodes catIfExists output.
func readCat(section string) (content string, exists bool) {
	if strings.HasPrefix(section, "Y\n") {
		return section[2:], true
	}
	return "", false
}

// runProbe runs a probeScript and splits its output. A transport error is
// returned wrapped; the probe itself never fails on a missing file.
func runProbe(ctx context.Context, h *module.Host, what string, parts ...string) ([]string, error) {
	res, err := h.Run(ctx, probeScript(parts...))
	if err != nil {
		return nil, fmt.Errorf("inspect %s on %s: %w", what, h.Name, err)
	}
	secs, err := splitSections(string(res.Stdout), len(parts))
	if err != nil {
		return nil, fmt.Errorf("inspect %s on %s: %w", what, h.Name, err)
	}
	return secs, nil
}

// runCmd runs cmd and turns a non-zero exit into a failed Result carrying
// rc, stdout and stderr; ok is false then. Transport errors are returned.
func runCmd(ctx context.Context, h *module.Host, msg, cmd string) (module.Result, bool, error) {
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return nil, false, fmt.Errorf("%s on %s: %w", msg, h.Name, err)
	}
	r := module.CommandResult(res)
	if res.ExitCode != 0 {
		r["failed"] = true
		detail := strings.TrimSpace(string(res.Stderr))
		if detail == "" {
			detail = strings.TrimSpace(string(res.Stdout))
		}
		r["msg"] = fmt.Sprintf("%s failed (rc=%d): %s", msg, res.ExitCode, detail)
		return r, false, nil
	}
	return r, true, nil
}

// putFile writes content to path on the host atomically with the task's
// become.
func putFile(ctx context.Context, h *module.Host, path, content string, mode fs.FileMode, owner, group string) error {
	err := h.Conn.Put(ctx, strings.NewReader(content), path, connection.PutOptions{
		Mode: mode, Owner: owner, Group: group, Become: h.Become,
	})
	if err != nil {
		return fmt.Errorf("write %s on %s: %w", path, h.Name, err)
	}
	return nil
}

// parseOctalMode reads a mode argument with ParseMode (fileattrs.go), so
// it follows Ansible exactly (a YAML integer 644 is decimal, i.e. 01204;
// "0644" and "644" are octal); a symbolic mode is resolved against def.
// nil gives def.
func parseOctalMode(v any, def fs.FileMode) (fs.FileMode, error) {
	m, err := ParseMode(v)
	if err != nil {
		return 0, err
	}
	if !m.IsSet() {
		return def, nil
	}
	bits, err := m.Apply(uint32(def.Perm()), false, 0o022)
	if err != nil {
		return 0, err
	}
	return fs.FileMode(bits), nil
}

// factVar returns a fact from h.Vars under its ansible_ name or inside
// ansible_facts, or "".
func factVar(h *module.Host, name string) string {
	if v, ok := h.Vars["ansible_"+name]; ok && v != nil {
		return fmt.Sprint(v)
	}
	if f, ok := h.Vars["ansible_facts"].(map[string]any); ok {
		if v, ok := f[name]; ok && v != nil {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// withChanged returns r with "changed" set, for Apply steps whose real
// outcome may differ from the prediction (a refreshed package cache).
func withChanged(r module.Result, changed bool) module.Result {
	r["changed"] = changed
	return r
}

// putOpts returns PutOptions with the task's become.
func putOpts(h *module.Host, mode fs.FileMode) connection.PutOptions {
	return connection.PutOptions{Mode: mode, Become: h.Become}
}

// argFloat returns a float argument or 0.
func argFloat(a module.Args, name string) float64 {
	switch x := a[name].(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f
	}
	return 0
}
