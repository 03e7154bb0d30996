// Command demo deploys Posit Team (single servers: db, ppm, connect,
// workbench) onto local testbed hosts with tend and the stand-in packages,
// then prints each product's URL and how to log in and tear down. The bed
// keeps running after the command ends (it is a demo); --down removes it.
//
//	sudo go run ./integration/cmd/demo          # or: make demo
//	sudo go run ./integration/cmd/demo --down
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tend-dev/tend/integration/posit/deploy"
	"github.com/tend-dev/tend/integration/posit/standin"
	"github.com/tend-dev/tend/integration/testbed"
)

type options struct {
	name string
	down bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&o.name, "n", "demo", "bed name")
	fs.BoolVar(&o.down, "down", false, "remove the demo bed and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	dir := filepath.Join(testbed.DefaultStateRoot, o.name)
	if o.down {
		if err := testbed.Cleanup(ctx, o.name, dir); err != nil {
			return fmt.Errorf("remove bed %s: %w", o.name, err)
		}
		fmt.Fprintf(stdout, "bed %s removed\n", o.name)
		return nil
	}
	root, err := deploy.ModuleRoot()
	if err != nil {
		return err
	}
	start := time.Now()
	bed, err := testbed.Up(ctx, testbed.Options{Name: o.name, Log: stderr},
		testbed.HostSpec{Name: "db", Role: "postgresql"},
		testbed.HostSpec{Name: "ppm", Role: "package_manager"},
		testbed.HostSpec{Name: "connect", Role: "connect"},
		testbed.HostSpec{Name: "workbench", Role: "workbench"},
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: bed %s up in %s\n", o.name, time.Since(start).Round(100*time.Millisecond))
	build := filepath.Join(bed.Dir, "posit-packages")
	if err := os.MkdirAll(build, 0o755); err != nil {
		return err
	}
	arts, err := deploy.Build(ctx, root, build, standin.DefaultVersions())
	if err != nil {
		return err
	}
	srv, err := deploy.Serve(bed.Gateway, build)
	if err != nil {
		return err
	}
	defer srv.Close()
	vars := filepath.Join(build, "demo-vars.json")
	if err := deploy.WriteVars(vars, arts.ExtraVars(srv.URL)); err != nil {
		return err
	}
	// For re-runs after this process (and its HTTP server) ends: the
	// roles copy the packages from the controller instead.
	rerun := arts.ExtraVars(srv.URL)
	for _, prefix := range []string{"workbench", "connect", "package_manager"} {
		rerun[prefix+"_package_file"] = filepath.Join(build, filepath.Base(rerun[prefix+"_package_url"].(string)))
	}
	rerunVars := filepath.Join(build, "demo-rerun-vars.json")
	if err := deploy.WriteVars(rerunVars, rerun); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: packages served at %s; running tend play -i %s playbooks/site.yml\n", srv.URL, bed.InventoryINI)
	res, err := arts.Play(ctx, "-i", bed.InventoryINI, "--known-hosts", bed.KnownHostsFile, "--ssh-config", "none", "-e", "@"+vars, "playbooks/site.yml")
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, res.Summary())
	if res.ExitCode != 0 {
		return fmt.Errorf("tend play failed (exit %d); the bed stays up for inspection: go run ./integration/cmd/testbed ssh -n %s HOST", res.ExitCode, o.name)
	}
	addr := map[string]string{}
	for _, h := range bed.Hosts {
		addr[h.Name] = h.Addr
	}
	fmt.Fprintf(stdout, `Posit Team (tend stand-ins) deployed in %s:

  Posit Workbench        https://%s:8787/            (health: /health-check)
  Posit Connect          https://%s:3939/            (health: /__ping__)
  Posit Package Manager  https://%s:4242/            (CRAN: /cran/latest, PyPI: /pypi/latest/simple/)
  PostgreSQL             %s:5432 (databases rstudio, connect, rstudio_pm)
  Effective configuration of each product: https://HOST:PORT/__tend__/config
  TLS: certificates from the internal CA the roles created, %s/posit-tls/ca.crt
       (trusted on every host; here: curl --cacert %s/posit-tls/ca.crt https://...)

Log in:     sudo go run ./integration/cmd/testbed ssh -n %s workbench   (or db, ppm, connect)
Inventory:  %s
Re-run:     %s play -i %s --known-hosts %s --ssh-config none -e @%s playbooks/site.yml
Tear down:  sudo go run ./integration/cmd/demo --down   (or: go run ./integration/cmd/testbed down -n %s)
`, time.Since(start).Round(time.Second), addr["workbench"], addr["connect"], addr["ppm"], addr["db"],
		filepath.Dir(bed.InventoryINI), filepath.Dir(bed.InventoryINI), o.name, bed.InventoryINI, arts.Tend, bed.InventoryINI, bed.KnownHostsFile, rerunVars, o.name)
	return nil
}
