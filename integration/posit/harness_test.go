package posit_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/posit/deploy"
	"github.com/tend-dev/tend/integration/posit/standin"
	"github.com/tend-dev/tend/integration/testbed"
)

// built holds tend and the stand-in packages, built once per test run by
// TestMain (nil when the build failed; buildErr says why).
var (
	built    *deploy.Artifacts
	buildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tend-posit-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Geteuid() == 0 || os.Getenv("CI") == "true" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		root, err := deploy.ModuleRoot()
		if err == nil {
			built, err = deploy.Build(ctx, root, dir, standin.DefaultVersions())
		}
		buildErr = err
		cancel()
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one bed with the packages served to it.
type env struct {
	t         *testing.T
	bed       *testbed.Bed
	arts      *deploy.Artifacts
	vars      string // extra vars file
	inventory string // hosts.ini beside a copy of the example group_vars
	playbook  string
	ctx       context.Context
	hosts     map[string]*testbed.Host
	roles     map[string][]string // inventory group -> hosts
	caDir     string              // the roles' internal CA on the controller (posit_tls_ca_dir)
	hc        *http.Client        // trusts that CA; made on first use, after the deploy created it
}

// newEnv boots a bed and prepares an inventory directory holding the
// bed's hosts (one group per role label) and the group_vars of the
// repository's example inventory exampleInv (inventory/single or
// inventory/ha), so the tests run the example configuration; the extra
// vars file overrides what the testbed needs (package sources, passwords,
// sshfs, no NTP).
func newEnv(t *testing.T, playbook, exampleInv string, specs ...testbed.HostSpec) *env {
	t.Helper()
	bed := testbed.Start(t, specs...)
	if buildErr != nil {
		t.Fatalf("build tend and the stand-in packages: %v", buildErr)
	}
	if built == nil {
		t.Fatal("stand-in packages were not built (TestMain builds them only as root or with CI=true)")
	}
	srv, err := deploy.Serve(bed.Gateway, built.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	vars := filepath.Join(t.TempDir(), "posit-vars.json")
	extra := built.ExtraVars(srv.URL)
	// The roles' internal CA (posit_tls role) lives on the controller, one
	// per bed.
	caDir := filepath.Join(t.TempDir(), "posit-tls")
	extra["posit_tls_ca_dir"] = caDir
	if err := deploy.WriteVars(vars, extra); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "inventory")
	if err := os.MkdirAll(inv, 0o755); err != nil {
		t.Fatal(err)
	}
	ini, err := os.ReadFile(bed.InventoryINI)
	if err == nil {
		err = os.WriteFile(filepath.Join(inv, "hosts.ini"), ini, 0o644)
	}
	if err == nil {
		err = os.CopyFS(filepath.Join(inv, "group_vars"), os.DirFS(filepath.Join(built.Root, exampleInv, "group_vars")))
	}
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	e := &env{t: t, bed: bed, arts: built, vars: vars, inventory: filepath.Join(inv, "hosts.ini"), playbook: playbook, ctx: context.Background(),
		hosts: map[string]*testbed.Host{}, roles: map[string][]string{}, caDir: caDir}
	for _, h := range bed.Hosts {
		e.hosts[h.Name] = h
		e.roles[h.Role] = append(e.roles[h.Role], h.Name)
	}
	return e
}

// play runs the playbook against the bed with the test variables.
func (e *env) play(extra ...string) *deploy.Result {
	e.t.Helper()
	args := append([]string{"-i", e.inventory, "--known-hosts", e.bed.KnownHostsFile, "--ssh-config", "none",
		"-e", "@" + e.vars}, extra...)
	args = append(args, e.playbook)
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Minute)
	defer cancel()
	res, err := e.arts.Play(ctx, args...)
	if err != nil {
		e.t.Fatalf("%v\n%s", err, res.Summary())
	}
	if res.Report == nil {
		e.t.Fatalf("tend did not print a JSON report\n%s", res.Summary())
	}
	return res
}

// ssh runs a command as root on host and fails the test on error.
func (e *env) ssh(host, cmd string) string {
	e.t.Helper()
	out, err := e.bed.SSH(e.ctx, host, cmd)
	if err != nil {
		e.t.Fatalf("%s: %v\n%s", host, err, out)
	}
	return strings.TrimSpace(out)
}

func (e *env) addr(host string) string { return e.hosts[host].Addr }

// get fetches a URL from the controller.
func get(client *http.Client, url string) (int, string, http.Header, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), resp.Header, nil
}

// transport trusts the system roots and the roles' internal CA.
func (e *env) transport() *http.Transport {
	e.t.Helper()
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	ca, err := os.ReadFile(filepath.Join(e.caDir, "ca.crt"))
	if err != nil {
		e.t.Fatalf("the roles' internal CA: %v", err)
	}
	if !pool.AppendCertsFromPEM(ca) {
		e.t.Fatalf("%s/ca.crt holds no certificate", e.caDir)
	}
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
}

