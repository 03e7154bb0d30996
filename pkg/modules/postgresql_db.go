package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// PostgresqlDB creates, changes and drops PostgreSQL databases.
type PostgresqlDB struct{}

var _ module.Module = (*PostgresqlDB)(nil)

// Spec implements module.Module.
func (PostgresqlDB) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "name", Aliases: []string{"db", "datname"}, Type: module.String, Required: true,
			Doc: "Name of the database."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent", "dump", "restore", "rename"},
			Doc: "present creates the database (and fixes owner and conn_limit); absent drops it; dump writes it to target with pg_dump, " +
				"restore loads target with psql or pg_restore (both always report changed, as in Ansible; check mode runs nothing); " +
				"rename renames it to target (ok when only target exists)."},
		{Name: "owner", Type: module.String, Doc: "Role owning the database; changed with ALTER DATABASE when it differs."},
		{Name: "encoding", Type: module.String, Doc: "Encoding of a new database (UTF8...). An existing database with another encoding is a failure: it cannot be changed."},
		{Name: "lc_collate", Type: module.String, Doc: "LC_COLLATE of a new database; like encoding, never changed."},
		{Name: "lc_ctype", Type: module.String, Doc: "LC_CTYPE of a new database; like encoding, never changed."},
		{Name: "template", Type: module.String, Doc: "Template the database is created from (template1 by default on the server; use template0 with a non-default encoding)."},
		{Name: "conn_limit", Type: module.String, Doc: "Connection limit (-1: unlimited); changed when it differs."},
		{Name: "tablespace", Type: module.String, Expand: true, Doc: "Default tablespace of a new database."},
		{Name: "force", Type: module.Bool, Default: false, Doc: "With state=absent, terminate the database's connections first (DROP DATABASE ... WITH (FORCE), PostgreSQL 13+)."},
		{Name: "maintenance_db", Type: module.String, Default: "postgres", Doc: "Database psql connects to while creating or dropping."},
	}
	return &module.Spec{
		Name:  "postgresql_db",
		Short: "Add or remove PostgreSQL databases",
		Description: `Creates or drops a PostgreSQL database with psql run on the target; no
database driver is needed there. By default it connects over the local unix socket as
login_user (postgres), which with peer authentication means the task needs
become: true and become_user: postgres. With login_host it connects to a server over TCP.

One query finds whether the database exists and with which owner, encoding, collation
and connection limit; only what differs is changed. Encoding, lc_collate and lc_ctype of
an existing database cannot be changed: a mismatch is reported as a failure.
Identifiers and literals are quoted for SQL, so any name is safe. Returns db and
queries (also as executed_commands), the statements run or, in check mode, that would run.`,
		Args:  append(append(args, pgDumpArgs()...), pgConnArgs()...),
		Check: module.CheckFull,
		Examples: `- name: Application database
  community.postgresql.postgresql_db:
    name: connect
    owner: connect
    encoding: UTF8
    template: template0
  become: true
  become_user: postgres

- name: Drop the old database
  postgresql_db:
    name: legacy
    state: absent
    force: true
  become: true
  become_user: postgres`,
	}
}

type pgDBInfo struct {
	Exists    bool   `json:"exists"`
	Owner     string `json:"owner"`
	Encoding  string `json:"encoding"`
	Collate   string `json:"collate"`
	Ctype     string `json:"ctype"`
	ConnLimit int    `json:"conn_limit"`
}

// pgDBInfoSQL is the one query describing database name.
func pgDBInfoSQL(name string) (string, error) {
	var q sqlQuoter
	sql := `SELECT json_build_object('exists', count(*) > 0, 'owner', max(pg_get_userbyid(datdba)),
 'encoding', max(pg_encoding_to_char(encoding)), 'collate', max(datcollate::text),
 'ctype', max(datctype::text), 'conn_limit', coalesce(max(datconnlimit), -1))
 FROM pg_database WHERE datname = ` + q.lit(name)
	return sql, q.err
}

// normEncoding compares encodings the way the server names them:
// "utf-8", "UTF8" and "utf8" are one.
func normEncoding(e string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(e, "-", ""), "_", ""))
}

