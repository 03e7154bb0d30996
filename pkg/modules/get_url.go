package modules

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// GetURL downloads a file (on the controller) and puts it on the host.
type GetURL struct{}

var _ module.Module = (*GetURL)(nil)

// Spec implements module.Module.
func (GetURL) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "url", Type: module.String, Required: true, Doc: "http://, https:// or file:// (a controller path) URL to download."},
		{Name: "dest", Type: module.Path, Expand: true, Required: true, Doc: "File to write on the host, or an existing directory: the file name then comes from Content-Disposition or the URL, and the file is downloaded on every run (as in Ansible) but only replaced when its content differs."},
		{Name: "checksum", Type: module.String, Default: "",
			Doc: "ALGORITHM:HEX (md5, sha1, sha224, sha256, sha384, sha512), or ALGORITHM:URL of a checksum file (lines of \"HEX  name\", the line naming the downloaded file is used). An existing dest with this checksum is not downloaded again; a download with another checksum fails before anything is written."},
		{Name: "force", Type: module.Bool, Default: false, Doc: "Download even when dest exists, replacing it when the content differs. Without force and without checksum an existing dest is left alone."},
		{Name: "backup", Type: module.Bool, Default: false, Doc: "Keep a timestamped copy of dest before replacing it."},
		{Name: "headers", Type: module.Dict, Doc: "Request headers."},
		{Name: "timeout", Type: module.Int, Default: 10, Doc: "Seconds the download may take."},
		{Name: "url_username", Aliases: []string{"username"}, Type: module.String, Doc: "User for Basic authentication."},
		{Name: "url_password", Aliases: []string{"password"}, Type: module.String, NoLog: true, Doc: "Password for Basic authentication."},
		{Name: "force_basic_auth", Type: module.Bool, Default: false, Doc: "Accepted for compatibility: credentials are always sent preemptively."},
		{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "Check the server's TLS certificate."},
		{Name: "use_proxy", Type: module.Bool, Default: true, Doc: "Use the controller's http_proxy/https_proxy/no_proxy environment."},
		{Name: "http_agent", Type: module.String, Default: "tend-get_url", Doc: "User-Agent header."},
		{Name: "tmp_dest", Type: module.Path, Expand: true, Doc: "Accepted for compatibility and ignored: the download is staged on the controller."},
	}
	args = append(args, httpExtraArgs()...)
	return &module.Spec{
		Name:  "get_url",
		Short: "Download a file from a URL to the host",
		Description: `Downloads url ON THE CONTROLLER (with Go's HTTP client) and uploads it to dest
on the host with the connection's atomic write (temporary file, owner and mode applied,
rename). Ansible downloads on the host instead; tend does not, because a minimal target
may have neither curl nor wget and no Python, and this also serves air-gapped hosts
that only the controller can reach the source from. The URL must therefore be
reachable from the controller, and proxies are the controller's.

Idempotence: when dest exists and checksum is given, the host computes the checksum
(sha256sum...) and nothing is downloaded when it matches; only owner/group/mode are
then corrected. Without checksum an existing dest is kept unless force is set; with
force the file is downloaded and replaced only when its sha1 differs. A download is
checked against checksum before anything is written to the host.
Check mode reports whether the file would be downloaded (changed) without writing.`,
		Args:  append(args, fileAttrArgs()...),
		Check: module.CheckFull,
		Examples: `- name: Download the installer, verified
  get_url:
    url: https://cdn.example.com/rstudio-connect_2024.09.0_amd64.deb
    dest: /tmp/rstudio-connect.deb
    checksum: sha256:9c1d62ae2e5ae2a3bbd2a3a4e1d0d3d1d2b36fd4f24c5b6bd8a3c1e2f3a4b5c6
    mode: "0644"

- name: Checksum from a published file
  ansible.builtin.get_url:
    url: https://example.com/tool-1.2.tar.gz
    dest: /opt/downloads/
    checksum: sha256:https://example.com/tool-1.2.tar.gz.sha256`,
	}
}

// hashAlgos maps checksum algorithms to Go hashes and host commands.
var hashAlgos = map[string]struct {
	new func() hash.Hash
	cmd string
}{
	"md5": {md5.New, "md5sum"}, "sha1": {sha1.New, "sha1sum"}, "sha224": {sha256.New224, "sha224sum"},
	"sha256": {sha256.New, "sha256sum"}, "sha384": {sha512.New384, "sha384sum"}, "sha512": {sha512.New, "sha512sum"},
}

