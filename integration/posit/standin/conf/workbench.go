package conf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// rserverOption checks one rserver.conf value; nil accepts anything.
type rserverOption func(v string) error

func intOption(lo, hi int) rserverOption {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return nil
	}
}

func boolOption(v string) error {
	switch v {
	case "0", "1", "true", "false":
		return nil
	}
	return fmt.Errorf("want 0 or 1")
}

func absPathOption(v string) error {
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("want an absolute path")
	}
	return nil
}

func urlOption(v string) error { return checkHTTPURL("", "", v) }

func ipOption(v string) error {
	if net.ParseIP(v) == nil {
		return fmt.Errorf("want an IP address")
	}
	return nil
}

// LoadWorkbench reads /etc/rstudio (under root) like rserver does at
// start: rserver.conf, database.conf (must be 0600 and owned by root when
// it holds a password), repos.conf or rsession.conf's r-cran-repos,
// load-balancer, secure-cookie-key, and /etc/pip.conf.
func LoadWorkbench(root string) (*Effective, error) {
	eff := &Effective{Product: "workbench", Files: map[string]string{}, Settings: map[string]any{}}
	rs, err := workbenchServer(root, eff)
	if err != nil {
		return nil, err
	}
	dbRel := workbenchRel("database.conf")
	if v, ok := rs.Get("database-config-file"); ok {
		dbRel = strings.TrimPrefix(v, "/")
	}
	eff.Database = Database{Provider: "sqlite"}
	if data, ok, err := readOptional(root, dbRel); err != nil {
		return nil, err
	} else if ok {
		if err := workbenchDatabase(root, dbRel, data, eff); err != nil {
			return nil, err
		}
	}
	lbEnabled, err := workbenchLoadBalancer(root, rs, eff)
	if err != nil {
		return nil, err
	}
	keyRel := workbenchRel("secure-cookie-key")
	if v, ok := rs.Get("secure-cookie-key-file"); ok {
		keyRel = strings.TrimPrefix(v, "/")
	}
	if err := workbenchCookieKey(root, keyRel, lbEnabled, eff); err != nil {
		return nil, err
	}
	if err := workbenchRepos(root, eff); err != nil {
		return nil, err
	}
	if v, ok := rs.Get("session-python-index-url"); ok {
		eff.Repos = append(eff.Repos, Repo{Kind: "python", Name: "session-python-index-url", URL: v, From: "/" + workbenchRel("rserver.conf")})
	}
	if err := pipRepos(root, eff); err != nil {
		return nil, err
	}
	return eff, nil
}

// workbenchRel is the path of a Workbench configuration file under the
// root.
func workbenchRel(name string) string { return filepath.Join(WorkbenchDir, name) }

// workbenchServer reads rserver.conf: every option is checked and kept
// in the settings, and the listen address, data directory, shared storage
// and health check are taken from it.
func workbenchServer(root string, eff *Effective) (*KV, error) {
	rel := workbenchRel("rserver.conf")
	file := "/" + rel
	data, _, err := readOptional(root, rel)
	if err != nil {
		return nil, err
	}
	rs, err := ParseKV(file, data)
	if err != nil {
		return nil, err
	}
	if info, err := fileInfo(root, rel); err == nil {
		eff.Files[file] = info
	}
	if err := checkOptions(file, rs, rserverOptions, installedVersion(root, WorkbenchVersionFile)); err != nil {
		return nil, err
	}
	for _, k := range rs.Keys {
		eff.Settings[k] = rs.Values[k]
	}
	if err := workbenchTLS(root, file, rs, eff); err != nil {
		return nil, err
	}
	eff.DataDir = "/var/lib/rstudio-server"
	if v, ok := rs.Get("server-data-dir"); ok {
		eff.DataDir = v
	}
	eff.Shared, _ = rs.Get("server-shared-storage-path")
	eff.Health = isOne(rs.Values["server-health-check-enabled"])
	return rs, nil
}

