package modules

import (
	"context"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// TempFile is Ansible's tempfile module: create a temporary file or
// directory with mktemp.
type TempFile struct{}

var _ module.Module = (*TempFile)(nil)

var tempFileSpec = &module.Spec{
	Name:  "tempfile",
	Short: "Creates temporary files and directories",
	Description: `Creates a uniquely named temporary file or directory (mktemp) and returns its path.
Every run creates a new one, so the task always reports changed; in check mode nothing is
created and path is not returned.`,
	Args: []module.Arg{
		{Name: "state", Type: module.String, Default: "file", Choices: []string{"file", "directory"}, Doc: "Whether to create a file or a directory."},
		{Name: "path", Type: module.Path, Expand: true, Doc: "Directory to create it in; default the host's TMPDIR or /tmp."},
		{Name: "prefix", Type: module.String, Default: "ansible.", Doc: "Name prefix."},
		{Name: "suffix", Type: module.String, Default: "", Doc: "Name suffix."},
	},
	Check: module.CheckFull,
	Examples: `- tempfile:
    state: directory
    suffix: build
  register: builddir`,
}

// Spec implements module.Module.
func (*TempFile) Spec() *module.Spec { return tempFileSpec }

// Plan implements module.Module.
func (*TempFile) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	dir := `"${TMPDIR:-/tmp}"`
	if p := args.String("path"); p != "" {
		dir = remoteWord(p)
	}
	tmpl := shell.Quote(args.String("prefix") + "XXXXXXXXXX" + args.String("suffix"))
	flag := ""
	if args.String("state") == "directory" {
		flag = "-d "
	}
	cmd := "mktemp " + flag + "-p " + dir + " -- " + tmpl
	return &module.Plan{Changed: true, Result: module.Result{}, Apply: func(ctx context.Context) (module.Result, error) {
		res, err := h.Run(ctx, cmd)
		if err != nil {
			return nil, err
		}
		if res.ExitCode != 0 {
			r := module.Failed("mktemp failed: %s", strings.TrimSpace(string(res.Stderr)))
			return r, nil
		}
		p := strings.TrimSpace(string(res.Stdout))
		st, err := statRemote(ctx, h, p, false)
		if err != nil {
			return nil, err
		}
		return fileResult(module.Result{"path": p}, st), nil
	}}, nil
}
