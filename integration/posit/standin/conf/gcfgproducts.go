package conf

import (
	"fmt"
	"path"
	"strings"
)

// Known sections; others are accepted with a warning, as the stand-in
// models only part of each product.
var (
	connectSections = words("Server HTTP HTTPS HTTPRedirect Database Postgres SQLite Authentication Password LDAP OAuth2 SAML PAM Proxy Authorization Applications Python Quarto TensorFlow R RPackageRepository Metrics Licensing Launcher Logging Mail SMTP Scheduler Branding Bootstrap Jupyter Git")
	ppmSections     = words("Server HTTP HTTPS Database Postgres SQLite Storage S3Storage FileStorage Repos CRAN PyPI Bioconductor Git Licensing Logging Metrics Debug Authentication OpenIDConnect CVE Sync")
	// boolKeys are "Section.Key" booleans checked in both products.
	boolKeys = words("Metrics.Enabled Python.Enabled Quarto.Enabled TensorFlow.Enabled R.Enabled Server.EnableSitemap HTTPS.Permanent Launcher.Enabled Bootstrap.Enabled Server.ProxyHeaderLogging CRAN.Enabled PyPI.Enabled Metrics.Graphite")
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[strings.ToLower(w)] = true
	}
	return m
}

// gcfgCommon checks what Connect and Package Manager share: sections,
// [HTTP] Listen, [Server] DataDir/Address, booleans, and the database.
func gcfgCommon(root, file string, g *Gcfg, known map[string]bool, eff *Effective, defListen, defData string, extraDB []extraDB) error {
	if err := gcfgSettings(file, g, known, eff); err != nil {
		return err
	}
	if err := gcfgServer(file, g, eff, defListen, defData); err != nil {
		return err
	}
	if err := gcfgHTTPS(root, file, g, eff); err != nil {
		return err
	}
	if eff.Listen == "" && eff.TLS == nil {
		return fmt.Errorf("%s: [HTTP] Listen is empty and [HTTPS] is not configured: nothing to listen on", file)
	}
	return gcfgDatabase(file, g, eff, extraDB)
}

// extraDB is a further database a product keeps beside its main one: the
// gcfg key of its URL and of its password. Without a password key of its
// own, or (fallback) when that key is unset, [Postgres] Password applies.
type extraDB struct {
	url, password string
	fallback      bool
}

// gcfgHTTPS reads [HTTPS] Listen, Certificate and Key, the same keys in
// Package Manager (docPPMNetworking: "[HTTPS] Listen = :443, Certificate
// = ..., Key = ...", HTTPS on 443 by default, "Listen =" empty turns a
// protocol off; keys without passphrase) and Connect (docConnectHTTPS).
// HTTPS is on when Certificate and Key are set; Listen alone, or one of
// Certificate and Key alone, is an error, as the products refuse it.
func gcfgHTTPS(root, file string, g *Gcfg, eff *Effective) error {
	listen, hasListen := g.Get("HTTPS", "", "Listen")
	cert, _ := g.Get("HTTPS", "", "Certificate")
	key, _ := g.Get("HTTPS", "", "Key")
	line := g.Line("HTTPS", "", "Listen")
	if cert == "" && key == "" {
		if hasListen && listen != "" {
			return &Error{File: file, Line: line, Msg: "[HTTPS] Listen needs Certificate and Key (" + docPPMNetworking + ")"}
		}
		return nil
	}
	if cert == "" || key == "" {
		return &Error{File: file, Line: g.Line("HTTPS", "", "Certificate") + g.Line("HTTPS", "", "Key"), Msg: "[HTTPS] needs both Certificate and Key (" + docPPMNetworking + ")"}
	}
	if hasListen && listen == "" {
		return nil // HTTPS turned off
	}
	if !hasListen {
		listen = ":443"
	}
	if err := checkListen("", "[HTTPS] Listen", listen); err != nil {
		return &Error{File: file, Line: line, Msg: err.Error()}
	}
	for _, p := range []string{cert, key} {
		if !path.IsAbs(p) {
			return &Error{File: file, Line: g.Line("HTTPS", "", "Certificate"), Msg: fmt.Sprintf("[HTTPS] %q: want an absolute path", p)}
		}
	}
	t := &TLS{Listen: listen, Certificate: cert, Key: key}
	if err := t.check(root); err != nil {
		return &Error{File: file, Line: g.Line("HTTPS", "", "Certificate"), Msg: err.Error()}
	}
	eff.TLS = t
	return nil
}

