package modules

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// httpExtras are the transport arguments get_url shares with Ansible's
// url_argument_spec beyond the basics: decompress, unredirected_headers,
// use_netrc, client_cert/client_key, ciphers (use_gssapi is warned about).
type httpExtras struct {
	Decompress   bool
	Unredirected []string
	Netrc        bool
	Certs        []tls.Certificate
	Ciphers      []uint16
}

// httpExtraArgs are their specs, for modules that download on the
// controller.
func httpExtraArgs() []module.Arg {
	return []module.Arg{
		{Name: "decompress", Type: module.Bool, Default: true, Doc: "Decompress a response sent with Content-Encoding: gzip, as Ansible does " +
			"(no Accept-Encoding is added). false keeps the bytes as sent."},
		{Name: "unredirected_headers", Type: module.List, Elements: module.String, Doc: "Headers sent with the first request only, never to a redirect's target."},
		{Name: "use_netrc", Type: module.Bool, Default: true, Doc: "Without url_username, take Basic credentials for the URL's host from the " +
			"CONTROLLER's netrc file ($NETRC, else ~/.netrc), since the download runs there (Ansible reads the target's)."},
		{Name: "client_cert", Type: module.Path, Expand: true, Doc: "PEM client certificate (may include the key) read from the host, for TLS client authentication."},
		{Name: "client_key", Type: module.Path, Expand: true, Doc: "PEM private key for client_cert, read from the host."},
		{Name: "ciphers", Type: module.List, Elements: module.String, Doc: "TLS 1.2 cipher suites, by OpenSSL name (ECDHE-RSA-AES128-GCM-SHA256) or " +
			"IANA name, ':'-separated lists and !NAME exclusions included, as Ansible's set_ciphers (TLS 1.3 suites are always on, as with " +
			"OpenSSL). OpenSSL keywords (HIGH, DEFAULT, ECDHE+AESGCM...) are not supported: each one is skipped with a warning."},
		{Name: "use_gssapi", Type: module.Bool, Default: false, Doc: "Not supported (tend downloads with Go on the controller, which has no " +
			"GSSAPI/SPNEGO): accepted with a warning and the request is sent without Kerberos authentication. Use uri with dest, which runs curl " +
			"--negotiate on the host."},
	}
}

// opensslCipherNames maps the OpenSSL names of the suites Go implements
// to their IANA names (Go's).
var opensslCipherNames = map[string]string{
	"AES128-SHA": "TLS_RSA_WITH_AES_128_CBC_SHA", "AES256-SHA": "TLS_RSA_WITH_AES_256_CBC_SHA",
	"AES128-SHA256": "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-GCM-SHA256": "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384": "TLS_RSA_WITH_AES_256_GCM_SHA384", "DES-CBC3-SHA": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
	"RC4-SHA": "TLS_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-DES-CBC3-SHA": "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
	"ECDHE-ECDSA-AES128-SHA": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES256-SHA": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES128-SHA": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES256-SHA": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"ECDHE-ECDSA-AES128-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-RC4-SHA": "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA": "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
}

// parseCiphers resolves a ciphers argument to Go suite ids; skipped holds
// the tokens it cannot reproduce (OpenSSL keywords, unknown names).
func parseCiphers(list []string) (ids []uint16, skipped []string) {
	byName := map[string]uint16{}
	tls13 := map[string]bool{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byName[cs.Name] = cs.ID
		if len(cs.SupportedVersions) == 1 && cs.SupportedVersions[0] == tls.VersionTLS13 {
			tls13[cs.Name] = true
		}
	}
	lookup := func(tok string) (uint16, bool) {
		if n, ok := opensslCipherNames[strings.ToUpper(tok)]; ok {
			tok = n
		}
		id, ok := byName[strings.ToUpper(tok)]
		return id, ok
	}
	excluded := map[uint16]bool{}
	for _, entry := range list {
		for _, tok := range strings.FieldsFunc(entry, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
			switch name := strings.TrimLeft(tok, "!-+"); {
			case tls13[strings.ToUpper(name)]:
				// TLS 1.3 suites are not chosen by set_ciphers either.
			case strings.HasPrefix(tok, "!") || strings.HasPrefix(tok, "-"):
				if id, ok := lookup(name); ok {
					excluded[id] = true
				} else {
					skipped = append(skipped, tok)
				}
			default:
				if id, ok := lookup(name); ok {
					ids = append(ids, id)
				} else {
					skipped = append(skipped, tok)
				}
			}
		}
	}
	var out []uint16
	for _, id := range ids {
		if !excluded[id] {
			out = append(out, id)
		}
	}
	return out, skipped
}

