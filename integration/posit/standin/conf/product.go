package conf

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Real paths of the products' configuration, relative to a root ("/" on a
// host, a temporary directory in tests).
const (
	WorkbenchDir  = "etc/rstudio"
	ConnectConfig = "etc/rstudio-connect/rstudio-connect.gcfg"
	PPMConfig     = "etc/rstudio-pm/rstudio-pm.gcfg"
	PipConfig     = "etc/pip.conf"
)

// Database is a product's effective metadata database settings.
type Database struct {
	Provider string `json:"provider"` // "sqlite" or "postgres"
	// DSN is the PostgreSQL connection URL with the password filled in;
	// never reported.
	DSN      string `json:"-"`
	Host     string `json:"host,omitempty"`
	Port     string `json:"port,omitempty"`
	Name     string `json:"database,omitempty"`
	User     string `json:"user,omitempty"`
	Password bool   `json:"password_set"`
	// Extra lists further databases by their key (InstrumentationURL,
	// UsageDataURL), each as a DSN with the password.
	Extra map[string]string `json:"-"`
	// ExtraNames maps the same keys to database names, for reports.
	ExtraNames map[string]string `json:"extra_databases,omitempty"`
}

// Repo is a package repository a product is configured to use.
type Repo struct {
	Kind string `json:"kind"` // "r" or "python"
	Name string `json:"name"`
	URL  string `json:"url"`
	From string `json:"from"` // file (and key) it came from
	// TrustedHosts are pip's trusted-host entries ([global] trusted-host
	// in /etc/pip.conf) that apply to a Python index.
	TrustedHosts []string `json:"trusted_hosts,omitempty"`
}

// TLS is an HTTPS listener as a product's configuration sets it.
type TLS struct {
	Listen      string `json:"listen"`
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
}

// check loads the certificate and key (PEM, key without passphrase), as
// the products do at start: a missing, unreadable or mismatched pair
// stops them.
func (t *TLS) check(root string) error {
	if _, err := tls.LoadX509KeyPair(filepath.Join(root, t.Certificate), filepath.Join(root, t.Key)); err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", t.Certificate, t.Key, err)
	}
	return nil
}

// Effective is what a stand-in reports about its configuration.
type Effective struct {
	Product string `json:"product"`
	// Listen is the plain-HTTP address ("" when HTTP is off).
	Listen string `json:"listen"`
	// TLS is the HTTPS listener, nil when HTTPS is off.
	TLS      *TLS              `json:"https,omitempty"`
	DataDir  string            `json:"data_dir"`
	Shared   string            `json:"shared_dir,omitempty"`
	Metrics  string            `json:"metrics_dir,omitempty"`
	Address  string            `json:"address,omitempty"`
	Database Database          `json:"database"`
	Repos    []Repo            `json:"repos,omitempty"`
	Health   bool              `json:"health_check_enabled"`
	Files    map[string]string `json:"files"` // path -> "mode owner sha256"
	Settings map[string]any    `json:"settings"`
	Warnings []string          `json:"warnings,omitempty"`
}

func fileInfo(root, rel string) (string, error) {
	p := filepath.Join(root, rel)
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	owner := "?"
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		owner = fmt.Sprintf("%d:%d", s.Uid, s.Gid)
	}
	return fmt.Sprintf("%04o %s %s", st.Mode().Perm(), owner, hex.EncodeToString(sum[:])), nil
}

func readOptional(root, rel string) ([]byte, bool, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", "/"+rel, err)
	}
	return data, true, nil
}

func prefix(file string) string {
	if file == "" {
		return ""
	}
	return file + ": "
}

func checkListen(file, key, v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%s%s = %q: %w", prefix(file), key, v, err)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return fmt.Errorf("%s%s = %q: invalid host", prefix(file), key, v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s%s = %q: invalid port", prefix(file), key, v)
	}
	return nil
}

func checkHTTPURL(file, key, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s%s = %q: not an http(s) URL", prefix(file), key, v)
	}
	return nil
}

// pgDSN checks a postgres:// URL and returns it with password set (if
// any), and its parts.
func pgDSN(file, key, raw, password string) (string, *url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("%s%s: invalid URL: %w", prefix(file), key, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", nil, fmt.Errorf("%s%s = %q: scheme must be postgres", prefix(file), key, raw)
	}
	if u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return "", nil, fmt.Errorf("%s%s = %q: needs a host and a database name", prefix(file), key, raw)
	}
	if password != "" && u.User != nil {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	return u.String(), u, nil
}

func dbFromURL(u *url.URL, dsn string, password bool) Database {
	d := Database{Provider: "postgres", DSN: dsn, Host: u.Hostname(), Port: u.Port(), Name: strings.Trim(u.Path, "/"), Password: password}
	if d.Port == "" {
		d.Port = "5432"
	}
	if u.User != nil {
		d.User = u.User.Username()
		if _, ok := u.User.Password(); ok {
			d.Password = true
		}
	}
	return d
}

// pipRepos reads /etc/pip.conf's [global] index-url (and extra-index-url).
func pipRepos(root string, eff *Effective) error {
	data, ok, err := readOptional(root, PipConfig)
	if err != nil || !ok {
		return err
	}
	ini, err := ParseINI("/"+PipConfig, data)
	if err != nil {
		return err
	}
	info, _ := fileInfo(root, PipConfig)
	eff.Files["/"+PipConfig] = info
	trusted, _ := ini.Get("global", "trusted-host")
	for i := range eff.Repos {
		if eff.Repos[i].Kind == "python" {
			eff.Repos[i].TrustedHosts = strings.Fields(trusted)
		}
	}
	for _, k := range []string{"index-url", "extra-index-url"} {
		if v, ok := ini.Get("global", k); ok && v != "" {
			if err := checkHTTPURL("/"+PipConfig, k, v); err != nil {
				return err
			}
			eff.Repos = append(eff.Repos, Repo{Kind: "python", Name: k, URL: v, From: "/etc/pip.conf [global] " + k, TrustedHosts: strings.Fields(trusted)})
		}
	}
	return nil
}

// PipIgnores says why pip (23, as Debian 12 ships it) would not use index
// URL u at all, "" when it would: pip asks only secure origins, https or
// a loopback host (pip/_internal/network/session.py, SECURE_ORIGINS), or
// a host named in trusted-host; otherwise it warns "is not a trusted or
// secure host and is being ignored" and sends no request.
func PipIgnores(u string, trusted []string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "not a URL"
	}
	if pu.Scheme == "https" {
		return ""
	}
	host := pu.Hostname()
	if host == "localhost" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	for _, t := range trusted {
		if t == host || t == pu.Host {
			return ""
		}
	}
	return fmt.Sprintf("pip ignores %s: %q is not a trusted or secure host (plain %s, not loopback, not in trusted-host)", u, pu.Host, pu.Scheme)
}

// ListenPort returns the port of a listen address.
func ListenPort(listen string) string {
	_, p, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	return p
}
