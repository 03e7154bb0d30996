// Package deb writes Debian binary packages (.deb) without dpkg-deb: an ar
// archive of debian-binary, control.tar.gz and data.tar.gz, the format
// dpkg reads (deb(5)).
package deb
