package modules

import (
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestParseNetrc(t *testing.T) {
	text := "# c\nmachine a.example login ua password pa\nmacdef init\ncd /\n\ndefault login du password dp\nmachine b.example\n  login ub\n  password pb account x\n"
	for host, want := range map[string]string{"a.example": "ua:pa", "b.example": "ub:pb", "c.example": "du:dp"} {
		u, p, ok := parseNetrc(strings.NewReader(text), host)
		if !ok || u+":"+p != want {
			t.Errorf("%s: %s:%s %v, want %s", host, u, p, ok, want)
		}
	}
	if _, _, ok := parseNetrc(strings.NewReader("machine a login u password p\n"), "b"); ok {
		t.Error("no default entry: want no credentials")
	}
}

func TestParseCiphers(t *testing.T) {
	ids, skipped := parseCiphers([]string{"ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "HIGH:!ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_128_GCM_SHA256"})
	if len(ids) != 1 || ids[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || len(skipped) != 1 || skipped[0] != "HIGH" {
		t.Errorf("ids %v skipped %v", ids, skipped)
	}
}

// selfSigned writes a certificate and key to dir and returns their paths.
func selfSigned(t *testing.T, dir string) (string, string, *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	cert, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	c, _ := x509.ParseCertificate(der)
	return cert, keyFile, c
}

// TestGetURLTransportArgs: decompress, unredirected_headers, use_netrc,
// client_cert/client_key and ciphers change what get_url sends.
func TestGetURLTransportArgs(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		fmt.Fprint(gz, "plain text")
		gz.Close()
	})
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/show", http.StatusFound) })
	mux.HandleFunc("/show", func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		fmt.Fprintf(w, "x=%s auth=%s:%s", r.Header.Get("X-Token"), u, p)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h := &module.Host{Name: "localhost", Conn: connection.Local{}}
	dir := t.TempDir()
	get := func(extra map[string]any) (module.Result, string) {
		t.Helper()
		dest := filepath.Join(dir, "out")
		os.Remove(dest)
		args := map[string]any{"dest": dest}
		for k, v := range extra {
			args[k] = v
		}
		r, _ := netRun(t, h, GetURL{}, args, false)
		b, _ := os.ReadFile(dest)
		return r, string(b)
	}
	if _, got := get(map[string]any{"url": srv.URL + "/gz"}); got != "plain text" {
		t.Errorf("decompress: %q", got)
	}
	if _, got := get(map[string]any{"url": srv.URL + "/gz", "decompress": false}); !strings.HasPrefix(got, "\x1f\x8b") {
		t.Errorf("decompress false: %q", got)
	}
	if _, got := get(map[string]any{"url": srv.URL + "/hop", "headers": map[string]any{"X-Token": "t"}, "unredirected_headers": []any{"X-Token"}}); got != "x= auth=:" {
		t.Errorf("unredirected_headers: %q", got)
	}
	netrc := filepath.Join(dir, "netrc")
	os.WriteFile(netrc, []byte("machine 127.0.0.1 login nu password np\n"), 0o600)
	t.Setenv("NETRC", netrc)
	if _, got := get(map[string]any{"url": srv.URL + "/show"}); got != "x= auth=nu:np" {
		t.Errorf("use_netrc: %q", got)
	}
	if _, got := get(map[string]any{"url": srv.URL + "/show", "use_netrc": false}); got != "x= auth=:" {
		t.Errorf("use_netrc false: %q", got)
	}

	cert, key, parsed := selfSigned(t, dir)
	tlsSrv := httptest.NewUnstartedServer(mux)
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	tlsSrv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	base := map[string]any{"url": tlsSrv.URL + "/show", "validate_certs": false, "use_netrc": false}
	with := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	if r, _ := get(base); !netFailed(r) {
		t.Errorf("no client certificate: %v", r)
	}
	if r, got := get(with(map[string]any{"client_cert": cert, "client_key": key})); netFailed(r) || got != "x= auth=:" {
		t.Errorf("client_cert: %v %q", r, got)
	}
	if r, _ := get(with(map[string]any{"client_cert": cert, "client_key": key, "ciphers": []any{"ECDHE-RSA-AES256-GCM-SHA384"}})); !netFailed(r) {
		t.Errorf("ciphers without a common suite: %v", r)
	}
	if r, _ := get(with(map[string]any{"client_cert": cert, "client_key": key, "ciphers": []any{"ECDHE-RSA-AES128-GCM-SHA256"}})); netFailed(r) {
		t.Errorf("ciphers with a common suite: %v", r)
	}
	var warned []string
	hw := &module.Host{Name: "localhost", Conn: connection.Local{}, Warn: func(m string) { warned = append(warned, m) }}
	args, _ := GetURL{}.Spec().Validate(map[string]any{"url": srv.URL + "/show", "dest": filepath.Join(dir, "w"), "use_gssapi": true, "ciphers": []any{"HIGH"}}, false)
	if _, fail := loadHTTPExtras(t.Context(), hw, args); fail != nil || len(warned) != 3 {
		t.Errorf("warnings: %v %v", fail, warned)
	}
}
