package modules

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// URI makes an HTTP request from the host.
type URI struct{}

var _ module.Module = (*URI)(nil)

// Spec implements module.Module.
func (URI) Spec() *module.Spec {
	spec := &module.Spec{
		Name:  "uri",
		Short: "Make an HTTP request from the host (health checks, REST calls)",
		Description: `Makes an HTTP or HTTPS request from the managed host, as Ansible does, so
http://localhost:4242/health checks the host's own service.

Transport, in order: curl when the host has it (any URL; options, headers, credentials
and body are fed to curl -K - on standard input, so nothing sensitive shows in ps);
else, for plain http:// URLs only, bash's /dev/tcp (bash is Essential on Debian, where
a minimal host has neither curl nor wget): tend writes the HTTP/1.1 request itself and
parses the reply on the controller (chunked bodies included), following redirects
itself. https:// without curl on the host is a failure naming the missing tool; wget is
not used. Credentials are always sent as preemptive Basic authentication.

Results as in Ansible: status (-1 when no response), url, redirected, elapsed, msg,
response headers lower-cased with - turned into _ (content_type, location...), json when
the response is JSON, content when return_content is set. The task fails when status is
not in status_code. uri never reports changed, and is skipped in check mode (Ansible does
the same: a request may change the remote side).`,
		Args: []module.Arg{
			{Name: "url", Type: module.String, Required: true, Doc: "http:// or https:// URL."},
			{Name: "method", Type: module.String, Default: "GET", Doc: "HTTP method, one upper-case word."},
			{Name: "body", Type: module.Raw, Doc: "Request body: a string, or a mapping/list with body_format json or form-urlencoded."},
			{Name: "body_format", Type: module.String, Default: "raw", Choices: []string{"raw", "json", "form-urlencoded"},
				Doc: "json serialises body and sets Content-Type: application/json; form-urlencoded encodes a mapping; raw sends the string."},
			{Name: "headers", Type: module.Dict, Doc: "Request headers."},
			{Name: "status_code", Type: module.List, Elements: module.Int, Default: []any{200}, Doc: "Statuses that mean success."},
			{Name: "return_content", Type: module.Bool, Default: false, Doc: "Return the body as content."},
			{Name: "timeout", Type: module.Int, Default: 30, Doc: "Seconds the request may take."},
			{Name: "follow_redirects", Type: module.String, Default: "safe", Choices: []string{"all", "safe", "none", "yes", "no", "urllib2"},
				Doc: "safe follows redirects of GET and HEAD only; all (yes) follows every redirect; none (no) none."},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "Check the server's TLS certificate."},
			{Name: "http_agent", Type: module.String, Doc: "User-Agent header, unless headers set one (default tend-uri)."},
			{Name: "use_proxy", Type: module.Bool, Default: true, Doc: "Use the proxy the host's environment names (http_proxy...); false ignores it (curl noproxy)."},
			{Name: "ca_path", Type: module.Path, Expand: true, Doc: "CA certificate bundle on the host used to check the server (curl cacert)."},
			{Name: "url_username", Aliases: []string{"user"}, Type: module.String, Doc: "User for Basic authentication."},
			{Name: "url_password", Aliases: []string{"password"}, Type: module.String, NoLog: true, Doc: "Password for Basic authentication."},
			{Name: "force_basic_auth", Type: module.Bool, Default: false, Doc: "Accepted for compatibility: credentials are always sent preemptively."},
			{Name: "creates", Type: module.Path, Expand: true, Doc: "Skip the request when this path exists on the host."},
			{Name: "removes", Type: module.Path, Expand: true, Doc: "Skip the request when this path does not exist on the host."},
			{Name: "dest", Type: module.Path, Expand: true, Doc: "Write the response body to this file on the host (atomically, with owner, group and mode), " +
				"or into this directory under the name Content-Disposition or the URL's last path segment gives (else index.html). " +
				"Written only when the status is in status_code and is not 304; when the file exists the request carries " +
				"If-Modified-Since with its modification time, so an unchanged remote file gives 304 (list 304 in status_code). changed " +
				"when the content or the attributes change (Ansible 2.14 reports changed on every 2xx write). The result has path."},
			{Name: "src", Type: module.Path, Expand: true, ExpandIf: "remote_src", Doc: "Send this file as the body: a controller file (role files/, then the playbook directory), " +
				"or with remote_src a file on the host. Not with body."},
			{Name: "remote_src", Type: module.Bool, Default: false, Doc: "src is a path on the host."},
			{Name: "force", Type: module.Bool, Default: false, Doc: "Accepted for compatibility: Ansible 2.14's uri documents it (\"do not get a cached copy\") " +
				"but does not pass it to its HTTP client, so an existing dest still sends If-Modified-Since; tend does the same."},
			{Name: "unix_socket", Type: module.Path, Expand: true, Doc: "Connect to this Unix domain socket on the host instead of the URL's host and port (curl --unix-socket; needs curl on the host)."},
			{Name: "decompress", Type: module.Bool, Default: true, Doc: "Decompress a response sent with Content-Encoding: gzip, as Ansible does " +
				"(no Accept-Encoding is added: send one in headers to ask for compression). false keeps the body as sent."},
			{Name: "ciphers", Type: module.List, Elements: module.String, Doc: "OpenSSL cipher names or strings for TLS 1.2 and below, joined with ':' (curl --ciphers)."},
			{Name: "client_cert", Type: module.Path, Expand: true, Doc: "PEM client certificate (may include the key) on the host, for TLS client authentication (curl --cert)."},
			{Name: "client_key", Type: module.Path, Expand: true, Doc: "PEM private key on the host for client_cert (curl --key)."},
			{Name: "unredirected_headers", Type: module.List, Elements: module.String, Doc: "Headers sent with the first request only, never to a redirect's target."},
			{Name: "use_gssapi", Type: module.Bool, Default: false, Doc: "Authenticate with GSSAPI/Kerberos SPNEGO (curl --negotiate, with the host's Kerberos " +
				"credential cache; needs a curl built with GSS-API, as Debian's is). url_username/url_password do not obtain a ticket here: " +
				"use kinit first."},
			{Name: "use_netrc", Type: module.Bool, Default: true, Doc: "Without url_username, take credentials for the URL's host from the host user's ~/.netrc " +
				"(curl --netrc-optional; the NETRC variable is not read; not with the bash fallback)."},
		},
		MutuallyExclusive: [][]string{{"body", "src"}},
		Check:             module.CheckNone,
		Examples: `- name: Health check
  uri:
    url: http://localhost:4242/__ping__
    status_code: [200]
  register: ping
  until: ping.status == 200
  retries: 10
  delay: 3

- name: Create a token
  ansible.builtin.uri:
    url: https://connect.example.com/__api__/v1/tokens
    method: POST
    body_format: json
    body: {name: deploy}
    headers:
      Authorization: "Key {{ api_key }}"
    status_code: [200, 201]
    return_content: true

- name: Save a document
  ansible.builtin.uri:
    url: https://example.com/config.json
    dest: /etc/app/config.json
    mode: "0640"`,
	}
	spec.Args = append(spec.Args, fileAttrArgs()...)
	return spec
}

