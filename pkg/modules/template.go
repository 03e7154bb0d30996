package modules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/template"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// Template is Ansible's template module: render a Jinja2 template on the
// controller and put the result on the host like copy.
type Template struct{}

var _ module.Module = (*Template)(nil)

var templateSpec = &module.Spec{
	Name:  "template",
	Short: "Template a file out to a target host",
	Description: `Renders a Jinja2 template (src, looked up in the role's templates/ directory and the
playbook directory) on the controller with the task's variables plus template_host,
template_path, template_fullpath, template_uid, template_run_date, template_mtime, template_destpath and ansible_managed
("Ansible managed" unless the ansible_managed variable says otherwise), then writes it to
dest exactly like copy: compared by SHA-1 in one round trip, written atomically only when it
differs. trim_blocks is on and a trailing newline is kept, as in Ansible; trim_blocks,
lstrip_blocks and a "#jinja2: trim_blocks: ..., lstrip_blocks: ..." first line in the file
change that, and so do the delimiter options (block_start_string, variable_start_string,
comment_start_string and their _end_string) and the same options on that first line.`,
	Args: append(append([]module.Arg{
		{Name: "src", Type: module.Path, Required: true, Doc: "Controller path of the Jinja2 template (relative: role templates/, then the playbook directory)."},
		{Name: "newline_sequence", Type: module.String, Default: "\n", Choices: []string{"\n", "\r", "\r\n", `\n`, `\r`, `\r\n`},
			Doc: "Line ending of the rendered file (written escaped, '\\r\\n' in single quotes, as well)."},
		{Name: "trim_blocks", Type: module.Bool, Default: true, Doc: "Remove the first newline after a block tag."},
		{Name: "lstrip_blocks", Type: module.Bool, Default: false, Doc: "Strip spaces and tabs before a block tag at the start of a line."},
		{Name: "block_start_string", Type: module.String, Default: "{%", Doc: "A Jinja2 delimiter other than the default, for this file."},
		{Name: "block_end_string", Type: module.String, Default: "%}", Doc: "A Jinja2 delimiter other than the default, for this file."},
		{Name: "variable_start_string", Type: module.String, Default: "{{", Doc: "A Jinja2 delimiter other than the default, for this file."},
		{Name: "variable_end_string", Type: module.String, Default: "}}", Doc: "A Jinja2 delimiter other than the default, for this file."},
		{Name: "comment_start_string", Type: module.String, Doc: "A Jinja2 delimiter other than the default, for this file."},
		{Name: "comment_end_string", Type: module.String, Doc: "A Jinja2 delimiter other than the default, for this file."},
		{Name: "output_encoding", Type: module.String, Default: "utf-8", Doc: "Encoding of the written file (IANA and WHATWG names: utf-8, windows-1252, iso-8859-1, utf-16...); the template file itself is read as utf-8."},
	}, writeArgs(true)...), fileAttrArgs()...),
	Check: module.CheckFull,
	Diff:  true,
	Examples: `- name: Render the nginx site
  template:
    src: site.conf.j2
    dest: /etc/nginx/sites-available/site.conf
    owner: root
    group: root
    mode: '0644'
    validate: /usr/sbin/nginx -t -c %s

- name: Keep the template's own mode
  template:
    src: backup.sh.j2
    dest: /usr/local/bin/backup.sh
    mode: preserve`,
}

// Spec implements module.Module.
func (*Template) Spec() *module.Spec { return templateSpec }

