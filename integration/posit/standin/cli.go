package standin

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tend-dev/tend/integration/posit/standin/conf"
)

// Main runs the program named by args[0] (rserver, rstudio-server,
// rstudio-launcher, connect, rscadmin, rstudio-pm, rspm, license-manager)
// and returns its exit code. "posit-standin NAME ARGS..." runs NAME.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "posit-standin: no program name")
		return 2
	}
	name := filepath.Base(args[0])
	if name == "posit-standin" {
		if len(args) < 2 {
			fmt.Fprintln(stderr, "usage: posit-standin rserver|rstudio-server|rstudio-launcher|connect|rscadmin|rstudio-pm|rspm|license-manager [ARGS]")
			return 2
		}
		args = args[1:]
		name = filepath.Base(args[0])
	}
	if len(args) > 1 && args[1] == "__tend_pglogin" {
		return pgLogin(args[2:], stdout, stderr)
	}
	switch name {
	case "rserver":
		if slices.Contains(args[1:], "--test-config") {
			return testConfig(Workbench, stdout, stderr)
		}
		return runDaemon(Workbench, stderr)
	case "connect":
		return runDaemon(Connect, stderr)
	case "rstudio-pm":
		return runDaemon(PackageManager, stderr)
	case "rstudio-launcher":
		return runLauncher(stderr)
	case "rstudio-server":
		return workbenchCLI(args[1:], stdout, stderr)
	case "rscadmin":
		return rscadmin(args[1:], stdout, stderr)
	case "rspm":
		return rspm(args[1:], stdout, stderr)
	case "license-manager":
		return licenseManager(productOf(args[0]), args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "posit-standin: unknown program %q\n", name)
	return 2
}

// productOf tells which product a shared program (license-manager)
// belongs to from the path it was run as, or the executable's real path.
func productOf(arg0 string) product {
	for _, p := range []string{arg0, func() string { e, _ := os.Executable(); return e }()} {
		switch {
		case strings.Contains(p, "rstudio-connect"):
			return productNamed(Connect)
		case strings.Contains(p, "rstudio-pm"):
			return productNamed(PackageManager)
		case strings.Contains(p, "rstudio-server"):
			return productNamed(Workbench)
		}
	}
	return productNamed(Workbench)
}

func testConfig(name string, stdout, stderr io.Writer) int {
	eff, err := productNamed(name).load("/")
	if err != nil {
		fmt.Fprintf(stderr, "ERROR invalid configuration: %v\n", err)
		return 1
	}
	for _, w := range eff.Warnings {
		fmt.Fprintf(stderr, "WARNING %s\n", w)
	}
	fmt.Fprintln(stdout, "configuration OK")
	return 0
}

func workbenchCLI(args []string, stdout, stderr io.Writer) int {
	p := productNamed(Workbench)
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: rstudio-server {start|stop|restart|reload|status|verify-installation|license-manager|list-nodes|reset-cluster|version}")
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, p.installedVersion()+" (tend stand-in)")
		return 0
	case "verify-installation":
		fmt.Fprintln(stdout, "Checking Posit Workbench installation...")
		if rc := testConfig(Workbench, stdout, stderr); rc != 0 {
			return rc
		}
		fmt.Fprintln(stdout, "Installation verified.")
		return 0
	case "license-manager":
		return licenseManager(p, args[1:], stdout, stderr)
	case "start", "stop", "restart", "reload", "status":
		cmd := exec.Command("systemctl", args[0], "rstudio-server.service")
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			fmt.Fprintf(stderr, "rstudio-server %s: %v\n", args[0], err)
			return 1
		}
		return 0
	case "list-nodes", "reset-cluster":
		eff, store, rc := openProductStore(Workbench, stderr)
		if rc != 0 {
			return rc
		}
		defer store.Close()
		ctx := context.Background()
		if args[0] == "reset-cluster" {
			if err := store.ResetNodes(ctx); err != nil {
				fmt.Fprintf(stderr, "ERROR reset-cluster: %v\n", err)
				return 1
			}
			fmt.Fprintln(stdout, "Cluster reset.")
			return 0
		}
		nodes, err := store.Nodes(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR list-nodes: %v\n", err)
			return 1
		}
		if lb, _ := eff.Settings["load-balancing"].(bool); !lb {
			fmt.Fprintln(stdout, "Load balancing is not enabled.")
		}
		for _, n := range nodes {
			fmt.Fprintf(stdout, "%s\t%s\t%s\tlast seen %s\n", n.Node, n.Address, n.Version, n.Seen.Format(time.RFC3339))
		}
		return 0
	case "encrypt-password":
		fmt.Fprintln(stderr, "ERROR encrypt-password is not supported by the tend stand-in; use a plain password in database.conf")
		return 1
	}
	fmt.Fprintf(stderr, "rstudio-server: unknown command %q\n", args[0])
	return 2
}

