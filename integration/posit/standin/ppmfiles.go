package standin

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// PackagesDir is where the stand-in Package Manager takes the package
// files it serves from, for every repository of that kind ("python":
// wheels, "r": source tarballs as R CMD build writes them):
// DATADIR/tend-packages/KIND. The real product fills its storage by
// syncing from Posit's service; the tests put files there instead (the
// stand-in has no upstream to sync from).
func PackagesDir(dataDir, kind string) string {
	return filepath.Join(dataDir, "tend-packages", kind)
}

var projectRuns = regexp.MustCompile(`[-_.]+`)

// normalizeProject is PEP 503's name normalization: runs of '-', '_' and
// '.' become '-', lowercased.
func normalizeProject(name string) string {
	return strings.ToLower(projectRuns.ReplaceAllString(name, "-"))
}

// wheelFile is one wheel on disk.
type wheelFile struct {
	File    string // file name
	Project string // normalized project name
	SHA256  string // hex
}

// listWheels reads the wheels in dir (none when dir is missing). A wheel
// file name is {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl.
func listWheels(dir string) ([]wheelFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []wheelFile
	for _, e := range entries {
		name := e.Name()
		parts := strings.Split(strings.TrimSuffix(name, ".whl"), "-")
		if e.IsDir() || !strings.HasSuffix(name, ".whl") || len(parts) < 5 {
			continue
		}
		sum, err := fileSum(filepath.Join(dir, name), sha256.New)
		if err != nil {
			return nil, err
		}
		out = append(out, wheelFile{File: name, Project: normalizeProject(parts[0]), SHA256: sum})
	}
	return out, nil
}

func fileSum[H interface {
	io.Writer
	Sum([]byte) []byte
}](path string, h func() H) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hh := h()
	if _, err := io.Copy(hh, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(hh.Sum(nil)), nil
}

// indexFields are the DESCRIPTION fields a CRAN-like PACKAGES entry
// carries ("Writing R Extensions", write_PACKAGES), in order.
var indexFields = []string{"Package", "Version", "Priority", "Depends", "Imports", "LinkingTo", "Suggests", "Enhances", "License", "License_is_FOSS", "License_restricts_use", "OS_type", "Archs", "MD5sum", "NeedsCompilation"}

// rIndex returns PACKAGES entries (each after a blank line) for the
// source tarballs NAME_VERSION.tar.gz in dir, from the DESCRIPTION inside
// each, with its MD5sum.
func rIndex(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tar.gz") || !strings.Contains(e.Name(), "_") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		desc, err := tarballDescription(path, strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return "", err
		}
		if desc["MD5sum"], err = fileSum(path, md5.New); err != nil {
			return "", err
		}
		b.WriteString("\n")
		for _, f := range indexFields {
			if v, ok := desc[f]; ok {
				fmt.Fprintf(&b, "%s: %s\n", f, v)
			}
		}
	}
	return b.String(), nil
}

// tarballDescription reads PKG/DESCRIPTION from a source tarball: a DCF
// file ("Field: value", continuation lines indented), continuation lines
// joined with a space.
func tarballDescription(path, pkg string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: no %s/DESCRIPTION", path, pkg)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if hdr.Name != pkg+"/DESCRIPTION" {
			continue
		}
		desc := map[string]string{}
		last := ""
		sc := bufio.NewScanner(io.LimitReader(tr, 1<<20))
		for sc.Scan() {
			line := sc.Text()
			if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && last != "" {
				desc[last] += " " + strings.TrimSpace(line)
				continue
			}
			if k, v, ok := strings.Cut(line, ":"); ok {
				last = k
				desc[k] = strings.TrimSpace(v)
			}
		}
		if desc["Package"] != pkg {
			return nil, fmt.Errorf("%s: DESCRIPTION names package %q", path, desc["Package"])
		}
		return desc, sc.Err()
	}
}

// serveFile answers one package file from dir, by a name the route's
// pattern has already restricted to a plain file name.
func serveFile(w http.ResponseWriter, r *http.Request, dir, name, contentType string) {
	if strings.ContainsAny(name, "/\\") || slices.Contains([]string{".", ".."}, name) {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType)
	http.ServeContent(w, r, name, st.ModTime(), f)
}
