package conf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRserverOptions: rserver refuses to start on an option it does not
// know (rserver.conf reference, docRserverConf, one list per release); so
// does the stand-in, naming the file and line.
func TestRserverOptions(t *testing.T) {
	for name, c := range map[string]struct {
		version, rserver, want string
	}{
		"documented": {"2024.12.1+563.pro5", "www-port=8787\nadmin-enabled=1\nlauncher-sessions-enabled=1\nlauncher-address=127.0.0.1\nlauncher-port=5559\n", ""},
		"unknown":    {"2024.12.1+563.pro5", "www-port=8787\nwww-colour=blue\n", `rserver.conf:2: unrecognised option "www-colour"`},
		"typo":       {"2024.12.1+563.pro5", "server-heath-check-enabled=1\n", `rserver.conf:1: unrecognised option "server-heath-check-enabled"`},
		"bad value":  {"2024.12.1+563.pro5", "launcher-port=0\n", "launcher-port=0: want an integer from 1 to 65535"},
		"bad ip":     {"2024.12.1+563.pro5", "www-address=any\n", "www-address=any: want an IP address"},
		// docPythonIndex documents session-python-index-url in the current
		// guide only: older releases refuse it.
		"python index too old": {"2024.12.1+563.pro5", "session-python-index-url=https://ppm/pypi/latest/simple\n", `rserver.conf:1: unrecognised option "session-python-index-url": release 2024.12.1+563.pro5 does not have it`},
		"python index current": {"2026.08.1+100.pro1", "session-python-index-url=https://ppm/pypi/latest/simple\n", ""},
		"python index bad url": {"2026.08.1+100.pro1", "session-python-index-url=ppm\n", "not an http(s) URL"},
		"no version file":      {"", "session-python-index-url=https://ppm/pypi/latest/simple\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"etc/rstudio/rserver.conf": c.rserver}
			if c.version != "" {
				files[WorkbenchVersionFile] = c.version + "\n"
			}
			_, err := LoadWorkbench(write(t, files, nil))
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}

// TestRsessionOptions: rsession.conf has its own reference
// (docRsessionConf); unknown options are refused the same way.
func TestRsessionOptions(t *testing.T) {
	for name, c := range map[string]struct{ rsession, want string }{
		"documented": {"session-timeout-minutes=30\nr-cran-repos=https://ppm/cran/latest\n", ""},
		"unknown":    {"session-timeout-minutes=30\nsession-python-index-url=https://ppm/pypi\n", `rsession.conf:2: unrecognised option "session-python-index-url"`},
		"bad int":    {"session-timeout-minutes=soon\n", "session-timeout-minutes=soon"},
		"bad repo":   {"r-cran-repos=cran\n", "not an http(s) URL"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadWorkbench(write(t, map[string]string{"etc/rstudio/rsession.conf": c.rsession}, nil))
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}

// TestBalancers: every documented balancer= value (docBalancing) is
// accepted.
func TestBalancers(t *testing.T) {
	for _, b := range []string{"sessions", "system-load", "user-hash", "custom"} {
		files := map[string]string{
			"etc/rstudio/load-balancer":     "[config]\nbalancer=" + b + "\n",
			"etc/rstudio/secure-cookie-key": "k\n",
		}
		if _, err := LoadWorkbench(write(t, files, map[string]os.FileMode{"etc/rstudio/secure-cookie-key": 0o600})); err != nil {
			t.Errorf("balancer=%s: %v", b, err)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2024.12.1+563.pro5", "2026.08.0", -1},
		{"2026.08.1+1.pro1", "2026.08.0", 1},
		{"2024.08.2-5", "2024.08.2", 0},
		{"2024.11.0-7", "2024.08.2", 1},
		{"2024.04.0", "2024.08.2", -1},
		{"2024.12.0~ubuntu22", "2024.12.0", 0},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestPackageManagerUsagePassword: the usage database takes
// [Postgres] UsageDataPassword (docPPMDatabase for UsageDataURL); from
// 2024.08.2 [Postgres] Password no longer fills in for it.
func TestPackageManagerUsagePassword(t *testing.T) {
	base := "[Database]\nProvider = postgres\n[Postgres]\nURL = postgres://rspm@db/rstudio_pm\nPassword = main\nUsageDataURL = postgres://rspm_usage@db/rstudio_pm_usage\n"
	for name, c := range map[string]struct{ version, extra, want string }{
		"own password":               {"2024.11.0-7", "UsageDataPassword = usage\n", "postgres://rspm_usage:usage@db/rstudio_pm_usage"},
		"no fallback from 2024.08.2": {"2024.11.0-7", "", "postgres://rspm_usage@db/rstudio_pm_usage"},
		"fallback before 2024.08.2":  {"2024.04.0-1", "", "postgres://rspm_usage:main@db/rstudio_pm_usage"},
		"own password, old release":  {"2024.04.0-1", "UsageDataPassword = usage\n", "postgres://rspm_usage:usage@db/rstudio_pm_usage"},
	} {
		t.Run(name, func(t *testing.T) {
			eff, err := LoadPackageManager(write(t, map[string]string{PPMConfig: base + c.extra, PPMVersionFile: c.version}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := eff.Database.Extra["UsageDataURL"]; got != c.want {
				t.Errorf("usage DSN = %q, want %q", got, c.want)
			}
			if eff.Database.DSN != "postgres://rspm:main@db/rstudio_pm" {
				t.Errorf("main DSN = %q", eff.Database.DSN)
			}
		})
	}
}

// writeCert writes a self-signed certificate and its key (PEM) under
// root at etc/tls/{cert,key}.pem.
func writeCert(t *testing.T, files map[string]string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ppm"}, DNSNames: []string{"ppm"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files["etc/tls/cert.pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	files["etc/tls/key.pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// TestTLS: each product serves HTTPS when its documented TLS keys are set
// (Workbench docSecureSockets, Package Manager docPPMNetworking, Connect
// docConnectHTTPS) and refuses an incomplete or unusable setting.
func TestTLS(t *testing.T) {
	for name, c := range map[string]struct {
		load        func(string) (*Effective, error)
		path, src   string
		listen, tls string // want
		err         string
	}{
		"workbench https default port": {LoadWorkbench, "etc/rstudio/rserver.conf", "ssl-enabled=1\nssl-certificate=/etc/tls/cert.pem\nssl-certificate-key=/etc/tls/key.pem\n", "", "0.0.0.0:443", ""},
		"workbench https www-port":     {LoadWorkbench, "etc/rstudio/rserver.conf", "www-port=8443\nssl-enabled=1\nssl-certificate=/etc/tls/cert.pem\nssl-certificate-key=/etc/tls/key.pem\n", "", "0.0.0.0:8443", ""},
		"workbench http":               {LoadWorkbench, "etc/rstudio/rserver.conf", "ssl-enabled=0\nssl-certificate=/etc/tls/cert.pem\n", "0.0.0.0:8787", "", ""},
		"workbench no key":             {LoadWorkbench, "etc/rstudio/rserver.conf", "ssl-enabled=1\nssl-certificate=/etc/tls/cert.pem\n", "", "", "rserver.conf:1: ssl-enabled=1 needs ssl-certificate and ssl-certificate-key"},
		"workbench swapped":            {LoadWorkbench, "etc/rstudio/rserver.conf", "ssl-enabled=1\nssl-certificate=/etc/tls/key.pem\nssl-certificate-key=/etc/tls/cert.pem\n", "", "", "rserver.conf:2: TLS certificate /etc/tls/key.pem"},
		"ppm https only":               {LoadPackageManager, PPMConfig, "[HTTP]\nListen =\n[HTTPS]\nListen = :443\nCertificate = /etc/tls/cert.pem\nKey = /etc/tls/key.pem\n", "", ":443", ""},
		"ppm both, default 443":        {LoadPackageManager, PPMConfig, "[HTTPS]\nCertificate = /etc/tls/cert.pem\nKey = /etc/tls/key.pem\n", ":4242", ":443", ""},
		"ppm http only":                {LoadPackageManager, PPMConfig, "[HTTP]\nListen = :4242\n", ":4242", "", ""},
		"ppm https off":                {LoadPackageManager, PPMConfig, "[HTTPS]\nListen =\nCertificate = /etc/tls/cert.pem\nKey = /etc/tls/key.pem\n", ":4242", "", ""},
		"ppm nothing":                  {LoadPackageManager, PPMConfig, "[HTTP]\nListen =\n", "", "", "nothing to listen on"},
		"ppm listen without cert":      {LoadPackageManager, PPMConfig, "[HTTPS]\nListen = :443\n", "", "", ":2: [HTTPS] Listen needs Certificate and Key"},
		"ppm cert without key":         {LoadPackageManager, PPMConfig, "[HTTPS]\nCertificate = /etc/tls/cert.pem\n", "", "", "needs both Certificate and Key"},
		"ppm missing file":             {LoadPackageManager, PPMConfig, "[HTTPS]\nCertificate = /etc/tls/nope.pem\nKey = /etc/tls/key.pem\n", "", "", "TLS certificate /etc/tls/nope.pem"},
		"connect https":                {LoadConnect, ConnectConfig, "[HTTP]\nListen =\n[HTTPS]\nListen = :3443\nCertificate = /etc/tls/cert.pem\nKey = /etc/tls/key.pem\n", "", ":3443", ""},
		"connect bad listen":           {LoadConnect, ConnectConfig, "[HTTPS]\nListen = 443\nCertificate = /etc/tls/cert.pem\nKey = /etc/tls/key.pem\n", "", "", "[HTTPS] Listen"},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{c.path: c.src}
			writeCert(t, files)
			eff, err := c.load(write(t, files, nil))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotTLS := ""
			if eff.TLS != nil {
				gotTLS = eff.TLS.Listen
			}
			if eff.Listen != c.listen || gotTLS != c.tls {
				t.Errorf("listen %q, https %q; want %q, %q", eff.Listen, gotTLS, c.listen, c.tls)
			}
		})
	}
}

// TestPipIgnores: pip's secure origins (https, loopback) and trusted-host.
func TestPipIgnores(t *testing.T) {
	for u, c := range map[string]struct {
		trusted []string
		ignored bool
	}{
		"https://ppm/pypi/latest/simple":           {nil, false},
		"http://ppm:4242/pypi/latest/simple":       {nil, true},
		"http://ppm:4242/pypi/latest/simple/":      {[]string{"ppm"}, false},
		"http://ppm:4242/pypi/latest/simple/x":     {[]string{"ppm:4242"}, false},
		"http://ppm:4242/pypi/latest/simple/y":     {[]string{"ppm:80"}, true},
		"http://localhost:4242/pypi/latest/simple": {nil, false},
		"http://127.0.0.2:4242/pypi":               {nil, false},
		"http://[::1]:4242/pypi":                   {nil, false},
		"http://10.0.0.5:4242/pypi":                {nil, true},
	} {
		if got := PipIgnores(u, c.trusted) != ""; got != c.ignored {
			t.Errorf("PipIgnores(%s, %v) = %v, want %v", u, c.trusted, got, c.ignored)
		}
	}
	// trusted-host in pip.conf reaches the Python repositories.
	eff, err := LoadWorkbench(write(t, map[string]string{"etc/pip.conf": "[global]\nindex-url = http://ppm:4242/pypi/latest/simple\ntrusted-host = ppm\n"}, nil))
	if err != nil || len(eff.Repos) != 1 || PipIgnores(eff.Repos[0].URL, eff.Repos[0].TrustedHosts) != "" {
		t.Errorf("repos = %+v, %v", eff, err)
	}
}
