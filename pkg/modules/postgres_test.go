package modules

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
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