func openProductStore(name string, stderr io.Writer) (*conf.Effective, Store, int) {
	eff, err := productNamed(name).load("/")
	if err != nil {
		fmt.Fprintf(stderr, "ERROR invalid configuration: %v\n", err)
		return nil, nil, 1
	}
	store, err := OpenStore(context.Background(), eff, 5*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR database: %v\n", err)
		return nil, nil, 1
	}
	return eff, store, 0
}

// licenseManager keeps the activation state in a file in the product's
// data directory; it stores a hash of the key, never the key.
func licenseManager(p product, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: license-manager {activate KEY|activate-file FILE|deactivate|status|verify}")
		return 2
	}
	switch args[0] {
	case "activate", "activate-file":
		if len(args) != 2 || strings.TrimSpace(args[1]) == "" {
			fmt.Fprintf(stderr, "license-manager %s: exactly one argument needed\n", args[0])
			return 2
		}
		key := []byte(args[1])
		if args[0] == "activate-file" {
			data, err := os.ReadFile(args[1])
			if err != nil {
				fmt.Fprintf(stderr, "license-manager: %v\n", err)
				return 1
			}
			key = data
		}
		sum := sha256.Sum256(key)
		if err := os.MkdirAll(filepath.Dir(p.license), 0o755); err != nil {
			fmt.Fprintf(stderr, "license-manager: %v\n", err)
			return 1
		}
		if err := os.WriteFile(p.license, []byte(hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
			fmt.Fprintf(stderr, "license-manager: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "License activated.")
		return 0
	case "deactivate":
		if err := os.Remove(p.license); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "license-manager: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "License deactivated.")
		return 0
	case "status", "verify":
		if _, err := os.Stat(p.license); err == nil {
			fmt.Fprintln(stdout, "Status: Activated")
		} else {
			fmt.Fprintln(stdout, "Status: Evaluation (not activated)")
		}
		return 0
	}
	fmt.Fprintf(stderr, "license-manager: unknown command %q\n", args[0])
	return 2
}

func rscadmin(args []string, stdout, stderr io.Writer) int {
	p := productNamed(Connect)
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: rscadmin {version|verify|nodes}")
		return 2
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintln(stdout, p.installedVersion()+" (tend stand-in)")
		return 0
	case "verify", "configure-check":
		return testConfig(Connect, stdout, stderr)
	case "nodes":
		_, store, rc := openProductStore(Connect, stderr)
		if rc != 0 {
			return rc
		}
		defer store.Close()
		nodes, err := store.Nodes(context.Background())
		if err != nil {
			fmt.Fprintf(stderr, "ERROR nodes: %v\n", err)
			return 1
		}
		for _, n := range nodes {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", n.Node, n.Address, n.Seen.Format(time.RFC3339))
		}
		return 0
	}
	fmt.Fprintf(stderr, "rscadmin: unknown command %q\n", args[0])
	return 2
}

// flags parses --key=value and --key value arguments.
func flags(args []string) (map[string]string, []string, error) {
	m := map[string]string{}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			pos = append(pos, a)
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				v = "true"
			} else {
				i++
				v = args[i]
			}
		}
		m[k] = v
	}
	return m, pos, nil
}

// rspmAllowed reports whether the caller is root or in group rstudio-pm,
// like the real rspm requires.
func rspmAllowed() bool {
	if os.Geteuid() == 0 {
		return true
	}
	g, err := user.LookupGroup("rstudio-pm")
	if err != nil {
		return false
	}
	gid, _ := strconv.Atoi(g.Gid)
	groups, _ := os.Getgroups()
	return os.Getegid() == gid || slices.Contains(groups, gid)
}

