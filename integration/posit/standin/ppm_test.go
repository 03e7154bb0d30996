package standin

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/integration/posit/standin/conf"
	"github.com/tend-dev/tend/integration/posit/standin/testpkg"
)

func TestPackageManagerRoutes(t *testing.T) {
	dir := t.TempDir()
	store := &fileStore{path: filepath.Join(dir, "db.json")}
	ctx := context.Background()
	for _, r := range []RepoRecord{{Name: "cran", Type: "r"}, {Name: "pypi", Type: "python"}, {Name: "empty", Type: "r"}} {
		if err := store.CreateRepo(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CreateRepo(ctx, RepoRecord{Name: "cran", Type: "r"}); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	for repo, src := range map[string]string{"cran": "cran", "pypi": "pypi"} {
		if err := store.Subscribe(ctx, repo, src); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Subscribe(ctx, "cran", "cran"); !errors.Is(err, ErrExists) {
		t.Errorf("second subscribe: %v, want ErrExists", err)
	}
	d := &daemon{p: productNamed(PackageManager), eff: &conf.Effective{DataDir: dir}, store: store, node: "pm1", files: dir}
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/__ping__", 200, "{}"},
		{"/cran/latest/src/contrib/PACKAGES", 200, "Package: A3"},
		{"/cran/2024-06-01/src/contrib/PACKAGES", 200, "Package: xtable"},
		{"/cran/__linux__/bookworm/latest/src/contrib/PACKAGES", 200, "(bookworm)"},
		{"/pypi/latest/simple/", 200, `href="/pypi/latest/simple/requests/"`},
		{"/pypi/latest/simple/requests/", 200, "requests-1.0.0-py3-none-any.whl"},
		{"/pypi/latest/simple/nosuch/", 404, ""},
		{"/empty/latest/src/contrib/PACKAGES", 404, ""}, // not subscribed
		{"/pypi/latest/src/contrib/PACKAGES", 404, ""},  // wrong type
		{"/cran/latest/simple/", 404, ""},
		{"/nosuch/latest/src/contrib/PACKAGES", 404, ""},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(body), c.want) {
				t.Errorf("%d %q, want %d containing %q", resp.StatusCode, body, c.code, c.want)
			}
			if resp.Header.Get("X-Tend-Node") != "pm1" {
				t.Errorf("X-Tend-Node = %q", resp.Header.Get("X-Tend-Node"))
			}
		})
	}
}

func TestFlags(t *testing.T) {
	fl, pos, _ := flags([]string{"create", "repo", "--name=cran", "--type", "r", "--description=R packages", "--force"})
	if fl["name"] != "cran" || fl["type"] != "r" || fl["description"] != "R packages" || fl["force"] != "true" || strings.Join(pos, " ") != "create repo" {
		t.Errorf("flags = %v, positional = %v", fl, pos)
	}
}

// TestRspmRepoCommands runs rspm's create repo and subscribe against a
// file store, with the messages and exit codes of the real rspm.
func TestRspmRepoCommands(t *testing.T) {
	ctx := context.Background()
	store := &fileStore{path: filepath.Join(t.TempDir(), "db.json")}
	run := func(f func(stdout, stderr io.Writer) int) (int, string) {
		var out strings.Builder
		rc := f(&out, &out)
		return rc, out.String()
	}
	create := func(fl map[string]string) (int, string) {
		return run(func(o, e io.Writer) int { return rspmCreateRepo(ctx, store, fl, o, e) })
	}
	subscribe := func(fl map[string]string) (int, string) {
		repos, err := store.Repos(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return run(func(o, e io.Writer) int { return rspmSubscribe(ctx, store, repos, fl, o, e) })
	}
	steps := []struct {
		name string
		do   func() (int, string)
		rc   int
		out  string
	}{
		{"create", func() (int, string) { return create(map[string]string{"name": "cran", "description": "d"}) }, 0, "Repository: cran - d\n"},
		{"create again", func() (int, string) { return create(map[string]string{"name": "cran"}) }, 1, "error: a repository with the name 'cran' already exists\n"},
		{"create without name", func() (int, string) { return create(map[string]string{}) }, 2, "error: --name is required\n"},
		{"create bad type", func() (int, string) { return create(map[string]string{"name": "x", "type": "go"}) }, 1, "error: invalid repository type \"go\" (want r, python or bioconductor)\n"},
		{"subscribe", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "cran"}) }, 0, "Repository: cran\nSources:\n--cran (r)\n"},
		{"subscribe again", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "cran"}) }, 1, "error: the subscription of repository 'cran' to source 'cran' already exists\n"},
		{"subscribe unknown repo", func() (int, string) { return subscribe(map[string]string{"repo": "nope", "source": "cran"}) }, 1, "error: repository 'nope' not found\n"},
		{"subscribe unknown source", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "nope"}) }, 1, "error: source 'nope' not found\n"},
		{"subscribe wrong type", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "pypi"}) }, 1, "error: source 'pypi' (python) cannot be used by repository 'cran' of type r\n"},
	}
	for _, s := range steps {
		rc, out := s.do()
		if rc != s.rc || out != s.out {
			t.Errorf("%s: rc %d, output %q; want %d, %q", s.name, rc, out, s.rc, s.out)
		}
	}
}

