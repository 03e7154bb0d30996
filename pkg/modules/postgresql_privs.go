package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// PostgresqlPrivs grants and revokes privileges on databases, schemas,
// tables and sequences.
type PostgresqlPrivs struct{}

var _ module.Module = (*PostgresqlPrivs)(nil)

// Spec implements module.Module.
func (PostgresqlPrivs) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "database", Aliases: []string{"db", "login_db"}, Type: module.String, Required: true, Doc: "Database to connect to (and, for type=database, the default object)."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present grants, absent revokes."},
		{Name: "privs", Aliases: []string{"priv"}, Type: module.String, Required: true,
			Doc: "Comma-separated privileges (SELECT,INSERT / CONNECT,CREATE,TEMPORARY / USAGE / ALL)."},
		{Name: "type", Type: module.String, Default: "table", Choices: []string{"database", "schema", "table", "sequence"},
			Doc: "Kind of object. default_privs, function, foreign data types and group membership are not supported yet."},
		{Name: "objs", Aliases: []string{"obj"}, Type: module.List, Elements: module.String,
			Doc: "Objects to grant on: names (in schema for tables and sequences), or ALL_IN_SCHEMA for every table or sequence of schema. Defaults to database for type=database."},
		{Name: "schema", Type: module.String, Doc: "Schema of the tables or sequences (default public)."},
		{Name: "roles", Aliases: []string{"role"}, Type: module.List, Elements: module.String, Required: true,
			Doc: "Roles to grant to or revoke from; PUBLIC for everyone."},
		{Name: "grant_option", Aliases: []string{"admin_option"}, Type: module.Bool,
			Doc: "With state=present: yes grants WITH GRANT OPTION, no removes an existing grant option. With state=absent: yes revokes only the grant option."},
		{Name: "fail_on_role", Type: module.Bool, Default: true, Doc: "Fail when a role does not exist; with no, such roles are skipped with a warning."},
		{Name: "usage_on_types", Type: module.Bool, Default: true, Doc: "Accepted for compatibility (deprecated in Ansible): Ansible uses it only with " +
			"type=default_privs, to add USAGE ON TYPES, which tend does not support yet; ignored otherwise, as in Ansible."},
		{Name: "password", Type: module.String, NoLog: true, Doc: "Deprecated spelling of login_password (the password to log in with); not both."},
		{Name: "target_roles", Type: module.String, Doc: "Roles whose default privileges type=default_privs changes; Ansible uses it with that type only, which tend does not support yet, so it has no effect."},
	}
	return &module.Spec{
		Name:  "postgresql_privs",
		Short: "Grant or revoke privileges on PostgreSQL databases, schemas, tables and sequences",
		Description: `Grants or revokes privileges with psql run on the target (no driver needed
there); run it with become_user: postgres for peer authentication, or give login_host and
friends for a remote server.

One query reads the access control lists of all objects (aclexplode of datacl, nspacl,
relacl, or the built-in defaults when they are NULL) and compares the explicit grants to
each role with what is asked, so a privilege a role has only through PUBLIC or a group
is still granted, as in Ansible. Only missing grants are granted and only present
grants are revoked, so a converged run changes nothing. ALL expands to every privilege
of the object type. Returns queries (the statements run or, in check mode, that would run).`,
		Args:              append(args, pgConnArgs()...),
		MutuallyExclusive: [][]string{{"password", "login_password"}},
		Check:             module.CheckFull,
		Examples: `- name: Let the application connect
  community.postgresql.postgresql_privs:
    database: connect
    type: database
    privs: CONNECT,TEMPORARY
    roles: connect
  become: true
  become_user: postgres

- name: Read-only access to every table
  postgresql_privs:
    database: connect
    type: table
    schema: public
    objs: ALL_IN_SCHEMA
    privs: SELECT
    roles: reporting
  become: true
  become_user: postgres`,
	}
}

// pgPrivKinds describes each object type: its privileges (what ALL
// means), the catalog query listing objects with their ACLs, and its SQL
// keyword.
var pgPrivKinds = map[string]struct {
	all     []string
	keyword string
}{
	"database": {[]string{"CREATE", "CONNECT", "TEMPORARY"}, "DATABASE"},
	"schema":   {[]string{"CREATE", "USAGE"}, "SCHEMA"},
	"table":    {[]string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}, "TABLE"},
	"sequence": {[]string{"USAGE", "SELECT", "UPDATE"}, "SEQUENCE"},
}