// uriRequest is a request with everything resolved on the controller.
type uriRequest struct {
	URL, Method, User, Password string
	Headers                     [][2]string // sorted by name
	Body                        []byte
	HasBody                     bool
	Follow                      bool
	Insecure                    bool
	Timeout                     int
	// NoProxy ignores the proxy environment (use_proxy: false); CAPath is
	// a CA bundle on the host (ca_path).
	NoProxy bool
	CAPath  string
	// Agent is the User-Agent sent unless a header sets one.
	Agent string
	// BodyFile is a host file sent as the body (src), instead of Body.
	BodyFile string
	// UnixSocket, Ciphers, Cert and Key are curl's --unix-socket,
	// --ciphers, --cert and --key.
	UnixSocket, Ciphers, Cert, Key string
	// Compressed decodes a gzip body; Netrc reads ~/.netrc; Negotiate
	// authenticates with SPNEGO.
	Compressed, Netrc, Negotiate bool
	// Unredirected are headers sent with the first request only.
	Unredirected []string
}

var methodRe = regexp.MustCompile(`^[A-Z]+$`)

// uriHeaders returns the headers argument, checked: no newline may reach
// the request (the agent included).
func uriHeaders(args module.Args) (map[string]string, error) {
	if strings.ContainsAny(args.String("http_agent"), "\r\n") {
		return nil, fmt.Errorf("http_agent must not hold newlines")
	}
	hdrs := map[string]string{}
	for k, v := range args.Dict("headers") {
		if strings.ContainsAny(k, "\r\n:") || strings.ContainsAny(fmt.Sprint(v), "\r\n") {
			return nil, fmt.Errorf("header %q: names and values must not hold newlines", k)
		}
		hdrs[k] = fmt.Sprint(v)
	}
	return hdrs, nil
}

