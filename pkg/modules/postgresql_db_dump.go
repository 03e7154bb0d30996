package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// pgDumpArgs are postgresql_db's target, target_opts and dump_extra_args.
func pgDumpArgs() []module.Arg {
	return []module.Arg{
		{Name: "target", Type: module.Path, Expand: true, Default: "", Doc: "With state=dump or restore, the file on the target to dump to or restore " +
			"from; its extension picks the format as in Ansible: .sql plain (psql to restore), .tar, .pgc (custom) and .dir (directory) with " +
			"pg_restore, .gz (pigz or gzip), .bz2 and .xz compressed plain SQL. Default: NAME.sql in the login directory. With state=rename, the new name."},
		{Name: "target_opts", Type: module.String, Default: "", Doc: "More arguments for pg_dump, or for pg_restore or psql, as shell text (as in Ansible)."},
		{Name: "dump_extra_args", Type: module.String, Doc: "More arguments for pg_dump with state=dump, as shell text; not the format options the extension sets."},
	}
}

// pgDumpCommand is the shell command of a dump or restore of db to or
// from target (a shell word); the password, when given, comes first on
// standard input.
func pgDumpCommand(a module.Args, c pgConn, db, target, ext string) string {
	c.RawEncoding = true // pg_dump and psql choose the dump's encoding themselves
	ci := shell.Quote(c.conninfo(db))
	opts := a.String("target_opts")
	comp := map[string]string{".gz": "$(command -v pigz || echo gzip)", ".bz2": "bzip2", ".xz": "xz"}[ext]
	var cmd string
	if a.String("state") == "dump" {
		format := map[string]string{".tar": " --format=t", ".pgc": " --format=c", ".dir": " --format=d"}[ext]
		cmd = "pg_dump -d " + ci + format + " " + a.String("dump_extra_args") + " " + opts
		switch {
		case comp != "":
			cmd = pgPipeStatus(cmd, comp+" > "+target)
		case ext == ".dir":
			cmd += " -f " + target
		default:
			cmd += " > " + target
		}
	} else {
		restore := map[string]string{".tar": "Tar", ".pgc": "Custom", ".dir": "Directory"}[ext]
		switch {
		case restore == "Directory":
			cmd = "pg_restore -d " + ci + " --format=Directory " + opts + " " + target
		case restore != "":
			cmd = "pg_restore -d " + ci + " --format=" + restore + " " + opts + " < " + target
		case ext == ".sql":
			cmd = "psql -d " + ci + " --file=" + target + " " + opts
		case comp != "":
			cat := map[string]string{".gz": "zcat", ".bz2": "bzcat", ".xz": "xzcat"}[ext]
			cmd = pgPipeStatus(cat+" "+target, "psql -d "+ci+" "+opts)
		default:
			cmd = "psql -d " + ci + " " + opts + " < " + target
		}
	}
	if c.Password != "" {
		cmd = "IFS= read -r PGPASSWORD || exit 2; export PGPASSWORD; " + cmd
	}
	return cmd
}

// pgPipeStatus runs first | second and exits with first's status when
// it failed, else second's (POSIX sh has no pipefail).
func pgPipeStatus(first, second string) string {
	return `st=$(mktemp) || exit 1; { ` + first + `; echo $? > "$st"; } | ` + second + `; rc2=$?; rc1=$(cat "$st"); rm -f "$st"; ` +
		`[ "$rc1" = 0 ] || exit "$rc1"; exit $rc2`
}

// planPgDump plans state=dump or restore: always a change, as in Ansible.
func planPgDump(h *module.Host, a module.Args, c pgConn) (*module.Plan, error) {
	if strings.ContainsAny(c.Password, "\n\x00") {
		return module.Unchanged(module.Failed("login_password must not contain a newline or NUL")), nil
	}
	name := a.String("name")
	target, ext := a.String("target"), ""
	word := remoteWord(target)
	if target == "" {
		word, ext = `"$PWD"/`+shell.Quote(name+".sql"), ".sql"
	} else {
		ext = path.Ext(target)
	}
	cmd := pgDumpCommand(a, c, name, word, ext)
	base := module.Result{"db": name, "executed_commands": []string{cmd}}
	return &module.Plan{Changed: true, Result: base, Apply: func(ctx context.Context) (module.Result, error) {
		run := connection.Command{Cmd: cmd}
		if c.Password != "" {
			run.Stdin = strings.NewReader(c.Password + "\n")
		}
		res, err := h.RunWith(ctx, run)
		if err != nil {
			return nil, fmt.Errorf("postgresql_db %s on %s: %w", a.String("state"), h.Name, err)
		}
		r := module.Result{"db": name, "cmd": cmd, "rc": res.ExitCode, "stderr": string(res.Stderr), "executed_commands": []string{cmd}}
		if res.ExitCode != 0 {
			r["failed"], r["msg"], r["stdout"] = true, maskSecrets(string(res.Stderr), []string{c.Password}), string(res.Stdout)
			return r, nil
		}
		r["msg"] = string(res.Stdout)
		return r, nil
	}}, nil
}

// planPgRename plans state=rename as Ansible's rename_db.
func planPgRename(ctx context.Context, h *module.Host, a module.Args, c pgConn) (*module.Plan, error) {
	name, target := a.String("name"), a.String("target")
	base := module.Result{"db": name, "executed_commands": []string{}}
	if target == "" {
		return module.Unchanged(module.Failed("The \"target\" option must be defined when the \"rename\" option is used.")), nil
	}
	if target == name {
		return module.Unchanged(module.Failed("The \"name/db\" option and the \"target\" option cannot be the same.")), nil
	}
	var src, dst pgDBInfo
	for _, x := range []struct {
		db  string
		out *pgDBInfo
	}{{name, &src}, {target, &dst}} {
		sql, err := pgDBInfoSQL(x.db)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		if err := psqlJSON(ctx, h, c, a.String("maintenance_db"), sql, x.out); err != nil {
			return pgFailure(err, base)
		}
	}
	switch {
	case src.Exists && dst.Exists:
		return module.Unchanged(module.Failed("Both the source and the target databases exist.")), nil
	case !src.Exists && dst.Exists:
		return module.Unchanged(base), nil
	case !src.Exists:
		return module.Unchanged(module.Failed("The source and the target databases do not exist.")), nil
	}
	var q sqlQuoter
	stmt := "ALTER DATABASE " + q.ident(name) + " RENAME TO " + q.ident(target)
	if q.err != nil {
		return module.Unchanged(module.Failed("%v", q.err)), nil
	}
	base["executed_commands"] = []string{stmt}
	return &module.Plan{Changed: true, Result: base,
		Apply: pgApply(h, c, a.String("maintenance_db"), []string{stmt}, []string{stmt}, module.Result{"db": name, "executed_commands": []string{stmt}})}, nil
}