// gcfgSettings records every setting (secrets as "(set)", repeated keys
// as lists), warns about unknown sections and checks the known booleans.
func gcfgSettings(file string, g *Gcfg, known map[string]bool, eff *Effective) error {
	for _, s := range g.Sections {
		if !known[strings.ToLower(s.Name)] {
			eff.Warnings = append(eff.Warnings, fmt.Sprintf("%s: section [%s] unknown to the stand-in", file, s.Name))
		}
		for _, v := range s.Vars {
			if boolKeys[strings.ToLower(s.Name+"."+v.Name)] && !v.Blank {
				if _, err := ParseBool(v.Value); err != nil {
					return &Error{File: file, Line: v.Line, Msg: fmt.Sprintf("[%s] %s: %v", s.Name, v.Name, err)}
				}
			}
			key := s.Name
			if s.HasSub {
				key += ` "` + s.Sub + `"`
			}
			key += "." + v.Name
			if strings.EqualFold(v.Name, "Password") || strings.Contains(strings.ToLower(v.Name), "secret") || strings.EqualFold(v.Name, "key") {
				eff.Settings[key] = "(set)"
				continue
			}
			val := v.Value
			if v.Blank {
				val = "true"
			}
			switch prev := eff.Settings[key].(type) {
			case nil:
				eff.Settings[key] = val
			case string:
				eff.Settings[key] = []string{prev, val}
			case []string:
				eff.Settings[key] = append(prev, val)
			}
		}
	}
	return nil
}

// gcfgServer reads [HTTP] Listen and [Server] DataDir and Address.
func gcfgServer(file string, g *Gcfg, eff *Effective, defListen, defData string) error {
	eff.Listen = defListen
	if v, ok := g.Get("HTTP", "", "Listen"); ok && v == "" {
		eff.Listen = "" // HTTP turned off (docPPMNetworking)
	} else if ok {
		if err := checkListen("", "[HTTP] Listen", v); err != nil {
			return &Error{File: file, Line: g.Line("HTTP", "", "Listen"), Msg: err.Error()}
		}
		eff.Listen = v
	}
	eff.DataDir = defData
	if v, ok := g.Get("Server", "", "DataDir"); ok {
		if !path.IsAbs(v) {
			return &Error{File: file, Line: g.Line("Server", "", "DataDir"), Msg: fmt.Sprintf("[Server] DataDir = %q: want an absolute path", v)}
		}
		eff.DataDir = v
	}
	if v, ok := g.Get("Server", "", "Address"); ok && v != "" {
		if err := checkHTTPURL("", "[Server] Address", v); err != nil {
			return &Error{File: file, Line: g.Line("Server", "", "Address"), Msg: err.Error()}
		}
		eff.Address = v
	}
	return nil
}

// gcfgDatabase reads [Database] Provider and, for postgres, the
// [Postgres] URL and the product's extra database URLs (extraDB).
func gcfgDatabase(file string, g *Gcfg, eff *Effective, extra []extraDB) error {
	provider, _ := g.Get("Database", "", "Provider")
	switch strings.ToLower(provider) {
	case "", "sqlite":
		eff.Database = Database{Provider: "sqlite"}
		return nil
	case "postgres", "postgresql":
	default:
		return &Error{File: file, Line: g.Line("Database", "", "Provider"), Msg: fmt.Sprintf("[Database] Provider = %q: want sqlite or postgres", provider)}
	}
	raw, ok := g.Get("Postgres", "", "URL")
	if !ok || raw == "" {
		return fmt.Errorf("%s: [Database] Provider = postgres needs [Postgres] URL", file)
	}
	password, _ := g.Get("Postgres", "", "Password")
	dsn, u, err := pgDSN("", "[Postgres] URL", raw, password)
	if err != nil {
		return &Error{File: file, Line: g.Line("Postgres", "", "URL"), Msg: err.Error()}
	}
	eff.Database = dbFromURL(u, dsn, password != "")
	for _, x := range extra {
		k := x.url
		raw, ok := g.Get("Postgres", "", k)
		if !ok || raw == "" {
			continue
		}
		pw, ok := g.Get("Postgres", "", x.password)
		if !ok && x.fallback {
			pw = password
		}
		dsn, u, err := pgDSN("", "[Postgres] "+k, raw, pw)
		if err != nil {
			return &Error{File: file, Line: g.Line("Postgres", "", k), Msg: err.Error()}
		}
		if eff.Database.Extra == nil {
			eff.Database.Extra, eff.Database.ExtraNames = map[string]string{}, map[string]string{}
		}
		eff.Database.Extra[k] = dsn
		eff.Database.ExtraNames[k] = strings.Trim(u.Path, "/")
	}
	return nil
}

