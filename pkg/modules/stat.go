package modules

import (
	"context"
	"fmt"
	"path"

	"github.com/tend-dev/tend/pkg/module"
)

// Stat is Ansible's stat module: report facts about a path in one round
// trip.
type Stat struct{}

var _ module.Module = (*Stat)(nil)

var statSpec = &module.Spec{
	Name:  "stat",
	Short: "Retrieve file or file system status",
	Description: `Reports whether path exists and, if so, its type, mode, ownership, size, times,
access rights for the connecting (or become) user, link target and SHA-1 checksum, in
Ansible's result shape (stat.exists, stat.isdir, stat.mode "0644", stat.pw_name...). One
round trip; never changes anything.`,
	Args: []module.Arg{
		{Name: "path", Aliases: []string{"dest", "name"}, Type: module.Path, Expand: true, Required: true, Doc: "The path to inspect."},
		{Name: "follow", Type: module.Bool, Default: false, Doc: "Follow a symbolic link at path."},
		{Name: "get_checksum", Type: module.Bool, Default: true, Doc: "Compute the checksum of a regular, readable file."},
		{Name: "checksum_algorithm", Aliases: []string{"checksum", "checksum_algo"}, Type: module.String, Default: "sha1", Choices: []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}, Doc: "Algorithm of the checksum; computed on the host with the coreutils *sum command."},
		{Name: "get_mime", Aliases: []string{"mime", "mime_type", "mime-type"}, Type: module.Bool, Default: false, Doc: "Not supported; accepted when false."},
		{Name: "get_attributes", Aliases: []string{"attr", "attributes"}, Type: module.Bool, Default: false, Doc: "Not supported; accepted when false."},
		{Name: "get_md5", Type: module.Bool, Default: false, Doc: "Deprecated in Ansible; accepted when false."},
	},
	Check: module.CheckFull,
	Examples: `- name: Is the config there?
  stat:
    path: /etc/app.conf
  register: conf

- name: Only when it is a regular file owned by root
  debug:
    msg: "{{ conf.stat.checksum }}"
  when: conf.stat.exists and conf.stat.isreg and conf.stat.pw_name == 'root'`,
}

// Spec implements module.Module.
func (*Stat) Spec() *module.Spec { return statSpec }

// Plan implements module.Module.
func (*Stat) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	for _, a := range []string{"get_mime", "get_attributes", "get_md5"} {
		if args.Bool(a) {
			return module.Unchanged(module.Failed("%s=true is not supported by tend", a)), nil
		}
	}
	st, err := inspectRemote(ctx, h, args.String("path"), statOptions{Follow: args.Bool("follow"), Checksum: args.Bool("get_checksum"), Algorithm: args.String("checksum_algorithm")})
	if err != nil {
		return nil, err
	}
	return module.Unchanged(module.Result{"stat": statResult(st)}), nil
}

// statResult is Ansible's stat dictionary for st.
func statResult(st *RemoteStat) map[string]any {
	if !st.Exists {
		return map[string]any{"exists": false}
	}
	m := st.Mode
	r := map[string]any{
		"exists": true, "path": st.Path, "mode": fmt.Sprintf("%04o", m),
		"isdir": st.Type == "directory", "isreg": st.Type == "file", "islnk": st.Type == "link",
		"ischr": st.Type == "char", "isblk": st.Type == "block", "isfifo": st.Type == "fifo", "issock": st.Type == "socket",
		"uid": st.UID, "gid": st.GID, "pw_name": st.Owner, "gr_name": st.Group,
		"size": st.Size, "inode": st.Inode, "dev": st.Dev, "nlink": st.Nlink,
		"mtime": st.Mtime, "atime": st.Atime, "ctime": st.Ctime,
		"wusr": m&0o200 != 0, "rusr": m&0o400 != 0, "xusr": m&0o100 != 0,
		"wgrp": m&0o020 != 0, "rgrp": m&0o040 != 0, "xgrp": m&0o010 != 0,
		"woth": m&0o002 != 0, "roth": m&0o004 != 0, "xoth": m&0o001 != 0,
		"isuid": m&0o4000 != 0, "isgid": m&0o2000 != 0,
		"readable": st.Readable, "writeable": st.Writeable, "executable": st.Executable,
	}
	if st.Sum != "" {
		r["checksum"] = st.Sum
	} else if st.SHA1 != "" {
		r["checksum"] = st.SHA1
	}
	if st.Type == "link" {
		r["lnk_target"] = st.LinkTarget
		src := st.RealPath
		if src == "" {
			src = path.Join(path.Dir(st.Path), st.LinkTarget)
		}
		r["lnk_source"] = src
	}
	return r
}
