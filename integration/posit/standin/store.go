package standin

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver, registered as "postgres"

	"github.com/tend-dev/tend/integration/posit/standin/conf"
)

// Heartbeat is one node's row in its product's database.
type Heartbeat struct {
	Node    string    `json:"node"`
	Product string    `json:"product"`
	Version string    `json:"version"`
	PID     int       `json:"pid"`
	Address string    `json:"address"`
	Started time.Time `json:"started_at"`
	Seen    time.Time `json:"seen_at"`
}

// RepoRecord is a Package Manager repository.
type RepoRecord struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Source      string `json:"source,omitempty"`
}

// Store is a product's metadata database: PostgreSQL, or a JSON file in
// the data directory standing in for the embedded SQLite database.
type Store interface {
	Beat(ctx context.Context, hb Heartbeat) error
	Nodes(ctx context.Context) ([]Heartbeat, error)
	ResetNodes(ctx context.Context) error
	Repos(ctx context.Context) ([]RepoRecord, error)
	CreateRepo(ctx context.Context, r RepoRecord) error
	Subscribe(ctx context.Context, repo, source string) error
	Info(ctx context.Context) (map[string]any, error)
	Close() error
}

// ErrExists is returned when creating something that already exists.
var ErrExists = errors.New("already exists")

// OpenStore connects to the database of eff, waiting up to wait for
// PostgreSQL to accept the connection, and creates the stand-in's tables.
// Extra databases (Connect's instrumentation, Package Manager's usage
// data) are connected to and written to once.
func OpenStore(ctx context.Context, eff *conf.Effective, wait time.Duration) (Store, error) {
	if eff.Database.Provider != "postgres" {
		return &fileStore{path: filepath.Join(eff.DataDir, "tend-standin-db.json")}, nil
	}
	db, err := openPG(ctx, eff.Database.DSN, wait)
	if err != nil {
		return nil, fmt.Errorf("database %s on %s as %s: %w", eff.Database.Name, eff.Database.Host, eff.Database.User, err)
	}
	s := &pgStore{db: db}
	if err := createTables(ctx, db,
		`CREATE TABLE IF NOT EXISTS tend_standin_heartbeats (node text PRIMARY KEY, product text NOT NULL, version text NOT NULL, pid int NOT NULL, address text NOT NULL, started_at timestamptz NOT NULL, seen_at timestamptz NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS tend_standin_repos (name text PRIMARY KEY, type text NOT NULL, description text NOT NULL DEFAULT '', source text NOT NULL DEFAULT '')`,
	); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: create tables: %w", eff.Database.Name, err)
	}
	keys := make([]string, 0, len(eff.Database.Extra))
	for k := range eff.Database.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x, err := openPG(ctx, eff.Database.Extra[k], wait)
		if err == nil {
			err = createTables(ctx, x, `CREATE TABLE IF NOT EXISTS tend_standin_events (at timestamptz NOT NULL DEFAULT now(), node text NOT NULL)`)
			if err == nil {
				host, _ := os.Hostname()
				_, err = x.ExecContext(ctx, `INSERT INTO tend_standin_events (node) VALUES ($1)`, host)
			}
			x.Close()
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("database %s (%s): %w", eff.Database.ExtraNames[k], k, err)
		}
	}
	return s, nil
}

// createTables runs CREATE TABLE IF NOT EXISTS statements under an
// advisory lock: two nodes starting at once would otherwise race on the
// catalog ("duplicate key value violates unique constraint
// pg_type_typname_nsp_index").
func createTables(ctx context.Context, db *sql.DB, stmts ...string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7424242)`); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func openPG(ctx context.Context, dsn string, wait time.Duration) (*sql.DB, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	deadline := time.Now().Add(wait)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			return db, nil
		}
		// Authentication and missing databases do not heal by waiting.
		msg := err.Error()
		if strings.Contains(msg, "password authentication failed") || strings.Contains(msg, "does not exist") ||
			strings.Contains(msg, "no pg_hba.conf entry") || time.Now().After(deadline) {
			db.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			db.Close()
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

type pgStore struct{ db *sql.DB }

func (s *pgStore) Close() error { return s.db.Close() }

func (s *pgStore) Beat(ctx context.Context, hb Heartbeat) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tend_standin_heartbeats (node, product, version, pid, address, started_at, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (node) DO UPDATE SET product = $2, version = $3, pid = $4, address = $5, started_at = $6, seen_at = now()`,
		hb.Node, hb.Product, hb.Version, hb.PID, hb.Address, hb.Started)
	return err
}

