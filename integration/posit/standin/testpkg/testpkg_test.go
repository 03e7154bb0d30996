package testpkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestWheel: the wheel's RECORD lists every other file with its urlsafe
// base64 sha256 and size, and the file name carries the escaped
// distribution name and the py3-none-any tag (binary distribution format).
func TestWheel(t *testing.T) {
	name, data, err := Wheel("tend-hello", "0.1.0", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if name != "tend_hello-0.1.0-py3-none-any.whl" {
		t.Errorf("name = %q", name)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	record := files["tend_hello-0.1.0.dist-info/RECORD"]
	for n, content := range files {
		if strings.HasSuffix(n, "/RECORD") {
			continue
		}
		sum := sha256.Sum256([]byte(content))
		want := fmt.Sprintf("%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(content))
		if !strings.Contains(record, want) {
			t.Errorf("RECORD lacks %q:\n%s", want, record)
		}
	}
	if !strings.Contains(files["tend_hello-0.1.0.dist-info/WHEEL"], "Root-Is-Purelib: true\nTag: py3-none-any\n") ||
		!strings.Contains(files["tend_hello/__init__.py"], `return "hi"`) || !strings.Contains(files["tend_hello-0.1.0.dist-info/METADATA"], "Name: tend-hello\nVersion: 0.1.0\n") {
		t.Errorf("files = %q", files)
	}
	if _, _, err := Wheel("bad name", "1", "x"); err == nil {
		t.Error("invalid name accepted")
	}
}

// TestRTarball: NAME/DESCRIPTION etc. in a gzip'd tar, as R CMD build
// writes it.
func TestRTarball(t *testing.T) {
	src, err := RSource("tendhello", "0.1.0", "hi")
	if err != nil {
		t.Fatal(err)
	}
	name, data, err := RTarball("tendhello", "0.1.0", src)
	if err != nil || name != "tendhello_0.1.0.tar.gz" {
		t.Fatalf("%q %v", name, err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != "tendhello/DESCRIPTION tendhello/LICENSE tendhello/NAMESPACE tendhello/R/hello.R" {
		t.Errorf("entries = %q", names)
	}
	if !strings.Contains(src["NAMESPACE"], "export(tendhello_hello)") {
		t.Errorf("NAMESPACE = %q", src["NAMESPACE"])
	}
	if _, err := RSource("9bad", "0.1", "x"); err == nil {
		t.Error("invalid R package name accepted")
	}
}

// TestCA: a certificate the CA issues verifies against the CA's root for
// its host names and IP addresses only, and pairs with its key.
func TestCA(t *testing.T) {
	ca, err := NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("ppm", "10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	for host, ok := range map[string]bool{"ppm": true, "10.0.0.5": true, "other": false} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host})
		if (err == nil) != ok {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
}
