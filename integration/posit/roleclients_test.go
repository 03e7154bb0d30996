package posit_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/posit/standin/testpkg"
)

// Real clients through the roles' own configuration: on the Workbench and
// Connect hosts the roles write /etc/pip.conf, repos.conf (Workbench), the
// Connect gcfg's CRAN repository and the trust store; Debian's pip, R and
// curl installed there by the test use exactly that. The client packages
// are the test's, not the roles': a Workbench or Connect host runs R and
// Python from Posit's builds or the distribution as the administrator
// chooses, which the roles leave alone.

// clientSet says which clients run where: single servers install pip, R
// and curl on the Workbench and on the Connect host; a cluster installs
// pip and curl on the first node of each (r-base-core is the one big
// download: once per bed is enough, and the single-server bed has it).
type clientSet struct {
	hosts []string
	pkgs  []string
	r     bool
}

func (e *env) clientSet() clientSet {
	hosts := []string{e.roles["workbench"][0], e.roles["connect"][0]}
	if e.ha() {
		return clientSet{hosts: hosts, pkgs: []string{"python3-pip", "curl"}}
	}
	return clientSet{hosts: hosts, pkgs: []string{"python3-pip", "r-base-core", "curl"}, r: true}
}

// aptJobs runs one apt command per client host in the background; wait
// returns the first error and how long the slowest host took.
type aptJobs struct {
	start time.Time
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
	took  time.Duration
}

func (e *env) startApt(ctx context.Context, cs clientSet, downloadOnly bool) *aptJobs {
	j := &aptJobs{start: time.Now()}
	c := realClients{bed: e.bed}
	// apt's package lists and downloads in a directory of their own, so
	// that the download running beside the playbook's check-mode runs never
	// rewrites the lists those runs read (seen: "No package matching 'curl'
	// is available" while apt-get update replaced them), and outside what
	// the check-mode snapshot compares. dpkg's lock is taken only by the
	// install after the deploy.
	const dir = "/var/cache/tend-test-clients"
	opts := "-o Dir::State::Lists=" + dir + "/lists -o Dir::Cache::Archives=" + dir + "/archives -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache="
	update := "mkdir -p " + dir + "/lists/partial " + dir + "/archives/partial && apt-get " + opts + " update -qq"
	cmd := "export DEBIAN_FRONTEND=noninteractive; " + update + " && apt-get " + opts + " install -y -qq --no-install-recommends --download-only " + strings.Join(cs.pkgs, " ") + " >/dev/null"
	if !downloadOnly {
		cmd = "export DEBIAN_FRONTEND=noninteractive; { ls " + dir + "/lists/*_Packages* >/dev/null 2>&1 || " + update + "; } && apt-get " + opts + " install -y -qq --no-install-recommends " + strings.Join(cs.pkgs, " ") + " >/dev/null"
	}
	for _, h := range cs.hosts {
		j.wg.Add(1)
		go func() {
			defer j.wg.Done()
			out, err := c.run(ctx, h, cmd, nil)
			j.mu.Lock()
			defer j.mu.Unlock()
			if err != nil && j.err == nil {
				j.err = fmt.Errorf("%v\n%s", err, out)
			}
			if d := time.Since(j.start); d > j.took {
				j.took = d
			}
		}()
	}
	return j
}

func (j *aptJobs) wait() (time.Duration, error) {
	j.wg.Wait()
	return j.took, j.err
}

// repoURL reads the CRAN URL the roles configured on host: Workbench's
// repos.conf `CRAN=` (what rsession gives a user session), Connect's
// gcfg `[RPackageRepository "CRAN"] URL`.
func (e *env) repoURL(t *testing.T, host string) string {
	t.Helper()
	if e.hosts[host].Role == "workbench" {
		for _, l := range strings.Split(e.ssh(host, "cat /etc/rstudio/repos.conf"), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "CRAN="); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("%s: /etc/rstudio/repos.conf has no CRAN=", host)
	}
	in := false
	sc := bufio.NewScanner(strings.NewReader(e.ssh(host, "cat /etc/rstudio-connect/rstudio-connect.gcfg")))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			in = l == `[RPackageRepository "CRAN"]`
			continue
		}
		if k, v, ok := strings.Cut(l, "="); in && ok && strings.TrimSpace(k) == "URL" {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s: rstudio-connect.gcfg has no [RPackageRepository \"CRAN\"] URL", host)
	return ""
}

