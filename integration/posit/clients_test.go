package posit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/posit/standin"
	"github.com/tend-dev/tend/integration/posit/standin/testpkg"
	"github.com/tend-dev/tend/integration/testbed"
)

// The helpers below drive Debian's own clients on a testbed host (pip
// from python3-pip, R from r-base-core, curl) against a Package Manager.
// TestPositStandinClients sets the Package Manager up by hand; the
// role-driven tests reuse the helpers once the roles write /etc/pip.conf,
// repos.conf and the trust store themselves (pipInstall and rInstall
// then run with repos "").

// realClients drives the clients on one bed's hosts.
type realClients struct {
	bed *testbed.Bed
}

// clientPackages are the Debian packages of the real clients.
var clientPackages = []string{"python3-pip", "r-base-core", "curl", "ca-certificates"}

// ppmDataDir is the stand-in Package Manager's default [Server] DataDir.
const ppmDataDir = "/var/lib/rstudio-pm"

// hostRun runs command on host with data as its standard input and
// returns its combined output; err is non-nil on a non-zero exit.
func (c realClients) run(ctx context.Context, host, command string, stdin []byte) (string, error) {
	args, err := c.bed.SSHArgs(host)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "ssh", append(args, "--", command)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %q: %w", host, command, err)
	}
	return string(out), nil
}