// loadHTTPExtras reads the arguments (client certificate and key from the
// host); a non-nil result is the task's failure.
func loadHTTPExtras(ctx context.Context, h *module.Host, args module.Args) (httpExtras, module.Result) {
	x := httpExtras{
		Decompress: !args.Has("decompress") || args.Bool("decompress"),
		Netrc:      (!args.Has("use_netrc") || args.Bool("use_netrc")) && args.String("url_username") == "",
	}
	for _, v := range args.List("unredirected_headers") {
		x.Unredirected = append(x.Unredirected, fmt.Sprint(v))
	}
	warn := func(msg string) {
		if h.Warn != nil {
			h.Warn(msg)
		}
	}
	if args.Bool("use_gssapi") {
		warn("use_gssapi is not supported by tend's get_url (it downloads on the controller with Go, which has no GSSAPI): the request is sent without Kerberos authentication")
	}
	if cl := args.List("ciphers"); len(cl) > 0 {
		var names []string
		for _, c := range cl {
			names = append(names, fmt.Sprint(c))
		}
		ids, skipped := parseCiphers(names)
		if len(skipped) > 0 {
			warn("ciphers: skipped what tend cannot reproduce (OpenSSL keywords or unknown names): " + strings.Join(skipped, ", "))
		}
		x.Ciphers = ids
		if len(ids) == 0 && len(skipped) > 0 {
			warn("ciphers: no cipher suite left, Go's defaults are used")
		}
	}
	if cert := args.String("client_cert"); cert != "" {
		certPEM, err := readRemote(ctx, h, cert)
		if err != nil {
			return x, module.Failed("client_cert %s: %v", cert, err)
		}
		keyPEM := certPEM
		if key := args.String("client_key"); key != "" {
			if keyPEM, err = readRemote(ctx, h, key); err != nil {
				return x, module.Failed("client_key %s: %v", key, err)
			}
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return x, module.Failed("client_cert %s: %v", cert, err)
		}
		x.Certs = []tls.Certificate{pair}
	}
	return x, nil
}

// configure applies the extras to a transport and client.
func (x httpExtras) configure(tr *http.Transport, client *http.Client) {
	tr.DisableCompression = true
	if len(x.Certs) > 0 || len(x.Ciphers) > 0 {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.Certificates = x.Certs
		tr.TLSClientConfig.CipherSuites = x.Ciphers
	}
	if len(x.Unredirected) > 0 {
		client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("stopped after 10 redirects")
			}
			for _, name := range x.Unredirected {
				req.Header.Del(name)
			}
			return nil
		}
	}
}

// netrcAuth returns the login and password the controller's netrc file
// ($NETRC, else ~/.netrc) gives for host (or its default entry).
func netrcAuth(host string) (user, pass string, ok bool) {
	file := os.Getenv("NETRC")
	if file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", false
		}
		file = filepath.Join(home, ".netrc")
	}
	f, err := os.Open(file)
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	return parseNetrc(f, host)
}

// parseNetrc reads netrc tokens (machine, default, login, password,
// account, macdef) and returns the entry for host, else default's.
func parseNetrc(r io.Reader, host string) (user, pass string, ok bool) {
	sc := bufio.NewScanner(r)
	var toks []string
	inMacro := false
	for sc.Scan() {
		line := sc.Text()
		if inMacro {
			inMacro = strings.TrimSpace(line) != ""
			continue
		}
		f := strings.Fields(line)
		for i := 0; i < len(f); i++ {
			if strings.HasPrefix(f[i], "#") {
				break
			}
			if f[i] == "macdef" {
				inMacro = true
				break
			}
			toks = append(toks, f[i])
		}
	}
	type entry struct{ user, pass string }
	var cur *entry
	var found, def *entry
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			cur = &entry{}
			if next() == host && found == nil {
				found = cur
			}
		case "default":
			cur = &entry{}
			def = cur
		case "login":
			if v := next(); cur != nil {
				cur.user = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.pass = v
			}
		case "account":
			next()
		}
	}
	if found == nil {
		found = def
	}
	if found == nil || found.user == "" || found.pass == "" {
		return "", "", false
	}
	return found.user, found.pass, true
}

// gzipReadCloser decodes a gzip body and closes the response with it.
type gzipReadCloser struct {
	*gzip.Reader
	body io.Closer
}

func (g gzipReadCloser) Close() error {
	g.Reader.Close()
	return g.body.Close()
}