// workbenchLoadBalancer reads the load-balancer file and reports whether
// load balancing is on (by that file or by rserver.conf).
func workbenchLoadBalancer(root string, rs *KV, eff *Effective) (bool, error) {
	rel := workbenchRel("load-balancer")
	file := "/" + rel
	lbData, lbFile, err := readOptional(root, rel)
	if err != nil {
		return false, err
	}
	lbEnabled := isOne(rs.Values["load-balancing-enabled"]) || lbFile
	eff.Settings["load-balancing"] = lbEnabled
	if !lbFile {
		return lbEnabled, nil
	}
	ini, err := ParseINI(file, lbData)
	if err != nil {
		return false, err
	}
	if b, ok := ini.Get("config", "balancer"); ok && !slices.Contains(balancers, b) {
		return false, fmt.Errorf("%s: balancer=%s: want one of %s (%s)", file, b, strings.Join(balancers, ", "), docBalancing)
	}
	host, _ := ini.Get("config", "www-host-name")
	eff.Settings["lb-www-host-name"] = host
	info, _ := fileInfo(root, rel)
	eff.Files[file] = info
	return lbEnabled, nil
}

// workbenchCookieKey checks the secure cookie key: not empty, private to
// its owner, and present when load balancing is on. Its hash goes into
// the settings, so that the nodes of a cluster can be compared.
func workbenchCookieKey(root, keyRel string, lbEnabled bool, eff *Effective) error {
	key, keyOK, err := readOptional(root, keyRel)
	if err != nil {
		return err
	}
	if !keyOK {
		if lbEnabled {
			return fmt.Errorf("/%s: load balancing is enabled but the secure cookie key is missing", keyRel)
		}
		return nil
	}
	if strings.TrimSpace(string(key)) == "" {
		return fmt.Errorf("/%s: secure cookie key is empty", keyRel)
	}
	st, err := os.Stat(filepath.Join(root, keyRel))
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("/%s: secure cookie key must not be readable by group or others (mode %04o)", keyRel, st.Mode().Perm())
	}
	sum := sha256.Sum256(key)
	eff.Settings["secure-cookie-key-sha256"] = hex.EncodeToString(sum[:])
	info, _ := fileInfo(root, keyRel)
	eff.Files["/"+keyRel] = info
	return nil
}

// workbenchRepos reads the R repositories from repos.conf (which must
// name CRAN) and rsession.conf's r-cran-repos.
func workbenchRepos(root string, eff *Effective) error {
	rel := workbenchRel("repos.conf")
	file := "/" + rel
	if data, ok, err := readOptional(root, rel); err != nil {
		return err
	} else if ok {
		kv, err := ParseKV(file, data)
		if err != nil {
			return err
		}
		if _, ok := kv.Get("CRAN"); !ok {
			return fmt.Errorf("%s: a CRAN=URL line is required", file)
		}
		for _, k := range kv.Keys {
			if err := checkHTTPURL(file, k, kv.Values[k]); err != nil {
				return err
			}
			eff.Repos = append(eff.Repos, Repo{Kind: "r", Name: k, URL: kv.Values[k], From: file})
		}
		info, _ := fileInfo(root, rel)
		eff.Files[file] = info
	}
	rel = workbenchRel("rsession.conf")
	file = "/" + rel
	data, ok, err := readOptional(root, rel)
	if err != nil || !ok {
		return err
	}
	kv, err := ParseKV(file, data)
	if err != nil {
		return err
	}
	if err := checkOptions(file, kv, rsessionOptions, installedVersion(root, WorkbenchVersionFile)); err != nil {
		return err
	}
	if v, ok := kv.Get("r-cran-repos"); ok {
		eff.Repos = append(eff.Repos, Repo{Kind: "r", Name: "CRAN", URL: v, From: file + " r-cran-repos"})
	}
	return nil
}

func isOne(v string) bool { return v == "1" || v == "true" }

