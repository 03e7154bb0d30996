package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// File is one entry of the package's data: a regular file, a directory
// (Dir) or a symbolic link (Link). Paths are absolute.
type File struct {
	Path  string
	Data  []byte
	Mode  int64 // permission bits; default 0644 (files), 0755 (dirs)
	Dir   bool
	Link  string
	Owner string // user name; default root
	Group string // group name; default root
	// Conffile marks a file under /etc as a configuration file dpkg keeps
	// when the administrator changed it.
	Conffile bool
}

// Package describes a binary package.
type Package struct {
	Name         string
	Version      string
	Architecture string // default amd64
	Maintainer   string
	Description  string // first line is the synopsis
	Depends      string
	// Scripts holds maintainer scripts by name (preinst, postinst, prerm,
	// postrm), made executable.
	Scripts map[string]string
	Files   []File
	// ModTime stamps every entry, so builds are reproducible; default
	// 2024-01-01.
	ModTime time.Time
}

// Build returns the .deb bytes.
func (p *Package) Build() ([]byte, error) {
	if p.Name == "" || p.Version == "" {
		return nil, fmt.Errorf("deb: package needs a name and a version")
	}
	mt := p.ModTime
	if mt.IsZero() {
		mt = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	files, err := p.withParents()
	if err != nil {
		return nil, err
	}
	data, size, sums, err := tarGz(files, mt)
	if err != nil {
		return nil, fmt.Errorf("deb %s: data: %w", p.Name, err)
	}
	control, _, _, err := tarGz(p.controlFiles(files, size, sums), mt)
	if err != nil {
		return nil, fmt.Errorf("deb %s: control: %w", p.Name, err)
	}
	var out bytes.Buffer
	out.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", control}, {"data.tar.gz", data}} {
		arMember(&out, m.name, m.data, mt)
	}
	return out.Bytes(), nil
}

// FileName returns the conventional NAME_VERSION_ARCH.deb name.
func (p *Package) FileName() string {
	arch := p.Architecture
	if arch == "" {
		arch = "amd64"
	}
	return fmt.Sprintf("%s_%s_%s.deb", p.Name, p.Version, arch)
}

func arMember(w *bytes.Buffer, name string, data []byte, mt time.Time) {
	fmt.Fprintf(w, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, mt.Unix(), 0, 0, "100644", len(data))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte('\n')
	}
}

// withParents adds the parent directories every path needs, sorted so
// directories precede their contents.
func (p *Package) withParents() ([]File, error) {
	byPath := map[string]File{}
	for _, f := range p.Files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, fmt.Errorf("deb %s: invalid path %q: want a clean absolute path", p.Name, f.Path)
		}
		if _, dup := byPath[f.Path]; dup {
			return nil, fmt.Errorf("deb %s: %s listed twice", p.Name, f.Path)
		}
		byPath[f.Path] = f
		for d := path.Dir(f.Path); d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Dir: true}
			}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func tarGz(files []File, mt time.Time) (data []byte, sizeKiB int64, sums []string, err error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	var total int64
	for _, f := range files {
		h := &tar.Header{Name: "." + f.Path, ModTime: mt, Uname: orDefault(f.Owner, "root"), Gname: orDefault(f.Group, "root"), Format: tar.FormatGNU}
		switch {
		case f.Dir:
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", orMode(f.Mode, 0o755)
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Link, 0o777
		default:
			h.Typeflag, h.Size, h.Mode = tar.TypeReg, int64(len(f.Data)), orMode(f.Mode, 0o644)
			sum := md5.Sum(f.Data)
			sums = append(sums, hex.EncodeToString(sum[:])+"  "+strings.TrimPrefix(f.Path, "/"))
			total += int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, bytes.NewReader(f.Data)); err != nil {
				return nil, 0, nil, fmt.Errorf("%s: %w", f.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, 0, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, nil, err
	}
	return buf.Bytes(), (total + 1023) / 1024, sums, nil
}

func (p *Package) controlFiles(files []File, sizeKiB int64, sums []string) []File {
	arch := orDefault(p.Architecture, "amd64")
	var c strings.Builder
	fmt.Fprintf(&c, "Package: %s\nVersion: %s\nArchitecture: %s\n", p.Name, p.Version, arch)
	fmt.Fprintf(&c, "Maintainer: %s\n", orDefault(p.Maintainer, "tend stand-in <tend@example.invalid>"))
	fmt.Fprintf(&c, "Installed-Size: %d\n", sizeKiB)
	if p.Depends != "" {
		fmt.Fprintf(&c, "Depends: %s\n", p.Depends)
	}
	c.WriteString("Section: misc\nPriority: optional\n")
	desc := orDefault(p.Description, p.Name)
	first, rest, _ := strings.Cut(desc, "\n")
	fmt.Fprintf(&c, "Description: %s\n", first)
	for _, l := range strings.Split(strings.TrimSpace(rest), "\n") {
		if l = strings.TrimSpace(l); l == "" && rest != "" {
			c.WriteString(" .\n")
		} else if l != "" {
			c.WriteString(" " + l + "\n")
		}
	}
	out := []File{{Path: "/control", Data: []byte(c.String())}}
	var conf []string
	for _, f := range files {
		if f.Conffile && !f.Dir && f.Link == "" {
			conf = append(conf, f.Path)
		}
	}
	if len(conf) > 0 {
		out = append(out, File{Path: "/conffiles", Data: []byte(strings.Join(conf, "\n") + "\n")})
	}
	out = append(out, File{Path: "/md5sums", Data: []byte(strings.Join(sums, "\n") + "\n")})
	names := make([]string, 0, len(p.Scripts))
	for n := range p.Scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, File{Path: "/" + n, Data: []byte(p.Scripts[n]), Mode: 0o755})
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orMode(m, def int64) int64 {
	if m == 0 {
		return def
	}
	return m
}