// transportArgs reads unix_socket, client_cert, client_key, decompress,
// use_gssapi, use_netrc, ciphers and unredirected_headers.
func (r *uriRequest) transportArgs(args module.Args) {
	r.UnixSocket, r.Cert, r.Key = args.String("unix_socket"), args.String("client_cert"), args.String("client_key")
	r.Compressed = !args.Has("decompress") || args.Bool("decompress")
	r.Negotiate = args.Bool("use_gssapi")
	r.Netrc = (!args.Has("use_netrc") || args.Bool("use_netrc")) && args.String("url_username") == ""
	var ciphers []string
	for _, c := range args.List("ciphers") {
		ciphers = append(ciphers, fmt.Sprint(c))
	}
	r.Ciphers = strings.Join(ciphers, ":")
	for _, hd := range args.List("unredirected_headers") {
		r.Unredirected = append(r.Unredirected, fmt.Sprint(hd))
	}
}

// uriBuildRequest validates the arguments and encodes the body.
func uriBuildRequest(args module.Args) (*uriRequest, error) {
	r := &uriRequest{
		URL: args.String("url"), Method: args.String("method"),
		User: args.String("url_username"), Password: args.String("url_password"),
		Insecure: !args.Bool("validate_certs"), Timeout: args.Int("timeout"),
		Agent:   orDefault(args.String("http_agent"), "tend-uri"),
		NoProxy: args.Has("use_proxy") && !args.Bool("use_proxy"), CAPath: args.String("ca_path"),
	}
	r.transportArgs(args)
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q is not an http:// or https:// URL", r.URL)
	}
	if !methodRe.MatchString(r.Method) {
		return nil, fmt.Errorf("method %q must be a single upper-case word, like GET or POST", r.Method)
	}
	if r.Timeout <= 0 {
		r.Timeout = 30
	}
	hdrs, err := uriHeaders(args)
	if err != nil {
		return nil, err
	}
	hasHeader := func(name string) bool {
		for k := range hdrs {
			if strings.EqualFold(k, name) {
				return true
			}
		}
		return false
	}
	if body, ok := args["body"]; ok && body != nil {
		r.HasBody = true
		switch args.String("body_format") {
		case "json":
			if s, ok := body.(string); ok {
				r.Body = []byte(s)
			} else if r.Body, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("body: %w", err)
			}
			if !hasHeader("Content-Type") {
				hdrs["Content-Type"] = "application/json"
			}
		case "form-urlencoded":
			switch b := body.(type) {
			case string:
				r.Body = []byte(b)
			case map[string]any:
				v := url.Values{}
				for k, e := range b {
					v.Set(k, fmt.Sprint(e))
				}
				r.Body = []byte(v.Encode())
			default:
				return nil, fmt.Errorf("body: form-urlencoded needs a mapping or a string, got %T", body)
			}
			if !hasHeader("Content-Type") {
				hdrs["Content-Type"] = "application/x-www-form-urlencoded"
			}
		default:
			if s, ok := body.(string); ok {
				r.Body = []byte(s)
			} else {
				return nil, fmt.Errorf("body: with body_format raw the body must be a string (use body_format: json for %T)", body)
			}
		}
	}
	switch args.String("follow_redirects") {
	case "all", "yes":
		r.Follow = true
	case "safe", "urllib2":
		r.Follow = r.Method == "GET" || r.Method == "HEAD"
	}
	for k, v := range hdrs {
		r.Headers = append(r.Headers, [2]string{k, v})
	}
	sort.Slice(r.Headers, func(i, j int) bool { return r.Headers[i][0] < r.Headers[j][0] })
	return r, nil
}

