package modules

import (
	"context"
	"encoding/base64"

	"github.com/tend-dev/tend/pkg/module"
)

// Slurp is Ansible's slurp module: read a file from the host, base64.
type Slurp struct{}

var _ module.Module = (*Slurp)(nil)

var slurpSpec = &module.Spec{
	Name:        "slurp",
	Short:       "Slurps a file from remote nodes",
	Description: "Reads a file on the host (with the task's become) and returns its content base64-encoded in content, with encoding: base64 and source. Never changes anything.",
	Args: []module.Arg{
		{Name: "src", Aliases: []string{"path"}, Type: module.Path, Required: true, Doc: "The file to read; must exist and be readable."},
	},
	Check: module.CheckFull,
	Examples: `- slurp:
    src: /proc/mounts
  register: mounts
- debug:
    msg: "{{ mounts.content | b64decode }}"`,
}

// Spec implements module.Module.
func (*Slurp) Spec() *module.Spec { return slurpSpec }

// Plan implements module.Module.
func (*Slurp) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	src := args.String("src")
	st, err := inspectRemote(ctx, h, src, statOptions{Follow: true, Content: true})
	if err != nil {
		return nil, err
	}
	switch {
	case !st.Exists:
		return module.Unchanged(module.Failed("file not found: %s", src)), nil
	case st.IsDir():
		return module.Unchanged(module.Failed("source is a directory and must be a file: %s", src)), nil
	case !st.HasContent:
		return module.Unchanged(module.Failed("file is not readable: %s", src)), nil
	}
	return module.Unchanged(module.Result{
		"content": base64.StdEncoding.EncodeToString(st.Content), "encoding": "base64", "source": st.Path,
	}), nil
}
