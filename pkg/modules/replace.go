package modules

import (
	"context"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/pyre"
)

// Replace is Ansible's replace module: replace every match of a regular
// expression in a file, optionally only between after and before.
type Replace struct{}

var _ module.Module = (*Replace)(nil)

var replaceSpec = &module.Spec{
	Name:  "replace",
	Short: "Replace all instances of a pattern in a file",
	Description: `Replaces every match of regexp in the file (multiline mode: ^ and $ match at line
boundaries) with replace, where \1 and \g<name> insert groups. after and before limit the
replacement to the text between the first match of after and the following match of
before (both are regular expressions, matched with "." matching newlines). The file is
edited on the controller and written back atomically only when it changes.

Regular expressions are Python's, lookarounds and backreferences included; in replace,
\1, \g<1> and \g<name> insert groups and "$" is literal, as in Python's re.sub.`,
	Args: append([]module.Arg{
		{Name: "path", Aliases: []string{"dest", "destfile", "name"}, Type: module.Path, Expand: true, Required: true, Doc: "The file to modify."},
		{Name: "regexp", Type: module.String, Required: true, Doc: "The regular expression to look for."},
		{Name: "replace", Type: module.String, Content: true, Default: "", Doc: "The replacement; empty removes the matches."},
		{Name: "after", Type: module.String, Doc: "Only replace after the first match of this expression."},
		{Name: "before", Type: module.String, Doc: "Only replace before the match of this expression."},
		{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a copy of the old file named FILE.PID.YYYY-MM-DD@HH:MM:SS~."},
		{Name: "validate", Type: module.String, Doc: "Command run on the new file before it replaces the old one; %s is its path."},
		{Name: "encoding", Type: module.String, Default: "utf-8", Doc: "Accepted for compatibility; files are edited as UTF-8 (bytes are kept as they are)."},
		{Name: "others", Type: module.Raw, Doc: "Accepted for compatibility and ignored."},
	}, fileAttrArgs()...),
	Check: module.CheckFull,
	Diff:  true,
	Examples: `- name: Replace old hostname with new hostname
  replace:
    path: /etc/hosts
    regexp: '(\s+)old\.host\.name(\s+.*)?$'
    replace: '\1new.host.name\2'

- name: Comment out everything after the [private] marker
  replace:
    path: /etc/app.conf
    after: '\[private\]'
    regexp: '^(.+)$'
    replace: '# \1'`,
}

// Spec implements module.Module.
func (*Replace) Spec() *module.Spec { return replaceSpec }

// replaceApply performs Ansible's replace on content. It returns the new
// content, the number of replacements, and the message when after/before
// did not match ("" otherwise).
func replaceApply(content, pattern, repl string, after, before *string) (string, int, string, error) {
	section, start, end := content, 0, len(content)
	var sect string
	a := after != nil && *after != ""
	b := before != nil && *before != ""
	switch {
	case a && b:
		sect = *after + "(?P<subsection>.*?)" + *before
	case a:
		sect = *after + "(?P<subsection>.*)"
	case b:
		sect = "(?P<subsection>.*)" + *before
	}
	if sect != "" {
		re, err := compilePyRegexp("after/before", sect, pyre.DotAll)
		if err != nil {
			return "", 0, "", err
		}
		m, err := re.Search(content)
		if err != nil {
			return "", 0, "", err
		}
		if m == nil {
			return content, 0, "Pattern for before/after params did not match the given file: " + sect, nil
		}
		g := re.GroupIndex("subsection")
		start, end = m[2*g], m[2*g+1]
		section = content[start:end]
	}
	re, err := compilePyRegexp("regexp", pattern, pyre.Multiline)
	if err != nil {
		return "", 0, "", err
	}
	out, n, err := re.Subn(section, repl, 0)
	if err != nil {
		return "", 0, "", err
	}
	if n == 0 || out == section {
		return content, n, "", nil
	}
	return content[:start] + out + content[end:], n, "", nil
}

// Plan implements module.Module.
func (*Replace) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	path := args.String("path")
	mode, msg := editArgs(args)
	if msg != "" {
		return module.Unchanged(module.Failed("%s", msg)), nil
	}
	st, isDir, err := readForEdit(ctx, h, path)
	if err != nil || isDir != nil {
		return isDir, err
	}
	switch {
	case !st.Exists:
		return module.Unchanged(module.Result{"failed": true, "rc": 257, "msg": fmt.Sprintf("Path %s does not exist !", path)}), nil
	case !st.HasContent:
		return module.Unchanged(module.Failed("Unable to read the contents of %s", path)), nil
	}
	after, n, msg, err := replaceApply(string(st.Content), args.String("regexp"), args.String("replace"),
		optString(args, "after"), optString(args, "before"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if msg == "" && after != string(st.Content) {
		msg = fmt.Sprintf("%d replacements made", n)
	}
	dest := st.Path
	if st.RealPath != "" {
		dest = st.RealPath
	}
	cc := &contentChange{
		Path: dest, St: st, After: []byte(after),
		Owner: args.String("owner"), Group: args.String("group"), Mode: mode,
		Backup: args.Bool("backup"), Validate: args.String("validate"),
		DiffHeader: path,
	}
	return planEdit(h, cc, module.Result{"rc": 0}, msg)
}
