package modules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Synchronize runs rsync on the controller to copy files to or from a host.
type Synchronize struct{}

var _ module.Module = (*Synchronize)(nil)

// Spec implements module.Module.
func (*Synchronize) Spec() *module.Spec {
	b := func(name string, def any, doc string) module.Arg {
		return module.Arg{Name: name, Type: module.Bool, Default: def, Doc: doc}
	}
	return &module.Spec{
		Name:  "synchronize",
		Short: "A wrapper around rsync to make common tasks in your playbooks quick and easy",
		Description: "Runs rsync on the controller, as ansible.posix.synchronize does, with the options Ansible " +
			"builds (--delay-updates -F --compress --archive ... --out-format='<<CHANGED>>%i %n%L'), pushing " +
			"src from the controller to dest on the host (mode=push) or pulling src from the host (mode=pull). " +
			"rsync's ssh reaches the host the way tend's connection does: the same address, port, user, private " +
			"key, jump hosts and ssh_config, and the same known_hosts file and host-key policy (tend checks host " +
			"keys even when verify_host is false, where Ansible turns checking off; policy off turns it off). With " +
			"become, rsync runs on the host as `sudo -u USER rsync` (--rsync-path), so sudo must not ask for a " +
			"password. Plan runs the same rsync with --dry-run (check mode shows what would change), Apply runs it " +
			"for real; changed is whether rsync itemized a change. A relative local path is looked up in the role's " +
			"or playbook's files/ directory, else taken as it is. Needs rsync on the controller and the host and " +
			"ssh on the controller; passwords (ansible_password) and delegate_to between two managed hosts are " +
			"not supported.",
		Args: []module.Arg{
			{Name: "src", Required: true, Type: module.String, Doc: "Source path: on the controller for push, on the host for pull. A trailing / copies the directory's content."},
			{Name: "dest", Required: true, Type: module.String, Doc: "Destination path: on the host for push, on the controller for pull."},
			{Name: "mode", Type: module.String, Default: "push", Choices: []string{"pull", "push"}, Doc: "push: controller to host; pull: host to controller."},
			{Name: "dest_port", Type: module.Int, Doc: "The host's SSH port; default the connection's."},
			b("archive", true, "rsync --archive (recursive, links, perms, times, owner, group, devices)."),
			b("checksum", false, "Compare checksums instead of size and time."),
			b("compress", true, "Compress data during the transfer."),
			b("delete", false, "Delete files in dest that are not in src (--delete-after)."),
			b("existing_only", false, "Only update files that already exist in dest."),
			b("dirs", false, "Transfer directories without recursing."),
			{Name: "recursive", Type: module.Bool, Doc: "Recurse into directories; default archive's."},
			{Name: "links", Type: module.Bool, Doc: "Copy symbolic links as links; default archive's."},
			b("copy_links", false, "Copy what symbolic links point to."),
			{Name: "perms", Type: module.Bool, Doc: "Preserve permissions; default archive's."},
			{Name: "times", Type: module.Bool, Doc: "Preserve modification times; default archive's."},
			{Name: "owner", Type: module.Bool, Doc: "Preserve the owner (needs root on the receiving side); default archive's."},
			{Name: "group", Type: module.Bool, Doc: "Preserve the group; default archive's."},
			b("set_remote_user", true, "Log in as the connection's user (user@host); false leaves the user to ssh_config."),
			{Name: "rsync_timeout", Type: module.Int, Default: 0, Doc: "rsync --timeout in seconds (0: none)."},
			{Name: "rsync_opts", Type: module.List, Elements: module.String, Doc: "More rsync options, e.g. `--exclude=.git`; an `--rsh` here replaces tend's."},
			{Name: "rsync_path", Type: module.String, Doc: "The rsync command on the host (--rsync-path); default `sudo -u USER rsync` with become."},
			{Name: "private_key", Type: module.Path, Doc: "The private key ssh offers; default the connection's."},
			b("partial", false, "Keep partially transferred files (--partial)."),
			b("verify_host", false, "Accepted: tend checks host keys as its connection does either way."),
			b("delay_updates", true, "Put updated files into place at the end (--delay-updates)."),
			{Name: "link_dest", Type: module.List, Elements: module.String, Doc: "Hard link unchanged files from these directories (--link-dest)."},
			b("ssh_connection_multiplexing", false, "Let ssh use a ControlMaster connection (without it: -S none)."),
			b("use_ssh_args", false, "Accepted for compatibility: the connection's settings are used anyway."),
			{Name: "ssh_args", Type: module.String, Doc: "More ssh arguments, appended to the --rsh command."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- synchronize:
    src: site/
    dest: /srv/www/
    delete: true
    rsync_opts: ["--exclude=.git"]
`,
	}
}

// rsyncArgs are the options Ansible's synchronize module builds before
// --rsh, in its order.
func rsyncArgs(a module.Args, dryRun bool) []string {
	var cmd []string
	add := func(cond bool, opt string) {
		if cond {
			cmd = append(cmd, opt)
		}
	}
	add(a.Bool("delay_updates"), "--delay-updates")
	add(a.Bool("delay_updates"), "-F")
	add(a.Bool("compress"), "--compress")
	add(a.Int("rsync_timeout") != 0, "--timeout="+strconv.Itoa(a.Int("rsync_timeout")))
	add(dryRun, "--dry-run")
	add(a.Bool("delete"), "--delete-after")
	add(a.Bool("existing_only"), "--existing")
	add(a.Bool("checksum"), "--checksum")
	add(a.Bool("copy_links"), "--copy-links")
	given := func(n string) (bool, bool) {
		if !a.Has(n) {
			return false, false
		}
		return a.Bool(n), true
	}
	if a.Bool("archive") {
		cmd = append(cmd, "--archive")
		for _, n := range []string{"recursive", "links", "perms", "times", "owner", "group"} {
			if v, ok := given(n); ok && !v {
				cmd = append(cmd, "--no-"+n)
			}
		}
	} else {
		for _, n := range []string{"recursive", "links", "perms", "times", "owner", "group"} {
			if v, ok := given(n); ok && v {
				cmd = append(cmd, "--"+n)
			}
		}
	}
	add(a.Bool("dirs"), "--dirs")
	return cmd
}

// rshCommand is the ssh command rsync runs, reaching the host as the
// connection does.
func rshCommand(ep connection.SSHEndpoint, a module.Args) string {
	ssh := []string{"ssh"}
	if !a.Bool("ssh_connection_multiplexing") {
		ssh = append(ssh, "-S", "none")
	}
	cfg := ep.ConfigFile
	if cfg == "" {
		cfg = "none"
	} else if _, err := os.Stat(cfg); err != nil {
		cfg = "none"
	}
	ssh = append(ssh, "-F", cfg)
	if k := a.String("private_key"); k != "" {
		ssh = append(ssh, "-i", k)
	} else {
		for _, k := range ep.IdentityFiles {
			ssh = append(ssh, "-i", k)
		}
	}
	port := ep.Port
	if a.Has("dest_port") {
		port = a.Int("dest_port")
	}
	if port != 0 {
		ssh = append(ssh, "-o", "Port="+strconv.Itoa(port))
	}
	switch ep.HostKeyPolicy {
	case "off":
		ssh = append(ssh, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null")
	case "strict":
		ssh = append(ssh, "-o", "StrictHostKeyChecking=yes")
	default:
		ssh = append(ssh, "-o", "StrictHostKeyChecking=accept-new")
	}
	if ep.KnownHostsFile != "" && ep.HostKeyPolicy != "off" {
		ssh = append(ssh, "-o", "UserKnownHostsFile="+ep.KnownHostsFile)
	}
	ssh = append(ssh, "-o", "BatchMode=yes")
	if len(ep.Jumps) > 0 {
		ssh = append(ssh, "-J", strings.Join(ep.Jumps, ","))
	}
	q := make([]string, len(ssh))
	for i, s := range ssh {
		q[i] = shell.Quote(s)
	}
	out := strings.Join(q, " ")
	if extra := a.String("ssh_args"); extra != "" {
		out += " " + extra
	}
	return out
}

// syncLocalPath resolves a controller-side path as Ansible's action
// plugin does: relative paths are looked up in files/.
func syncLocalPath(h *module.Host, p string) string {
	if strings.Contains(p, ":") || strings.HasPrefix(p, "/") || h.Files == nil {
		return expandLocalHome(p)
	}
	found, err := h.Files.Find("files", p)
	if err != nil {
		return p
	}
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(found, "/") {
		found += "/"
	}
	return found
}

func expandLocalHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			out := filepath.Join(home, p[1:])
			if strings.HasSuffix(p, "/") {
				out += "/"
			}
			return out
		}
	}
	return p
}

// rsyncTarget is user@host:path (IPv6 hosts in brackets).
func rsyncTarget(host, user, p string) string {
	if strings.HasPrefix(p, "rsync://") {
		return p
	}
	prefix := ""
	if user != "" {
		prefix = user + "@"
	}
	if strings.Contains(host, ":") {
		return "[" + prefix + host + "]:" + p
	}
	return prefix + host + ":" + p
}

// syncCommand builds the rsync argument list for a task.
func syncCommand(h *module.Host, a module.Args, dryRun bool) ([]string, string) {
	args := rsyncArgs(a, dryRun)
	ep, remote := h.Conn.(connection.SSHEndpointer)
	src, dest := a.String("src"), a.String("dest")
	pull := a.String("mode") == "pull"
	var e connection.SSHEndpoint
	if remote {
		e = ep.SSHEndpoint()
		remote = e.Host != ""
	}
	opts := a.List("rsync_opts")
	if remote {
		hasRsh := false
		for _, o := range opts {
			if strings.Contains(o, "--rsh") {
				hasRsh = true
			}
		}
		if !hasRsh {
			args = append(args, "--rsh="+rshCommand(e, a))
		}
		rsyncPath := a.String("rsync_path")
		if rsyncPath == "" && h.Become != nil && (h.Become.Method == "" || h.Become.Method == "sudo") {
			rsyncPath = "sudo rsync"
			if h.Become.User != "" {
				rsyncPath = "sudo -u " + h.Become.User + " rsync"
			}
		}
		if rsyncPath != "" {
			args = append(args, "--rsync-path="+rsyncPath)
		}
		user := ""
		if a.Bool("set_remote_user") {
			user = e.User
		}
		if pull {
			src, dest = rsyncTarget(e.Host, user, src), syncLocalPath(h, dest)
		} else {
			src, dest = syncLocalPath(h, src), rsyncTarget(e.Host, user, dest)
		}
	} else {
		if rp := a.String("rsync_path"); rp != "" {
			args = append(args, "--rsync-path="+rp)
		}
		src, dest = syncLocalPath(h, src), syncLocalPath(h, dest)
	}
	args = append(args, opts...)
	if a.Bool("partial") {
		args = append(args, "--partial")
	}
	if ld := a.List("link_dest"); len(ld) > 0 {
		args = append(args, "-H", "-vv")
		for _, x := range ld {
			p, _ := filepath.Abs(expandLocalHome(x))
			args = append(args, "--link-dest="+p)
		}
	}
	args = append(args, "--out-format=<<CHANGED>>%i %n%L", src, dest)
	q := []string{"rsync"}
	for _, x := range args {
		q = append(q, shell.Quote(x))
	}
	return args, strings.Join(q, " ")
}

// runRsync runs rsync on the controller and returns Ansible's result.
func runRsync(ctx context.Context, a module.Args, args []string, cmdline string) module.Result {
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, "rsync", args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	rc := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return module.Result{"failed": true, "msg": "run rsync on the controller: " + err.Error() + " (is rsync installed?)", "rc": 1, "cmd": cmdline}
		}
		rc = ee.ExitCode()
	}
	if rc != 0 {
		return module.Result{"failed": true, "msg": stderr.String(), "rc": rc, "cmd": cmdline}
	}
	const marker = "<<CHANGED>>"
	out := stdout.String()
	changed := strings.Contains(out, marker)
	if len(a.List("link_dest")) > 0 {
		changed = !strings.Contains(out, marker+".")
	}
	clean := strings.ReplaceAll(out, marker, "")
	lines := []any{}
	for _, l := range strings.Split(clean, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return module.Result{"changed": changed, "msg": clean, "rc": rc, "cmd": cmdline, "stdout_lines": lines}
}

// Plan implements module.Module.
func (*Synchronize) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	if strings.HasPrefix(a.String("src"), "rsync://") && strings.HasPrefix(a.String("dest"), "rsync://") {
		return module.Unchanged(module.Result{"failed": true, "msg": "either src or dest must be a localhost", "rc": 1}), nil
	}
	if h.Conn == nil {
		return nil, fmt.Errorf("synchronize needs a connection to %s", h.Name)
	}
	for _, o := range a.List("rsync_opts") {
		if o == "" && h.Warn != nil {
			h.Warn("The empty string is present in rsync_opts which will cause rsync to transfer the current working directory. " +
				"If this is intended, use \".\" instead to get rid of this warning. If this is unintended, check for problems " +
				"in your playbook leading to empty string in rsync_opts.")
		}
	}
	args, cmdline := syncCommand(h, a, true)
	dry := runRsync(ctx, a, args, cmdline)
	if dry["failed"] == true {
		return module.Unchanged(dry), nil
	}
	changed := dry["changed"] == true
	delete(dry, "changed")
	if !changed {
		return module.Unchanged(dry), nil
	}
	return &module.Plan{Changed: true, Result: dry,
		Diff: []module.Diff{{Before: "", After: dry["msg"].(string), AfterHeader: "prepared"}},
		Apply: func(ctx context.Context) (module.Result, error) {
			args, cmdline := syncCommand(h, a, false)
			return runRsync(ctx, a, args, cmdline), nil
		}}, nil
}