// parsePrivs validates privs for an object type and expands ALL.
func parsePrivs(kind, privs string) ([]string, error) {
	k := pgPrivKinds[kind]
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(privs, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		add := []string{p}
		switch p {
		case "ALL", "ALL PRIVILEGES":
			add = k.all
		case "TEMP":
			add = []string{"TEMPORARY"}
		}
		for _, a := range add {
			if !pgContains(k.all, a) {
				return nil, fmt.Errorf("privilege %s does not apply to a %s (valid: %s, ALL)", a, kind, strings.Join(k.all, ", "))
			}
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("privs is empty")
	}
	return out, nil
}

func pgContains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// pgPrivsInfo is what the inspection query returns.
type pgPrivsInfo struct {
	Objs  []string `json:"objs"`
	Roles []string `json:"roles"`
	// ACL holds explicit grants: [object, grantee ("PUBLIC" or a role),
	// privilege, grantable].
	ACL [][]any `json:"acl"`
}

// pgPrivsSQL builds the one query listing the objects, existing roles and
// explicit grants. allInSchema lists every table or sequence of schema.
func pgPrivsSQL(kind, schema string, objs, roles []string, allInSchema bool) (string, error) {
	var q sqlQuoter
	var objq string
	switch kind {
	case "database":
		objq = `SELECT datname AS name, coalesce(datacl, acldefault('d', datdba)) AS acl FROM pg_database WHERE datname IN (` + q.litList(objs) + `)`
	case "schema":
		objq = `SELECT nspname AS name, coalesce(nspacl, acldefault('n', nspowner)) AS acl FROM pg_namespace WHERE nspname IN (` + q.litList(objs) + `)`
	case "table", "sequence":
		relkinds, def := `'r','v','m','f','p'`, "r"
		if kind == "sequence" {
			relkinds, def = `'S'`, "s"
		}
		objq = `SELECT c.relname AS name, coalesce(c.relacl, acldefault('` + def + `', c.relowner)) AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN (` + relkinds + `) AND n.nspname = ` + q.lit(schema)
		if !allInSchema {
			objq += ` AND c.relname IN (` + q.litList(objs) + `)`
		}
	}
	sql := `WITH o AS (` + objq + `)
SELECT json_build_object(
 'objs', (SELECT coalesce(json_agg(name ORDER BY name), '[]'::json) FROM o),
 'roles', (SELECT coalesce(json_agg(rolname), '[]'::json) FROM pg_roles WHERE rolname IN (` + q.litList(roles) + `)),
 'acl', (SELECT coalesce(json_agg(json_build_array(o.name, coalesce(r.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable)), '[]'::json)
   FROM o, LATERAL aclexplode(o.acl) a LEFT JOIN pg_roles r ON r.oid = a.grantee))`
	return sql, q.err
}

// pgACLKey is one explicit grant: a privilege on an object to a role.
type pgACLKey struct{ obj, role, priv string }

// pgACL reads the [object, role, privilege, grantable] rows of the probe
// into grants and whether each carries the grant option.
func pgACL(acl [][]any) map[pgACLKey]bool {
	have := map[pgACLKey]bool{}
	for _, e := range acl {
		if len(e) != 4 {
			continue
		}
		o, _ := e[0].(string)
		r, _ := e[1].(string)
		p, _ := e[2].(string)
		g, _ := e[3].(bool)
		have[pgACLKey{o, r, p}] = g
	}
	return have
}

// pgPrivChanges sorts the wanted privileges of one object and role into
// those to grant, those whose grant option is revoked and those revoked.
// held says whether the role has a privilege and with the grant option.
// grant_option unset leaves the option as it is.
func pgPrivChanges(state string, grantOpt *bool, privs []string, held func(priv string) (grantable, ok bool)) (grant, revokeOpt, revoke []string) {
	var regrant []string
	for _, p := range privs {
		g, ok := held(p)
		switch {
		case state == "present" && !ok:
			grant = append(grant, p)
		case state == "present" && grantOpt != nil && *grantOpt && !g:
			regrant = append(regrant, p)
		case state == "present" && grantOpt != nil && !*grantOpt && g:
			revokeOpt = append(revokeOpt, p)
		case state == "absent" && ok && grantOpt != nil && *grantOpt:
			if g {
				revokeOpt = append(revokeOpt, p)
			}
		case state == "absent" && ok:
			revoke = append(revoke, p)
		}
	}
	return append(grant, regrant...), revokeOpt, revoke
}

// pgPrivsStatements compares the explicit grants with the wish and
// returns the GRANT/REVOKE statements, one per object and role.
func pgPrivsStatements(kind, schema, state string, grantOpt *bool, privs, objs, roles []string, acl [][]any) ([]string, error) {
	var q sqlQuoter
	have := pgACL(acl)
	objName := func(o string) string {
		if kind == "table" || kind == "sequence" {
			return q.ident(schema) + "." + q.ident(o)
		}
		return q.ident(o)
	}
	roleName := func(r string) string {
		if strings.EqualFold(r, "PUBLIC") {
			return "PUBLIC"
		}
		return q.ident(r)
	}
	withOpt := ""
	if grantOpt != nil && *grantOpt {
		withOpt = " WITH GRANT OPTION"
	}
	kw := pgPrivKinds[kind].keyword
	var stmts []string
	for _, o := range objs {
		for _, r := range roles {
			rk := r
			if strings.EqualFold(r, "PUBLIC") {
				rk = "PUBLIC"
			}
			grant, revokeOpt, revoke := pgPrivChanges(state, grantOpt, privs, func(p string) (bool, bool) {
				g, ok := have[pgACLKey{o, rk, p}]
				return g, ok
			})
			on := " ON " + kw + " " + objName(o)
			if len(grant) > 0 {
				stmts = append(stmts, "GRANT "+strings.Join(grant, ", ")+on+" TO "+roleName(r)+withOpt)
			}
			if len(revokeOpt) > 0 {
				stmts = append(stmts, "REVOKE GRANT OPTION FOR "+strings.Join(revokeOpt, ", ")+on+" FROM "+roleName(r))
			}
			if len(revoke) > 0 {
				stmts = append(stmts, "REVOKE "+strings.Join(revoke, ", ")+on+" FROM "+roleName(r))
			}
		}
	}
	return stmts, q.err
}

// Plan implements module.Module.
func (PostgresqlPrivs) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	kind := args.String("type")
	db := args.String("database")
	privs, err := parsePrivs(kind, args.String("privs"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	objs := args.List("objs")
	if len(objs) == 0 {
		if kind != "database" {
			return module.Unchanged(module.Failed("objs is required for type=%s", kind)), nil
		}
		objs = []string{db}
	}
	schema := args.String("schema")
	if schema == "" && (kind == "table" || kind == "sequence") {
		schema = "public"
	}
	if schema != "" && kind != "table" && kind != "sequence" {
		return module.Unchanged(module.Failed("schema applies only to type=table and type=sequence")), nil
	}
	allInSchema := len(objs) == 1 && objs[0] == "ALL_IN_SCHEMA"
	if allInSchema && kind != "table" && kind != "sequence" {
		return module.Unchanged(module.Failed("ALL_IN_SCHEMA applies only to type=table and type=sequence")), nil
	}
	roles := args.List("roles")
	var grantOpt *bool
	if args.Has("grant_option") {
		b := args.Bool("grant_option")
		grantOpt = &b
	}
	c, err := pgConnFromArgs(args)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if pw := args.String("password"); pw != "" {
		c.Password = pw
	}
	sql, err := pgPrivsSQL(kind, schema, objs, roles, allInSchema)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	var info pgPrivsInfo
	if err := psqlJSON(ctx, h, c, db, sql, &info); err != nil {
		return pgFailure(err, nil)
	}
	if allInSchema {
		objs = info.Objs
	} else if missing := missingNames(objs, info.Objs); len(missing) > 0 {
		return module.Unchanged(module.Failed("%s %s does not exist in database %s", kind, strings.Join(missing, ", "), db)), nil
	}
	var keep []string
	for _, r := range roles {
		if strings.EqualFold(r, "PUBLIC") || pgContains(info.Roles, r) {
			keep = append(keep, r)
			continue
		}
		if args.Bool("fail_on_role") {
			return module.Unchanged(module.Failed("role %s does not exist", r)), nil
		}
		if h.Warn != nil {
			h.Warn(fmt.Sprintf("role %s does not exist, skipped", r))
		}
	}
	stmts, err := pgPrivsStatements(kind, schema, args.String("state"), grantOpt, privs, objs, keep, info.ACL)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	base := module.Result{"queries": stmtsOrEmpty(stmts)}
	if len(stmts) == 0 {
		return module.Unchanged(base), nil
	}
	return &module.Plan{
		Changed: true,
		Result:  base,
		Apply:   pgApply(h, c, db, stmts, stmts, module.Result{}),
	}, nil
}

// missingNames returns the wanted names that are not in have.
func missingNames(want, have []string) []string {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	var out []string
	for _, w := range want {
		if !set[w] {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}