// mustRun is hostRun failing the test on error.
func (c realClients) must(t *testing.T, host, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := c.run(ctx, host, command, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// putFile writes data to path on host with mode, creating the directory.
func (c realClients) put(t *testing.T, host, file string, data []byte, mode string) {
	t.Helper()
	cmd := fmt.Sprintf("mkdir -p %s && cat > %s.tmp && chmod %s %s.tmp && mv %s.tmp %s", clientQuote(path.Dir(file)), clientQuote(file), mode, clientQuote(file), clientQuote(file), clientQuote(file))
	if out, err := c.run(context.Background(), host, cmd, data); err != nil {
		t.Fatalf("write %s on %s: %v\n%s", file, host, err, out)
	}
}

// getFile reads path from host.
func (c realClients) get(t *testing.T, host, file string) []byte {
	t.Helper()
	args, err := c.bed.SSHArgs(host)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh", append(args, "--", "cat "+clientQuote(file))...).Output()
	if err != nil {
		t.Fatalf("read %s on %s: %v", file, host, err)
	}
	return out
}

// getLocal reads a file on the controller.
func readLocal(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func clientQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// aptInstall installs Debian packages on host (through the bed's apt
// proxy), without recommended packages, and returns apt's errors.
func (c realClients) aptInstall(ctx context.Context, host string, pkgs ...string) (string, error) {
	return c.run(ctx, host, "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends "+strings.Join(pkgs, " ")+" >/dev/null", nil)
}

// trustCA installs a CA root into host's trust store the Debian way
// (/usr/local/share/ca-certificates + update-ca-certificates), which
// curl, R (libcurl) and Debian's pip (via python3-certifi's Debian patch
// pointing at /etc/ssl/certs/ca-certificates.crt) all read.
func (c realClients) trustCA(t *testing.T, host string, caPEM []byte) {
	t.Helper()
	c.put(t, host, "/usr/local/share/ca-certificates/tend-test-ca.crt", caPEM, "0644")
	c.must(t, host, "update-ca-certificates >/dev/null")
}

// writePipConf sets /etc/pip.conf's [global] index-url, as the roles do.
func (c realClients) writePipConf(t *testing.T, host, indexURL string) {
	t.Helper()
	c.put(t, host, "/etc/pip.conf", []byte("[global]\nindex-url = "+indexURL+"\n"), "0644")
}

// pipInstall runs Debian's pip as root on host for project, with the
// index from /etc/pip.conf and no other flag than
// --break-system-packages: Debian 12 marks its Python "externally
// managed" (PEP 668) and pip refuses system-wide installs without it;
// it has nothing to do with the index or TLS. It returns pip's output.
func (c realClients) pipInstall(ctx context.Context, host, project string) (string, error) {
	return c.run(ctx, host, "python3 -m pip install --no-cache-dir --disable-pip-version-check --break-system-packages "+clientQuote(project), nil)
}

// rInstall runs Debian's R on host: install.packages(pkg) from repos (""
// uses the repos option the host's R configuration sets), then loads it
// and prints the result of call. install.packages only warns when it
// fails; library() then fails, and so does Rscript.
func (c realClients) rInstall(ctx context.Context, host, pkg, repos, call string) (string, error) {
	reposArg := ""
	if repos != "" {
		reposArg = fmt.Sprintf(", repos = %q", repos)
	}
	expr := fmt.Sprintf(`install.packages(%q%s); library(%s); cat(%s, "\n")`, pkg, reposArg, pkg, call)
	return c.run(ctx, host, "Rscript -e "+clientQuote(expr), nil)
}

// buildRPackage writes the source of a tiny R package on host and builds
// it there with `R CMD build`, returning the tarball's name and content.
func (c realClients) buildRPackage(t *testing.T, host, name, version, greeting string) (string, []byte) {
	t.Helper()
	src, err := testpkg.RSource(name, version, greeting)
	if err != nil {
		t.Fatal(err)
	}
	dir := "/root/rbuild/" + name
	for rel, data := range src {
		c.put(t, host, dir+"/"+rel, []byte(data), "0644")
	}
	c.must(t, host, "cd /root/rbuild && R CMD build --no-manual --no-build-vignettes "+name)
	file := name + "_" + version + ".tar.gz"
	return file, c.get(t, host, "/root/rbuild/"+file)
}

// publish puts a package file where the stand-in Package Manager serves
// it from (standin.PackagesDir: DATADIR/tend-packages/{python,r}).
func (c realClients) publish(t *testing.T, ppmHost, kind, file string, data []byte) {
	t.Helper()
	c.put(t, ppmHost, standin.PackagesDir(ppmDataDir, kind)+"/"+file, data, "0644")
}

// ppmHTTPSConfig is rstudio-pm.gcfg with HTTPS on 443 (Package Manager's
// networking page: [HTTPS] Listen, Certificate, Key) and plain HTTP kept
// on 4242 to show what pip does with it.
const ppmHTTPSConfig = `[Server]
Address = https://ppm

[HTTP]
Listen = :4242

[HTTPS]
Listen = :443
Certificate = /etc/rstudio-pm/tls/ppm.crt
Key = /etc/rstudio-pm/tls/ppm.key

[Database]
Provider = sqlite
`

// TestPositStandinClients installs the stand-in Package Manager with
// HTTPS (certificate from a CA the test creates) on host ppm and proves
// the wiring with Debian's own clients on host client: curl, pip and R
// trust the CA from the system trust store and install packages the
// test built (a wheel, an R source package built with R CMD build); a
// plain-HTTP index on a non-local host is ignored by pip.
func TestPositStandinClients(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "ppm", Role: "package_manager"}, testbed.HostSpec{Name: "client", Role: "client"})
	if buildErr != nil {
		t.Fatalf("build the stand-in packages: %v", buildErr)
	}
	if built == nil {
		t.Fatal("stand-in packages were not built (TestMain builds them only as root or with CI=true)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c := realClients{bed: bed}

	ca, err := testpkg.NewCA("tend test CA " + time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("ppm", bed.Host("ppm").Addr)
	if err != nil {
		t.Fatal(err)
	}

	// The client's packages come from the Debian mirror through the bed's
	// proxy; install them while the Package Manager is set up.
	clientDone := make(chan string, 1)
	go func() {
		out, err := c.aptInstall(ctx, "client", clientPackages...)
		if err != nil {
			out = fmt.Sprintf("%v\n%s", err, out)
		} else {
			out = ""
		}
		clientDone <- out
	}()

	t.Run("package manager over https", func(t *testing.T) {
		deb := built.Packages[standin.PackageManager]
		data := readLocal(t, deb.Path)
		c.put(t, "ppm", "/root/"+deb.Name, data, "0644")
		c.must(t, "ppm", "dpkg -i /root/"+clientQuote(deb.Name)+" >/dev/null")
		c.put(t, "ppm", "/etc/rstudio-pm/tls/ppm.crt", certPEM, "0644")
		c.put(t, "ppm", "/etc/rstudio-pm/tls/ppm.key", keyPEM, "0600")
		c.put(t, "ppm", "/etc/rstudio-pm/rstudio-pm.gcfg", []byte(ppmHTTPSConfig), "0640")
		c.must(t, "ppm", "systemctl restart rstudio-pm")
		for _, cmd := range []string{
			"rspm create repo --name=pypi --type=python", "rspm subscribe --repo=pypi --source=pypi",
			"rspm create repo --name=cran --type=r", "rspm subscribe --repo=cran --source=cran",
		} {
			c.must(t, "ppm", "/opt/rstudio-pm/bin/"+cmd)
		}
		whlName, whl, err := testpkg.Wheel("tend-hello", "0.1.0", "hello from the stand-in over https")
		if err != nil {
			t.Fatal(err)
		}
		c.publish(t, "ppm", "python", whlName, whl)
	})
	if t.Failed() {
		t.FailNow()
	}
	if out := <-clientDone; out != "" {
		t.Fatalf("install %v on client: %s", clientPackages, out)
	}

	t.Run("curl needs the CA", func(t *testing.T) {
		out, err := c.run(ctx, "client", "curl -sS -o /dev/null https://ppm/__ping__", nil)
		if err == nil || !strings.Contains(out, "certificate") {
			t.Errorf("curl before the CA is trusted: %v %q, want a certificate error", err, out)
		}
		c.trustCA(t, "client", ca.PEM)
		if out := c.must(t, "client", "curl -fsS https://ppm/__api__/status"); !strings.Contains(out, `"version"`) {
			t.Errorf("status over https: %q", out)
		}
	})

	t.Run("pip ignores a plain-http index", func(t *testing.T) {
		// What the roles wrote before issue 12: pip 23 (Debian 12) never
		// asks a non-local plain-HTTP index.
		c.writePipConf(t, "client", "http://ppm:4242/pypi/latest/simple")
		out, err := c.pipInstall(ctx, "client", "tend-hello")
		if err == nil || !strings.Contains(out, "is not a trusted or secure host and is being ignored") {
			t.Errorf("pip with a plain-http index: %v\n%s\nwant a failure and pip's warning", err, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "trusted or secure host") {
				t.Logf("pip: %s", strings.TrimSpace(line))
			}
		}
	})

	t.Run("pip installs over https", func(t *testing.T) {
		c.writePipConf(t, "client", "https://ppm/pypi/latest/simple")
		if out, err := c.pipInstall(ctx, "client", "tend-hello"); err != nil {
			t.Fatalf("pip install: %v\n%s", err, out)
		}
		out := c.must(t, "client", `python3 -c 'import tend_hello; print(tend_hello.hello())'`)
		if strings.TrimSpace(out) != "hello from the stand-in over https" {
			t.Errorf("import: %q", out)
		}
	})

	t.Run("R installs over https", func(t *testing.T) {
		file, data := c.buildRPackage(t, "client", "tendhello", "0.1.0", "hello from R over https")
		c.publish(t, "ppm", "r", file, data)
		out, err := c.rInstall(ctx, "client", "tendhello", "https://ppm/cran/latest", "tendhello_hello()")
		if err != nil || !strings.Contains(out, "hello from R over https") {
			t.Errorf("R install.packages: %v\n%s", err, out)
		}
	})
}
