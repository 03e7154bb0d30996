package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestPgConnectParamsSSL(t *testing.T) {
	args, err := (PostgresqlQuery{}).Spec().Validate(map[string]any{"query": "SELECT 1", "login_host": "db", "ssl_cert": "/c.crt", "ssl_key": "/c.key",
		"connect_params": map[string]any{"connect_timeout": 7, "application_name": "mine", "password": "s3cret"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgConnFromArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	ci := c.conninfo("d")
	for _, want := range []string{"sslcert='/c.crt'", "sslkey='/c.key'", "connect_timeout='7'"} {
		if !strings.Contains(ci, want) {
			t.Errorf("conninfo lacks %s: %s", want, ci)
		}
	}
	if !strings.HasSuffix(ci, "application_name='tend' application_name='mine' connect_timeout='7'") || strings.Contains(ci, "s3cret") || c.Password != "s3cret" {
		t.Errorf("connect_params not last or password on the command line: %s (password %q)", ci, c.Password)
	}
	args, _ = (PostgresqlQuery{}).Spec().Validate(map[string]any{"query": "SELECT 1", "connect_params": map[string]any{"x' host='evil": 1}}, false)
	if _, err := pgConnFromArgs(args); err == nil {
		t.Error("a connect_params key that is no libpq keyword was accepted")
	}
}

func TestPgClientEncoding(t *testing.T) {
	for _, n := range []string{"", "UTF-8", "utf8", "Unicode"} {
		if e, err := pgClientEncoding(n); e != nil || err != nil {
			t.Errorf("%q: %v %v", n, e, err)
		}
	}
	e, err := pgClientEncoding("LATIN1")
	if err != nil || e.Name != "latin1" {
		t.Fatalf("LATIN1: %v %v", e, err)
	}
	if s, err := e.encode("é"); err != nil || s != "\xe9" || string(e.decode([]byte("\xe9"))) != "é" {
		t.Errorf("latin1 round trip: %q %v", s, err)
	}
	if _, err := e.encode("€"); err == nil {
		t.Error("a character LATIN1 lacks was encoded")
	}
	if e, err := pgClientEncoding("windows-1252"); err != nil || e.Name != "win1252" {
		t.Errorf("windows-1252: %v %v", e, err)
	}
	if _, err := pgClientEncoding("MULE_INTERNAL"); err == nil {
		t.Error("unknown encoding accepted")
	}
}

// TestPostgresArgsLocal runs fail_on_user, path_to_script, encoding,
// connect_params and postgresql_privs' password against the controller's
// own PostgreSQL server (skipped when there is none).
func TestPostgresArgsLocal(t *testing.T) {
	h := localPostgres(t)
	owner, db := "tend_owner_t", "tend_args_t"
	cleanup := func() {
		netRun(t, h, PostgresqlDB{}, map[string]any{"name": db, "state": "absent"}, false)
		netRun(t, h, PostgresqlUser{}, map[string]any{"name": owner, "state": "absent"}, false)
	}
	cleanup()
	t.Cleanup(cleanup)
	netRun(t, h, PostgresqlUser{}, map[string]any{"name": owner, "password": "pw1"}, false)
	netRun(t, h, PostgresqlDB{}, map[string]any{"name": db, "owner": owner}, false)

	// The role owns a database: it cannot be dropped.
	r, _ := netRun(t, h, PostgresqlUser{}, map[string]any{"name": owner, "state": "absent"}, false)
	if !netFailed(r) || !strings.HasPrefix(r["msg"].(string), "Unable to remove user") || r["user_removed"] != false {
		t.Errorf("fail_on_user default: %v", r)
	}
	r, _ = netRun(t, h, PostgresqlUser{}, map[string]any{"name": owner, "state": "absent", "fail_on_user": false}, false)
	if netFailed(r) || r["changed"] != false || r["user_removed"] != false {
		t.Errorf("fail_on_user false: %v", r)
	}

	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // postgres reads the script
	script := filepath.Join(dir, "s.sql")
	os.WriteFile(script, []byte("CREATE TABLE tend_t (v text);\nCREATE FUNCTION tend_f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\nINSERT INTO tend_t VALUES (%s);\n"), 0o644)
	for _, single := range []bool{true, false} {
		netRun(t, h, PostgresqlQuery{}, map[string]any{"db": db, "query": "DROP TABLE IF EXISTS tend_t; DROP FUNCTION IF EXISTS tend_f()"}, false)
		r, _ = netRun(t, h, PostgresqlQuery{}, map[string]any{"db": db, "path_to_script": script, "as_single_query": single, "positional_args": []any{"é"}}, false)
		if netFailed(r) || r["changed"] != true {
			t.Fatalf("path_to_script (as_single_query %v): %v", single, r)
		}
	}
	r, _ = netRun(t, h, PostgresqlQuery{}, map[string]any{"db": db, "query": "SELECT v, current_setting('client_encoding') AS enc FROM tend_t", "encoding": "LATIN1"}, false)
	rows, _ := r["query_result"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["v"] != "é" || rows[0].(map[string]any)["enc"] != "LATIN1" {
		t.Errorf("encoding LATIN1: %v", r)
	}
	r, _ = netRun(t, h, PostgresqlQuery{}, map[string]any{"db": db, "query": "SELECT current_setting('application_name') AS a",
		"connect_params": map[string]any{"application_name": "from_params"}}, false)
	if rows, _ := r["query_result"].([]any); len(rows) != 1 || rows[0].(map[string]any)["a"] != "from_params" {
		t.Errorf("connect_params: %v", r)
	}

	// postgresql_privs' deprecated password logs in like login_password.
	tcp := &module.Host{Name: "localhost", Conn: connection.Local{}}
	privs := map[string]any{"database": db, "type": "database", "privs": "CONNECT", "roles": "PUBLIC", "login_host": "127.0.0.1", "login_user": owner, "password": "pw1"}
	if r, _ = netRun(t, tcp, PostgresqlPrivs{}, privs, false); netFailed(r) {
		t.Errorf("privs password: %v", r)
	}
	privs["password"] = "wrong"
	if r, _ = netRun(t, tcp, PostgresqlPrivs{}, privs, false); !netFailed(r) {
		t.Errorf("privs wrong password accepted: %v", r)
	}
}