// curlString quotes s for a curl config file.
func curlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s) + `"`
}

const curlMarker = "\n@@TEND-CURL@@"

// curlConfig is the config fed to curl -K - on standard input.
func (r *uriRequest) curlConfig() string {
	var b strings.Builder
	line := func(k, v string) { b.WriteString(k + " = " + curlString(v) + "\n") }
	b.WriteString("silent\nshow-error\ninclude\n")
	line("url", r.URL)
	line("request", r.Method)
	line("max-time", strconv.Itoa(r.Timeout))
	line("write-out", curlMarker+"%{http_code} %{num_redirects} %{url_effective}")
	if r.Method == "HEAD" {
		b.WriteString("head\n")
	}
	if r.Follow {
		b.WriteString("location\n")
		line("max-redirs", "50")
	}
	if r.Insecure {
		b.WriteString("insecure\n")
	}
	if r.NoProxy {
		line("noproxy", "*")
	}
	if r.CAPath != "" {
		line("cacert", r.CAPath)
	}
	if r.User != "" || r.Password != "" {
		line("user", r.User+":"+r.Password)
	}
	r.curlExtras(line, &b)
	hasUA := false
	for _, h := range r.Headers {
		line("header", h[0]+": "+h[1])
		hasUA = hasUA || strings.EqualFold(h[0], "User-Agent")
	}
	if !hasUA {
		line("user-agent", r.Agent)
	}
	switch {
	case r.BodyFile != "":
		line("data-binary", "@"+r.BodyFile)
	case r.HasBody:
		// data-raw: a body starting with @ is not a file name.
		line("data-raw", string(r.Body))
	}
	return b.String()
}

// curlExtras adds the options of unix_socket, ciphers, client_cert,
// client_key, decompress, use_netrc and use_gssapi.
func (r *uriRequest) curlExtras(line func(k, v string), b *strings.Builder) {
	for _, o := range [][2]string{{"unix-socket", r.UnixSocket}, {"ciphers", r.Ciphers}, {"cert", r.Cert}, {"key", r.Key}} {
		if o[1] != "" {
			line(o[0], o[1])
		}
	}
	if r.Netrc {
		b.WriteString("netrc-optional\n")
	}
	if r.Negotiate {
		b.WriteString("negotiate\n")
		if r.User == "" && r.Password == "" {
			line("user", ":")
		}
	}
}

// uriResponse is what came back.
type uriResponse struct {
	Status    int
	URL       string
	Redirects int
	Header    http.Header
	Body      []byte
}

// parseCurlOutput splits curl's -i output (header blocks of every
// response, then the body) and the write-out trailer.
func parseCurlOutput(out []byte) (*uriResponse, error) {
	i := bytes.LastIndex(out, []byte(curlMarker))
	if i < 0 {
		return nil, fmt.Errorf("curl output has no status trailer")
	}
	trailer := strings.Fields(string(out[i+len(curlMarker):]))
	if len(trailer) < 2 {
		return nil, fmt.Errorf("curl status trailer %q is incomplete", out[i:])
	}
	resp := &uriResponse{Header: http.Header{}}
	resp.Status, _ = strconv.Atoi(trailer[0])
	resp.Redirects, _ = strconv.Atoi(trailer[1])
	if len(trailer) > 2 {
		resp.URL = trailer[2]
	}
	data := out[:i]
	redirects := resp.Redirects
	for bytes.HasPrefix(data, []byte("HTTP/")) {
		end := bytes.Index(data, []byte("\r\n\r\n"))
		sep := 4
		if end < 0 {
			end, sep = bytes.Index(data, []byte("\n\n")), 2
		}
		if end < 0 {
			end, sep = len(data), 0
		}
		tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(data[:end:end], "\r\n\r\n"...))))
		statusLine, err := tp.ReadLine()
		if err != nil {
			return nil, fmt.Errorf("reading status line: %w", err)
		}
		hdr, _ := tp.ReadMIMEHeader()
		code := 0
		if f := strings.Fields(statusLine); len(f) >= 2 {
			code, _ = strconv.Atoi(f[1])
		}
		data = data[end+sep:]
		resp.Header = http.Header(hdr)
		switch {
		case code >= 100 && code < 200:
			continue
		case code >= 300 && code < 400 && redirects > 0:
			redirects--
			continue
		case code == 200 && strings.Contains(strings.ToLower(statusLine), "connection established"):
			continue
		}
		break
	}
	resp.Body = data
	return resp, nil
}