func rspm(args []string, stdout, stderr io.Writer) int {
	p := productNamed(PackageManager)
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: rspm {create repo|subscribe|list|sync|version} [--flags]")
		return 2
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "rspm "+p.installedVersion()+" (tend stand-in)")
		return 0
	}
	if !rspmAllowed() {
		fmt.Fprintln(stderr, "error: permission denied: run rspm as root or as a member of group rstudio-pm")
		return 1
	}
	fl, pos, _ := flags(args)
	_, store, rc := openProductStore(PackageManager, stderr)
	if rc != 0 {
		return rc
	}
	defer store.Close()
	ctx := context.Background()
	repos, err := store.Repos(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	switch {
	case len(pos) >= 2 && pos[0] == "create" && pos[1] == "repo":
		return rspmCreateRepo(ctx, store, fl, stdout, stderr)
	case len(pos) >= 1 && pos[0] == "subscribe":
		return rspmSubscribe(ctx, store, repos, fl, stdout, stderr)
	case len(pos) >= 1 && pos[0] == "list":
		for _, r := range repos {
			fmt.Fprintf(stdout, "%s - %s\n", r.Name, r.Description)
			fmt.Fprintf(stdout, "    Type: %s\n", r.Type)
			if r.Source != "" {
				fmt.Fprintf(stdout, "    Sources: %s\n", r.Source)
			}
		}
		return 0
	case len(pos) >= 1 && pos[0] == "sync":
		fmt.Fprintln(stdout, "Sync complete (tend stand-in: nothing to fetch).")
		return 0
	}
	fmt.Fprintf(stderr, "rspm: unknown command %q\n", strings.Join(pos, " "))
	return 2
}

// rspmCreateRepo is rspm create repo --name N [--type T] [--description D].
func rspmCreateRepo(ctx context.Context, store Store, fl map[string]string, stdout, stderr io.Writer) int {
	name, typ := fl["name"], fl["type"]
	if name == "" {
		fmt.Fprintln(stderr, "error: --name is required")
		return 2
	}
	if typ == "" {
		typ = "r"
	}
	if typ != "r" && typ != "python" && typ != "bioconductor" {
		fmt.Fprintf(stderr, "error: invalid repository type %q (want r, python or bioconductor)\n", typ)
		return 1
	}
	err := store.CreateRepo(ctx, RepoRecord{Name: name, Type: typ, Description: fl["description"]})
	if errors.Is(err, ErrExists) {
		fmt.Fprintf(stderr, "error: a repository with the name '%s' already exists\n", name)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Repository: %s - %s\n", name, fl["description"])
	return 0
}

// rspmSubscribe is rspm subscribe --repo R --source S; the source's type
// must be the repository's.
func rspmSubscribe(ctx context.Context, store Store, repos []RepoRecord, fl map[string]string, stdout, stderr io.Writer) int {
	repo, source := fl["repo"], fl["source"]
	i := slices.IndexFunc(repos, func(r RepoRecord) bool { return r.Name == repo })
	if i < 0 {
		fmt.Fprintf(stderr, "error: repository '%s' not found\n", repo)
		return 1
	}
	typ, ok := sources[source]
	if !ok {
		fmt.Fprintf(stderr, "error: source '%s' not found\n", source)
		return 1
	}
	if typ != repos[i].Type {
		fmt.Fprintf(stderr, "error: source '%s' (%s) cannot be used by repository '%s' of type %s\n", source, typ, repo, repos[i].Type)
		return 1
	}
	if err := store.Subscribe(ctx, repo, source); errors.Is(err, ErrExists) {
		fmt.Fprintf(stderr, "error: the subscription of repository '%s' to source '%s' already exists\n", repo, source)
		return 1
	} else if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Repository: %s\nSources:\n--%s (%s)\n", repo, source, typ)
	return 0
}

// pgLogin tries to log in to a PostgreSQL URL with the password in
// PGPASSWORD; tests use it on product hosts to show which databases a
// product's credentials reach.
func pgLogin(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: PROGRAM __tend_pglogin postgres://USER@HOST:PORT/DB?sslmode=disable  (password in PGPASSWORD)")
		return 2
	}
	db, err := sql.Open("postgres", args[0])
	if err == nil {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var user, name string
		err = db.QueryRowContext(ctx, `SELECT current_user, current_database()`).Scan(&user, &name)
		if err == nil {
			fmt.Fprintf(stdout, "ok %s@%s\n", user, name)
			return 0
		}
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	return 1
}

// runLauncher stands in for the Job Launcher: it checks launcher.conf
// (when present) and listens on its port (5559 unless configured).
func runLauncher(stderr io.Writer) int {
	port := "5559"
	if data, err := os.ReadFile("/etc/rstudio/launcher.conf"); err == nil {
		ini, err := conf.ParseINI("/etc/rstudio/launcher.conf", data)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR invalid configuration, refusing to start: %v\n", err)
			return 1
		}
		if v, ok := ini.Get("server", "port"); ok {
			port = v
		}
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR listen: %v\n", err)
		return 1
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	fmt.Fprintf(stderr, "rstudio-launcher (tend stand-in) listening on :%s\n", port)
	sdNotify("READY=1")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	return 0
}
