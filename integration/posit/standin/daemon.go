package standin

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/tend-dev/tend/integration/posit/standin/conf"
)

// Product names as the stand-in reports them.
const (
	Workbench      = "workbench"
	Connect        = "connect"
	PackageManager = "package_manager"
)

// product describes where a product keeps its files.
type product struct {
	name    string
	version string // file holding the installed version
	load    func(root string) (*conf.Effective, error)
	license string // license state file
}

// productNamed returns the product called name (Workbench, Connect or
// PackageManager; anything else is Workbench).
func productNamed(name string) product {
	switch name {
	case Connect:
		return product{name: Connect, version: "/opt/rstudio-connect/VERSION", load: conf.LoadConnect, license: "/var/lib/rstudio-connect/tend-license"}
	case PackageManager:
		return product{name: PackageManager, version: "/opt/rstudio-pm/VERSION", load: conf.LoadPackageManager, license: "/var/lib/rstudio-pm/tend-license"}
	}
	return product{name: Workbench, version: "/usr/lib/rstudio-server/VERSION", load: conf.LoadWorkbench, license: "/var/lib/rstudio-server/tend-license"}
}

func (p product) installedVersion() string {
	data, err := os.ReadFile(p.version)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// daemon is one running product server.
type daemon struct {
	p       product
	eff     *conf.Effective
	store   Store
	node    string
	started time.Time
	log     *log.Logger
	files   string // directory behind /__tend__/files/
}

// runDaemon starts a product server and blocks until SIGTERM/SIGINT. It
// returns 1 (after logging why) when the configuration is invalid, a
// directory is not writable or the database is unreachable, before telling
// systemd it is ready, so `systemctl start` fails like the real product's.
func runDaemon(name string, stderr io.Writer) int {
	p := productNamed(name)
	lg := log.New(stderr, "", 0)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	eff, err := p.load("/")
	if err != nil {
		lg.Printf("ERROR invalid configuration, refusing to start: %v", err)
		return 1
	}
	for _, w := range eff.Warnings {
		lg.Printf("WARNING %s", w)
	}
	d := &daemon{p: p, eff: eff, started: time.Now(), log: lg}
	d.node, _ = os.Hostname()
	if err := d.checkDirs(); err != nil {
		lg.Printf("ERROR %v", err)
		return 1
	}
	store, err := OpenStore(ctx, eff, 30*time.Second)
	if err != nil {
		lg.Printf("ERROR cannot use the metadata database: %v", err)
		return 1
	}
	defer store.Close()
	d.store = store
	if err := d.beat(ctx); err != nil {
		lg.Printf("ERROR write heartbeat to the database: %v", err)
		return 1
	}
	lns, err := listen(eff)
	if err != nil {
		lg.Printf("ERROR %v", err)
		return 1
	}
	srv := &http.Server{Handler: d.routes(), ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range lns {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				lg.Printf("ERROR serve: %v", err)
				stop()
			}
		}()
	}
	lg.Printf("%s %s (tend stand-in) listening on %s, database %s %s, data dir %s", p.name, p.installedVersion(), listenSummary(eff), eff.Database.Provider, eff.Database.Name, eff.DataDir)
	sdNotify("READY=1")
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			sdNotify("STOPPING=1")
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			lg.Printf("stopped")
			return 0
		case <-tick.C:
			if err := d.beat(ctx); err != nil {
				lg.Printf("WARNING heartbeat: %v", err)
			}
		}
	}
}

// listen opens the plain-HTTP listener (eff.Listen, when set) and the
// HTTPS one (eff.TLS, when set) with the configured certificate.
func listen(eff *conf.Effective) ([]net.Listener, error) {
	var lns []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, err
	}
	if eff.Listen != "" {
		ln, err := net.Listen("tcp", eff.Listen)
		if err != nil {
			return fail(fmt.Errorf("listen on %s: %w", eff.Listen, err))
		}
		lns = append(lns, ln)
	}
	if eff.TLS != nil {
		cert, err := tls.LoadX509KeyPair(eff.TLS.Certificate, eff.TLS.Key)
		if err != nil {
			return fail(fmt.Errorf("TLS certificate %s and key %s: %w", eff.TLS.Certificate, eff.TLS.Key, err))
		}
		ln, err := net.Listen("tcp", eff.TLS.Listen)
		if err != nil {
			return fail(fmt.Errorf("listen on %s: %w", eff.TLS.Listen, err))
		}
		lns = append(lns, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}
	if len(lns) == 0 {
		return nil, errors.New("no HTTP or HTTPS listener configured")
	}
	return lns, nil
}

// address is the node's listen address for its heartbeat: the HTTP one,
// or the HTTPS one when HTTP is off.
func (d *daemon) address() string {
	if d.eff.Listen == "" && d.eff.TLS != nil {
		return d.eff.TLS.Listen
	}
	return d.eff.Listen
}

// listenSummary says where a product listens, for its log and heartbeat.
func listenSummary(eff *conf.Effective) string {
	var parts []string
	if eff.Listen != "" {
		parts = append(parts, "http "+eff.Listen)
	}
	if eff.TLS != nil {
		parts = append(parts, "https "+eff.TLS.Listen)
	}
	return strings.Join(parts, ", ")
}

// checkDirs creates the data directories like the products do and proves
// each one writable by writing and removing a probe file.
func (d *daemon) checkDirs() error {
	dirs := []string{d.eff.DataDir}
	if d.eff.Shared != "" {
		dirs = append(dirs, d.eff.Shared)
	}
	if d.eff.Metrics != "" {
		dirs = append(dirs, d.eff.Metrics)
	}
	for i, dir := range dirs {
		// The shared storage path must already exist (it is a mount);
		// data directories are created.
		if dir == d.eff.Shared {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return fmt.Errorf("shared storage path %s is not a directory: %v", dir, err)
			}
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		probe := filepath.Join(dir, fmt.Sprintf(".tend-probe-%s-%d-%d", d.node, os.Getpid(), i))
		if err := os.WriteFile(probe, []byte("probe\n"), 0o600); err != nil {
			return fmt.Errorf("directory %s is not writable: %w", dir, err)
		}
		os.Remove(probe)
	}
	d.files = filepath.Join(d.eff.DataDir, "tend-files")
	if d.eff.Shared != "" {
		d.files = filepath.Join(d.eff.Shared, "tend-files")
	}
	return os.MkdirAll(d.files, 0o755)
}

func (d *daemon) beat(ctx context.Context) error {
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return d.store.Beat(bctx, Heartbeat{Node: d.node, Product: d.p.name, Version: d.p.installedVersion(), PID: os.Getpid(), Address: d.address(), Started: d.started})
}

// sdNotify tells systemd about readiness (Type=notify units).
func sdNotify(state string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Write([]byte(state))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

var fileName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func (d *daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__tend__/config", func(w http.ResponseWriter, r *http.Request) {
		info, err := d.store.Info(r.Context())
		if err != nil {
			info = map[string]any{"connected": false, "error": err.Error()}
		}
		_, lerr := os.Stat(d.p.license)
		writeJSON(w, map[string]any{
			"product": d.p.name, "version": d.p.installedVersion(), "node": d.node, "pid": os.Getpid(),
			"started_at": d.started, "config": d.eff, "database": info, "license_activated": lerr == nil,
			"files_dir": d.files,
		})
	})
	mux.HandleFunc("GET /__tend__/nodes", func(w http.ResponseWriter, r *http.Request) {
		nodes, err := d.store.Nodes(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, nodes)
	})
	mux.HandleFunc("GET /__tend__/repos", d.probeRepos)
	mux.HandleFunc("/__tend__/files/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !fileName.MatchString(name) {
			http.Error(w, "invalid file name", http.StatusBadRequest)
			return
		}
		p := filepath.Join(d.files, name)
		switch r.Method {
		case http.MethodPut, http.MethodPost:
			data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err == nil {
				err = os.WriteFile(p, data, 0o644)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			writeJSON(w, map[string]any{"written": p, "bytes": len(data), "node": d.node})
		case http.MethodGet:
			http.ServeFile(w, r, p)
		default:
			http.Error(w, "use GET or PUT", http.StatusMethodNotAllowed)
		}
	})
	switch d.p.name {
	case Workbench:
		mux.HandleFunc("GET /health-check", func(w http.ResponseWriter, r *http.Request) {
			if !d.eff.Health {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, "active-sessions: 0\nidle-seconds: 0\ncpu-percent: 0.0\nmemory-percent: 0.0\nswap-percent: 0.0\nload-average: 0.0\n")
		})
		mux.HandleFunc("/", d.home("Posit Workbench", "rs-csrf-token"))
	case Connect:
		mux.HandleFunc("GET /__ping__", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, map[string]any{}) })
		mux.HandleFunc("/", d.home("Posit Connect", "connect-session"))
	case PackageManager:
		mux.HandleFunc("GET /__ping__", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, map[string]any{}) })
		mux.HandleFunc("GET /__api__/status", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]any{"version": d.p.installedVersion(), "build_date": "2024-01-01", "node": d.node, "license": "standin"})
		})
		mux.HandleFunc("GET /__api__/repos", func(w http.ResponseWriter, r *http.Request) {
			repos, err := d.store.Repos(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			writeJSON(w, repos)
		})
		mux.HandleFunc("/", d.serveRepo)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Tend-Node", d.node)
		w.Header().Set("X-Tend-Product", d.p.name)
		mux.ServeHTTP(w, r)
	})
}

// home serves the product's front page and sets its session cookie once,
// so tests can show a load balancer keeps a browser on one node.
func (d *daemon) home(title, cookie string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if _, err := r.Cookie(cookie); err != nil {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: hex.EncodeToString(b), Path: "/", HttpOnly: true})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s (tend stand-in)</h1><p>node: <span id=\"node\">%s</span></p>\n", title, title, d.node)
	}
}

// probeRepos fetches every configured package repository from this node:
// the R index (URL/src/contrib/PACKAGES) and the Python simple index.
func (d *daemon) probeRepos(w http.ResponseWriter, r *http.Request) {
	type probe struct {
		conf.Repo
		Fetched  string `json:"fetched"`
		Status   int    `json:"status"`
		ServedBy string `json:"served_by,omitempty"`
		Body     string `json:"body,omitempty"`
		Error    string `json:"error,omitempty"`
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var out []probe
	for _, repo := range d.eff.Repos {
		p := probe{Repo: repo}
		u := strings.TrimSuffix(repo.URL, "/")
		if repo.Kind == "r" {
			p.Fetched = u + "/src/contrib/PACKAGES"
		} else {
			p.Fetched = u + "/"
			// The client that uses this URL is pip, which never asks a
			// plain-HTTP index on another host: neither does the probe.
			if why := conf.PipIgnores(repo.URL, repo.TrustedHosts); why != "" {
				p.Error = why
				out = append(out, p)
				continue
			}
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, p.Fetched, nil)
		resp, err := client.Do(req)
		if err != nil {
			p.Error = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
			resp.Body.Close()
			p.Status, p.ServedBy, p.Body = resp.StatusCode, resp.Header.Get("X-Tend-Node"), string(body)
		}
		out = append(out, p)
	}
	writeJSON(w, out)
}
