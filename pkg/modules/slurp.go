package modules

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"

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
		{Name: "src", Aliases: []string{"path"}, Type: module.Path, Expand: true, Required: true, Doc: "The file to read; must exist and be readable."},
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

// Plan implements module.Module. Like Ansible's, it opens the file and
// names the error the open gives (as the task's become user).
func (*Slurp) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	src := args.String("src")
	// The path as the host expands it (~), then the content.
	res, err := h.Run(ctx, "p="+remoteWord(src)+`; printf '%s\0' "$p"; LC_ALL=C exec cat -- "$p"`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	path, content, ok := bytes.Cut(res.Stdout, []byte{0})
	if !ok {
		return nil, fmt.Errorf("read %s: unexpected output %q", src, res.Stdout)
	}
	res.Stdout = content
	src = string(path)
	if res.ExitCode != 0 {
		return module.Unchanged(module.Failed("%s", slurpError(src, string(res.Stderr)))), nil
	}
	return module.Unchanged(module.Result{
		"content": base64.StdEncoding.EncodeToString(res.Stdout), "encoding": "base64", "source": src,
	}), nil
}

// slurpError is Ansible's message for the error cat printed.
func slurpError(path, stderr string) string {
	switch {
	case strings.Contains(stderr, "No such file or directory"):
		return "file not found: " + path
	case strings.Contains(stderr, "Permission denied"):
		return "file is not readable: " + path
	case strings.Contains(stderr, "Is a directory"):
		return "source is a directory and must be a file: " + path
	}
	// Python's OSError text: [Errno N] strerror: 'path'.
	for _, e := range []struct {
		no  int
		msg string
	}{{20, "Not a directory"}, {40, "Too many levels of symbolic links"}, {36, "File name too long"}} {
		if strings.Contains(stderr, e.msg) {
			return fmt.Sprintf("unable to slurp file: [Errno %d] %s: '%s'", e.no, e.msg, path)
		}
	}
	msg := strings.TrimSpace(stderr)
	msg = strings.TrimPrefix(msg, "cat: "+path+": ")
	return "unable to slurp file: " + msg
}
