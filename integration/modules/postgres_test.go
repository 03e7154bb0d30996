package modules_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// TestPostgresModules installs PostgreSQL on a testbed host with the apt
// module and runs every postgresql_* module against it through psql, as
// become_user postgres (peer authentication) and over TCP with a password.
func TestPostgresModules(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "pg1"})
	host := bed.Hosts[0]
	root := rootShell(t, bed, host.Name)
	conn := bedConn(t, host, "")
	h := &module.Host{Name: host.Name, Conn: conn, Warn: func(string) {}}
	start := time.Now()
	mustNet(t, h, "apt", map[string]any{"name": []any{"postgresql"}, "update_cache": true}, false, true)
	t.Logf("apt install postgresql: %v", time.Since(start).Round(time.Second))
	root("pg_lsclusters -h | grep -q online || pg_ctlcluster 15 main start")

	pg := &module.Host{Name: host.Name, Conn: conn, Become: &connection.Become{Method: "sudo", User: "postgres"}, Warn: func(string) {}}
	psql := func(sql string) string {
		t.Helper()
		return root("cd / && sudo -u postgres psql -XAtq -c " + shellQuote(sql))
	}

	// Role: create, converge, check mode, password change.
	user := map[string]any{"name": "connect", "password": "s3cret'pw", "role_attr_flags": "LOGIN,CREATEDB"}
	mustNet(t, pg, "postgresql_user", user, true, true)
	if psql("SELECT count(*) FROM pg_roles WHERE rolname = 'connect'") != "0" {
		t.Fatal("check mode created the role")
	}
	r := mustNet(t, pg, "postgresql_user", user, false, true)
	if strings.Contains(strings.Join(r["queries"].([]string), " "), "s3cret") {
		t.Errorf("password shown in queries: %v", r["queries"])
	}
	mustNet(t, pg, "postgresql_user", user, false, false)
	mustNet(t, pg, "postgresql_user", user, true, false)

	// Database and privileges.
	db := map[string]any{"name": "connect_db", "owner": "connect", "encoding": "UTF8", "template": "template0"}
	mustNet(t, pg, "postgresql_db", db, true, true)
	if psql("SELECT count(*) FROM pg_database WHERE datname = 'connect_db'") != "0" {
		t.Fatal("check mode created the database")
	}
	mustNet(t, pg, "postgresql_db", db, false, true)
	mustNet(t, pg, "postgresql_db", db, false, false)
	mustNet(t, pg, "postgresql_user", map[string]any{"name": "reporting"}, false, true)
	// groups grants a membership once; session_role acts as that role.
	member := map[string]any{"name": "analyst", "groups": []any{"reporting"}}
	mustNet(t, pg, "postgresql_user", member, true, true)
	mustNet(t, pg, "postgresql_user", member, false, true)
	mustNet(t, pg, "postgresql_user", member, false, false)
	if r := mustNet(t, pg, "postgresql_query", map[string]any{"query": "SELECT current_user", "session_role": "reporting"}, false, false); fmt.Sprint(r["query_result"]) != "[map[current_user:reporting]]" {
		t.Errorf("session_role: %v", r["query_result"])
	}
	mustNet(t, pg, "postgresql_query", map[string]any{"db": "connect_db", "query": "CREATE TABLE IF NOT EXISTS jobs (id int, name text)"}, false, true)
	privs := map[string]any{"database": "connect_db", "type": "table", "objs": "ALL_IN_SCHEMA", "privs": "SELECT", "roles": "reporting"}
	mustNet(t, pg, "postgresql_privs", privs, true, true)
	mustNet(t, pg, "postgresql_privs", privs, false, true)
	mustNet(t, pg, "postgresql_privs", privs, false, false)
	r = mustNet(t, pg, "postgresql_query", map[string]any{"db": "connect_db",
		"query": "SELECT has_table_privilege('reporting', 'jobs', 'SELECT') AS sel, has_table_privilege('reporting', 'jobs', 'INSERT') AS ins"}, false, false)
	if row := r["query_result"].([]any)[0].(map[string]any); row["sel"] != true || row["ins"] != false {
		t.Errorf("privileges: %v", row)
	}

	// Password login over TCP: the right password works, a wrong one fails.
	login := map[string]any{"db": "connect_db", "login_host": "127.0.0.1", "login_user": "connect", "query": "SELECT current_user AS u"}
	login["login_password"] = "s3cret'pw"
	r = mustNet(t, h, "postgresql_query", login, false, false)
	if r["query_result"].([]any)[0].(map[string]any)["u"] != "connect" {
		t.Errorf("login: %v", r)
	}
	login["login_password"] = "wrong"
	if r := netModule(t, h, "postgresql_query", login, false); r["failed"] != true || !strings.Contains(r["msg"].(string), "password authentication failed") {
		t.Errorf("wrong password: %v", r)
	} else if strings.Contains(r["msg"].(string), "wrong") {
		t.Errorf("password in message: %v", r["msg"])
	}

	// A changed password is detected, set, and then converged.
	user["password"] = "n3w"
	mustNet(t, pg, "postgresql_user", user, true, true)
	mustNet(t, pg, "postgresql_user", user, false, true)
	mustNet(t, pg, "postgresql_user", user, false, false)
	login["login_password"] = "n3w"
	mustNet(t, h, "postgresql_query", login, false, false)

	// Issue 11 arguments: fail_on_user, path_to_script, encoding,
	// connect_params, dump, restore and rename.
	if r := netModule(t, pg, "postgresql_user", map[string]any{"name": "connect", "state": "absent"}, false); r["failed"] != true ||
		!strings.HasPrefix(fmt.Sprint(r["msg"]), "Unable to remove user") {
		t.Errorf("drop of a database owner: %v", r)
	}
	if r := netModule(t, pg, "postgresql_user", map[string]any{"name": "connect", "state": "absent", "fail_on_user": false}, false); r["failed"] == true || r["changed"] != false || r["user_removed"] != false {
		t.Errorf("fail_on_user false: %v", r)
	}
	root(`printf "INSERT INTO jobs VALUES (1, 'é');\nINSERT INTO jobs VALUES (2, %%s);\n" > /tmp/jobs.sql && chmod 644 /tmp/jobs.sql`)
	mustNet(t, pg, "postgresql_query", map[string]any{"db": "connect_db", "path_to_script": "/tmp/jobs.sql", "positional_args": []any{"ü"}}, false, true)
	r = mustNet(t, pg, "postgresql_query", map[string]any{"db": "connect_db", "query": "SELECT string_agg(name, ',' ORDER BY id) AS n FROM jobs",
		"encoding": "LATIN1", "connect_params": map[string]any{"connect_timeout": 5}}, false, false)
	if r["query_result"].([]any)[0].(map[string]any)["n"] != "é,ü" {
		t.Errorf("path_to_script and encoding: %v", r["query_result"])
	}
	root("mkdir -p /srv/dumps && chown postgres /srv/dumps")
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "connect_db", "state": "dump", "target": "/srv/dumps/c.pgc"}, false, true)
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "restored_db"}, false, true)
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "restored_db", "state": "restore", "target": "/srv/dumps/c.pgc"}, false, true)
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "restored_db", "state": "rename", "target": "renamed_db"}, false, true)
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "restored_db", "state": "rename", "target": "renamed_db"}, false, false)
	if got := psql("SELECT count(*) FROM pg_database WHERE datname = 'renamed_db'"); got != "1" {
		t.Errorf("renamed database: %s", got)
	}
	if got := root("cd / && sudo -u postgres psql -XAtq -d renamed_db -c 'SELECT count(*) FROM jobs'"); got != "2" {
		t.Errorf("restored rows: %s", got)
	}
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "renamed_db", "state": "absent"}, false, true)

	// Teardown through the modules, converging too.
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "connect_db", "state": "absent"}, false, true)
	mustNet(t, pg, "postgresql_db", map[string]any{"name": "connect_db", "state": "absent"}, false, false)
	mustNet(t, pg, "postgresql_user", map[string]any{"name": "connect", "state": "absent"}, false, true)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }
