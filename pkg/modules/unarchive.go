package modules

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Unarchive unpacks an archive into a directory on the host.
type Unarchive struct{}

var _ module.Module = (*Unarchive)(nil)

// Spec implements module.Module.
func (Unarchive) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "src", Type: module.String, Expand: true, ExpandIf: "remote_src", Required: true,
			Doc: "The archive: a controller file (role files/, playbook dir), a file on the host with remote_src: yes, or an http(s):// URL (downloaded on the controller)."},
		{Name: "dest", Type: module.Path, Expand: true, Required: true, Doc: "Existing directory on the host to unpack into."},
		{Name: "remote_src", Type: module.Bool, Default: false, Doc: "src is a path on the host (fetched to the controller to be read)."},
		{Name: "creates", Type: module.Path, Expand: true, Doc: "When this path exists on the host, nothing is done."},
		{Name: "list_files", Type: module.Bool, Default: false, Doc: "Return the archive's member names as files."},
		{Name: "exclude", Type: module.List, Elements: module.String, Doc: "Member names or shell patterns (path.Match) not to unpack."},
		{Name: "extra_opts", Type: module.List, Elements: module.String, Doc: "Extra arguments for tar -x on the host (each quoted)."},
		{Name: "keep_newer", Type: module.Bool, Default: false, Doc: "Do not replace files on the host that are newer than the archive's (tar --keep-newer-files)."},
		{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "Check TLS certificates when src is an https URL."},
		{Name: "copy", Type: module.Bool, Doc: "Deprecated Ansible spelling of remote_src: no (copy: no means remote_src: yes)."},
		{Name: "include", Type: module.List, Elements: module.String, Doc: "Unpack only these members: a name, a directory (with everything under it) " +
			"or a shell pattern (path.Match: * does not cross /). Not with exclude. Idempotence and list_files then look at these members only."},
		{Name: "io_buffer_size", Type: module.Int, Default: 65536, Doc: "Accepted for compatibility and ignored: the buffer size of Ansible's " +
			"zip CRC checks on the host, which tend does not run (the controller reads the archive); results are the same."},
		{Name: "decrypt", Type: module.Bool, Default: true, Doc: "Decrypt a vault-encrypted controller src with the run's vault password, " +
			"as Ansible does; false sends the file as it is. Not for remote_src or URLs (never decrypted, as in Ansible)."},
	}
	return &module.Spec{
		Name:  "unarchive",
		Short: "Unpack a tar or zip archive on the host",
		Description: `Unpacks .tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .tar.zst and .zip archives into an
existing directory on the host.

The archive is always read on the controller: a controller file directly, a remote_src
file after fetching it, a URL after downloading it (from the controller, like get_url).
The controller lists its members and turns it into a plain tar stream (a zip is
converted member by member, keeping names, modes, times and symbolic links), which is
piped into tar -x on the host. The host therefore needs only tar: no unzip, gzip or xz,
which minimal hosts often lack. Reading .xz and .zst needs the xz or zstd command on the
controller. Members with absolute names or .. components are refused.

Idempotence as in Ansible: every member is compared with dest (type, size and
modification time; owner, group and mode when given) in one round trip with stat;
the archive is unpacked only when something differs or is missing. creates skips
everything when the path exists. Check mode reports whether it would unpack.
owner, group and mode, when given, are applied to every unpacked member.`,
		Args:              append(args, fileAttrArgs()...),
		MutuallyExclusive: [][]string{{"remote_src", "copy"}, {"include", "exclude"}},
		Check:             module.CheckFull,
		Examples: `- name: Unpack the release shipped with the role
  unarchive:
    src: app-1.4.tar.gz
    dest: /opt/app
    owner: app
    group: app

- name: Unpack a zip already on the host (no unzip needed there)
  ansible.builtin.unarchive:
    src: /tmp/bundle.zip
    dest: /srv/bundle
    remote_src: true
    creates: /srv/bundle/README`,
	}
}