func workbenchDatabase(root, rel string, data []byte, eff *Effective) error {
	file := "/" + rel
	kv, err := ParseKV(file, data)
	if err != nil {
		return err
	}
	info, _ := fileInfo(root, rel)
	eff.Files[file] = info
	st, err := os.Stat(filepath.Join(root, rel))
	if err != nil {
		return err
	}
	if st.Mode().Perm() != 0o600 {
		return fmt.Errorf("%s: must have mode 0600, has %04o", file, st.Mode().Perm())
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && s.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("%s: must be owned by uid %d (root), owned by %d", file, os.Geteuid(), s.Uid)
	}
	for _, k := range kv.Keys {
		switch k {
		case "provider", "host", "port", "database", "username", "password", "connection-uri",
			"connection-timeout-seconds", "pool-size", "directory", "sslmode":
		default:
			return &Error{File: file, Line: kv.Lines[k], Msg: fmt.Sprintf("unknown option %q", k)}
		}
	}
	provider, _ := kv.Get("provider")
	switch provider {
	case "", "sqlite":
		eff.Database = Database{Provider: "sqlite"}
		return nil
	case "postgresql":
	default:
		return &Error{File: file, Line: kv.Lines["provider"], Msg: fmt.Sprintf("provider=%s: want sqlite or postgresql", provider)}
	}
	password, _ := kv.Get("password")
	if uri, ok := kv.Get("connection-uri"); ok {
		dsn, u, err := pgDSN(file, "connection-uri", uri, password)
		if err != nil {
			return err
		}
		eff.Database = dbFromURL(u, dsn, password != "")
		return nil
	}
	host, _ := kv.Get("host")
	db, _ := kv.Get("database")
	user, _ := kv.Get("username")
	port := "5432"
	if v, ok := kv.Get("port"); ok {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
			return &Error{File: file, Line: kv.Lines["port"], Msg: fmt.Sprintf("port=%s: invalid port", v)}
		}
		port = v
	}
	if host == "" || db == "" || user == "" {
		return fmt.Errorf("%s: provider=postgresql needs host, database and username (or connection-uri)", file)
	}
	u := &url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, port), Path: "/" + db, RawQuery: "sslmode=disable"}
	if v, ok := kv.Get("sslmode"); ok {
		u.RawQuery = "sslmode=" + url.QueryEscape(v)
	}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	eff.Database = dbFromURL(u, u.String(), password != "")
	return nil
}

// workbenchTLS sets the listen address from www-address and www-port and,
// with ssl-enabled=1, serves HTTPS there with ssl-certificate and
// ssl-certificate-key, both required (docSecureSockets). Without a
// www-port, Workbench listens on 443 with SSL (docRserverConf, www-port:
// "determined based on your SSL settings") and on 8787 without, as the
// packaged rserver.conf sets it.
func workbenchTLS(root, file string, rs *KV, eff *Effective) error {
	addr := "0.0.0.0"
	if v, ok := rs.Get("www-address"); ok {
		addr = v
	}
	ssl := isOne(rs.Values["ssl-enabled"])
	port := "8787"
	if ssl {
		port = "443"
	}
	if v, ok := rs.Get("www-port"); ok {
		port = v
	}
	listen := net.JoinHostPort(addr, port)
	if !ssl {
		eff.Listen = listen
		return nil
	}
	cert, certOK := rs.Get("ssl-certificate")
	key, keyOK := rs.Get("ssl-certificate-key")
	if !certOK || !keyOK {
		return &Error{File: file, Line: rs.Lines["ssl-enabled"], Msg: "ssl-enabled=1 needs ssl-certificate and ssl-certificate-key (" + docSecureSockets + ")"}
	}
	t := &TLS{Listen: listen, Certificate: cert, Key: key}
	if err := t.check(root); err != nil {
		return &Error{File: file, Line: rs.Lines["ssl-certificate"], Msg: err.Error()}
	}
	eff.TLS = t
	return nil
}
