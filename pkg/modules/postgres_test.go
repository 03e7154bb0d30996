package modules

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

var nastyStrings = []string{
	`plain`, `it's`, `a"b`, `back\slash`, `\'`, `'; DROP TABLE x; --`, `semi;colon`,
	`ünïcødé ✓`, `$1 $$ :var :'var' \gexec`, "new\nline", `trailing\`, `E'x'`, `""`, `''`,
}

func TestQuoteIdentLiteral(t *testing.T) {
	tests := []struct {
		in, ident, lit string
	}{
		{`plain`, `"plain"`, `'plain'`},
		{`it's`, `"it's"`, `'it''s'`},
		{`a"b`, `"a""b"`, `'a"b'`},
		{`back\slash`, `"back\slash"`, `E'back\\slash'`},
		{`\'`, `"\'"`, `E'\\'''`},
		{`x;y`, `"x;y"`, `'x;y'`},
		{`ü`, `"ü"`, `'ü'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := quoteIdent(tt.in)
			if err != nil || id != tt.ident {
				t.Errorf("quoteIdent(%q) = %q, %v; want %q", tt.in, id, err, tt.ident)
			}
			l, err := quoteLiteral(tt.in)
			if err != nil || l != tt.lit {
				t.Errorf("quoteLiteral(%q) = %q, %v; want %q", tt.in, l, err, tt.lit)
			}
		})
	}
	if _, err := quoteIdent(""); err == nil {
		t.Error("quoteIdent accepted an empty identifier")
	}
	if _, err := quoteIdent("a\x00b"); err == nil {
		t.Error("quoteIdent accepted NUL")
	}
	if _, err := quoteLiteral("a\x00b"); err == nil {
		t.Error("quoteLiteral accepted NUL")
	}
}

// TestQuoteOracle sends nasty strings through the real server: each
// literal must come back unchanged, under both settings of
// standard_conforming_strings, and each identifier must name a column.
func TestQuoteOracle(t *testing.T) {
	h := localPostgres(t)
	c := pgConn{User: "postgres", Port: 5432}
	for _, scs := range []string{"on", "off"} {
		var sel []string
		for i, s := range nastyStrings {
			l, _ := quoteLiteral(s)
			id, _ := quoteIdent(s + string(rune('A'+i)))
			sel = append(sel, l+" AS "+id)
		}
		sql := "SET standard_conforming_strings = " + scs + ";\nSELECT row_to_json(t) FROM (SELECT " + strings.Join(sel, ", ") + ") t"
		var got map[string]string
		if err := psqlJSON(context.Background(), h, c, "postgres", sql, &got); err != nil {
			t.Fatalf("scs=%s: %v", scs, err)
		}
		for i, s := range nastyStrings {
			if v, ok := got[s+string(rune('A'+i))]; !ok || v != s {
				t.Errorf("scs=%s: %q came back as %q (column found: %v)", scs, s, v, ok)
			}
		}
	}
}

func TestConninfo(t *testing.T) {
	c := pgConn{User: `o'brien`, Host: "db.example", Port: 5433, SSLMode: "require", Password: "secret"}
	got := c.conninfo(`my db\`)
	want := `dbname='my db\\' user='o\'brien' host='db.example' sslmode='require' port=5433 client_encoding='UTF8' application_name='tend'`
	if got != want {
		t.Errorf("conninfo:\n got %s\nwant %s", got, want)
	}
	for _, tt := range []struct {
		c    pgConn
		host string
	}{
		{pgConn{Host: "localhost", Socket: "/run/pg"}, "host='/run/pg'"},
		{pgConn{Socket: "/run/pg"}, "host='/run/pg'"},
		{pgConn{Host: "localhost"}, "host='localhost'"},
		{pgConn{Host: "db", Socket: "/run/pg"}, "host='db'"},
	} {
		if got := tt.c.conninfo("d"); !strings.Contains(got, " "+tt.host+" ") {
			t.Errorf("login_host %q, login_unix_socket %q: %s, want %s", tt.c.Host, tt.c.Socket, got, tt.host)
		}
	}
	cmd, err := c.psqlCommand("x", "SELECT 1", true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cmd.Cmd, "secret") {
		t.Errorf("password on the command line: %s", cmd.Cmd)
	}
	if !strings.Contains(cmd.Cmd, "ON_ERROR_STOP=1") || !strings.Contains(cmd.Cmd, "-X -A -t -w -q") {
		t.Errorf("psql flags missing: %s", cmd.Cmd)
	}
	if _, err := (pgConn{Password: "a\nb"}).psqlCommand("x", "", true); err == nil {
		t.Error("a password with a newline was accepted")
	}
}

func TestPasswordMatches(t *testing.T) {
	// Verifiers made by PostgreSQL 15 (ALTER ROLE ... PASSWORD, then
	// SELECT rolpassword FROM pg_authid).
	const scram1 = `SCRAM-SHA-256$4096:++OrPk8PZzPXXD9ujgJQHQ==$iO1fNSnEoFcnZvZ64dVs5BoTTtuq2LzgjMjpUSZr9oY=:50UIJUybiT10xnhxHuVHfTwfCU0n+4kyX+NdnqqfOgE=`
	const scramUnicode = `SCRAM-SHA-256$4096:8b+W2sjOUF2SFEFO1EIkBw==$HYv3HZueNGDhQovGUrROSpLa0lkIgn2E4IYNPwoxLQ0=:vglxd1QfhO1gqj+SOPZYMGyHg4bHJ2V1XLx+w9hfFkM=`
	const md5v = `md52b5deb4760016844ce4b9b6b986f47d3` // role tend_vec, password it's\x
	s := func(v string) *string { return &v }
	tests := []struct {
		name, user, pw string
		stored         *string
		want           bool
	}{
		{"scram match", "tend_vec", "correct horse", s(scram1), true},
		{"scram mismatch", "tend_vec", "correct horse!", s(scram1), false},
		{"scram unicode", "tend_vec", "pässwörd", s(scramUnicode), true},
		{"md5 match", "tend_vec", `it's\x`, s(md5v), true},
		{"md5 other user", "other", `it's\x`, s(md5v), false},
		{"prehashed md5 equal", "tend_vec", md5v, s(md5v), true},
		{"prehashed scram differs", "tend_vec", scram1, s(scramUnicode), false},
		{"no stored password", "u", "x", nil, false},
		{"empty removes", "u", "", nil, true},
		{"empty but stored", "u", "", s(md5v), false},
		{"corrupt verifier", "u", "x", s("SCRAM-SHA-256$0:AA==$AA==:AA=="), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := passwordMatches(tt.user, tt.pw, tt.stored); got != tt.want {
				t.Errorf("passwordMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRoleFlags(t *testing.T) {
	f, err := parseRoleFlags("login, NOSUPERUSER,createdb,,")
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 3 || !f["LOGIN"] || f["SUPERUSER"] || !f["CREATEDB"] {
		t.Errorf("flags = %v", f)
	}
	for _, bad := range []string{"LOGINX", "NOTHING", "LOGIN,NOLOGIN"} {
		if _, err := parseRoleFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPgUserStatements(t *testing.T) {
	spec := PostgresqlUser{}.Spec()
	args, err := spec.Validate(map[string]any{"name": `a"pp`, "password": "s3'cret", "role_attr_flags": "CREATEDB", "priv": "CONNECT", "db": "d"}, false)
	if err != nil {
		t.Fatal(err)
	}
	flags, _ := parseRoleFlags(args.String("role_attr_flags"))
	p, err := pgUserStatements(args, pgRoleInfo{}, flags)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`CREATE ROLE "a""pp" WITH LOGIN CREATEDB PASSWORD 's3''cret'`, `GRANT CONNECT ON DATABASE "d" TO "a""pp"`}
	if strings.Join(p.stmts, "\n") != strings.Join(want, "\n") {
		t.Errorf("stmts:\n%s\nwant\n%s", strings.Join(p.stmts, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range p.shown {
		if strings.Contains(s, "cret") {
			t.Errorf("password shown: %s", s)
		}
	}
	// Existing role, same password stored as md5: only the flag changes.
	stored := "md5" + md5sumHex("s3'cret"+`a"pp`)
	p, _ = pgUserStatements(args, pgRoleInfo{Exists: true, Password: &stored, Flags: map[string]bool{"LOGIN": true}, ExpiresEqual: true}, flags)
	if len(p.stmts) != 1 || p.stmts[0] != `ALTER ROLE "a""pp" WITH CREATEDB` {
		t.Errorf("stmts = %q", p.stmts)
	}
	if _, err := parsePrivList("table:SELECT"); err == nil {
		t.Error("table privileges accepted in priv")
	}
	// groups: only the memberships the role lacks are granted.
	args["groups"] = []any{"readers", "writers"}
	p, _ = pgUserStatements(args, pgRoleInfo{Exists: true, Password: &stored, Flags: map[string]bool{"LOGIN": true, "CREATEDB": true}, ExpiresEqual: true, Groups: []string{"readers"}}, flags)
	if len(p.stmts) != 1 || p.stmts[0] != `GRANT "writers" TO "a""pp"` {
		t.Errorf("groups: stmts = %q", p.stmts)
	}
}

func TestPgDBStatements(t *testing.T) {
	spec := PostgresqlDB{}.Spec()
	tests := []struct {
		name string
		raw  map[string]any
		cur  pgDBInfo
		want []string
		fail string
	}{
		{"create", map[string]any{"name": `we"ird;db`, "owner": "o", "encoding": "UTF8", "template": "template0", "conn_limit": "5"}, pgDBInfo{},
			[]string{`CREATE DATABASE "we""ird;db" OWNER "o" TEMPLATE "template0" ENCODING 'UTF8' CONNECTION LIMIT 5`}, ""},
		{"converged", map[string]any{"name": "d", "owner": "o", "encoding": "utf-8"}, pgDBInfo{Exists: true, Owner: "o", Encoding: "UTF8", ConnLimit: -1}, nil, ""},
		{"owner and limit", map[string]any{"name": "d", "owner": "n", "conn_limit": "-1"}, pgDBInfo{Exists: true, Owner: "o", ConnLimit: 3},
			[]string{`ALTER DATABASE "d" OWNER TO "n"`, `ALTER DATABASE "d" WITH CONNECTION LIMIT -1`}, ""},
		{"encoding mismatch", map[string]any{"name": "d", "encoding": "LATIN1"}, pgDBInfo{Exists: true, Encoding: "UTF8"}, nil, "cannot be changed"},
		{"bad limit", map[string]any{"name": "d", "conn_limit": "5; DROP"}, pgDBInfo{}, nil, "must be an integer"},
		{"drop", map[string]any{"name": "d", "state": "absent", "force": true}, pgDBInfo{Exists: true}, []string{`DROP DATABASE "d" WITH (FORCE)`}, ""},
		{"drop absent", map[string]any{"name": "d", "state": "absent"}, pgDBInfo{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := spec.Validate(tt.raw, false)
			if err != nil {
				t.Fatal(err)
			}
			got, fail, err := pgDBStatements(args, tt.cur)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fail != "" && !strings.Contains(fail, tt.fail) || tt.fail == "" && fail != "" {
				t.Errorf("fail = %q, want %q", fail, tt.fail)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("stmts = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPostgresLocal runs postgresql_db and postgresql_user against the
// controller's own server: create, converge, check mode, change.
func TestPostgresLocal(t *testing.T) {
	h := localPostgres(t)
	role, db := `tend test "r"`, `tend db;'x`
	cleanup := func() {
		netRun(t, h, PostgresqlDB{}, map[string]any{"name": db, "state": "absent"}, false)
		netRun(t, h, PostgresqlUser{}, map[string]any{"name": role, "state": "absent"}, false)
	}
	cleanup()
	t.Cleanup(cleanup)

	user := map[string]any{"name": role, "password": `pa'ss\word`, "role_attr_flags": "CREATEDB,NOSUPERUSER"}
	if r, _ := netRun(t, h, PostgresqlUser{}, user, true); r["changed"] != true || netFailed(r) {
		t.Fatalf("check mode create user: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlUser{}, user, false); r["changed"] != true || netFailed(r) {
		t.Fatalf("create user: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlUser{}, user, false); r["changed"] != false || netFailed(r) {
		t.Fatalf("second run (SCRAM compare): %v", r)
	}
	user["password"] = "new one"
	r, p := netRun(t, h, PostgresqlUser{}, user, true)
	if r["changed"] != true || !strings.Contains(p.Diff[0].After, "password changed") {
		t.Fatalf("password change not detected: %v %v", r, p.Diff)
	}
	netRun(t, h, PostgresqlUser{}, user, false)
	if r, _ := netRun(t, h, PostgresqlUser{}, user, false); r["changed"] != false {
		t.Fatalf("after password change: %v", r)
	}

	// A login that cannot read pg_authid (not superuser): roles are read
	// from pg_roles and a given password is always set, as in Ansible.
	admin := map[string]any{"name": "tend_admin_t", "password": "adm'pw", "role_attr_flags": "CREATEROLE,LOGIN"}
	netRun(t, h, PostgresqlUser{}, admin, false)
	t.Cleanup(func() {
		netRun(t, h, PostgresqlUser{}, map[string]any{"name": "tend_managed_t", "state": "absent"}, false)
		netRun(t, h, PostgresqlUser{}, map[string]any{"name": "tend_admin_t", "state": "absent"}, false)
	})
	tcp := &module.Host{Name: "localhost", Conn: connection.Local{}}
	managed := map[string]any{"name": "tend_managed_t", "password": "x", "login_host": "127.0.0.1", "login_user": "tend_admin_t", "login_password": "adm'pw"}
	for i := 0; i < 2; i++ {
		if r, _ := netRun(t, tcp, PostgresqlUser{}, managed, false); r["changed"] != true || netFailed(r) {
			t.Fatalf("run %d as non-superuser: %v", i, r)
		}
	}
	delete(managed, "password")
	if r, _ := netRun(t, tcp, PostgresqlUser{}, managed, false); r["changed"] != false || netFailed(r) {
		t.Fatalf("non-superuser without password: %v", r)
	}

	dbArgs := map[string]any{"name": db, "owner": role, "encoding": "UTF8", "template": "template0", "conn_limit": "10"}
	if r, _ := netRun(t, h, PostgresqlDB{}, dbArgs, true); r["changed"] != true || netFailed(r) {
		t.Fatalf("check create db: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlDB{}, map[string]any{"name": db, "state": "absent"}, false); r["changed"] != false {
		t.Fatalf("check mode created the database: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlDB{}, dbArgs, false); r["changed"] != true || netFailed(r) {
		t.Fatalf("create db: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlDB{}, dbArgs, false); r["changed"] != false || netFailed(r) {
		t.Fatalf("second db run: %v", r)
	}
	dbArgs["conn_limit"] = "-1"
	if r, _ := netRun(t, h, PostgresqlDB{}, dbArgs, false); r["changed"] != true || len(r["queries"].([]string)) != 1 {
		t.Fatalf("conn_limit change: %v", r)
	}
	dbArgs["encoding"] = "LATIN1"
	if r, _ := netRun(t, h, PostgresqlDB{}, dbArgs, false); !netFailed(r) {
		t.Fatalf("encoding change did not fail: %v", r)
	}
}

func md5sumHex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestBindArgs(t *testing.T) {
	tests := []struct {
		name, q    string
		pos        []any
		named      map[string]any
		want, fail string
	}{
		{"no args keeps percent", "SELECT '100%s'", nil, nil, "SELECT '100%s'", ""},
		{"positional", "SELECT %s, %s, %s, %s, %s", []any{"it's", 3, 1.5, true, nil}, nil, "SELECT 'it''s', 3, 1.5, TRUE, NULL", ""},
		{"backslash", "SELECT %s", []any{`a\'b`}, nil, `SELECT E'a\\''b'`, ""},
		{"array", "SELECT %s", []any{[]any{"x", 1}}, nil, "SELECT ARRAY['x', 1]", ""},
		{"percent escape", "SELECT %s LIKE 'a%%'", []any{"z"}, nil, "SELECT 'z' LIKE 'a%'", ""},
		{"named", "SELECT %(a)s || %(a)s, %(b c)s", nil, map[string]any{"a": "x;y", "b c": 2}, "SELECT 'x;y' || 'x;y', 2", ""},
		{"too few", "SELECT %s, %s", []any{1}, nil, "", "more %s placeholders"},
		{"too many", "SELECT %s", []any{1, 2}, nil, "", "1 %s placeholders but 2"},
		{"missing name", "SELECT %(x)s", nil, map[string]any{"y": 1}, "", `no "x"`},
		{"bad sequence", "SELECT %d", []any{1}, nil, "", "unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bindArgs(tt.q, tt.pos, tt.named)
			if tt.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fail) {
					t.Fatalf("err = %v, want %q", err, tt.fail)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("bindArgs = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSplitSQLClassify(t *testing.T) {
	tests := []struct {
		q     string
		n     int
		kind  queryKind
		first string
	}{
		{"SELECT 1;", 1, queryRows, "SELECT 1"},
		{"  -- c; x\n select ';' AS \"a;b\"", 1, queryRows, "-- c; x\n select ';' AS \"a;b\""},
		{"SELECT E'\\';' ; SELECT 2", 2, queryMulti, "SELECT E'\\';'"},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", 1, queryDDL, ""},
		{"/* a; /* nested; */ */ INSERT INTO t VALUES (1) RETURNING id", 1, queryModifyRe, ""},
		{"UPDATE t SET a = 'returning'", 1, queryModify, ""},
		{"with x as (select 1) select * from x", 1, queryRows, ""},
		{"SELECT * INTO t2 FROM t", 1, queryDDL, ""},
		{"VACUUM", 1, queryDDL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			s := splitSQL(tt.q)
			if len(s) != tt.n {
				t.Fatalf("%d statements %q, want %d", len(s), s, tt.n)
			}
			if tt.first != "" && s[0].Text != tt.first {
				t.Errorf("first = %q, want %q", s[0].Text, tt.first)
			}
			if k := classify(s); k != tt.kind {
				t.Errorf("kind = %d, want %d", k, tt.kind)
			}
		})
	}
}

func TestPgPrivsStatements(t *testing.T) {
	yes, no := true, false
	acl := [][]any{
		{"t", "app", "SELECT", false},
		{"t", "PUBLIC", "SELECT", false},
		{"t", "adm", "SELECT", true},
	}
	tests := []struct {
		name  string
		state string
		opt   *bool
		privs []string
		roles []string
		want  []string
	}{
		{"converged", "present", nil, []string{"SELECT"}, []string{"app", "PUBLIC"}, nil},
		{"missing insert", "present", nil, []string{"SELECT", "INSERT"}, []string{"app"}, []string{`GRANT INSERT ON TABLE "s""x"."t" TO "app"`}},
		{"grant option", "present", &yes, []string{"SELECT"}, []string{"app", "adm"}, []string{`GRANT SELECT ON TABLE "s""x"."t" TO "app" WITH GRANT OPTION`}},
		{"drop grant option", "present", &no, []string{"SELECT"}, []string{"adm"}, []string{`REVOKE GRANT OPTION FOR SELECT ON TABLE "s""x"."t" FROM "adm"`}},
		{"revoke", "absent", nil, []string{"SELECT", "INSERT"}, []string{"app", "public"}, []string{`REVOKE SELECT ON TABLE "s""x"."t" FROM "app"`, `REVOKE SELECT ON TABLE "s""x"."t" FROM PUBLIC`}},
		{"revoke nothing", "absent", nil, []string{"INSERT"}, []string{"app"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pgPrivsStatements("table", `s"x`, tt.state, tt.opt, tt.privs, []string{"t"}, tt.roles, acl)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if p, err := parsePrivs("database", "all, temp"); err != nil || strings.Join(p, ",") != "CREATE,CONNECT,TEMPORARY" {
		t.Errorf("parsePrivs ALL = %v, %v", p, err)
	}
	if _, err := parsePrivs("schema", "SELECT"); err == nil {
		t.Error("SELECT on a schema accepted")
	}
}

// TestPostgresPrivsQueryLocal runs postgresql_privs and postgresql_query
// against the controller's own server.
func TestPostgresPrivsQueryLocal(t *testing.T) {
	h := localPostgres(t)
	db, role := "tend_privs_test", `tend "reader"`
	cleanup := func() {
		netRun(t, h, PostgresqlDB{}, map[string]any{"name": db, "state": "absent", "force": true}, false)
		netRun(t, h, PostgresqlUser{}, map[string]any{"name": role, "state": "absent"}, false)
	}
	cleanup()
	t.Cleanup(cleanup)
	netRun(t, h, PostgresqlDB{}, map[string]any{"name": db}, false)
	netRun(t, h, PostgresqlUser{}, map[string]any{"name": role}, false)

	create := map[string]any{"db": db, "query": `CREATE TABLE "we;ird" (id serial, name text, data jsonb)`}
	if r, p := netRun(t, h, PostgresqlQuery{}, create, true); r["changed"] != true || p.Unpredictable {
		t.Fatalf("check mode DDL: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlQuery{}, create, false); r["changed"] != true || netFailed(r) || r["statusmessage"] != "CREATE TABLE" {
		t.Fatalf("DDL: %v", r)
	}
	ins := map[string]any{"db": db, "query": `INSERT INTO "we;ird" (name, data) VALUES (%s, %s), (%s, NULL)`,
		"positional_args": []any{`it's \ ü`, `{"k": [1, 2]}`, "b"}}
	if r, _ := netRun(t, h, PostgresqlQuery{}, ins, false); r["changed"] != true || r["rowcount"] != 2 || r["statusmessage"] != "INSERT 0 2" {
		t.Fatalf("insert: %v", r)
	}
	sel := map[string]any{"db": db, "query": `SELECT id, name, data FROM "we;ird" WHERE name = %(n)s`, "named_args": map[string]any{"n": `it's \ ü`}}
	r, _ := netRun(t, h, PostgresqlQuery{}, sel, true)
	rows, _ := r["query_result"].([]any)
	if r["changed"] != false || len(rows) != 1 || netFailed(r) {
		t.Fatalf("select in check mode: %v", r)
	}
	row := rows[0].(map[string]any)
	if row["id"] != 1 || row["name"] != `it's \ ü` || fmt.Sprint(row["data"]) != "map[k:[1 2]]" {
		t.Errorf("row = %#v", row)
	}
	upd := map[string]any{"db": db, "query": `UPDATE "we;ird" SET name = 'x' WHERE false`}
	if r, p := netRun(t, h, PostgresqlQuery{}, upd, false); r["changed"] != false || !p.Unpredictable {
		t.Fatalf("update of no rows: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlQuery{}, map[string]any{"db": db, "query": "SELEC 1"}, false); !netFailed(r) {
		t.Fatalf("syntax error not reported: %v", r)
	}

	privs := map[string]any{"database": db, "type": "table", "objs": "we;ird", "privs": "SELECT,INSERT", "roles": role}
	for i, want := range []bool{true, true, false} {
		r, _ := netRun(t, h, PostgresqlPrivs{}, privs, i == 0)
		if r["changed"] != want || netFailed(r) {
			t.Fatalf("privs run %d: changed=%v want %v: %v", i, r["changed"], want, r)
		}
	}
	dbp := map[string]any{"database": db, "type": "database", "privs": "ALL", "roles": role + ",PUBLIC"}
	if r, _ := netRun(t, h, PostgresqlPrivs{}, dbp, false); r["changed"] != true {
		t.Fatalf("database privs: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlPrivs{}, dbp, false); r["changed"] != false {
		t.Fatalf("database privs second run: %v", r)
	}
	privs["state"] = "absent"
	if r, _ := netRun(t, h, PostgresqlPrivs{}, privs, false); r["changed"] != true {
		t.Fatalf("revoke: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlPrivs{}, privs, false); r["changed"] != false {
		t.Fatalf("revoke second run: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlPrivs{}, map[string]any{"database": db, "objs": "nope", "privs": "SELECT", "roles": role}, false); !netFailed(r) {
		t.Fatalf("missing table not reported: %v", r)
	}
}

// TestSQLOpaqueEnd covers the spans splitSQL keeps whole, including
// unterminated ones, which run to the end of the query.
func TestSQLOpaqueEnd(t *testing.T) {
	tests := []struct {
		q    string
		i    int
		want int
	}{
		{q: "a -- c;\nb", i: 2, want: 7},
		{q: "-- c;", i: 0, want: 5},
		{q: "/* a /* b */ c */d", i: 0, want: 17},
		{q: "/* open", i: 0, want: 7},
		{q: "'it''s';", i: 0, want: 7},
		{q: `"a""b";`, i: 0, want: 6},
		{q: `E'\'';`, i: 1, want: 5},
		{q: `xE'\'';`, i: 2, want: 7}, // xE is a word: no E string, the quote is unterminated
		{q: "'open", i: 0, want: 5},
		{q: `'a\`, i: 0, want: 3},
		{q: "$tag$ ; $tag$;", i: 0, want: 13},
		{q: "$$ ; ", i: 0, want: 5},
		{q: "a$1", i: 1, want: 1},
		{q: "$1;", i: 0, want: 0},
		{q: "x;", i: 0, want: 0},
	}
	for _, tt := range tests {
		if got := sqlOpaqueEnd(tt.q, tt.i); got != tt.want {
			t.Errorf("sqlOpaqueEnd(%q, %d) = %d, want %d", tt.q, tt.i, got, tt.want)
		}
	}
}

func TestPgPrivChanges(t *testing.T) {
	yes, no := true, false
	// SELECT held with the grant option, UPDATE without, INSERT not held.
	held := func(p string) (bool, bool) {
		switch p {
		case "SELECT":
			return true, true
		case "UPDATE":
			return false, true
		}
		return false, false
	}
	privs := []string{"SELECT", "UPDATE", "INSERT"}
	tests := []struct {
		name                     string
		state                    string
		grantOpt                 *bool
		grant, revokeOpt, revoke []string
	}{
		{name: "present", state: "present", grant: []string{"INSERT"}},
		{name: "present with grant option", state: "present", grantOpt: &yes, grant: []string{"INSERT", "UPDATE"}},
		{name: "present without grant option", state: "present", grantOpt: &no, grant: []string{"INSERT"}, revokeOpt: []string{"SELECT"}},
		{name: "absent", state: "absent", revoke: []string{"SELECT", "UPDATE"}},
		{name: "absent grant option only", state: "absent", grantOpt: &yes, revokeOpt: []string{"SELECT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grant, revokeOpt, revoke := pgPrivChanges(tt.state, tt.grantOpt, privs, held)
			if want, got := [][]string{tt.grant, tt.revokeOpt, tt.revoke}, [][]string{grant, revokeOpt, revoke}; !reflect.DeepEqual(want, got) {
				t.Errorf("grant/revokeOpt/revoke = %q, want %q", got, want)
			}
		})
	}
}

func TestConninfoSessionRole(t *testing.T) {
	c := pgConn{User: "postgres", SessionRole: "app owner"}
	if got := c.conninfo("d"); !strings.Contains(got, ` options='-c role=app\\ owner' `) {
		t.Errorf("conninfo %s", got)
	}
}
