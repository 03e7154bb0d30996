package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Doc pages the Workbench option tables cite (docs.posit.co).
const (
	docRserverConf   = "https://docs.posit.co/ide/server-pro/admin/reference/rserver_conf.html"
	docRsessionConf  = "https://docs.posit.co/ide/server-pro/reference/rsession_conf.html"
	docSecureSockets = "https://docs.posit.co/ide/server-pro/admin/access_and_security/secure_sockets.html"
	docPythonIndex   = "https://docs.posit.co/ide/server-pro/admin/python/package_installation.html"
	docBalancing     = "https://docs.posit.co/ide/server-pro/load_balancing/balancing_methods.html"
	docAuthTimeout   = "https://docs.posit.co/ide/server-pro/authenticating_users/authorization_timeout.html"
	docHardeningSSL  = "https://docs.posit.co/ide/server-pro/hardening/set_up_ssl.html"
	docPPMNetworking = "https://docs.posit.co/rspm/admin/networking.html"
	docPPMDatabase   = "https://docs.posit.co/rspm/admin/database.html"
	docConnectHTTPS  = "https://docs.posit.co/connect/admin/security/https/"
	docConnectPG     = "https://docs.posit.co/connect/admin/database/postgres/"
)

// option is one documented Workbench option: how its value is checked
// (nil accepts any value), the first release the stand-in accepts it in
// ("" for every release the stand-in ships) and the page that documents
// it.
type option struct {
	check rserverOption
	since string
	doc   string
}

// rserverOptions are the rserver.conf options the stand-in accepts. rserver
// refuses to start on an option it does not know ("unrecognised option"),
// so the stand-in refuses every other key. The list is the part of the
// rserver.conf reference (docRserverConf, one page per release) that the
// roles and tests use; an option missing here that the reference lists is
// added with its page, never accepted silently.
var rserverOptions = map[string]option{
	// "server Settings" and "www Settings" of the reference; www-port
	// defaults to 443 with SSL (server-options.json: "If left empty, the
	// port will be automatically determined based on your SSL settings").
	"server-working-dir":          {nil, "", docRserverConf},
	"server-user":                 {nil, "", docRserverConf},
	"server-daemonize":            {boolOption, "", docRserverConf},
	"server-pid-file":             {absPathOption, "", docRserverConf},
	"server-set-umask":            {boolOption, "", docRserverConf},
	"server-data-dir":             {absPathOption, "", docRserverConf},
	"server-add-header":           {nil, "", docRserverConf},
	"secure-cookie-key-file":      {absPathOption, "", docRserverConf},
	"server-shared-storage-path":  {absPathOption, "", docRserverConf},
	"server-health-check-enabled": {boolOption, "", docRserverConf},
	"server-project-sharing":      {boolOption, "", docRserverConf},
	"www-address":                 {func(v string) error { return ipOption(v) }, "", docRserverConf},
	"www-port":                    {intOption(1, 65535), "", docRserverConf},
	"www-root-path":               {nil, "", docRserverConf},
	"www-frame-origin":            {nil, "", docRserverConf},
	"www-enable-origin-check":     {boolOption, "", docRserverConf},
	"www-thread-pool-size":        {intOption(1, 1<<16), "", docRserverConf},
	"rsession-which-r":            {absPathOption, "", docRserverConf},
	"rsession-config-file":        {nil, "", docRserverConf},
	"database-config-file":        {absPathOption, "", docRserverConf},
	// "auth Settings"; auth-timeout-minutes also in docAuthTimeout.
	"auth-timeout-minutes":      {intOption(0, 1<<30), "", docAuthTimeout},
	"auth-stay-signed-in-days":  {intOption(0, 1<<30), "", docAuthTimeout},
	"auth-required-user-group":  {nil, "", docRserverConf},
	"auth-pam-sessions-enabled": {boolOption, "", docRserverConf},
	"auth-cookies-force-secure": {boolOption, "", docRserverConf},
	"auth-encrypt-password":     {boolOption, "", docRserverConf},
	// Workbench-only sections of the reference: admin, launcher, load
	// balancing, metrics, ssl.
	"admin-enabled":                      {boolOption, "", docRserverConf},
	"admin-group":                        {nil, "", docRserverConf},
	"admin-superuser-group":              {nil, "", docRserverConf},
	"launcher-sessions-enabled":          {boolOption, "", docRserverConf},
	"launcher-address":                   {nil, "", docRserverConf},
	"launcher-port":                      {intOption(1, 65535), "", docRserverConf},
	"launcher-default-cluster":           {nil, "", docRserverConf},
	"launcher-sessions-callback-address": {urlOption, "", docRserverConf},
	"launcher-use-ssl":                   {boolOption, "", docHardeningSSL},
	"load-balancing-enabled":             {boolOption, "", docRserverConf},
	"metrics-enabled":                    {boolOption, "", docRserverConf},
	// Written by Posit's own Helm chart (rstudio-workbench values.yaml,
	// config.server."rserver.conf", appVersion 2026.08.1).
	"audited-jobs":        {boolOption, "", docRserverConf},
	"chronicle-enabled":   {boolOption, "", docRserverConf},
	"ssl-enabled":         {boolOption, "", docSecureSockets},
	"ssl-certificate":     {absPathOption, "", docSecureSockets},
	"ssl-certificate-key": {absPathOption, "", docSecureSockets},
	"ssl-protocols":       {nil, "", docSecureSockets},
	"copilot-enabled":     {boolOption, "", docRserverConf},
	// Documented in the current guide (docPythonIndex: "The default
	// rserver.conf file included with new Workbench installs sets this
	// value"); the release that introduced it was not found in the docs,
	// so the stand-in accepts it only from the newest release whose guide
	// was read (2026.08, the release Posit's Helm charts ship).
	"session-python-index-url": {urlOption, "2026.08.0", docPythonIndex},
}

