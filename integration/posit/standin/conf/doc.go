// Package conf parses the configuration formats of the Posit products as
// the stand-ins read them: gcfg (Connect's rstudio-connect.gcfg, Package
// Manager's rstudio-pm.gcfg: git-config-like sections, quoted subsections,
// repeated keys), Workbench's key=value files (rserver.conf,
// database.conf, repos.conf, rsession.conf) and INI files
// (load-balancer, pip.conf).
//
// Parsers are strict about syntax, the way the products are: a malformed
// line is an error naming the file and line, so a stand-in refuses to start
// on it.
package conf
