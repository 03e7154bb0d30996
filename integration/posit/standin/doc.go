// Package standin implements stand-ins for Posit Workbench, Posit Connect
// and Posit Package Manager, for integration tests of the roles that deploy
// them: one multi-call program (chosen by the name it is run as, like
// busybox) that behaves like each product at its interfaces, and the code
// that packages it as .deb files with the real package names, paths,
// systemd units and maintainer scripts.
//
// Each daemon reads its real configuration files (see package conf),
// refuses to start on an invalid one (as strict as Posit's docs say the
// product is: unknown rserver.conf/rsession.conf options, undocumented
// balancer= values; each rule cites its doc page in conf/options.go),
// serves HTTPS when the product's TLS settings are given, connects to its configured
// PostgreSQL database and records a heartbeat there, checks its data and
// shared directories are writable, serves its health endpoint on its real
// port, and reports its effective configuration at /__tend__/config.
// Package Manager serves a CRAN-like and a PyPI simple (PEP 503) index
// for the repositories created with its rspm CLI (kept in its database,
// so every node of a cluster serves the same repositories): a few
// placeholder entries, plus the real wheels and R source tarballs put in
// PackagesDir (DATADIR/tend-packages/{python,r}), which pip and R install.
package standin