// pgDBStatements works out what to run for the wanted state, or a failure
// message when the wish cannot be met.
func pgDBStatements(args module.Args, cur pgDBInfo) (stmts []string, fail string, err error) {
	var q sqlQuoter
	name := args.String("name")
	if args.String("state") == "absent" {
		if !cur.Exists {
			return nil, "", nil
		}
		s := "DROP DATABASE " + q.ident(name)
		if args.Bool("force") {
			s += " WITH (FORCE)"
		}
		return []string{s}, "", q.err
	}
	connLimit := args.String("conn_limit")
	if connLimit != "" {
		if _, err := strconv.Atoi(connLimit); err != nil {
			return nil, fmt.Sprintf("conn_limit must be an integer, got %q", connLimit), nil
		}
	}
	if !cur.Exists {
		s := "CREATE DATABASE " + q.ident(name)
		if o := args.String("owner"); o != "" {
			s += " OWNER " + q.ident(o)
		}
		if t := args.String("template"); t != "" {
			s += " TEMPLATE " + q.ident(t)
		}
		if e := args.String("encoding"); e != "" {
			s += " ENCODING " + q.lit(e)
		}
		if c := args.String("lc_collate"); c != "" {
			s += " LC_COLLATE " + q.lit(c)
		}
		if c := args.String("lc_ctype"); c != "" {
			s += " LC_CTYPE " + q.lit(c)
		}
		if t := args.String("tablespace"); t != "" {
			s += " TABLESPACE " + q.ident(t)
		}
		if connLimit != "" {
			s += " CONNECTION LIMIT " + connLimit
		}
		return []string{s}, "", q.err
	}
	if e := args.String("encoding"); e != "" && normEncoding(e) != normEncoding(cur.Encoding) {
		return nil, fmt.Sprintf("database %q has encoding %s, not %s: the encoding of an existing database cannot be changed", name, cur.Encoding, e), nil
	}
	if c := args.String("lc_collate"); c != "" && c != cur.Collate {
		return nil, fmt.Sprintf("database %q has LC_COLLATE %s, not %s: it cannot be changed", name, cur.Collate, c), nil
	}
	if c := args.String("lc_ctype"); c != "" && c != cur.Ctype {
		return nil, fmt.Sprintf("database %q has LC_CTYPE %s, not %s: it cannot be changed", name, cur.Ctype, c), nil
	}
	if o := args.String("owner"); o != "" && o != cur.Owner {
		stmts = append(stmts, "ALTER DATABASE "+q.ident(name)+" OWNER TO "+q.ident(o))
	}
	if connLimit != "" && connLimit != strconv.Itoa(cur.ConnLimit) {
		stmts = append(stmts, "ALTER DATABASE "+q.ident(name)+" WITH CONNECTION LIMIT "+connLimit)
	}
	return stmts, "", q.err
}

// Plan implements module.Module.
func (PostgresqlDB) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	c, err := pgConnFromArgs(args)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	switch args.String("state") {
	case "dump", "restore":
		return planPgDump(h, args, c)
	case "rename":
		return planPgRename(ctx, h, args, c)
	}
	name := args.String("name")
	base := module.Result{"db": name}
	sql, err := pgDBInfoSQL(name)
	if err != nil {
		return module.Unchanged(module.Failed("name: %v", err)), nil
	}
	var cur pgDBInfo
	if err := psqlJSON(ctx, h, c, args.String("maintenance_db"), sql, &cur); err != nil {
		return pgFailure(err, base)
	}
	stmts, fail, err := pgDBStatements(args, cur)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if fail != "" {
		r := module.Failed("%s", fail)
		r["db"] = name
		return module.Unchanged(r), nil
	}
	base["queries"] = stmtsOrEmpty(stmts)
	base["executed_commands"] = stmtsOrEmpty(stmts)
	if len(stmts) == 0 {
		return module.Unchanged(base), nil
	}
	return &module.Plan{
		Changed: true,
		Result:  base,
		Diff: []module.Diff{{
			BeforeHeader: "database " + name, AfterHeader: "database " + name,
			Before: pgDBDiffText(cur), After: strings.Join(stmts, ";\n") + ";\n",
		}},
		Apply: pgApply(h, c, args.String("maintenance_db"), stmts, stmts, module.Result{"db": name, "executed_commands": stmts}),
	}, nil
}

func pgDBDiffText(cur pgDBInfo) string {
	if !cur.Exists {
		return "state: absent\n"
	}
	return fmt.Sprintf("state: present\nowner: %s\nencoding: %s\nlc_collate: %s\nlc_ctype: %s\nconn_limit: %d\n",
		cur.Owner, cur.Encoding, cur.Collate, cur.Ctype, cur.ConnLimit)
}

func stmtsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
