package standin

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html"
	"maps"
	"net/http"
	"regexp"
	"slices"
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
	rFile    = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/(?:__linux__/[a-z0-9]+/)?` + snapshot + `/src/contrib/([A-Za-z][A-Za-z0-9.]*_[0-9.-]+\.tar\.gz)$`)
	pySimple = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/` + snapshot + `/simple/?$`)
	pyProj   = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/` + snapshot + `/simple/([A-Za-z0-9._-]+)/?$`)
	pyFile   = regexp.MustCompile(`^/([A-Za-z0-9._-]+)/` + snapshot + `/packages/([A-Za-z0-9._+-]+\.whl)$`)
)

// repoRoute is one URL shape of a repository: the repository type it
// belongs to and what answers it (m: the submatches, m[1] the repository).
type repoRoute struct {
	re    *regexp.Regexp
	kind  string
	serve func(d *daemon, w http.ResponseWriter, r *http.Request, m []string)
}

var repoRoutes = []repoRoute{
	{rBinary, "r", func(d *daemon, w http.ResponseWriter, r *http.Request, m []string) {
		d.servePackages(w, m[4], "Built: R 4.4.1; x86_64-pc-linux-gnu ("+m[2]+")\n")
	}},
	{rSource, "r", func(d *daemon, w http.ResponseWriter, r *http.Request, m []string) { d.servePackages(w, m[3], "") }},
	{rFile, "r", func(d *daemon, w http.ResponseWriter, r *http.Request, m []string) {
		serveFile(w, r, PackagesDir(d.eff.DataDir, "r"), m[3], "application/x-gzip")
	}},
	{pySimple, "python", (*daemon).serveSimpleIndex},
	{pyProj, "python", (*daemon).serveSimpleProject},
	{pyFile, "python", func(d *daemon, w http.ResponseWriter, r *http.Request, m []string) {
		serveFile(w, r, PackagesDir(d.eff.DataDir, "python"), m[3], "application/octet-stream")
	}},
}

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
	for _, rt := range repoRoutes {
		m := rt.re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		if !subscribed(repos, m[1], rt.kind) {
			http.NotFound(w, r)
			return
		}
		rt.serve(d, w, r, m)
		return
	}
	http.NotFound(w, r)
}

// subscribed reports whether repository name exists with type kind and a
// source of that type.
func subscribed(repos []RepoRecord, name, kind string) bool {
	for _, r := range repos {
		if r.Name == name && sources[r.Source] == kind && r.Type == kind {
			return true
		}
	}
	return false
}

// serveSimpleIndex lists the projects of a PyPI repository (PEP 503 root
// page): the placeholder projects and those of the wheels on disk.
func (d *daemon) serveSimpleIndex(w http.ResponseWriter, r *http.Request, m []string) {
	projects := map[string]bool{}
	for _, p := range pypiProjects {
		projects[p] = true
	}
	wheels, err := listWheels(PackagesDir(d.eff.DataDir, "python"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, wh := range wheels {
		projects[wh.Project] = true
	}
	w.Header().Set("Content-Type", "text/html")
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>Simple index</title></head><body>\n")
	for _, proj := range slices.Sorted(maps.Keys(projects)) {
		fmt.Fprintf(&b, "<a href=\"/%s/%s/simple/%s/\">%s</a><br/>\n", m[1], m[2], proj, html.EscapeString(proj))
	}
	b.WriteString("</body></html>\n")
	w.Write([]byte(b.String()))
}

// serveSimpleProject lists a project's files (PEP 503 project page):
// its wheels on disk, each linked with its sha256 (PEP 503 "#sha256=");
// a placeholder project gets one link to a file that is not served.
func (d *daemon) serveSimpleProject(w http.ResponseWriter, r *http.Request, m []string) {
	proj := normalizeProject(m[3])
	wheels, err := listWheels(PackagesDir(d.eff.DataDir, "python"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var links strings.Builder
	for _, wh := range wheels {
		if wh.Project == proj {
			fmt.Fprintf(&links, "<a href=\"/%s/%s/packages/%s#sha256=%s\">%s</a><br/>\n", m[1], m[2], wh.File, wh.SHA256, html.EscapeString(wh.File))
		}
	}
	if links.Len() == 0 && known(proj) {
		fmt.Fprintf(&links, "<a href=\"/%s/%s/packages/%s/%s-1.0.0-py3-none-any.whl#sha256=%s\">%s-1.0.0-py3-none-any.whl</a><br/>\n", m[1], m[2], proj, proj, strings.Repeat("0", 64), proj)
	}
	if links.Len() == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>Links for %s</title></head><body>\n<h1>Links for %s</h1>\n%s</body></html>\n", proj, proj, links.String())
}

func known(proj string) bool {
	for _, p := range pypiProjects {
		if strings.EqualFold(p, proj) {
			return true
		}
	}
	return false
}

// servePackages answers PACKAGES or PACKAGES.gz: the placeholder entries
// and one entry per source tarball on disk; extra is added to each entry.
func (d *daemon) servePackages(w http.ResponseWriter, file, extra string) {
	own, err := rIndex(PackagesDir(d.eff.DataDir, "r"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := cranPackages + own
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