// checksumSpec is a parsed checksum argument.
type checksumSpec struct {
	Algo, Hex string // Hex is empty when URL is set and not fetched yet
	URL       string
}

// parseChecksum parses "algo:hex" or "algo:URL".
func parseChecksum(s string) (*checksumSpec, error) {
	if s == "" {
		return nil, nil
	}
	algo, val, ok := strings.Cut(s, ":")
	algo = strings.ToLower(strings.TrimSpace(algo))
	val = strings.TrimSpace(val)
	if !ok || val == "" {
		return nil, fmt.Errorf("checksum %q must be ALGORITHM:CHECKSUM, like sha256:HEX", s)
	}
	a, known := hashAlgos[algo]
	if !known {
		return nil, fmt.Errorf("checksum algorithm %q is not one of md5, sha1, sha224, sha256, sha384, sha512", algo)
	}
	if strings.HasPrefix(val, "http://") || strings.HasPrefix(val, "https://") || strings.HasPrefix(val, "file://") {
		return &checksumSpec{Algo: algo, URL: val}, nil
	}
	val = strings.ToLower(val)
	if _, err := hex.DecodeString(val); err != nil || len(val) != a.new().Size()*2 {
		return nil, fmt.Errorf("checksum %q is not a %s checksum (%d hex digits)", val, algo, a.new().Size()*2)
	}
	return &checksumSpec{Algo: algo, Hex: val}, nil
}

// checksumFromFile finds the checksum of the file called name in a
// checksum file ("HEX  name", "HEX *name", "HEX  ./name"; a file with a
// single bare checksum matches any name).
func checksumFromFile(content, name string, size int) (string, error) {
	var only []string
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		sum := strings.ToLower(f[0])
		if len(sum) != size*2 {
			continue
		}
		if _, err := hex.DecodeString(sum); err != nil {
			continue
		}
		if len(f) == 1 {
			only = append(only, sum)
			continue
		}
		file := strings.TrimPrefix(strings.TrimPrefix(strings.Join(f[1:], " "), "*"), "./")
		if file == name || path.Base(file) == name {
			return sum, nil
		}
	}
	if len(only) == 1 {
		return only[0], nil
	}
	return "", fmt.Errorf("no checksum for %s in the checksum file", name)
}

// httpFetch is a download made on the controller.
type httpFetch struct {
	URL, Username, Password, Agent string
	Headers                        map[string]any
	Timeout                        time.Duration
	Insecure, NoProxy              bool
	Extras                         httpExtras
}

func fetchFromArgs(args module.Args, u string) httpFetch {
	return httpFetch{
		URL: u, Username: args.String("url_username"), Password: args.String("url_password"),
		Agent: args.String("http_agent"), Headers: args.Dict("headers"),
		Timeout:  time.Duration(max(args.Int("timeout"), 1)) * time.Second,
		Insecure: !args.Bool("validate_certs"), NoProxy: !args.Bool("use_proxy"),
	}
}

// downloaded is a file fetched to a controller temporary file.
type downloaded struct {
	Path, SHA1, Sum, FinalURL, Disposition string
	Size                                   int64
	Status                                 int
}

// open starts the request; file:// URLs read a controller file.
func (f httpFetch) open(ctx context.Context) (io.ReadCloser, *http.Response, error) {
	u, err := url.Parse(f.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("url %q: %w", f.URL, err)
	}
	if u.Scheme == "file" {
		fh, err := os.Open(u.Path)
		if err != nil {
			return nil, nil, err
		}
		return fh, nil, nil
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, fmt.Errorf("url %q: only http, https and file URLs are supported", f.URL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // validate_certs: no
	}
	if f.NoProxy {
		tr.Proxy = nil
	}
	client := &http.Client{Transport: tr, Timeout: f.Timeout}
	f.Extras.configure(tr, client)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, nil, err
	}
	if f.Agent != "" {
		req.Header.Set("User-Agent", f.Agent)
	}
	for k, v := range f.Headers {
		req.Header.Set(k, fmt.Sprint(v))
	}
	if f.Username != "" || f.Password != "" {
		req.SetBasicAuth(f.Username, f.Password)
	} else if user, pass, ok := netrcAuth(u.Hostname()); ok && f.Extras.Netrc {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp, fmt.Errorf("HTTP Error %d: %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if f.Extras.Decompress && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			resp.Body.Close()
			return nil, resp, fmt.Errorf("decompressing the gzip response: %w", err)
		}
		return gzipReadCloser{zr, resp.Body}, resp, nil
	}
	return resp.Body, resp, nil
}