// servedPPM starts the Package Manager routes over TLS with repositories
// pypi (python) and cran (r) and the given package files in its data
// directory.
func servedPPM(t *testing.T, files map[string][]byte) (*httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	store := &fileStore{path: filepath.Join(dir, "db.json")}
	ctx := context.Background()
	for _, r := range []RepoRecord{{Name: "cran", Type: "r"}, {Name: "pypi", Type: "python"}} {
		if err := store.CreateRepo(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := store.Subscribe(ctx, r.Name, r.Name); err != nil {
			t.Fatal(err)
		}
	}
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := &daemon{p: productNamed(PackageManager), eff: &conf.Effective{DataDir: dir}, store: store, node: "pm1", files: dir}
	ca, err := testpkg.NewCA("tend test CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(d.routes())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	srv.Client().Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

// TestPackageManagerServesFiles: the PyPI simple pages (PEP 503) link the
// wheels in DATADIR/tend-packages/python with their sha256, and PACKAGES
// lists the tarballs in DATADIR/tend-packages/r with DESCRIPTION's fields
// and MD5sum; both files are served.
func TestPackageManagerServesFiles(t *testing.T) {
	whlName, whl, err := testpkg.Wheel("tend-hello", "0.1.0", "hi")
	if err != nil {
		t.Fatal(err)
	}
	src, err := testpkg.RSource("tendhello", "0.1.0", "hi")
	if err != nil {
		t.Fatal(err)
	}
	tgzName, tgz, err := testpkg.RTarball("tendhello", "0.1.0", src)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := servedPPM(t, map[string][]byte{
		"tend-packages/python/" + whlName: whl,
		"tend-packages/r/" + tgzName:      tgz,
	})
	sha := sha256.Sum256(whl)
	md := md5.Sum(tgz)
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/pypi/latest/simple/", 200, `<a href="/pypi/latest/simple/tend-hello/">tend-hello</a>`},
		{"/pypi/latest/simple/tend-hello/", 200, `href="/pypi/latest/packages/tend_hello-0.1.0-py3-none-any.whl#sha256=` + hex.EncodeToString(sha[:]) + `"`},
		{"/pypi/latest/simple/Tend_Hello/", 200, "tend_hello-0.1.0-py3-none-any.whl"},
		{"/pypi/latest/packages/" + whlName, 200, string(whl)},
		{"/pypi/latest/packages/nosuch-1.0-py3-none-any.whl", 404, ""},
		{"/cran/latest/packages/" + whlName, 404, ""},
		{"/cran/latest/src/contrib/PACKAGES", 200, "\n\nPackage: tendhello\nVersion: 0.1.0\nLicense: MIT + file LICENSE\nMD5sum: " + hex.EncodeToString(md[:]) + "\nNeedsCompilation: no\n"},
		{"/cran/latest/src/contrib/" + tgzName, 200, string(tgz)},
		{"/cran/__linux__/bookworm/latest/src/contrib/" + tgzName, 200, string(tgz)},
		{"/cran/latest/src/contrib/other_1.0.tar.gz", 404, ""},
		{"/pypi/latest/src/contrib/" + tgzName, 404, ""},
	} {
		resp, err := srv.Client().Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %.300q, want %d containing %q", c.path, resp.StatusCode, body, c.code, c.want)
		}
	}
}

// TestPipInstallsFromStandIn runs the real pip (when this machine has
// one) against the stand-in over HTTPS, trusting only the test server's
// certificate: pip resolves the project through the simple index, checks
// the sha256 and installs the wheel, which imports.
func TestPipInstallsFromStandIn(t *testing.T) {
	if err := exec.Command("python3", "-m", "pip", "--version").Run(); err != nil {
		t.Skipf("no python3 -m pip here: %v", err)
	}
	whlName, whl, err := testpkg.Wheel("tend-hello", "0.1.0", "hello from the stand-in")
	if err != nil {
		t.Fatal(err)
	}
	srv, ca := servedPPM(t, map[string][]byte{"tend-packages/python/" + whlName: whl})
	target := t.TempDir()
	cmd := exec.Command("python3", "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-deps",
		"--target", target, "--index-url", srv.URL+"/pypi/latest/simple", "--cert", ca, "tend-hello")
	// Only this test's settings: pip's and requests' environment variables
	// (PIP_CERT, REQUESTS_CA_BUNDLE) would override --cert.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PIP_CONFIG_FILE=/dev/null", "PIP_NO_INPUT=1"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	out, err := exec.Command("python3", "-c", "import sys; sys.path.insert(0, sys.argv[1]); import tend_hello; print(tend_hello.hello())", target).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello from the stand-in" {
		t.Errorf("import: %v %q", err, out)
	}
}

// TestProbeLikePip: the wiring probe skips a Python index pip would
// ignore (plain HTTP on a non-local host) and reports why, instead of
// fetching it as a Go client would; R repositories and https or loopback
// indexes are fetched.
func TestProbeLikePip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok " + r.URL.Path)) }))
	defer srv.Close()
	d := &daemon{p: productNamed(Workbench), node: "wb1", eff: &conf.Effective{Repos: []conf.Repo{
		{Kind: "python", Name: "index-url", URL: "http://ppm.invalid:4242/pypi/latest/simple"},
		{Kind: "python", Name: "trusted", URL: "http://ppm.invalid:4242/pypi/latest/simple", TrustedHosts: []string{"ppm.invalid"}},
		{Kind: "python", Name: "loopback", URL: srv.URL + "/pypi/latest/simple"},
		{Kind: "r", Name: "CRAN", URL: srv.URL + "/cran/latest"},
	}}}
	rec := httptest.NewRecorder()
	d.probeRepos(rec, httptest.NewRequest("GET", "/__tend__/repos", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`"error": "pip ignores http://ppm.invalid:4242/pypi/latest/simple: \"ppm.invalid:4242\" is not a trusted or secure host`,
		`"body": "ok /pypi/latest/simple/"`,
		`"body": "ok /cran/latest/src/contrib/PACKAGES"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("probe lacks %s:\n%s", want, body)
		}
	}
	// The trusted one was fetched (and failed on the name, not skipped).
	if strings.Count(body, "pip ignores") != 1 {
		t.Errorf("want exactly one skipped index:\n%s", body)
	}
}