func (s *pgStore) Nodes(ctx context.Context) ([]Heartbeat, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT node, product, version, pid, address, started_at, seen_at FROM tend_standin_heartbeats ORDER BY node`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Heartbeat
	for rows.Next() {
		var h Heartbeat
		if err := rows.Scan(&h.Node, &h.Product, &h.Version, &h.PID, &h.Address, &h.Started, &h.Seen); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *pgStore) ResetNodes(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM tend_standin_heartbeats`)
	return err
}

func (s *pgStore) Repos(ctx context.Context) ([]RepoRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, type, description, source FROM tend_standin_repos ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RepoRecord
	for rows.Next() {
		var r RepoRecord
		if err := rows.Scan(&r.Name, &r.Type, &r.Description, &r.Source); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *pgStore) CreateRepo(ctx context.Context, r RepoRecord) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO tend_standin_repos (name, type, description) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, r.Name, r.Type, r.Description)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrExists
	}
	return nil
}

func (s *pgStore) Subscribe(ctx context.Context, repo, source string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tend_standin_repos SET source = $2 WHERE name = $1 AND source <> $2`, repo, source)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrExists
	}
	return nil
}

func (s *pgStore) Info(ctx context.Context) (map[string]any, error) {
	var user, db, version string
	if err := s.db.QueryRowContext(ctx, `SELECT current_user, current_database(), current_setting('server_version')`).Scan(&user, &db, &version); err != nil {
		return nil, err
	}
	return map[string]any{"connected": true, "current_user": user, "current_database": db, "server_version": version}, nil
}

// fileStore keeps the same data in a JSON file, for the embedded-database
// configuration (single servers without PostgreSQL).
type fileStore struct {
	mu   sync.Mutex
	path string
}

type fileData struct {
	Nodes map[string]Heartbeat  `json:"nodes"`
	Repos map[string]RepoRecord `json:"repos"`
}

func (s *fileStore) load() (*fileData, error) {
	d := &fileData{Nodes: map[string]Heartbeat{}, Repos: map[string]RepoRecord{}}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, d); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	if d.Nodes == nil {
		d.Nodes = map[string]Heartbeat{}
	}
	if d.Repos == nil {
		d.Repos = map[string]RepoRecord{}
	}
	return d, nil
}

func (s *fileStore) update(f func(d *fileData) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return err
	}
	if err := f(d); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(d, "", "  ")
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *fileStore) Close() error { return nil }

func (s *fileStore) Beat(_ context.Context, hb Heartbeat) error {
	hb.Seen = time.Now()
	return s.update(func(d *fileData) error { d.Nodes[hb.Node] = hb; return nil })
}

func (s *fileStore) Nodes(context.Context) ([]Heartbeat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return nil, err
	}
	var out []Heartbeat
	for _, h := range d.Nodes {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

func (s *fileStore) ResetNodes(context.Context) error {
	return s.update(func(d *fileData) error { d.Nodes = map[string]Heartbeat{}; return nil })
}

func (s *fileStore) Repos(context.Context) ([]RepoRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return nil, err
	}
	var out []RepoRecord
	for _, r := range d.Repos {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *fileStore) CreateRepo(_ context.Context, r RepoRecord) error {
	return s.update(func(d *fileData) error {
		if _, ok := d.Repos[r.Name]; ok {
			return ErrExists
		}
		d.Repos[r.Name] = r
		return nil
	})
}

func (s *fileStore) Subscribe(_ context.Context, repo, source string) error {
	return s.update(func(d *fileData) error {
		r, ok := d.Repos[repo]
		if !ok || r.Source == source {
			return ErrExists
		}
		r.Source = source
		d.Repos[repo] = r
		return nil
	})
}

func (s *fileStore) Info(context.Context) (map[string]any, error) {
	return map[string]any{"connected": true, "embedded": s.path}, nil
}
