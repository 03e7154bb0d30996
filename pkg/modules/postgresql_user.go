package modules

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// PostgresqlUser creates, changes and drops PostgreSQL roles.
type PostgresqlUser struct{}

var _ module.Module = (*PostgresqlUser)(nil)

// Spec implements module.Module.
func (PostgresqlUser) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "name", Aliases: []string{"user"}, Type: module.String, Required: true, Doc: "Name of the role."},
		{Name: "password", Type: module.String, NoLog: true,
			Doc: "Password: plain text, or already hashed (md5 followed by 32 hex digits, or a SCRAM-SHA-256$... verifier). An empty string removes the password. A plain password is compared with the stored md5 hash or SCRAM verifier on the controller, so an unchanged password is not set again."},
		{Name: "encrypted", Type: module.Bool, Default: true, Doc: "Kept for Ansible compatibility: servers since PostgreSQL 10 always store passwords hashed (with password_encryption)."},
		{Name: "role_attr_flags", Type: module.String, Default: "",
			Doc: "Comma-separated attributes: [NO]SUPERUSER, [NO]CREATEROLE, [NO]CREATEDB, [NO]INHERIT, [NO]LOGIN, [NO]REPLICATION, [NO]BYPASSRLS. Only the listed attributes are enforced."},
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present creates or updates the role (with LOGIN when created, like CREATE USER); absent drops it."},
		{Name: "expires", Type: module.String, Doc: "VALID UNTIL timestamp of the password ('infinity' for none); compared by the server as timestamptz."},
		{Name: "no_password_changes", Type: module.Bool, Default: false, Doc: "Never change the password (or other attributes) of an existing role; only set it when creating."},
		{Name: "conn_limit", Type: module.Int, Doc: "Connection limit of the role (-1: unlimited)."},
		{Name: "db", Aliases: []string{"login_db"}, Type: module.String, Default: "postgres",
			Doc: "Database to connect to, and the database priv applies to."},
		{Name: "priv", Type: module.String,
			Doc: "Deprecated in Ansible (use postgresql_privs): database privileges to grant on db, separated by commas (CONNECT,TEMPORARY,CREATE or ALL). The table:PRIVS form is not supported."},
		{Name: "comment", Type: module.String, Doc: "COMMENT ON ROLE; set when it differs."},
		{Name: "groups", Type: module.List, Elements: module.String, Doc: "Roles to grant to this role (GRANT group TO role) when it is not a member yet; other memberships are kept, as in Ansible."},
		{Name: "fail_on_user", Aliases: []string{"fail_on_role"}, Type: module.Bool, Default: true, Doc: "With state=absent, fail (\"Unable to remove user\") " +
			"when the role cannot be dropped (it still owns objects or holds privileges); false reports ok with user_removed: false instead."},
	}
	return &module.Spec{
		Name:  "postgresql_user",
		Short: "Create, alter or remove a PostgreSQL role",
		Description: `Manages a PostgreSQL role through psql run on the target (no driver needed
there). By default psql connects over the unix socket as login_user postgres, so run the
task with become: true and become_user: postgres (peer authentication).

One query reads the role's attributes from pg_authid (which needs a superuser login) and
only what differs is altered. Passwords are compared without resetting them: a stored
SCRAM-SHA-256 verifier is checked on the controller by deriving the keys from the given
password with the stored salt and iteration count (RFC 5802); a stored md5 hash is
compared with md5(password || name). Non-ASCII passwords are used as UTF-8 bytes without
SASLprep normalisation, so one that normalisation would change is reported as changed on
every run. Passwords never appear in results, diffs or command lines; queries are
returned with the password masked.`,
		Args:  append(args, pgConnArgs()...),
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Application role
  community.postgresql.postgresql_user:
    name: connect
    password: "{{ connect_db_password }}"
    role_attr_flags: LOGIN,NOSUPERUSER,NOCREATEDB
  become: true
  become_user: postgres`,
	}
}

// pgRoleFlags maps role_attr_flags names to pg_authid columns.
var pgRoleFlags = map[string]string{
	"SUPERUSER": "rolsuper", "CREATEROLE": "rolcreaterole", "CREATEDB": "rolcreatedb",
	"INHERIT": "rolinherit", "LOGIN": "rolcanlogin", "REPLICATION": "rolreplication",
	"BYPASSRLS": "rolbypassrls",
}

// parseRoleFlags turns "LOGIN,NOSUPERUSER" into flag name -> wanted value.
func parseRoleFlags(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToUpper(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		want := true
		name := f
		if _, ok := pgRoleFlags[f]; !ok && strings.HasPrefix(f, "NO") {
			name, want = f[2:], false
		}
		if _, ok := pgRoleFlags[name]; !ok {
			return nil, fmt.Errorf("invalid role_attr_flags %q (valid: [NO]SUPERUSER, [NO]CREATEROLE, [NO]CREATEDB, [NO]INHERIT, [NO]LOGIN, [NO]REPLICATION, [NO]BYPASSRLS)", f)
		}
		if prev, dup := out[name]; dup && prev != want {
			return nil, fmt.Errorf("role_attr_flags sets both %s and NO%s", name, name)
		}
		out[name] = want
	}
	return out, nil
}

type pgRoleInfo struct {
	Exists       bool            `json:"exists"`
	Flags        map[string]bool `json:"flags"`
	Password     *string         `json:"password"`
	ConnLimit    int             `json:"conn_limit"`
	ExpiresEqual bool            `json:"expires_equal"`
	ValidUntil   *string         `json:"valid_until"`
	Comment      *string         `json:"comment"`
	// MissingPrivs are the database privileges of priv the role lacks.
	MissingPrivs []string `json:"missing_privs"`
	// Groups are the roles this role is a member of.
	Groups []string `json:"groups"`
	// PasswordUnknown is set when pg_authid could not be read (a login
	// that is not superuser, managed services): a given password is then
	// always set again, as Ansible does.
	PasswordUnknown bool `json:"-"`
}

// pgRoleInfoSQL builds the one query describing role name; expires, when
// set, is compared by the server, and privs are checked on db. Without
// authid it reads pg_roles, readable by every role, which hides passwords.
func pgRoleInfoSQL(name, expires, db string, privs []string, authid bool) (string, error) {
	var q sqlQuoter
	flags := make([]string, 0, len(pgRoleFlags))
	for f, col := range pgRoleFlags {
		flags = append(flags, q.lit(f)+", "+col)
	}
	sort.Strings(flags)
	expEq := "true"
	if expires != "" {
		expEq = "rolvaliduntil IS NOT DISTINCT FROM " + q.lit(expires) + "::timestamptz"
	}
	missing := "'[]'::json"
	if len(privs) > 0 {
		missing = "(SELECT coalesce(json_agg(p), '[]'::json) FROM unnest(ARRAY[" + q.litList(privs) + "]) p" +
			" WHERE NOT has_database_privilege(a.oid, " + q.lit(db) + ", p))"
	}
	sql := `SELECT coalesce((SELECT json_build_object('exists', true,
 'flags', json_build_object(` + strings.Join(flags, ", ") + `),
 'password', rolpassword, 'conn_limit', rolconnlimit, 'valid_until', rolvaliduntil::text,
 'expires_equal', ` + expEq + `, 'comment', shobj_description(a.oid, 'pg_authid'),
 'missing_privs', ` + missing + `,
 'groups', (SELECT coalesce(json_agg(g.rolname), '[]'::json) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = a.oid))
 FROM pg_authid a WHERE rolname = ` + q.lit(name) + `), '{"exists": false}'::json)`
	if !authid {
		sql = strings.Replace(sql, "'password', rolpassword", "'password', NULL::text", 1)
		sql = strings.Replace(sql, "FROM pg_authid a", "FROM pg_roles a", 1)
	}
	return sql, q.err
}

var scramRe = regexp.MustCompile(`^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$`)
var md5Re = regexp.MustCompile(`^md5[0-9a-f]{32}$`)

// passwordMatches reports whether password (plain or pre-hashed) is the
// one stored for user as stored (pg_authid.rolpassword; nil: none).
func passwordMatches(user, password string, stored *string) bool {
	if password == "" {
		return stored == nil
	}
	if stored == nil {
		return false
	}
	if scramRe.MatchString(password) || md5Re.MatchString(password) {
		return password == *stored
	}
	if md5Re.MatchString(*stored) {
		sum := md5.Sum([]byte(password + user))
		return "md5"+hex.EncodeToString(sum[:]) == *stored
	}
	if scramRe.MatchString(*stored) {
		return scramVerify(password, *stored)
	}
	// A plain-text password stored by an old server.
	return password == *stored
}

// scramVerify checks password against a SCRAM-SHA-256 verifier
// "SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey" (RFC 5802/7677).
func scramVerify(password, verifier string) bool {
	m := scramRe.FindStringSubmatch(verifier)
	if m == nil {
		return false
	}
	iter, err := strconv.Atoi(m[1])
	if err != nil || iter <= 0 || iter > 10_000_000 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(m[2])
	storedKey, err2 := base64.StdEncoding.DecodeString(m[3])
	serverKey, err3 := base64.StdEncoding.DecodeString(m[4])
	if err1 != nil || err2 != nil || err3 != nil {
		return false
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return false
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	sk := sha256.Sum256(clientKey)
	return hmac.Equal(sk[:], storedKey) && hmac.Equal(mac(salted, "Server Key"), serverKey)
}

// pgUserPlan is what postgresql_user would run: statements and the same
// statements with the password masked.
type pgUserPlan struct {
	stmts, shown []string
	changes      []string // human-readable, for the diff
}

func (p *pgUserPlan) add(stmt, shown, change string) {
	p.stmts = append(p.stmts, stmt)
	p.shown = append(p.shown, shown)
	p.changes = append(p.changes, change)
}

const maskedPassword = "'********'"

// parsePrivList parses priv (CONNECT,TEMP or ALL) into database privileges.
func parsePrivList(priv string) ([]string, error) {
	if priv == "" {
		return nil, nil
	}
	if strings.Contains(priv, ":") || strings.Contains(priv, "/") {
		return nil, fmt.Errorf("priv %q: only database privileges (CONNECT,TEMPORARY,CREATE or ALL) are supported; use postgresql_privs for tables", priv)
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(priv, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		var add []string
		switch p {
		case "":
		case "ALL", "ALL PRIVILEGES":
			add = []string{"CREATE", "CONNECT", "TEMPORARY"}
		case "TEMP", "TEMPORARY":
			add = []string{"TEMPORARY"}
		case "CONNECT", "CREATE":
			add = []string{p}
		default:
			return nil, fmt.Errorf("priv %q: %s is not a database privilege", priv, p)
		}
		for _, a := range add {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// pgUserStatements decides the statements for the wanted role state.
func pgUserStatements(args module.Args, cur pgRoleInfo, flags map[string]bool) (*pgUserPlan, error) {
	var q sqlQuoter
	p := &pgUserPlan{}
	role := q.ident(args.String("name"))
	if args.String("state") == "absent" {
		if cur.Exists {
			p.add("DROP ROLE "+role, "DROP ROLE "+role, "drop role")
		}
		return p, q.err
	}
	if !cur.Exists {
		s, shown := pgCreateRole(&q, args, role, flags)
		p.add(s, shown, "create role")
	} else if !args.Bool("no_password_changes") {
		if s, shown, changes := pgAlterRole(&q, args, cur, flags); s != "" {
			p.add("ALTER ROLE "+role+" WITH"+s, "ALTER ROLE "+role+" WITH"+shown, strings.Join(changes, ", "))
		}
	}
	if c, ok := args["comment"].(string); ok && (cur.Comment == nil || *cur.Comment != c) {
		s := "COMMENT ON ROLE " + role + " IS " + q.lit(c)
		p.add(s, s, "comment changed")
	}
	for _, g := range args.List("groups") {
		if g = strings.TrimSpace(g); g != "" && !(cur.Exists && slices.Contains(cur.Groups, g)) {
			s := "GRANT " + q.ident(g) + " TO " + role
			p.add(s, s, "grant "+g)
		}
	}
	if privs, _ := parsePrivList(args.String("priv")); len(privs) > 0 {
		missing := privs
		if cur.Exists {
			missing = cur.MissingPrivs
		}
		if len(missing) > 0 {
			s := "GRANT " + strings.Join(missing, ", ") + " ON DATABASE " + q.ident(args.String("db")) + " TO " + role
			p.add(s, s, "grant "+strings.Join(missing, ", "))
		}
	}
	return p, q.err
}

// pgPasswordClause sets the password, as run and as shown (masked).
func pgPasswordClause(q *sqlQuoter, password string) (string, string) {
	if password == "" {
		return " PASSWORD NULL", " PASSWORD NULL"
	}
	return " PASSWORD " + q.lit(password), " PASSWORD " + maskedPassword
}

func pgHasPassword(args module.Args) bool {
	v, ok := args["password"]
	return ok && v != nil
}

func sortedFlagNames(flags map[string]bool) []string {
	names := make([]string, 0, len(flags))
	for f := range flags {
		names = append(names, f)
	}
	sort.Strings(names)
	return names
}

// pgCreateRole returns the CREATE ROLE statement, as run and as shown. A
// new role can log in unless the flags say NOLOGIN.
func pgCreateRole(q *sqlQuoter, args module.Args, role string, flags map[string]bool) (string, string) {
	var opts []string
	s, shown := "CREATE ROLE "+role, "CREATE ROLE "+role
	if _, ok := flags["LOGIN"]; !ok {
		opts = append(opts, "LOGIN")
	}
	for _, f := range sortedFlagNames(flags) {
		opts = append(opts, flagWord(f, flags[f]))
	}
	if len(opts) > 0 {
		s += " WITH " + strings.Join(opts, " ")
		shown += " WITH " + strings.Join(opts, " ")
	}
	if pgHasPassword(args) {
		a, b := pgPasswordClause(q, args.String("password"))
		s, shown = s+a, shown+b
	}
	if e := args.String("expires"); e != "" {
		s += " VALID UNTIL " + q.lit(e)
		shown += " VALID UNTIL " + q.lit(e)
	}
	if args.Has("conn_limit") {
		l := " CONNECTION LIMIT " + strconv.Itoa(args.Int("conn_limit"))
		s, shown = s+l, shown+l
	}
	return s, shown
}

// pgAlterRole returns the clauses of ALTER ROLE ... WITH that bring the
// existing role to the arguments, as run and as shown, with a description
// of each change; "" when nothing changes.
func pgAlterRole(q *sqlQuoter, args module.Args, cur pgRoleInfo, flags map[string]bool) (s, shown string, changes []string) {
	var set []string
	for _, f := range sortedFlagNames(flags) {
		if cur.Flags[f] != flags[f] {
			set = append(set, flagWord(f, flags[f]))
			changes = append(changes, strings.ToLower(f)+": "+strconv.FormatBool(cur.Flags[f])+" -> "+strconv.FormatBool(flags[f]))
		}
	}
	if len(set) > 0 {
		s = " " + strings.Join(set, " ")
		shown = s
	}
	password := args.String("password")
	if pgHasPassword(args) && (cur.PasswordUnknown || !passwordMatches(args.String("name"), password, cur.Password)) {
		a, b := pgPasswordClause(q, password)
		s, shown = s+a, shown+b
		changes = append(changes, "password changed")
	}
	if e := args.String("expires"); e != "" && !cur.ExpiresEqual {
		s += " VALID UNTIL " + q.lit(e)
		shown += " VALID UNTIL " + q.lit(e)
		was := "none"
		if cur.ValidUntil != nil {
			was = *cur.ValidUntil
		}
		changes = append(changes, "valid until: "+was+" -> "+e)
	}
	if args.Has("conn_limit") && args.Int("conn_limit") != cur.ConnLimit {
		l := " CONNECTION LIMIT " + strconv.Itoa(args.Int("conn_limit"))
		s, shown = s+l, shown+l
		changes = append(changes, fmt.Sprintf("conn_limit: %d -> %d", cur.ConnLimit, args.Int("conn_limit")))
	}
	return s, shown, changes
}

func flagWord(f string, on bool) string {
	if on {
		return f
	}
	return "NO" + f
}

// Plan implements module.Module.
func (PostgresqlUser) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	name := args.String("name")
	base := module.Result{"user": name}
	flags, err := parseRoleFlags(args.String("role_attr_flags"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	privs, err := parsePrivList(args.String("priv"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	c, err := pgConnFromArgs(args)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	db := args.String("db")
	sql, err := pgRoleInfoSQL(name, args.String("expires"), db, privs, true)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	var cur pgRoleInfo
	err = psqlJSON(ctx, h, c, db, sql, &cur)
	var pe *pgError
	if err != nil && asPgError(err, &pe) && strings.Contains(pe.Msg, "permission denied for table pg_authid") {
		sql, _ = pgRoleInfoSQL(name, args.String("expires"), db, privs, false)
		err = psqlJSON(ctx, h, c, db, sql, &cur)
		cur.PasswordUnknown = true
	}
	if err != nil {
		return pgFailure(err, base)
	}
	p, err := pgUserStatements(args, cur, flags)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	base["queries"] = stmtsOrEmpty(p.shown)
	if len(p.stmts) == 0 {
		return module.Unchanged(base), nil
	}
	if args.String("state") == "absent" {
		base["user_removed"] = true
	}
	before := "state: absent\n"
	if cur.Exists {
		before = "state: present\n"
	}
	after := "state: " + args.String("state") + "\n" + strings.Join(p.changes, "\n") + "\n"
	return &module.Plan{
		Changed: true,
		Result:  base,
		Diff:    []module.Diff{{BeforeHeader: "role " + name, AfterHeader: "role " + name, Before: before, After: after}},
		Apply:   pgUserApply(h, c, db, p, args),
	}, nil
}

// pgUserApply runs the statements; dropping a role reports user_removed,
// and a failed drop follows fail_on_user as in Ansible.
func pgUserApply(h *module.Host, c pgConn, db string, p *pgUserPlan, args module.Args) func(context.Context) (module.Result, error) {
	apply := pgApply(h, c, db, p.stmts, p.shown, module.Result{"user": args.String("name")}, args.String("password"))
	if args.String("state") != "absent" {
		return apply
	}
	return func(ctx context.Context) (module.Result, error) {
		r, err := apply(ctx)
		if err != nil {
			return r, err
		}
		failed, _ := r["failed"].(bool)
		r["user_removed"] = !failed
		switch {
		case failed && args.Bool("fail_on_user"):
			r["msg"] = "Unable to remove user: " + fmt.Sprint(r["msg"])
		case failed:
			delete(r, "failed")
			r["msg"] = "Unable to remove user " + args.String("name") + ": " + fmt.Sprint(r["msg"])
			r["changed"], r["executed_queries"] = false, []string{}
		}
		return r, nil
	}
}