// tcpRequest is the raw HTTP/1.1 request bash sends over /dev/tcp.
func (r *uriRequest) tcpRequest(u *url.URL) []byte {
	var b bytes.Buffer
	path := u.RequestURI()
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", r.Method, path, u.Host)
	hasUA, hasAccept := false, false
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], "Host") || strings.EqualFold(h[0], "Connection") || strings.EqualFold(h[0], "Content-Length") {
			continue
		}
		hasUA = hasUA || strings.EqualFold(h[0], "User-Agent")
		hasAccept = hasAccept || strings.EqualFold(h[0], "Accept")
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if !hasUA {
		b.WriteString("User-Agent: " + r.Agent + "\r\n")
	}
	if !hasAccept {
		b.WriteString("Accept: */*\r\n")
	}
	if r.User != "" || r.Password != "" {
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(r.User, r.Password)
		b.WriteString("Authorization: " + req.Header.Get("Authorization") + "\r\n")
	}
	if r.HasBody || r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.Body))
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// tcpPort returns host and port of u for /dev/tcp.
func tcpHostPort(u *url.URL) (string, string) {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return u.Hostname(), port
}

// run performs the request from the host with the chosen tool.
func (r *uriRequest) run(ctx context.Context, h *module.Host, tool string) (*uriResponse, string, error) {
	timeout := time.Duration(r.Timeout+30) * time.Second
	if tool == "curl" {
		if len(r.Unredirected) == 0 || !r.Follow {
			return r.runCurl(ctx, h, timeout)
		}
		return r.runCurlUnredirected(ctx, h, timeout)
	}
	if r.UnixSocket != "" || r.Negotiate {
		return nil, "Request failed: unix_socket and use_gssapi need curl on the host", nil
	}
	cur := r.URL
	for redirects := 0; ; redirects++ {
		u, _ := url.Parse(cur)
		if u.Scheme != "http" {
			return nil, fmt.Sprintf("Request failed: %s needs curl on the host (only plain http:// works without it)", cur), nil
		}
		host, port := tcpHostPort(u)
		req := r.tcpRequest(u)
		line := "timeout " + strconv.Itoa(r.Timeout) + ` bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 97; head -c "$2" >&3 && cat <&3' ` +
			shell.Join(host, port, strconv.Itoa(len(req)))
		res, err := h.RunWith(ctx, connection.Command{Cmd: line, Stdin: bytes.NewReader(req), Timeout: timeout})
		if err != nil {
			return nil, "", fmt.Errorf("uri on %s: %w", h.Name, err)
		}
		if res.ExitCode == 97 || len(res.Stdout) == 0 {
			return nil, fmt.Sprintf("Request failed: connection to %s:%s: %s", host, port, strings.TrimSpace(string(res.Stderr))), nil
		}
		hr, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(res.Stdout)), &http.Request{Method: r.Method})
		if err != nil {
			return nil, "Request failed: reading the response: " + err.Error(), nil
		}
		body, err := io.ReadAll(hr.Body)
		if err != nil && len(body) == 0 {
			return nil, "Request failed: reading the body: " + err.Error(), nil
		}
		resp := &uriResponse{Status: hr.StatusCode, URL: cur, Redirects: redirects, Header: hr.Header, Body: body}
		loc := hr.Header.Get("Location")
		if !r.Follow || loc == "" || hr.StatusCode < 300 || hr.StatusCode > 399 || hr.StatusCode == 304 {
			return resp, "", nil
		}
		if redirects >= 50 {
			return nil, "Request failed: too many redirects", nil
		}
		next, err := u.Parse(loc)
		if err != nil {
			return nil, "Request failed: bad redirect location " + loc, nil
		}
		cur = next.String()
		if hr.StatusCode == 303 || (hr.StatusCode == 301 || hr.StatusCode == 302) && r.Method == "POST" {
			r.Method, r.Body, r.HasBody = "GET", nil, false
		}
		r.Headers = withoutHeaders(r.Headers, r.Unredirected)
	}
}