// Plan implements module.Module.
func (*Template) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	src := args.String("src")
	if h.Files == nil || h.Templar == nil {
		return nil, fmt.Errorf("template: no controller file finder or templar to render %q", src)
	}
	local, err := h.Files.Find("templates", src)
	if err != nil {
		return module.Unchanged(module.Failed("Could not find or access '%s': %v", src, err)), nil
	}
	fi, err := os.Stat(local)
	if err != nil {
		return module.Unchanged(module.Failed("Could not find or access '%s': %v", src, err)), nil
	}
	if fi.IsDir() {
		return module.Unchanged(module.Failed("Source %s is a directory; template needs a file", local)), nil
	}
	raw, err := os.ReadFile(local)
	if err != nil {
		return module.Unchanged(module.Failed("Could not read '%s': %v", local, err)), nil
	}
	delims := delimOptions(args)
	rendered, err := h.Templar.RenderWith(withBlockOptions(string(raw), args, delims), templateVars(h, local, fi, args.String("dest")))
	if !template.IsTemplate(string(raw)) && len(delims) == 0 && !strings.HasPrefix(string(raw), "#jinja2:") {
		// Ansible renders the file even without markup.
		rendered = template.RenderText(string(raw))
	}
	var ple *template.PluginLoadError
	if errors.As(err, &ple) {
		// Ansible's action reports the exception's class and text.
		return module.Unchanged(module.Failed("TemplateSyntaxError: %s\n  line 0", ple.Ansible())), nil
	}
	if err != nil {
		return module.Unchanged(module.Failed("AnsibleError: template error while templating %s: %v", src, err)), nil
	}
	// Ansible's template action takes the escaped spellings too.
	nl := strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(args.String("newline_sequence"))
	if nl != "" && nl != "\n" {
		rendered = strings.ReplaceAll(rendered, "\n", nl)
	}
	content, err := encodeOutput(rendered, args.String("output_encoding"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	return planWrite(ctx, h, args, writeItem{Content: content, Base: templateBase(local), SrcMode: uint32(fi.Mode().Perm()), SrcHeader: local})
}

// encodeOutput encodes the rendered text in output_encoding (utf-8 when
// empty, as in Ansible).
func encodeOutput(text, name string) ([]byte, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "", "utf-8", "utf8":
		return []byte(text), nil
	}
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil || enc == nil {
		if enc, err = htmlindex.Get(name); err != nil {
			return nil, fmt.Errorf("output_encoding %q: unknown encoding", name)
		}
	}
	out, err := enc.NewEncoder().String(text)
	if err != nil {
		return nil, fmt.Errorf("output_encoding %q: %v", name, err)
	}
	return []byte(out), nil
}

// delimOptions are the delimiter options given other than Jinja2's
// defaults, as "#jinja2:" options (name: 'value').
func delimOptions(args module.Args) []string {
	var out []string
	for _, d := range [][2]string{{"block_start_string", "{%"}, {"block_end_string", "%}"}, {"variable_start_string", "{{"},
		{"variable_end_string", "}}"}, {"comment_start_string", "{#"}, {"comment_end_string", "#}"}} {
		if v := args.String(d[0]); args.Has(d[0]) && v != d[1] && v != "" {
			q := "'"
			if strings.Contains(v, q) {
				q = `"`
			}
			out = append(out, d[0]+": "+q+v+q)
		}
	}
	return out
}

// withBlockOptions passes trim_blocks and lstrip_blocks, when not
// Ansible's defaults, and the delimiter options (see delimOptions) to the
// template engine as a "#jinja2:" first line; a "#jinja2:" line of the
// file's own comes after them and wins, as in Ansible.
func withBlockOptions(src string, args module.Args, delims []string) string {
	trim, lstrip := args.Bool("trim_blocks") || !args.Has("trim_blocks"), args.Bool("lstrip_blocks")
	if trim && !lstrip && len(delims) == 0 {
		return src
	}
	py := map[bool]string{true: "True", false: "False"}
	line := "#jinja2: trim_blocks: " + py[trim] + ", lstrip_blocks: " + py[lstrip]
	for _, d := range delims {
		line += ", " + d
	}
	if own, ok := strings.CutPrefix(src, "#jinja2:"); ok {
		return line + "," + own
	}
	return line + "\n" + src
}

// templateBase is the file name a template gets in a destination
// directory: its own name (Ansible keeps a .j2 suffix too).
func templateBase(local string) string { return filepath.Base(local) }

// templateVars are the extra variables Ansible's template module defines.
func templateVars(h *module.Host, local string, fi os.FileInfo, dest string) map[string]any {
	host, _ := os.Hostname()
	owner := ""
	if u, err := user.Current(); err == nil {
		owner = u.Username
	}
	if st, ok := fileOwner(fi); ok {
		if u, err := user.LookupId(strconv.Itoa(st)); err == nil {
			owner = u.Username
		}
	}
	managed := "Ansible managed"
	if v, ok := h.Vars["ansible_managed"]; ok && v != nil {
		managed = fmt.Sprint(v)
	}
	return map[string]any{
		"template_host":     host,
		"template_path":     local,
		"template_fullpath": local,
		"template_uid":      owner,
		"template_run_date": pyDatetime(time.Now()),
		"template_mtime":    pyDatetime(fi.ModTime()),
		"template_destpath": dest,
		"ansible_managed":   managed,
	}
}

// pyDatetime is str() of Python's datetime (template_run_date and
// template_mtime are datetimes in Ansible): local time, microseconds only
// when there are some.
func pyDatetime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// fileOwner returns the uid owning a controller file.
func fileOwner(fi os.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