// checkRoleClients installs a test-built wheel with Debian's pip and (on
// single servers) an `R CMD build` package with Debian's R on the
// Workbench and Connect hosts, through the index and repository the roles
// configured, over https trusted through the trust store the posit_tls
// role filled; and reaches every product with curl (through the load
// balancer in a cluster).
func (e *env) checkRoleClients(t *testing.T, cs clientSet, install *aptJobs) {
	waitStart := time.Now()
	took, err := install.wait()
	if err != nil {
		t.Fatalf("install %v: %v", cs.pkgs, err)
	}
	t.Logf("client packages %v on %v: installed %s after the deploy; the test waited %s for them",
		cs.pkgs, cs.hosts, took.Round(100*time.Millisecond), time.Since(waitStart).Round(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Minute)
	defer cancel()
	c := realClients{bed: e.bed}

	// The packages, published on every Package Manager node (on a shared
	// DataDir twice, harmlessly).
	greeting := "hello through the roles' pip.conf"
	whlName, whl, err := testpkg.Wheel("tend-hello", "0.1.0", greeting)
	if err != nil {
		t.Fatal(err)
	}
	var rFile string
	var rData []byte
	if cs.r {
		rFile, rData = c.buildRPackage(t, cs.hosts[0], "tendhello", "0.1.0", "hello through the roles' CRAN URL")
	}
	for _, pm := range e.roles["package_manager"] {
		dir := e.info(pm).Config.DataDir
		c.put(t, pm, filepath.Join(dir, "tend-packages", "python", whlName), whl, "0644")
		if cs.r {
			c.put(t, pm, filepath.Join(dir, "tend-packages", "r", rFile), rData, "0644")
		}
	}

	for _, h := range cs.hosts {
		pipConf := e.ssh(h, "cat /etc/pip.conf")
		if !strings.Contains(pipConf, "index-url = https://") {
			t.Errorf("%s: /etc/pip.conf has no https index-url:\n%s", h, pipConf)
		}
		if out, err := c.pipInstall(ctx, h, "tend-hello"); err != nil {
			t.Errorf("%s: pip install through /etc/pip.conf:\n%s\n%v", h, out, err)
		} else if got := e.ssh(h, `python3 -c 'import tend_hello; print(tend_hello.hello())'`); got != greeting {
			t.Errorf("%s: import tend_hello: %q", h, got)
		}
		if cs.r {
			url := e.repoURL(t, h)
			if !strings.HasPrefix(url, "https://") {
				t.Errorf("%s: CRAN URL %q is not https", h, url)
			}
			out, err := c.rInstall(ctx, h, "tendhello", url, "tendhello_hello()")
			if err != nil || !strings.Contains(out, "hello through the roles' CRAN URL") {
				t.Errorf("%s: install.packages from %s: %v\n%s", h, url, err, out)
			} else {
				t.Logf("%s: R installed tendhello from %s", h, url)
			}
		}
		// curl with the system trust store only (no --cacert).
		for _, group := range []string{"workbench", "connect", "package_manager"} {
			for _, url := range e.publicURLs(group) {
				if out, err := c.run(ctx, h, "curl -fsS -o /dev/null -w '%{http_code}' "+clientQuote(url), nil); err != nil || out != "200" {
					t.Errorf("%s: curl %s: %v %s", h, url, err, out)
				}
			}
		}
	}
}

// publicURLs are a product's health URLs as users reach it: through the
// load balancer in a cluster, else on each product host.
func (e *env) publicURLs(group string) []string {
	if e.ha() {
		return []string{e.lbURL(group, healthPath[group])}
	}
	var out []string
	for _, h := range e.roles[group] {
		out = append(out, e.nodeURL(h, healthPath[group]))
	}
	return out
}

// tlsEndpoints are the host:port pairs serving the products' certificates:
// the load balancer's frontends, or each product host.
func (e *env) tlsEndpoints() map[string]string {
	out := map[string]string{}
	for _, group := range []string{"workbench", "connect", "package_manager"} {
		if e.ha() {
			lb := e.roles["load_balancer"][0]
			out[lb+"/"+group] = net.JoinHostPort(e.addr(lb), productPort[group])
			continue
		}
		for _, h := range e.roles[group] {
			out[h] = net.JoinHostPort(e.addr(h), productPort[group])
		}
	}
	return out
}

// servedCert is the certificate an endpoint presents, verified against
// the roles' CA as it is now on the controller.
func (e *env) servedCert(addr string) (*x509.Certificate, error) {
	host, _, _ := net.SplitHostPort(addr)
	cfg := e.transport().TLSClientConfig.Clone()
	cfg.ServerName = host
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// checkRenewal replaces the internal CA (its directory on the controller
// emptied: a new CA, new certificates for every server) and runs the
// playbook: every host trusts the new CA, every product and the load
// balancer present the new certificate as soon as the run ends, and the
// products and HAProxy restarted.
func (e *env) checkRenewal(t *testing.T) {
	before := map[string]string{}
	for name, addr := range e.tlsEndpoints() {
		cert, err := e.servedCert(addr)
		if err != nil {
			t.Fatalf("%s (%s): %v", name, addr, err)
		}
		before[name] = cert.SerialNumber.String()
	}
	pids := e.mainPIDs()
	entries, err := os.ReadDir(e.caDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if err := os.RemoveAll(filepath.Join(e.caDir, ent.Name())); err != nil {
			t.Fatal(err)
		}
	}
	res := e.play("--force-handlers")
	t.Logf("run with a new CA: %s, changed:\n%s", res.Duration.Round(100*time.Millisecond), strings.Join(res.Report.Changed(), "\n"))
	if res.ExitCode != 0 || len(res.Report.Failures()) > 0 {
		t.Fatalf("run with a new CA failed:\n%s\n%s", res.Summary(), e.journals())
	}
	e.hc = nil // the client trusts the new CA from now on
	for name, addr := range e.tlsEndpoints() {
		cert, err := e.servedCert(addr)
		switch {
		case err != nil:
			t.Errorf("%s (%s) after the new CA: %v", name, addr, err)
		case cert.SerialNumber.String() == before[name]:
			t.Errorf("%s (%s) still presents certificate %s", name, addr, before[name])
		}
	}
	after := e.mainPIDs()
	for k, pid := range pids {
		if strings.HasSuffix(k, "/rstudio-launcher") {
			continue // no TLS of its own
		}
		if after[k] == pid {
			t.Errorf("%s: not restarted after the new CA (MainPID %s)", k, pid)
		}
	}
	// The hosts trust the new CA: curl from a Workbench host with the
	// system trust store.
	wb := e.roles["workbench"][0]
	for _, url := range e.publicURLs("package_manager") {
		if out, err := e.bed.SSH(e.ctx, wb, "curl -fsS -o /dev/null -w '%{http_code}' "+shq(url)); err != nil || out != "200" {
			t.Errorf("%s: curl %s with the new CA: %v %s", wb, url, err, out)
		}
	}
}