// runCurlUnredirected makes the first request alone with the
// unredirected_headers; curl follows the rest of the chain without them.
func (r *uriRequest) runCurlUnredirected(ctx context.Context, h *module.Host, timeout time.Duration) (*uriResponse, string, error) {
	first := *r
	first.Follow = false
	resp, msg, err := first.runCurl(ctx, h, timeout)
	if resp == nil || resp.Status < 300 || resp.Status > 399 || resp.Status == 304 || resp.Header.Get("Location") == "" {
		return resp, msg, err
	}
	next := r.redirected(r.URL, resp.Status, resp.Header.Get("Location"))
	if next == nil {
		return nil, "Request failed: bad redirect location " + resp.Header.Get("Location"), nil
	}
	resp, msg, err = next.runCurl(ctx, h, timeout)
	if resp != nil {
		resp.Redirects++
	}
	return resp, msg, err
}

// runCurl makes the request with curl, reading the config on stdin.
func (r *uriRequest) runCurl(ctx context.Context, h *module.Host, timeout time.Duration) (*uriResponse, string, error) {
	res, err := h.RunWith(ctx, connection.Command{Cmd: "curl -K -", Stdin: strings.NewReader(r.curlConfig()), Timeout: timeout})
	if err != nil {
		return nil, "", fmt.Errorf("uri on %s: %w", h.Name, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Sprintf("Request failed: curl exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr))), nil
	}
	resp, err := parseCurlOutput(res.Stdout)
	if err != nil {
		return nil, "Request failed: " + err.Error(), nil
	}
	if resp.URL == "" {
		resp.URL = r.URL
	}
	return resp, "", nil
}

// redirected is the request that follows a redirect from cur to loc:
// without the unredirected headers, and as GET after a 303 (or a 301/302
// answering a POST), as browsers and Python do.
func (r *uriRequest) redirected(cur string, status int, loc string) *uriRequest {
	base, err := url.Parse(cur)
	if err != nil {
		return nil
	}
	u, err := base.Parse(loc)
	if err != nil {
		return nil
	}
	next := *r
	next.URL = u.String()
	next.Headers = withoutHeaders(r.Headers, r.Unredirected)
	if status == 303 || (status == 301 || status == 302) && r.Method == "POST" {
		next.Method, next.Body, next.HasBody, next.BodyFile = "GET", nil, false, ""
	}
	return &next
}

// withoutHeaders drops the named headers (case-insensitively).
func withoutHeaders(hdrs [][2]string, names []string) [][2]string {
	var out [][2]string
	for _, h := range hdrs {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, h[0]) }) {
			out = append(out, h)
		}
	}
	return out
}