// archiveEntry is one member of an archive.
type archiveEntry struct {
	Name    string // cleaned, relative
	Type    byte   // tar.TypeReg, TypeDir, TypeSymlink, TypeLink...
	Size    int64
	Mtime   int64
	Mode    int64
	Linkto  string
	Handler string
}

// safeMemberName cleans an archive member name, refusing names that
// would land outside dest.
func safeMemberName(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	if n == "" || n == "." {
		return "", nil
	}
	if strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("archive member %q has an absolute name", name)
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("archive member %q escapes dest", name)
	}
	return c, nil
}

// decompressor returns a reader of the plain archive and its handler name.
func openArchive(ctx context.Context, f *os.File) (io.Reader, string, func(), error) {
	br := bufio.NewReader(f)
	magic, _ := br.Peek(6)
	noop := func() {}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", noop, err
		}
		return zr, "TgzArchive", noop, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), "TarBzipArchive", noop, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}), bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		tool, handler := "xz", "TarXzArchive"
		if magic[0] == 0x28 {
			tool, handler = "zstd", "TarZstdArchive"
		}
		if _, err := exec.LookPath(tool); err != nil {
			return nil, "", noop, fmt.Errorf("reading a %s archive needs the %s command on the controller", tool, tool)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, "", noop, err
		}
		cmd := exec.CommandContext(ctx, tool, "-dc")
		cmd.Stdin = f
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, "", noop, err
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			return nil, "", noop, err
		}
		return out, handler, func() { _ = cmd.Wait() }, nil
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")), bytes.HasPrefix(magic, []byte("PK\x05\x06")):
		return nil, "ZipArchive", noop, nil
	}
	return br, "TarArchive", noop, nil
}

// preparedArchive is an archive turned into a plain tar file on the
// controller, with its member list.
type preparedArchive struct {
	TarPath string
	Entries []archiveEntry
	Handler string
}