// rsessionOptions are the rsession.conf options the stand-in accepts
// (docRsessionConf, "session Settings"); rsession refuses others like
// rserver does.
var rsessionOptions = map[string]option{
	"docs-url":                                {urlOption, "", docRsessionConf},
	"session-timeout-minutes":                 {intOption(0, 1<<30), "", docRsessionConf},
	"session-timeout-suspend":                 {boolOption, "", docRsessionConf},
	"session-disconnected-timeout-minutes":    {intOption(0, 1<<30), "", docRsessionConf},
	"session-preflight-script":                {absPathOption, "", docRsessionConf},
	"session-create-public-folder":            {boolOption, "", docRsessionConf},
	"session-connections-block-suspend":       {boolOption, "", docRsessionConf},
	"session-external-pointers-block-suspend": {boolOption, "", docRsessionConf},
	"restrict-directory-view":                 {boolOption, "", docRsessionConf},
	"r-cran-repos":                            {urlOption, "", docRsessionConf},
	"r-libs-user":                             {nil, "", docRsessionConf},
}

// balancers are the values of balancer= in /etc/rstudio/load-balancer
// (docBalancing: "There are four methods available": sessions, the
// default, system-load, user-hash and custom).
var balancers = []string{"sessions", "system-load", "user-hash", "custom"}

// checkOptions refuses a key=value file holding an option not in table,
// an option newer than the installed release, or a bad value, naming the
// file, line and the doc page.
func checkOptions(file string, kv *KV, table map[string]option, installed string) error {
	for _, k := range kv.Keys {
		v := kv.Values[k]
		opt, known := table[k]
		if !known {
			return &Error{File: file, Line: kv.Lines[k], Msg: fmt.Sprintf("unrecognised option %q: not in the %s reference the stand-in follows (%s)", k, filepath.Base(file), tableDoc(table))}
		}
		if opt.since != "" && installed != "" && CompareVersions(installed, opt.since) < 0 {
			return &Error{File: file, Line: kv.Lines[k], Msg: fmt.Sprintf("unrecognised option %q: release %s does not have it (documented from %s: %s)", k, installed, opt.since, opt.doc)}
		}
		if opt.check != nil {
			if err := opt.check(v); err != nil {
				return &Error{File: file, Line: kv.Lines[k], Msg: fmt.Sprintf("%s=%s: %v (%s)", k, v, err, opt.doc)}
			}
		}
	}
	return nil
}

func tableDoc(table map[string]option) string {
	if _, ok := table["www-port"]; ok {
		return docRserverConf
	}
	return docRsessionConf
}

// CompareVersions compares two Posit release versions such as
// "2024.12.1+563.pro5", "2024.11.0-7" or "2026.08.0": the dotted numbers
// before any '+', '-' or '~' are compared number by number.
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	if i := strings.IndexAny(v, "+-~"); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, f := range strings.Split(v, ".") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// installedVersion reads a product's VERSION file under root ("" when
// missing: every option of the table is then accepted).
func installedVersion(root, rel string) string {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// Version files of the stand-in packages, relative to the root.
const (
	WorkbenchVersionFile = "usr/lib/rstudio-server/VERSION"
	PPMVersionFile       = "opt/rstudio-pm/VERSION"
)