// client is an HTTP client that verifies the products' certificates
// against the roles' internal CA.
func (e *env) client() *http.Client {
	if e.hc == nil {
		e.hc = &http.Client{Timeout: 10 * time.Second, Transport: e.transport()}
	}
	return e.hc
}

// jarClient is client with a cookie jar (sticky sessions).
func (e *env) jarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Timeout: 10 * time.Second, Jar: jar, Transport: e.transport()}
}

// ha says whether a load balancer terminates HTTPS in front of the nodes
// (the nodes then speak HTTP); single servers serve HTTPS themselves.
func (e *env) ha() bool { return len(e.roles["load_balancer"]) > 0 }

// nodeURL is a URL on one product node, as the roles make it serve.
func (e *env) nodeURL(host, path string) string {
	scheme := "https"
	if e.ha() {
		scheme = "http"
	}
	return fmt.Sprintf("%s://%s:%s%s", scheme, e.addr(host), productPort[e.hosts[host].Role], path)
}

// getJSON fetches a stand-in's JSON endpoint.
func (e *env) getJSON(url string, v any) {
	e.t.Helper()
	code, body, _, err := get(e.client(), url)
	if err != nil || code != 200 {
		e.t.Fatalf("GET %s: %d %v\n%s", url, code, err, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		e.t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
}

// standinInfo is what /__tend__/config reports.
type standinInfo struct {
	Product  string         `json:"product"`
	Version  string         `json:"version"`
	Node     string         `json:"node"`
	PID      int            `json:"pid"`
	License  bool           `json:"license_activated"`
	Database map[string]any `json:"database"`
	Config   struct {
		Listen   string `json:"listen"`
		DataDir  string `json:"data_dir"`
		Shared   string `json:"shared_dir"`
		Metrics  string `json:"metrics_dir"`
		Database struct {
			Provider string            `json:"provider"`
			Host     string            `json:"host"`
			Name     string            `json:"database"`
			User     string            `json:"user"`
			Extra    map[string]string `json:"extra_databases"`
		} `json:"database"`
		Repos []struct {
			Kind, Name, URL, From string
		} `json:"repos"`
		Settings map[string]any    `json:"settings"`
		Files    map[string]string `json:"files"`
		Warnings []string          `json:"warnings"`
	} `json:"config"`
}

// productPort is each product group's HTTP port.
var productPort = map[string]string{"workbench": "8787", "connect": "3939", "package_manager": "4242"}

// healthPath is each product's health endpoint.
var healthPath = map[string]string{"workbench": "/health-check", "connect": "/__ping__", "package_manager": "/__ping__"}

// services are the systemd units of each inventory group.
var services = map[string][]string{
	"workbench": {"rstudio-server", "rstudio-launcher"}, "connect": {"rstudio-connect"},
	"package_manager": {"rstudio-pm"}, "load_balancer": {"haproxy"},
}

func (e *env) info(host string) standinInfo {
	e.t.Helper()
	var in standinInfo
	e.getJSON(e.nodeURL(host, "/__tend__/config"), &in)
	return in
}

// mainPIDs returns "host/unit" -> MainPID for every product service.
func (e *env) mainPIDs() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for role, units := range services {
		for _, h := range e.roles[role] {
			for _, u := range units {
				out[h+"/"+u] = e.ssh(h, "systemctl show -p MainPID --value "+u+".service")
			}
		}
	}
	return out
}

// snapshot lists packages, files (path, mode, size, owner) under the
// directories a deployment touches, and enabled/active units, so a check
// run can be shown to leave a host untouched.
func (e *env) snapshot(host string) string {
	e.t.Helper()
	return e.ssh(host, `{ dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sort
find /etc /opt /srv /home /var/lib /usr/lib/rstudio-server /var/cache/posit-packages -xdev \
  \( -path /var/lib/apt/lists -o -path /var/lib/systemd -o -path /var/lib/dpkg -o -path /var/cache/apt \) -prune -o \
  -printf '%p %m %s %u %g\n' 2>/dev/null | sort
systemctl list-units --all --no-legend --plain --type=service,mount | awk '{print $1, $3, $4}' | sort
getent passwd | sort; getent group | sort; } 2>&1`)
}

// lineDiff returns the lines only in a or only in b.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func newPut(url, body string) (*http.Request, error) {
	return http.NewRequest(http.MethodPut, url, strings.NewReader(body))
}

// journals returns the recent journal of every product service, for
// failure messages.
func (e *env) journals() string {
	var b strings.Builder
	for role, units := range services {
		for _, h := range e.roles[role] {
			for _, u := range units {
				out, _ := e.bed.SSH(e.ctx, h, "journalctl -u "+u+" -n 15 --no-pager -o cat 2>&1")
				fmt.Fprintf(&b, "--- %s %s:\n%s\n", h, u, strings.TrimSpace(out))
			}
		}
	}
	return b.String()
}
