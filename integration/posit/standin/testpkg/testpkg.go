// Package testpkg builds the tiny packages the stand-in Package Manager
// serves to real clients in the tests: a pure-Python wheel, written by
// hand to the wheel format (PEP 427, binary distribution format spec), and
// the source tree of an R package for `R CMD build` (or, where R is not
// installed, a source tarball laid out as R CMD build lays it out).
package testpkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

var (
	pyName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)
	rName  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$`)
)

// Wheel returns the file name and content of a py3-none-any wheel of
// project name at version holding one module, name with '-' and '.' as
// '_', whose hello() returns greeting.
func Wheel(name, version, greeting string) (string, []byte, error) {
	if !pyName.MatchString(name) || !pyName.MatchString(version) {
		return "", nil, fmt.Errorf("wheel %q %q: invalid project name or version", name, version)
	}
	// Distribution names in wheel file names have runs of -_. as '_'
	// (binary distribution format, "Escaping and Unicode").
	dist := regexp.MustCompile(`[-_.]+`).ReplaceAllString(name, "_")
	module := strings.ToLower(dist)
	info := dist + "-" + version + ".dist-info"
	files := []struct{ name, data string }{
		{module + "/__init__.py", fmt.Sprintf("def hello():\n    return %q\n", greeting)},
		{info + "/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: tend test package\n", name, version)},
		{info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: tend-testpkg\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.data))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.data))
	}
	record.WriteString(info + "/RECORD,,\n")
	files = append(files, struct{ name, data string }{info + "/RECORD", record.String()})

	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return "", nil, err
		}
		if _, err := w.Write([]byte(f.data)); err != nil {
			return "", nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return "", nil, err
	}
	return dist + "-" + version + "-py3-none-any.whl", b.Bytes(), nil
}

// RSource returns the files of an R source package name at version (path
// relative to the package directory -> content) exporting one function,
// NAME_hello(), that returns greeting. `R CMD build DIR` turns them into
// NAME_VERSION.tar.gz.
func RSource(name, version, greeting string) (map[string]string, error) {
	if !rName.MatchString(name) || !regexp.MustCompile(`^[0-9]+([.-][0-9]+)+$`).MatchString(version) {
		return nil, fmt.Errorf("source package %q %q: invalid R package name or version", name, version)
	}
	fn := strings.ReplaceAll(name, ".", "_") + "_hello"
	return map[string]string{
		"DESCRIPTION": fmt.Sprintf("Package: %s\nType: Package\nTitle: Tend Test Package\nVersion: %s\nAuthors@R: person(\"Tend\", \"Tests\", email = \"tests@example.com\", role = c(\"aut\", \"cre\"))\nDescription: A tiny package served by the stand-in Package Manager in tend's tests.\nLicense: MIT + file LICENSE\nEncoding: UTF-8\nNeedsCompilation: no\n", name, version),
		"LICENSE":     "YEAR: 2024\nCOPYRIGHT HOLDER: tend tests\n",
		"NAMESPACE":   fmt.Sprintf("export(%s)\n", fn),
		"R/hello.R":   fmt.Sprintf("%s <- function() %q\n", fn, greeting),
	}, nil
}

// RTarball lays files out as R CMD build does (NAME/... in a gzip'd tar)
// and returns its file name NAME_VERSION.tar.gz and content; for unit
// tests where R is not installed.
func RTarball(name, version string, files map[string]string) (string, []byte, error) {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hdr := &tar.Header{Name: name + "/" + n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", nil, err
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			return "", nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return "", nil, err
	}
	if err := gz.Close(); err != nil {
		return "", nil, err
	}
	return name + "_" + version + ".tar.gz", b.Bytes(), nil
}