// fetchSmall downloads a small text (a checksum file) into memory.
func (f httpFetch) fetchSmall(ctx context.Context) (string, error) {
	body, _, err := f.open(ctx)
	if err != nil {
		return "", err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 1<<20))
	return string(b), err
}

// fetch downloads to a controller temporary file, computing sha1 and algo
// on the way. The caller removes d.Path.
func (f httpFetch) fetch(ctx context.Context, algo string) (*downloaded, error) {
	body, resp, err := f.open(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	tmp, err := os.CreateTemp("", "tend-get_url-*")
	if err != nil {
		return nil, fmt.Errorf("staging the download: %w", err)
	}
	s1 := sha1.New()
	writers := []io.Writer{tmp, s1}
	var alt hash.Hash
	if algo != "" && algo != "sha1" {
		alt = hashAlgos[algo].new()
		writers = append(writers, alt)
	}
	n, err := io.Copy(io.MultiWriter(writers...), bufio.NewReader(body))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("downloading %s: %w", f.URL, err)
	}
	d := &downloaded{Path: tmp.Name(), SHA1: hex.EncodeToString(s1.Sum(nil)), Size: n, Status: 200, FinalURL: f.URL}
	d.Sum = d.SHA1
	if alt != nil {
		d.Sum = hex.EncodeToString(alt.Sum(nil))
	}
	if resp != nil {
		d.Status = resp.StatusCode
		d.FinalURL = resp.Request.URL.String()
		d.Disposition = resp.Header.Get("Content-Disposition")
	}
	return d, nil
}

// downloadName is the file name for a download into a directory.
func downloadName(d *downloaded) string {
	if d.Disposition != "" {
		if _, params, err := mime.ParseMediaType(d.Disposition); err == nil {
			if fn := path.Base(params["filename"]); fn != "" && fn != "." && fn != "/" && fn != ".." {
				return fn
			}
		}
	}
	if u, err := url.Parse(d.FinalURL); err == nil {
		if b := path.Base(u.Path); b != "" && b != "/" && b != "." {
			return b
		}
	}
	return "index.html"
}

// getURLInspect stats dest (following links) and computes its checksum
// with algo in one round trip.
func getURLInspect(ctx context.Context, h *module.Host, dest, algo string) (*RemoteStat, string, error) {
	cmd := "if [ -f " + remoteWord(dest) + " ] && [ -r " + remoteWord(dest) + " ]; then c=$(" + hashAlgos[algo].cmd + " < " + remoteWord(dest) +
		`) || exit 1; printf '%s\n' "${c%% *}"; else echo; fi; ` + inspectCommand(dest, statOptions{Follow: true})
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: %w", dest, err)
	}
	if res.ExitCode != 0 {
		return nil, "", fmt.Errorf("inspect %s: %s", dest, strings.TrimSpace(string(res.Stderr)))
	}
	sum, rest, _ := strings.Cut(string(res.Stdout), "\n")
	st, err := parseInspect(dest, []byte(rest))
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: %w", dest, err)
	}
	return st, strings.TrimSpace(sum), nil
}

