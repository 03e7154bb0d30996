// Package standin implements stand-ins for Posit Workbench, Posit Connect
// and Posit Package Manager, for integration tests of the roles that deploy
// them: one multi-call program (chosen by the name it is run as, like
// busybox) that behaves like each product at its interfaces, and the code
// that packages it as .deb files with the real package names, paths,
// systemd units and maintainer scripts.
//
// Each daemon reads its real configuration files (see package conf),
// refuses to start on an invalid one, connects to its configured
// PostgreSQL database and records a heartbeat there, checks its data and
// shared directories are writable, serves its health endpoint on its real
// port, and reports its effective configuration at /__tend__/config.
// Package Manager serves a tiny CRAN-like and PyPI-simple index for the
// repositories created with its rspm CLI; they are kept in its database,
// so every node of a cluster serves the same repositories.
package standin