// prepareArchive reads the archive at local and writes a sanitized plain
// tar of its members, minus excluded ones, to a temporary file.
func prepareArchive(ctx context.Context, local string, exclude, include []string) (*preparedArchive, error) {
	f, err := os.Open(local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, handler, wait, err := openArchive(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", local, err)
	}
	defer wait()
	out, err := os.CreateTemp("", "tend-unarchive-*.tar")
	if err != nil {
		return nil, err
	}
	p := &preparedArchive{TarPath: out.Name(), Handler: handler}
	fail := func(err error) (*preparedArchive, error) {
		out.Close()
		os.Remove(out.Name())
		return nil, fmt.Errorf("reading %s: %w", local, err)
	}
	tw := tar.NewWriter(out)
	add := func(hdr *tar.Header, body io.Reader) error {
		name, err := safeMemberName(hdr.Name)
		if err != nil || name == "" {
			return err
		}
		for _, pat := range exclude {
			if memberMatches(pat, name) {
				return nil
			}
		}
		if len(include) > 0 && !slices.ContainsFunc(include, func(pat string) bool { return memberMatches(pat, name) }) {
			return nil
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
		default:
			return nil // PAX/GNU extension records are rebuilt by the writer
		}
		if hdr.Typeflag == tar.TypeLink {
			if _, err := safeMemberName(hdr.Linkname); err != nil {
				return err
			}
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		hdr.ModTime = hdr.ModTime.Truncate(time.Second)
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		hdr.Format = tar.FormatUnknown
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if body != nil && hdr.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, body); err != nil {
				return err
			}
		}
		p.Entries = append(p.Entries, archiveEntry{Name: name, Type: hdr.Typeflag, Size: hdr.Size, Mtime: hdr.ModTime.Unix(), Mode: hdr.Mode, Linkto: hdr.Linkname})
		return nil
	}
	if handler == "ZipArchive" {
		fi, err := f.Stat()
		if err != nil {
			return fail(err)
		}
		zr, err := zip.NewReader(f, fi.Size())
		if err != nil {
			return fail(err)
		}
		for _, zf := range zr.File {
			if err := addZipMember(zf, add); err != nil {
				return fail(err)
			}
		}
	} else {
		tr := tar.NewReader(rd)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fail(err)
			}
			if err := add(hdr, tr); err != nil {
				return fail(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fail(err)
	}
	return p, nil
}

// addZipMember converts one zip member to a tar header and content.
func addZipMember(zf *zip.File, add func(*tar.Header, io.Reader) error) error {
	mode := zf.Mode()
	hdr := &tar.Header{Name: zf.Name, ModTime: zf.Modified, Mode: int64(mode.Perm())}
	if mode&fs.ModeSetuid != 0 {
		hdr.Mode |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		hdr.Mode |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	switch {
	case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
		hdr.Typeflag = tar.TypeDir
		if hdr.Mode&0o777 == 0 {
			hdr.Mode = 0o755
		}
		return add(hdr, nil)
	case mode&fs.ModeSymlink != 0:
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		target, err := io.ReadAll(io.LimitReader(rc, 4096))
		rc.Close()
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, string(target)
		return add(hdr, nil)
	}
	if hdr.Mode&0o777 == 0 {
		hdr.Mode = 0o644 // zips made on Windows carry no Unix mode
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = int64(zf.UncompressedSize64)
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return add(hdr, rc)
}

// destState is what the host has for one member.
type destState struct {
	Type         string
	Size, Mtime  int64
	UID, GID     int
	Owner, Group string
	Mode         uint32
}

// unarchiveCompareCommand checks dest and creates and, with stat, stats
// every member (names on standard input, NUL-separated) in one round trip.
func unarchiveCompareCommand(dest, creates string, stat bool) string {
	var b strings.Builder
	b.WriteString("d=" + remoteWord(dest) + "; ")
	b.WriteString(`[ -d "$d" ] || { echo NODEST; exit 0; }; `)
	if creates != "" {
		b.WriteString("[ -e " + remoteWord(creates) + " ] && { echo CREATES; exit 0; }; ")
	}
	b.WriteString("echo OK; ")
	if !stat {
		return b.String()
	}
	b.WriteString(`cd "$d" || exit 1; xargs -0 -r stat --printf '%F/%s/%Y/%u/%g/%a/%U/%G/%n\0' -- 2>/dev/null; exit 0`)
	return b.String()
}

// parseDestStats parses the stat records of unarchiveCompareCommand.
func parseDestStats(out []byte) map[string]destState {
	m := map[string]destState{}
	for _, rec := range bytes.Split(out, []byte{0}) {
		f := strings.SplitN(string(rec), "/", 9)
		if len(f) != 9 {
			continue
		}
		var s destState
		s.Type = f[0]
		s.Size, _ = strconv.ParseInt(f[1], 10, 64)
		s.Mtime, _ = strconv.ParseInt(f[2], 10, 64)
		s.UID, _ = strconv.Atoi(f[3])
		s.GID, _ = strconv.Atoi(f[4])
		mode, _ := strconv.ParseUint(f[5], 8, 32)
		s.Mode = uint32(mode)
		s.Owner, s.Group = f[6], f[7]
		m[f[8]] = s
	}
	return m
}

// unarchiveDiffers lists the members that differ from what dest holds.
func unarchiveDiffers(entries []archiveEntry, have map[string]destState, owner, group string, mode Mode, keepNewer bool) ([]string, error) {
	var diff []string
	for _, e := range entries {
		s, ok := have[e.Name]
		why := ""
		switch {
		case !ok:
			why = "missing"
		case e.Type == tar.TypeDir && s.Type != "directory":
			why = "not a directory"
		case e.Type == tar.TypeSymlink && s.Type != "symbolic link":
			why = "not a symbolic link"
		case e.Type == tar.TypeReg && !strings.HasPrefix(s.Type, "regular"):
			why = "not a regular file"
		case e.Type == tar.TypeReg && keepNewer && s.Mtime > e.Mtime:
		case e.Type == tar.TypeReg && s.Size != e.Size:
			why = "size differs"
		case e.Type == tar.TypeReg && s.Mtime != e.Mtime:
			why = "modification time differs"
		}
		if why == "" && e.Type != tar.TypeSymlink {
			if owner != "" && !sameID(owner, s.Owner, s.UID) {
				why = "owner differs"
			} else if group != "" && !sameID(group, s.Group, s.GID) {
				why = "group differs"
			} else if mode.IsSet() {
				want, err := mode.Apply(s.Mode, e.Type == tar.TypeDir, 0o022)
				if err != nil {
					return nil, err
				}
				if want != s.Mode {
					why = "mode differs"
				}
			}
		}
		if why != "" {
			diff = append(diff, e.Name+": "+why)
		}
	}
	return diff, nil
}

// memberMatches reports whether an exclude or include entry names the
// member: the same name, a directory above it, or a path.Match pattern.
func memberMatches(pat, name string) bool {
	ok, _ := path.Match(pat, name)
	dir := strings.TrimSuffix(pat, "/")
	return ok || name == dir || strings.HasPrefix(name, dir+"/")
}

// unarchiveSource makes the archive available as a controller file.
func unarchiveSource(ctx context.Context, h *module.Host, args module.Args) (local string, cleanup func(), err error) {
	src := args.String("src")
	remote := args.Bool("remote_src") || (args.Has("copy") && !args.Bool("copy"))
	switch {
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		d, err := httpFetch{URL: src, Timeout: 10 * time.Minute, Insecure: !args.Bool("validate_certs"), Agent: "tend-unarchive"}.fetch(ctx, "")
		if err != nil {
			return "", nil, fmt.Errorf("downloading %s: %w", src, err)
		}
		return d.Path, func() { os.Remove(d.Path) }, nil
	case remote:
		tmp, err := os.CreateTemp("", "tend-unarchive-src-*")
		if err != nil {
			return "", nil, err
		}
		cleanup := func() { os.Remove(tmp.Name()) }
		err = h.Conn.Get(ctx, src, tmp, connection.GetOptions{Become: h.Become})
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("fetching %s from the host: %w", src, err)
		}
		return tmp.Name(), cleanup, nil
	}
	if h.Files != nil {
		p, err := h.Files.Find("files", src)
		if err != nil {
			return "", nil, fmt.Errorf("could not find src %s: %w", src, err)
		}
		src = p
	}
	return plainControllerFile(h, src, !args.Has("decrypt") || args.Bool("decrypt"))
}

// Plan implements module.Module: dest and creates are checked, the
// archive is read on the controller and compared with dest member by
// member (unarchiveDiffers); unarchiveApply extracts it.
func (Unarchive) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	dest, src := args.String("dest"), args.String("src")
	owner, group := args.String("owner"), args.String("group")
	mode, err := parseMode(args["mode"])
	if err != nil {
		return module.Unchanged(module.Failed("mode: %v", err)), nil
	}
	base := module.Result{"dest": dest, "src": src}
	creates := args.String("creates")
	// A remote or downloaded archive is fetched only after dest and
	// creates are checked; a controller file is read first and everything
	// is checked in one round trip.
	remote := args.Bool("remote_src") || (args.Has("copy") && !args.Bool("copy")) ||
		strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
	if remote {
		pre, err := h.Run(ctx, unarchiveCompareCommand(dest, creates, false))
		if err != nil {
			return nil, fmt.Errorf("unarchive on %s: %w", h.Name, err)
		}
		if p := unarchiveStop(pre.Stdout, base, dest, creates); p != nil {
			return p, nil
		}
	}
	a := &unarchiveApply{h: h, args: args, dest: dest, src: src, owner: owner, group: group, mode: mode, base: base}
	arch, err := a.prepare(ctx)
	if err != nil {
		return module.Unchanged(failWith(base, "%v", err)), nil
	}
	os.Remove(arch.TarPath) // Apply prepares again: nothing lingers on the controller
	names := make([]string, len(arch.Entries))
	for i, e := range arch.Entries {
		names[i] = e.Name
	}
	base["handler"] = arch.Handler
	if args.Bool("list_files") {
		base["files"] = names
	}
	cmp, err := h.RunWith(ctx, connection.Command{Cmd: unarchiveCompareCommand(dest, creates, true), Stdin: strings.NewReader(strings.Join(names, "\x00"))})
	if err != nil {
		return nil, fmt.Errorf("unarchive on %s: %w", h.Name, err)
	}
	if p := unarchiveStop(cmp.Stdout, base, dest, creates); p != nil {
		return p, nil
	}
	_, stats, _ := bytes.Cut(cmp.Stdout, []byte("\n"))
	diff, err := unarchiveDiffers(arch.Entries, parseDestStats(stats), owner, group, mode, args.Bool("keep_newer"))
	if err != nil {
		return module.Unchanged(failWith(base, "%v", err)), nil
	}
	if len(diff) == 0 {
		return module.Unchanged(base), nil
	}
	return &module.Plan{
		Changed: true,
		Result:  base,
		Diff:    []module.Diff{{BeforeHeader: dest, AfterHeader: dest, Before: "", After: unarchiveDiffText(diff)}},
		Apply:   a.apply,
	}, nil
}

// unarchiveStop reads the first line of the compare command's output:
// the plan when dest is missing or creates exists, else nil.
func unarchiveStop(out []byte, base module.Result, dest, creates string) *module.Plan {
	switch first, _, _ := bytes.Cut(out, []byte("\n")); string(first) {
	case "NODEST":
		return module.Unchanged(failWith(base, "dest '%s' must be an existing dir", dest))
	case "CREATES":
		base["msg"] = "skipped, since " + creates + " exists"
		return module.Unchanged(base)
	}
	return nil
}

// unarchiveDiffText lists the members that differ, sorted, at most 50.
func unarchiveDiffText(diff []string) string {
	sort.Strings(diff)
	shown := diff
	if len(shown) > 50 {
		shown = append(shown[:50:50], fmt.Sprintf("... and %d more", len(diff)-50))
	}
	return strings.Join(shown, "\n") + "\n"
}

// unarchiveTarCommand extracts the staged archive into dest.
func unarchiveTarCommand(staged, dest string, keepNewer bool, extraOpts []string) string {
	cmd := "tar -x -f " + shell.Quote(staged) + " -C " + remoteWord(dest)
	if keepNewer {
		cmd += " --keep-newer-files"
	}
	for _, o := range extraOpts {
		cmd += " " + shell.Quote(o)
	}
	return cmd
}

// unarchiveApply extracts the archive into dest and sets the members'
// attributes.
type unarchiveApply struct {
	h            *module.Host
	args         module.Args
	dest, src    string
	owner, group string
	mode         Mode
	base         module.Result
}

// prepare makes the archive a local tar file with its member list.
func (a *unarchiveApply) prepare(ctx context.Context) (*preparedArchive, error) {
	local, cleanup, err := unarchiveSource(ctx, a.h, a.args)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return prepareArchive(ctx, local, a.args.List("exclude"), a.args.List("include"))
}

func (a *unarchiveApply) apply(ctx context.Context) (module.Result, error) {
	h, dest := a.h, a.dest
	r := module.Result{}
	for k, v := range a.base {
		r[k] = v
	}
	arch, err := a.prepare(ctx)
	if err != nil {
		return failWith(r, "%v", err), nil
	}
	defer os.Remove(arch.TarPath)
	// The archive reaches the host as a checked file first: tar
	// reading a stream cut short by a dropped connection would
	// leave its last member half written in dest.
	f, err := os.Open(arch.TarPath)
	if err != nil {
		return nil, fmt.Errorf("unarchive: %w", err)
	}
	defer f.Close()
	dir, err := resolveRemote(ctx, h, dest)
	if err != nil {
		return nil, err
	}
	staged := path.Join(dir, connection.TempName(""))
	if err := h.Conn.Put(ctx, f, staged, connection.PutOptions{Mode: 0o600, Become: h.Become}); err != nil {
		return nil, fmt.Errorf("unarchive on %s: upload the archive: %w", h.Name, err)
	}
	cmd := unarchiveTarCommand(staged, dest, a.args.Bool("keep_newer"), a.args.List("extra_opts"))
	res, err := h.RunWith(ctx, connection.Command{Cmd: cmd + "; rc=$?; rm -f -- " + shell.Quote(staged) + "; exit $rc"})
	if err != nil {
		return nil, fmt.Errorf("unarchive on %s: %w", h.Name, err)
	}
	r["extract_results"] = map[string]any{"cmd": cmd, "rc": res.ExitCode,
		"out": string(res.Stdout), "err": string(res.Stderr)}
	if res.ExitCode != 0 {
		return failWith(r, "failed to unpack %s into %s: %s", a.src, dest, strings.TrimSpace(string(res.Stderr))), nil
	}
	attr := unarchiveAttrCommand(dest, a.owner, a.group, a.mode)
	if attr == "" {
		return r, nil
	}
	list := make([]string, 0, len(arch.Entries))
	for _, e := range arch.Entries {
		if e.Type != tar.TypeSymlink {
			list = append(list, e.Name)
		}
	}
	res, err = h.RunWith(ctx, connection.Command{Cmd: attr, Stdin: strings.NewReader(strings.Join(list, "\x00"))})
	if err != nil {
		return nil, fmt.Errorf("unarchive on %s: %w", h.Name, err)
	}
	if res.ExitCode != 0 {
		return failWith(r, "setting owner/group/mode in %s: %s", dest, strings.TrimSpace(string(res.Stderr))), nil
	}
	return r, nil
}

// unarchiveAttrCommand applies owner, group and mode to the members named
// on standard input (NUL-separated), relative to dest.
func unarchiveAttrCommand(dest, owner, group string, mode Mode) string {
	var parts []string
	if owner != "" || group != "" {
		og := owner
		if group != "" {
			og += ":" + group
		}
		parts = append(parts, "xargs -0 -r chown -h -- "+shell.Quote(og)+" < \"$t\"")
	}
	if mode.IsSet() {
		m := mode.String()
		if !mode.IsSymbolic() {
			v, _ := mode.Apply(0, false, 0)
			m = fmt.Sprintf("%04o", v)
		}
		parts = append(parts, "xargs -0 -r chmod -- "+shell.Quote(m)+" < \"$t\"")
	}
	if len(parts) == 0 {
		return ""
	}
	return "cd " + remoteWord(dest) + " || exit 1; t=$(mktemp) || exit 1; trap 'rm -f \"$t\"' EXIT; cat > \"$t\" && " + strings.Join(parts, " && ")
}

// resolveRemote returns p with a leading "~" replaced by the home directory
// of the user the task runs as, which only the host knows.
func resolveRemote(ctx context.Context, h *module.Host, p string) (string, error) {
	if !strings.HasPrefix(p, "~") {
		return p, nil
	}
	res, err := h.Run(ctx, "printf '%s' "+remoteWord(p))
	if err != nil {
		return "", fmt.Errorf("resolve %s on %s: %w", p, h.Name, err)
	}
	if res.ExitCode != 0 || len(res.Stdout) == 0 {
		return "", fmt.Errorf("resolve %s on %s: %s", p, h.Name, strings.TrimSpace(string(res.Stderr)))
	}
	return string(res.Stdout), nil
}
