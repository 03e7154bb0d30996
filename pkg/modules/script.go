package modules

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
	"github.com/tend-dev/tend/pkg/vault"
)

// Script uploads a controller script to the host and runs it.
type Script struct{}

var _ module.Module = (*Script)(nil)

// Spec implements module.Module.
func (Script) Spec() *module.Spec {
	return &module.Spec{
		Name:  "script",
		Short: "Copy a local script to the host and run it",
		Description: `Takes the script named first in the free-form text from the controller (the
role's files/ directory, then the playbook directory; or an absolute path), uploads it
to a fresh temporary directory on the host (mktemp -d under $TMPDIR or /tmp, mode 0700,
owned by the become user), runs it with the rest of the text as its arguments, and
removes it. The arguments are passed to the shell as written, as in Ansible.

creates and removes make it idempotent: the script is not run when the creates path
exists or the removes path does not. Check mode is supported only with them; otherwise
the task is skipped in check mode. A non-zero exit code fails the task.`,
		Args: []module.Arg{
			{Name: "cmd", Aliases: []string{"free_form"}, Type: module.String, Required: true, Doc: "Path of the local script followed by its arguments."},
			{Name: "chdir", Type: module.Path, Doc: "Directory on the host to run the script in."},
			{Name: "creates", Type: module.Path, Doc: "A path on the host: when it exists, the script is not run."},
			{Name: "removes", Type: module.Path, Doc: "A path on the host: when it does not exist, the script is not run."},
			{Name: "executable", Type: module.String, Doc: "Interpreter to run the script with (python3, /bin/bash...); default: run the script itself, so its #! line counts."},
			{Name: "decrypt", Type: module.Bool, Default: true, Doc: "Decrypt a vault-encrypted script with the run's vault password before uploading it, as Ansible does; false uploads it as it is."},
		},
		FreeForm: "cmd",
		Check:    module.CheckPartial,
		Examples: `- name: Run a setup script once
  script: files/setup.sh --fast
  args:
    creates: /etc/app/.setup-done

- name: Run with bash from a directory
  ansible.builtin.script:
    cmd: check.sh
    chdir: /opt/app
    executable: /bin/bash`,
	}
}

// Plan implements module.Module.
func (Script) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	src, scriptArgs := splitFreeForm(args.String("cmd"))
	if src == "" {
		return module.Unchanged(module.Failed("no script given")), nil
	}
	local := src
	if h.Files != nil {
		p, err := h.Files.Find("files", src)
		if err != nil {
			return module.Unchanged(module.Failed("could not find script %s: %v", src, err)), nil
		}
		local = p
	}
	content, err := os.ReadFile(local)
	if err != nil {
		return module.Unchanged(module.Failed("reading script: %v", err)), nil
	}
	if args.Bool("decrypt") && vault.IsEncrypted(content) {
		if content, err = decryptControllerFile(h, local, content); err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
	}
	creates, removes := args.String("creates"), args.String("removes")
	if skip, msg, err := createsRemoves(ctx, h, creates, removes); err != nil {
		return nil, err
	} else if skip {
		return module.Unchanged(module.Result{"msg": msg, "rc": 0, "stdout": "", "stderr": "",
			"stdout_lines": []string{}, "stderr_lines": []string{}}), nil
	}
	run := strings.TrimSpace(shell.Quote(args.String("executable")) + " ")
	if args.String("executable") == "" {
		run = ""
	}
	return &module.Plan{
		Changed:       true,
		Unpredictable: creates == "" && removes == "",
		Result:        module.Result{},
		Apply: func(ctx context.Context) (module.Result, error) {
			res, err := h.Run(ctx, `mktemp -d "${TMPDIR:-/tmp}/tend-script-XXXXXXXX"`)
			if err != nil {
				return nil, fmt.Errorf("script on %s: temporary directory: %w", h.Name, err)
			}
			dir := strings.TrimSpace(string(res.Stdout))
			if res.ExitCode != 0 || dir == "" {
				return module.Failed("creating a temporary directory on the host: %s", strings.TrimSpace(string(res.Stderr))), nil
			}
			remote := path.Join(dir, path.Base(local))
			cleanup := "rm -rf " + shell.Quote(dir)
			if err := h.Conn.Put(ctx, strings.NewReader(string(content)), remote, connection.PutOptions{Mode: 0o700, Become: h.Become}); err != nil {
				_, _ = h.Run(ctx, cleanup)
				return nil, fmt.Errorf("script on %s: upload %s: %w", h.Name, src, err)
			}
			line := strings.TrimSpace(run+" "+shell.Quote(remote)) + " " + scriptArgs
			if d := args.String("chdir"); d != "" {
				line = "cd " + remoteWord(d) + " || exit 1; " + line
			}
			// The subshell keeps chdir's cd from mattering to cleanup and
			// the exit code is the script's.
			line = "(" + line + "); rc=$?; " + cleanup + "; exit $rc"
			res, err = h.Run(ctx, line)
			if err != nil {
				return nil, fmt.Errorf("script %s on %s: %w", src, h.Name, err)
			}
			return commandOutcome(res), nil
		},
	}, nil
}

// createsRemoves checks creates/removes in one round trip: skip reports
// whether the task should not run, with Ansible's message.
func createsRemoves(ctx context.Context, h *module.Host, creates, removes string) (skip bool, msg string, err error) {
	if creates == "" && removes == "" {
		return false, "", nil
	}
	var checks []string
	if creates != "" {
		checks = append(checks, "if [ -e "+remoteWord(creates)+" ]; then echo creates; fi")
	}
	if removes != "" {
		checks = append(checks, "if [ ! -e "+remoteWord(removes)+" ]; then echo removes; fi")
	}
	res, err := h.Run(ctx, strings.Join(checks, "; "))
	if err != nil {
		return false, "", fmt.Errorf("checking creates/removes on %s: %w", h.Name, err)
	}
	out := string(res.Stdout)
	switch {
	case strings.Contains(out, "creates"):
		return true, "skipped, since " + creates + " exists", nil
	case strings.Contains(out, "removes"):
		return true, "skipped, since " + removes + " does not exist", nil
	}
	return false, "", nil
}