func loadGcfg(root, rel string) (*Gcfg, string, error) {
	file := "/" + rel
	data, ok, err := readOptional(root, rel)
	if err != nil {
		return nil, file, err
	}
	if !ok {
		return nil, file, fmt.Errorf("%s: configuration file missing", file)
	}
	g, err := ParseGcfg(file, data)
	return g, file, err
}

// LoadConnect reads /etc/rstudio-connect/rstudio-connect.gcfg and
// /etc/pip.conf under root.
func LoadConnect(root string) (*Effective, error) {
	eff := &Effective{Product: "connect", Files: map[string]string{}, Settings: map[string]any{}}
	g, file, err := loadGcfg(root, ConnectConfig)
	if err != nil {
		return nil, err
	}
	info, _ := fileInfo(root, ConnectConfig)
	eff.Files[file] = info
	if err := gcfgCommon(root, file, g, connectSections, eff, ":3939", "/var/lib/rstudio-connect", nil); err != nil {
		return nil, err
	}
	// Connect's PostgreSQL page (docConnectPG) documents [Postgres] URL
	// and Password only: no separate instrumentation database is read.
	if _, ok := g.Get("Postgres", "", "InstrumentationURL"); ok {
		eff.Warnings = append(eff.Warnings, fmt.Sprintf("%s:%d: [Postgres] InstrumentationURL is not a documented Connect setting (%s); ignored", file, g.Line("Postgres", "", "InstrumentationURL"), docConnectPG))
	}
	eff.Health = true
	eff.Metrics = path.Join(eff.DataDir, "metrics")
	if v, ok := g.Get("Metrics", "", "DataPath"); ok {
		if !path.IsAbs(v) {
			return nil, &Error{File: file, Line: g.Line("Metrics", "", "DataPath"), Msg: "[Metrics] DataPath: want an absolute path"}
		}
		eff.Metrics = v
	}
	for _, sub := range g.Subsections("RPackageRepository") {
		u, ok := g.Get("RPackageRepository", sub, "URL")
		if !ok {
			return nil, fmt.Errorf("%s: [RPackageRepository %q] needs URL", file, sub)
		}
		if err := checkHTTPURL("", fmt.Sprintf("[RPackageRepository %q] URL", sub), u); err != nil {
			return nil, &Error{File: file, Line: g.Line("RPackageRepository", sub, "URL"), Msg: err.Error()}
		}
		eff.Repos = append(eff.Repos, Repo{Kind: "r", Name: sub, URL: u, From: fmt.Sprintf("%s [RPackageRepository %q] URL", file, sub)})
	}
	if err := pipRepos(root, eff); err != nil {
		return nil, err
	}
	return eff, nil
}

// LoadPackageManager reads /etc/rstudio-pm/rstudio-pm.gcfg under root.
func LoadPackageManager(root string) (*Effective, error) {
	eff := &Effective{Product: "package_manager", Files: map[string]string{}, Settings: map[string]any{}}
	g, file, err := loadGcfg(root, PPMConfig)
	if err != nil {
		return nil, err
	}
	info, _ := fileInfo(root, PPMConfig)
	eff.Files[file] = info
	// The usage database (docPPMDatabase: [Postgres] UsageDataURL) has
	// its own password, [Postgres] UsageDataPassword; releases before
	// 2024.08.2 used [Postgres] Password when it was unset, later ones do
	// not (issue 12's reading of the Package Manager release notes).
	usage := extraDB{url: "UsageDataURL", password: "UsageDataPassword"}
	if v := installedVersion(root, PPMVersionFile); v != "" && CompareVersions(v, "2024.08.2") < 0 {
		usage.fallback = true
	}
	if err := gcfgCommon(root, file, g, ppmSections, eff, ":4242", "/var/lib/rstudio-pm", []extraDB{usage}); err != nil {
		return nil, err
	}
	eff.Health = true
	if v, ok := g.Get("Storage", "", "Default"); ok {
		switch strings.ToLower(v) {
		case "file":
		case "s3":
			if b, _ := g.Get("S3Storage", "", "Bucket"); b == "" {
				return nil, fmt.Errorf("%s: [Storage] Default = s3 needs [S3Storage] Bucket", file)
			}
		default:
			return nil, &Error{File: file, Line: g.Line("Storage", "", "Default"), Msg: fmt.Sprintf("[Storage] Default = %q: want file or s3", v)}
		}
	}
	return eff, nil
}