// Plan implements module.Module: it reads dest and its checksum, decides
// whether dest needs the download (getURLNeedsContent; downloading first
// when only the content can tell), and plans either an attribute change
// or the upload (getURLUpload).
func (GetURL) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	rawURL, dest := args.String("url"), args.String("dest")
	mode, err := parseMode(args["mode"])
	if err != nil {
		return module.Unchanged(module.Failed("mode: %v", err)), nil
	}
	owner, group := args.String("owner"), args.String("group")
	cs, err := parseChecksum(args.String("checksum"))
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	fetch := fetchFromArgs(args, rawURL)
	var fail module.Result
	if fetch.Extras, fail = loadHTTPExtras(ctx, h, args); fail != nil {
		return module.Unchanged(fail), nil
	}
	if cs != nil && cs.URL != "" {
		if fail := resolveChecksumURL(ctx, fetch, rawURL, cs); fail != nil {
			return module.Unchanged(fail), nil
		}
	}
	algo := "sha1"
	if cs != nil {
		algo = cs.Algo
	}
	base := module.Result{"url": rawURL, "dest": dest}
	st, destSum, err := getURLInspect(ctx, h, dest, algo)
	if err != nil {
		return nil, fmt.Errorf("get_url on %s: %w", h.Name, err)
	}
	// srcSum is the download's checksum, when Plan had to download to
	// decide: for a directory dest (the name comes from the response) or
	// for force.
	var srcSum *string
	if st.IsDir() {
		d, err := fetch.fetch(ctx, algo)
		if err != nil {
			return module.Unchanged(failWith(base, "Request failed: %v", err)), nil
		}
		os.Remove(d.Path) // Apply downloads again: nothing lingers on the controller
		srcSum = &d.Sum
		dest = path.Join(st.Path, downloadName(d))
		base["dest"] = dest
		if st, destSum, err = getURLInspect(ctx, h, dest, algo); err != nil {
			return nil, fmt.Errorf("get_url on %s: %w", h.Name, err)
		}
	}
	if st.Exists && !st.IsReg() {
		return module.Unchanged(failWith(base, "dest %s exists and is not a regular file", dest)), nil
	}
	if !st.Exists {
		if _, err := getURLParent(ctx, h, dest); err != nil {
			return module.Unchanged(failWith(base, "%v", err)), nil
		}
	}
	if st.Exists && cs == nil && srcSum == nil && args.Bool("force") {
		d, err := fetch.fetch(ctx, algo)
		if err != nil {
			return module.Unchanged(failWith(base, "Request failed: %v", err)), nil
		}
		os.Remove(d.Path)
		srcSum = &d.Sum
	}
	if st.Exists && algo == "sha1" {
		base["checksum_dest"] = destSum
	}
	if !getURLNeedsContent(st.Exists, cs, destSum, srcSum) {
		return getURLAttrs(h, base, st, dest, owner, group, mode)
	}
	perm := newFileMode(st)
	if mode.IsSet() {
		if perm, err = mode.Apply(perm, false, st.Umask); err != nil {
			return module.Unchanged(failWith(base, "%v", err)), nil
		}
	}
	u := &getURLUpload{h: h, fetch: fetch, algo: algo, cs: cs, st: st, dest: dest, perm: perm,
		backup: args.Bool("backup"), base: base, planned: module.Result{}}
	u.owner, u.group = keepOwnership(st, owner, group)
	for k, v := range base {
		u.planned[k] = v
	}
	u.planned["mode"] = formatMode(perm)
	return &module.Plan{Changed: true, Result: u.planned, Apply: u.apply}, nil
}

// resolveChecksumURL fetches the checksum file cs names and takes the
// checksum of the URL's file name from it; a non-nil result is the
// task's failure.
func resolveChecksumURL(ctx context.Context, fetch httpFetch, rawURL string, cs *checksumSpec) module.Result {
	fetch.URL = cs.URL
	text, err := fetch.fetchSmall(ctx)
	if err != nil {
		return module.Failed("fetching the checksum file %s: %v", cs.URL, err)
	}
	u, _ := url.Parse(rawURL)
	cs.Hex, err = checksumFromFile(text, path.Base(u.Path), hashAlgos[cs.Algo].new().Size())
	if err != nil {
		return module.Failed("checksum file %s: %v", cs.URL, err)
	}
	return nil
}

// getURLNeedsContent decides whether dest gets the download: when it is
// missing, when its checksum differs from the one the task gives or else
// from the download's (srcSum, when Plan downloaded to decide). Without
// either, an existing dest is kept.
func getURLNeedsContent(exists bool, cs *checksumSpec, destSum string, srcSum *string) bool {
	switch {
	case !exists:
		return true
	case cs != nil:
		return destSum != cs.Hex
	case srcSum != nil:
		return *srcSum != destSum
	}
	return false
}