// uriResult builds Ansible's result from a response.
func uriResult(args module.Args, resp *uriResponse, failMsg string, elapsed int) module.Result {
	res := module.Result{"url": args.String("url"), "elapsed": elapsed, "redirected": false, "changed": false}
	codes := map[int]bool{}
	var codeList []any
	for _, c := range args["status_code"].([]any) {
		n, _ := module.ToInt(c)
		codes[n] = true
		codeList = append(codeList, n)
	}
	if resp == nil {
		res["status"] = -1
		res["msg"] = fmt.Sprintf("Status code was -1 and not %v: %s", codeList, failMsg)
		res["failed"] = true
		return res
	}
	res["status"] = resp.Status
	if resp.URL != "" {
		res["url"] = resp.URL
	}
	res["redirected"] = resp.URL != "" && resp.URL != args.String("url")
	for k, v := range resp.Header {
		res[strings.ReplaceAll(strings.ToLower(k), "-", "_")] = strings.Join(v, ", ")
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if base, err := url.Parse(res["url"].(string)); err == nil {
			if abs, err := base.Parse(loc); err == nil {
				res["location"] = abs.String()
			}
		}
	}
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if mt, _, _ := strings.Cut(ct, ";"); strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "javascript") {
		var js any
		if json.Unmarshal(resp.Body, &js) == nil {
			res["json"] = plainJSON(js)
		}
	}
	res["msg"] = fmt.Sprintf("OK (%d bytes)", len(resp.Body))
	if args.Bool("return_content") {
		res["content"] = string(resp.Body)
	}
	if !codes[resp.Status] {
		res["failed"] = true
		res["msg"] = fmt.Sprintf("Status code was %d and not %v: %s", resp.Status, codeList, res["msg"])
	}
	return res
}

// Plan implements module.Module. The request is made here (uri reports
// no change and is skipped in check mode by its Spec); with dest, the
// write of the body is planned from the response (uriDestPlan).
func (URI) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	req, err := uriBuildRequest(args)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if skip, msg, err := createsRemoves(ctx, h, args.String("creates"), args.String("removes")); err != nil {
		return nil, err
	} else if skip {
		return module.Unchanged(module.Result{"msg": msg}), nil
	}
	res, err := h.Run(ctx, "command -v curl || command -v bash || true")
	if err != nil {
		return nil, fmt.Errorf("uri on %s: looking for curl: %w", h.Name, err)
	}
	tool := ""
	switch p := strings.TrimSpace(string(res.Stdout)); {
	case strings.HasSuffix(p, "/curl") || p == "curl":
		tool = "curl"
	case strings.HasSuffix(p, "/bash") || p == "bash":
		tool = "bash"
	default:
		return module.Unchanged(module.Failed("uri needs curl, or bash for http:// URLs, on the host")), nil
	}
	cleanup, fail, err := uriBodySource(ctx, h, args, req, tool)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil || fail != nil {
		return module.Unchanged(fail), err
	}
	dest := args.String("dest")
	var destSt *RemoteStat
	if dest != "" {
		if destSt, err = statRemote(ctx, h, dest, false); err != nil {
			return nil, fmt.Errorf("uri on %s: %w", h.Name, err)
		}
		uriCacheHeaders(req, destSt)
	}
	start := time.Now()
	resp, failMsg, err := req.run(ctx, h, tool)
	if err != nil {
		return nil, err
	}
	if resp != nil && req.Compressed && req.Method != "HEAD" {
		resp.Body, err = gunzipBody(resp.Header.Get("Content-Encoding"), resp.Body)
		if err != nil {
			resp, failMsg = nil, "Request failed: "+err.Error()
		}
	}
	result := uriResult(args, resp, failMsg, int(time.Since(start).Seconds()))
	if dest == "" || resp == nil {
		return module.Unchanged(result), nil
	}
	return uriDestPlan(ctx, h, args, result, resp, destSt)
}

