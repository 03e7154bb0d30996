package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPgDumpCommand(t *testing.T) {
	args, _ := (PostgresqlDB{}).Spec().Validate(map[string]any{"name": "app", "state": "dump", "target": "/b/app.gz", "dump_extra_args": "--no-owner", "login_password": "pw"}, false)
	c, _ := pgConnFromArgs(args)
	cmd := pgDumpCommand(args, c, "app", "/b/app.gz", ".gz")
	for _, want := range []string{"IFS= read -r PGPASSWORD", "pg_dump -d 'dbname=", "--no-owner", "pigz", "> /b/app.gz"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("dump command lacks %q: %s", want, cmd)
		}
	}
	if strings.Contains(cmd, "pw") || strings.Contains(cmd, "client_encoding") {
		t.Errorf("password or client_encoding in the command: %s", cmd)
	}
	args, _ = (PostgresqlDB{}).Spec().Validate(map[string]any{"name": "app", "state": "restore", "target": "/b/app.pgc", "target_opts": "--clean"}, false)
	c, _ = pgConnFromArgs(args)
	if cmd := pgDumpCommand(args, c, "app", "/b/app.pgc", ".pgc"); !strings.HasPrefix(cmd, "pg_restore -d ") || !strings.Contains(cmd, "--format=Custom --clean < /b/app.pgc") {
		t.Errorf("restore command: %s", cmd)
	}
}

// TestPostgresDumpRestoreRenameLocal dumps a database in several formats,
// restores one into a new database and renames it, against the
// controller's own PostgreSQL (skipped without one).
func TestPostgresDumpRestoreRenameLocal(t *testing.T) {
	h := localPostgres(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	src, dst, renamed := "tend_dump_src_t", "tend_dump_dst_t", "tend_dump_ren_t"
	cleanup := func() {
		for _, db := range []string{src, dst, renamed} {
			netRun(t, h, PostgresqlDB{}, map[string]any{"name": db, "state": "absent"}, false)
		}
	}
	cleanup()
	t.Cleanup(cleanup)
	netRun(t, h, PostgresqlDB{}, map[string]any{"name": src}, false)
	netRun(t, h, PostgresqlQuery{}, map[string]any{"db": src, "query": "CREATE TABLE t (v text); INSERT INTO t VALUES ('dumped')"}, false)
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	os.Chmod(filepath.Dir(dir), 0o755)
	for _, name := range []string{"d.sql", "d.gz", "d.pgc", "d.tar", "d.dir"} {
		target := filepath.Join(dir, name)
		r, _ := netRun(t, h, PostgresqlDB{}, map[string]any{"name": src, "state": "dump", "target": target}, true)
		if _, err := os.Stat(target); r["changed"] != true || err == nil {
			t.Errorf("%s check mode: %v (file exists: %v)", name, r, err == nil)
		}
		r, _ = netRun(t, h, PostgresqlDB{}, map[string]any{"name": src, "state": "dump", "target": target}, false)
		if _, err := os.Stat(target); r["changed"] != true || netFailed(r) || err != nil {
			t.Errorf("%s: %v", name, r)
		}
	}
	if r, _ := netRun(t, h, PostgresqlDB{}, map[string]any{"name": src, "state": "dump", "target": filepath.Join(dir, "no/such/d.gz")}, false); !netFailed(r) {
		t.Errorf("dump into a missing directory: %v", r)
	}
	for _, name := range []string{"d.pgc", "d.gz"} {
		netRun(t, h, PostgresqlDB{}, map[string]any{"name": dst, "state": "absent"}, false)
		netRun(t, h, PostgresqlDB{}, map[string]any{"name": dst}, false)
		if r, _ := netRun(t, h, PostgresqlDB{}, map[string]any{"name": dst, "state": "restore", "target": filepath.Join(dir, name)}, false); netFailed(r) || r["changed"] != true {
			t.Fatalf("restore %s: %v", name, r)
		}
		r, _ := netRun(t, h, PostgresqlQuery{}, map[string]any{"db": dst, "query": "SELECT v FROM t"}, false)
		if rows, _ := r["query_result"].([]any); len(rows) != 1 || rows[0].(map[string]any)["v"] != "dumped" {
			t.Errorf("restored from %s: %v", name, r)
		}
	}
	ren := map[string]any{"name": dst, "state": "rename", "target": renamed}
	if r, _ := netRun(t, h, PostgresqlDB{}, ren, false); r["changed"] != true || netFailed(r) {
		t.Fatalf("rename: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlDB{}, ren, false); r["changed"] != false || netFailed(r) {
		t.Errorf("rename again: %v", r)
	}
	if r, _ := netRun(t, h, PostgresqlDB{}, map[string]any{"name": src, "state": "rename", "target": renamed}, false); !netFailed(r) {
		t.Errorf("rename onto an existing database: %v", r)
	}
}