// getURLAttrs plans the owner, group and mode of a dest whose content
// stays.
func getURLAttrs(h *module.Host, base module.Result, st *RemoteStat, dest, owner, group string, mode Mode) (*module.Plan, error) {
	attrs, err := planAttrs(st, owner, group, mode)
	if err != nil {
		return module.Unchanged(failWith(base, "%v", err)), nil
	}
	base["msg"] = "file already exists"
	base["size"] = int(st.Size)
	fillStatResult(base, st)
	if !attrs.Changed() {
		return module.Unchanged(base), nil
	}
	after := module.Result{}
	for k, v := range base {
		after[k] = v
	}
	for k, v := range attrs.After {
		after[k] = v
	}
	return &module.Plan{Changed: true, Result: after, Apply: func(ctx context.Context) (module.Result, error) {
		if err := runOK(ctx, h, attrs.Command(dest, false), "set attributes of "+dest); err != nil {
			return failWith(after, "%v", err), nil
		}
		return after, nil
	}}, nil
}

// getURLUpload downloads the file to the controller, checks its
// checksum and uploads it to dest.
type getURLUpload struct {
	h            *module.Host
	fetch        httpFetch
	algo         string
	cs           *checksumSpec
	st           *RemoteStat
	dest         string
	perm         uint32
	owner, group string
	backup       bool
	// base is the result of a failed download, planned the plan's result.
	base, planned module.Result
}

func (u *getURLUpload) apply(ctx context.Context) (module.Result, error) {
	start := time.Now()
	d, err := u.fetch.fetch(ctx, u.algo)
	if err != nil {
		return failWith(u.base, "Request failed: %v", err), nil
	}
	defer os.Remove(d.Path)
	r := module.Result{}
	for k, v := range u.planned {
		r[k] = v
	}
	r["checksum_src"], r["size"], r["status_code"] = d.SHA1, int(d.Size), d.Status
	r["elapsed"] = int(time.Since(start).Seconds())
	if u.cs != nil && d.Sum != u.cs.Hex {
		return failWith(r, "The checksum for %s did not match %s; it was %s.", u.dest, u.cs.Hex, d.Sum), nil
	}
	if u.st.Exists && u.backup {
		b, err := backupRemote(ctx, u.h, u.dest)
		if err != nil {
			return failWith(r, "%v", err), nil
		}
		r["backup_file"] = b
	}
	f, err := os.Open(d.Path)
	if err != nil {
		return nil, fmt.Errorf("get_url: staged download: %w", err)
	}
	defer f.Close()
	err = u.h.Conn.Put(ctx, f, u.dest, connection.PutOptions{Mode: osMode(u.perm & 0o777), Owner: u.owner, Group: u.group, Become: u.h.Become})
	if err != nil {
		return nil, fmt.Errorf("get_url on %s: upload %s: %w", u.h.Name, u.dest, err)
	}
	if u.perm&0o7000 != 0 || u.perm == 0 {
		if err := runOK(ctx, u.h, "chmod -- "+fmt.Sprintf("%04o", u.perm)+" "+shell.Quote(u.dest), "chmod "+u.dest); err != nil {
			return failWith(r, "%v", err), nil
		}
	}
	r["msg"] = fmt.Sprintf("OK (%d bytes)", d.Size)
	return r, nil
}

// getURLParent checks that dest's directory exists.
func getURLParent(ctx context.Context, h *module.Host, dest string) (bool, error) {
	dir := path.Dir(dest)
	res, err := h.Run(ctx, "[ -d "+remoteWord(dir)+" ]")
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", dir, err)
	}
	if res.ExitCode != 0 {
		return false, fmt.Errorf("destination directory %s does not exist", dir)
	}
	return true, nil
}

// fillStatResult adds Ansible's file attribute fields.
func fillStatResult(r module.Result, st *RemoteStat) {
	if !st.Exists {
		return
	}
	r["mode"] = formatMode(st.Mode)
	r["owner"], r["group"] = st.Owner, st.Group
	r["uid"], r["gid"] = st.UID, st.GID
	r["state"] = st.Type
}

// failWith copies r into a failed result with msg.
func failWith(r module.Result, format string, a ...any) module.Result {
	out := module.Failed(format, a...)
	for k, v := range r {
		if k != "msg" {
			out[k] = v
		}
	}
	return out
}

func osMode(m uint32) os.FileMode { return os.FileMode(m) }