// uriBodySource sets the body from src: a host file (remote_src) is sent
// by curl itself or read for the bash fallback; a controller file is
// read, and for curl staged in a temporary file on the host (a body may
// hold any byte, which curl's config cannot carry). cleanup removes it.
func uriBodySource(ctx context.Context, h *module.Host, args module.Args, req *uriRequest, tool string) (cleanup func(), fail module.Result, err error) {
	src := args.String("src")
	if src == "" {
		return nil, nil, nil
	}
	req.HasBody = true
	if args.Bool("remote_src") {
		if tool == "curl" {
			req.BodyFile = src
			return nil, nil, nil
		}
		if req.Body, err = readRemote(ctx, h, src); err != nil {
			return nil, module.Failed("Unable to open source file %s: %v", src, err), nil
		}
		return nil, nil, nil
	}
	local := src
	if h.Files != nil {
		if local, err = h.Files.Find("files", src); err != nil {
			return nil, module.Failed("Could not find or access '%s' on the Ansible Controller: %v", src, err), nil
		}
	}
	if req.Body, err = os.ReadFile(local); err != nil {
		return nil, module.Failed("Unable to open source file %s: %v", src, err), nil
	}
	if tool != "curl" {
		return nil, nil, nil
	}
	res, err := h.Run(ctx, `mktemp "${TMPDIR:-/tmp}/tend-uri-XXXXXXXX"`)
	if err != nil {
		return nil, nil, fmt.Errorf("uri on %s: temporary file: %w", h.Name, err)
	}
	tmp := strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 || tmp == "" {
		return nil, module.Failed("creating a temporary file on the host: %s", strings.TrimSpace(string(res.Stderr))), nil
	}
	cleanup = func() { _, _ = h.Run(context.WithoutCancel(ctx), "rm -f -- "+shell.Quote(tmp)) }
	if err := h.Conn.Put(ctx, bytes.NewReader(req.Body), tmp, connection.PutOptions{Mode: 0o600, Become: h.Become}); err != nil {
		return cleanup, nil, fmt.Errorf("uri on %s: upload %s: %w", h.Name, src, err)
	}
	req.BodyFile, req.Body = tmp, nil
	return cleanup, nil, nil
}

// uriCacheHeaders adds what Ansible's uri sends for dest: If-Modified-Since
// with the mtime of an existing dest file (force is not passed on there).
func uriCacheHeaders(req *uriRequest, st *RemoteStat) {
	if !st.IsReg() {
		return
	}
	sec := int64(st.Mtime)
	req.Headers = append(req.Headers, [2]string{"If-Modified-Since", time.Unix(sec, 0).UTC().Format(http.TimeFormat)})
	sort.Slice(req.Headers, func(i, j int) bool { return req.Headers[i][0] < req.Headers[j][0] })
}

// uriDestPlan plans writing the response body to dest (a directory gets
// the response's file name), when the status is wanted and not 304.
func uriDestPlan(ctx context.Context, h *module.Host, args module.Args, result module.Result, resp *uriResponse, st *RemoteStat) (*module.Plan, error) {
	dest := args.String("dest")
	if st.IsDir() {
		dest = path.Join(st.Path, downloadName(&downloaded{Disposition: resp.Header.Get("Content-Disposition"), FinalURL: resp.URL}))
	}
	result["path"] = dest
	if failed, _ := result["failed"].(bool); failed || resp.Status == 304 {
		return module.Unchanged(result), nil
	}
	mode, err := parseMode(args["mode"])
	if err != nil {
		return module.Unchanged(failWith(result, "mode: %v", err)), nil
	}
	if st, err = statRemote(ctx, h, dest, true); err != nil {
		return nil, fmt.Errorf("uri on %s: %w", h.Name, err)
	}
	if st.Exists && !st.IsReg() {
		return module.Unchanged(failWith(result, "dest %s exists and is not a regular file", dest)), nil
	}
	cc := &contentChange{Path: dest, St: st, After: resp.Body, Owner: args.String("owner"), Group: args.String("group"), Mode: mode, DiffHeader: dest}
	cp, err := cc.plan()
	if err != nil {
		return module.Unchanged(failWith(result, "%v", err)), nil
	}
	if !cp.Changed() {
		return module.Unchanged(result), nil
	}
	return &module.Plan{Changed: true, Result: result, Diff: cp.Diffs, Apply: func(ctx context.Context) (module.Result, error) {
		if _, _, err := cc.apply(ctx, h, cp); err != nil {
			return failWith(result, "failed to write %s: %v", dest, err), nil
		}
		result["changed"] = true
		return result, nil
	}}, nil
}

// gunzipBody decodes a body sent with Content-Encoding: gzip (decompress,
// as Ansible's fetch_url: other encodings are kept as they are).
func gunzipBody(encoding string, body []byte) ([]byte, error) {
	if !strings.EqualFold(strings.TrimSpace(encoding), "gzip") || len(body) == 0 {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("decompressing the gzip body: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompressing the gzip body: %w", err)
	}
	return out, nil
}
