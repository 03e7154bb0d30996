package standin

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Upstream sources the stand-in Package Manager knows, with the
// repository type each one fits.
var sources = map[string]string{"cran": "r", "pypi": "python", "bioconductor": "bioconductor"}

// cranPackages is the tiny index every CRAN-subscribed repository serves.
const cranPackages = `Package: A3
Version: 1.0.0
Depends: R (>= 2.15.0), xtable, pbapply
License: GPL (>= 2)
NeedsCompilation: no

Package: xtable
Version: 1.8-4
Depends: R (>= 2.10.0)
License: GPL (>= 2)
NeedsCompilation: no

Package: pbapply
Version: 1.7-2
Depends: R (>= 3.2.0)
License: GPL (>= 2)
NeedsCompilation: no
`

var pypiProjects = []string{"numpy", "requests", "shiny"}

var (
	snapshot = `(latest|\d{4}-\d{2}-\d{2}|\d+)`
	rSource  = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/` + snapshot + `/src/contrib/(PACKAGES|PACKAGES\.gz)$`)
	rBinary  = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/__linux__/([a-z0-9]+)/` + snapshot + `/src/contrib/(PACKAGES|PACKAGES\.gz)$`)
	pySimple = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/` + snapshot + `/simple/?$`)
	pyProj   = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/` + snapshot + `/simple/([A-Za-z0-9._-]+)/?$`)
)

// serveRepo answers the package URLs of repositories created with rspm,
// looking them up in the database on every request (other nodes may have
// created them).
func (d *daemon) serveRepo(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/" {
		fmt.Fprintf(w, "Posit Package Manager (tend stand-in) on %s\n", d.node)
		return
	}
	repos, err := d.store.Repos(r.Context())
	if err != nil {
		http.Error(w, "database: "+err.Error(), http.StatusInternalServerError)
		return
	}
	find := func(name, kind string) *RepoRecord {
		for i := range repos {
			if repos[i].Name == name && sources[repos[i].Source] == kind && repos[i].Type == kind {
				return &repos[i]
			}
		}
		return nil
	}
	var m []string
	switch {
	case func() bool { m = rBinary.FindStringSubmatch(p); return m != nil }():
		if find(m[1], "r") == nil {
			http.NotFound(w, r)
			return
		}
		servePackages(w, m[4], "Built: R 4.4.1; x86_64-pc-linux-gnu ("+m[2]+")\n")
	case func() bool { m = rSource.FindStringSubmatch(p); return m != nil }():
		if find(m[1], "r") == nil {
			http.NotFound(w, r)
			return
		}
		servePackages(w, m[3], "")
	case func() bool { m = pySimple.FindStringSubmatch(p); return m != nil }():
		if find(m[1], "python") == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head><title>Simple index</title></head><body>\n")
		for _, proj := range pypiProjects {
			fmt.Fprintf(&b, "<a href=\"/%s/%s/simple/%s/\">%s</a><br/>\n", m[1], m[2], proj, proj)
		}
		b.WriteString("</body></html>\n")
		w.Write([]byte(b.String()))
	case func() bool { m = pyProj.FindStringSubmatch(p); return m != nil }():
		if find(m[1], "python") == nil || !known(m[3]) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>Links for %s</title></head><body>\n<h1>Links for %s</h1>\n<a href=\"/%s/%s/packages/%s/%s-1.0.0-py3-none-any.whl#sha256=%s\">%s-1.0.0-py3-none-any.whl</a><br/>\n</body></html>\n",
			m[3], m[3], m[1], m[2], m[3], m[3], strings.Repeat("0", 64), m[3])
	default:
		http.NotFound(w, r)
	}
}

func known(proj string) bool {
	for _, p := range pypiProjects {
		if strings.EqualFold(p, proj) {
			return true
		}
	}
	return false
}

func servePackages(w http.ResponseWriter, file, extra string) {
	body := cranPackages
	if extra != "" {
		body = strings.ReplaceAll(body, "NeedsCompilation: no\n", "NeedsCompilation: no\n"+extra)
	}
	if file == "PACKAGES.gz" {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(body))
		zw.Close()
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(b.Bytes())
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(body))
}
