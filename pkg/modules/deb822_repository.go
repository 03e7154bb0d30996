package modules

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// Deb822Repository manages an APT source in deb822 format
// (/etc/apt/sources.list.d/NAME.sources) and its signing key.
type Deb822Repository struct{}

var _ module.Module = (*Deb822Repository)(nil)

// deb822Fields are the module's deb822 arguments, in the sorted order
// Ansible writes them, with their field names.
var deb822Fields = []struct{ arg, field string }{
	{"allow_downgrade_to_insecure", "Allow-Downgrade-To-Insecure"},
	{"allow_insecure", "Allow-Insecure"},
	{"allow_weak", "Allow-Weak"},
	{"architectures", "Architectures"},
	{"by_hash", "By-Hash"},
	{"check_date", "Check-Date"},
	{"check_valid_until", "Check-Valid-Until"},
	{"components", "Components"},
	{"date_max_future", "Date-Max-Future"},
	{"enabled", "Enabled"},
	{"inrelease_path", "Inrelease-Path"},
	{"languages", "Languages"},
	{"name", "X-Repolib-Name"},
	{"pdiffs", "Pdiffs"},
	{"signed_by", "Signed-By"},
	{"suites", "Suites"},
	{"targets", "Targets"},
	{"trusted", "Trusted"},
	{"types", "Types"},
	{"uris", "URIs"},
}

// Spec implements module.Module.
func (Deb822Repository) Spec() *module.Spec {
	b := func(n, doc string) module.Arg { return module.Arg{Name: n, Type: module.Bool, Doc: doc} }
	l := func(n, doc string) module.Arg {
		return module.Arg{Name: n, Type: module.List, Elements: module.String, Doc: doc}
	}
	return &module.Spec{
		Name:  "deb822_repository",
		Short: "Manage deb822 APT sources and their keys",
		Description: "Writes /etc/apt/sources.list.d/SLUG.sources (SLUG is the lower-cased name with " +
			"spaces and underscores turned into dashes) with the given fields, in the order and format " +
			"Ansible writes them. `signed_by` may be a path on the host (used as is), a URL (fetched by " +
			"the controller and written to /etc/apt/keyrings/SLUG.asc, or .gpg for a binary key) or the " +
			"armored key itself (written to /etc/apt/keyrings/SLUG.asc; Ansible would inline it). " +
			"state=absent removes the sources file and the SLUG key files. The package lists are not " +
			"refreshed: follow with `apt: update_cache: true`.",
		Args: []module.Arg{
			{Name: "name", Required: true, Type: module.String, Doc: "Repository name (X-Repolib-Name); also gives the file name."},
			{Name: "types", Type: module.List, Elements: module.String, Default: []any{"deb"}, Doc: "`deb` and/or `deb-src`."},
			l("uris", "Repository URIs."),
			l("suites", "Suites (e.g. `bookworm`, or an exact path ending in `/`)."),
			l("components", "Components (e.g. `main`)."),
			{Name: "signed_by", Type: module.String, Doc: "Key: host path, URL or armored key content."},
			l("architectures", "Architectures to fetch."),
			l("languages", "Languages to fetch."),
			l("targets", "Download targets."),
			b("enabled", "Writes `Enabled: yes|no`."),
			b("allow_downgrade_to_insecure", "Allow-Downgrade-To-Insecure field."),
			b("allow_insecure", "Allow-Insecure field."),
			b("allow_weak", "Allow-Weak field."),
			b("by_hash", "By-Hash field."),
			b("check_date", "Check-Date field."),
			b("check_valid_until", "Check-Valid-Until field."),
			{Name: "date_max_future", Type: module.Int, Doc: "Date-Max-Future field (seconds)."},
			{Name: "inrelease_path", Type: module.String, Doc: "InRelease-Path field."},
			b("pdiffs", "PDiffs field."),
			b("trusted", "Trusted field."),
			{Name: "mode", Type: module.Raw, Default: "0644", Doc: "Mode of the sources file."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the source exists."},
			{Name: "install_python_debian", Type: module.Bool, Default: true, Doc: "Accepted for compatibility; tend needs no python3-debian."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Docker's repository
  deb822_repository:
    name: docker
    types: [deb]
    uris: https://download.docker.com/linux/debian
    suites: bookworm
    components: stable
    signed_by: https://download.docker.com/linux/debian/gpg
`,
	}
}

var (
	slugSpace = regexp.MustCompile(`[_\s]+`)
	slugBad   = regexp.MustCompile(`[^a-z0-9-]+`)
)

// deb822Slug is Ansible's file name slug.
func deb822Slug(name string) string {
	return slugBad.ReplaceAllString(slugSpace.ReplaceAllString(strings.ToLower(name), "-"), "")
}

// renderDeb822 renders the sources paragraph; signedBy replaces the
// signed_by argument's value.
func renderDeb822(args module.Args, signedBy string) string {
	var b strings.Builder
	for _, f := range deb822Fields {
		v, ok := args[f.arg]
		if !ok || v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case bool:
			s = "no"
			if x {
				s = "yes"
			}
		case int:
			s = strconv.Itoa(x)
		case []any:
			s = strings.Join(args.List(f.arg), " ")
		default:
			s = args.String(f.arg)
		}
		if f.arg == "signed_by" {
			s = signedBy
		}
		b.WriteString(f.field + ": " + s + "\n")
	}
	return b.String()
}

const keyringsDir = "/etc/apt/keyrings"

// Plan implements module.Module: the key, when the controller provides
// it (deb822Key), one probe of the sources file, the keys and the mode,
// then the removal (planDeb822Absent) or the writes decideDeb822 chooses.
func (Deb822Repository) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	slug := deb822Slug(args.String("name"))
	if slug == "" {
		return module.Unchanged(module.Failed("name %q gives an empty file name", args.String("name"))), nil
	}
	dest := "/etc/apt/sources.list.d/" + slug + ".sources"
	asc, gpg := keyringsDir+"/"+slug+".asc", keyringsDir+"/"+slug+".gpg"
	mode, err := parseOctalMode(args["mode"], 0o644)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	state := args.String("state")
	signedBy := args.String("signed_by")
	keyData, keyFile, fail := deb822Key(ctx, signedBy, state == "present", asc, gpg)
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	secs, err := runProbe(ctx, h, "deb822 source "+slug, catIfExists(dest),
		"for f in "+shell.Quote(asc)+" "+shell.Quote(gpg)+"; do [ -f \"$f\" ] && sha256sum \"$f\"; done; true",
		"stat -c %a -- "+shell.Quote(dest)+" 2>/dev/null || true")
	if err != nil {
		return nil, err
	}
	p := deb822Probed{keySums: map[string]string{}, mode: strings.TrimSpace(secs[2])}
	p.content, p.exists = readCat(secs[0])
	for _, line := range strings.Split(secs[1], "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			p.keySums[f[1]] = f[0]
		}
	}
	if state == "absent" {
		return planDeb822Absent(h, dest, []string{asc, gpg}, gpg, p), nil
	}

	if len(args.List("uris")) == 0 || len(args.List("suites")) == 0 {
		return module.Unchanged(module.Failed("uris and suites are required when state=present")), nil
	}
	value := signedBy
	if keyFile != "" {
		value = keyFile
	}
	repo := renderDeb822(args, value)
	var keyFileResult any
	if keyFile != "" {
		keyFileResult = keyFile
	}
	result := module.Result{"repo": repo, "dest": dest, "key_filename": keyFileResult}
	writeKey, writeSources, fixMode := decideDeb822(p, repo, keyFile, keyData, mode)
	if !writeKey && !writeSources && !fixMode {
		return module.Unchanged(result), nil
	}
	var diffs []module.Diff
	if writeSources {
		diffs = append(diffs, module.Diff{BeforeHeader: dest, AfterHeader: dest, Before: p.content, After: repo})
	}
	if writeKey {
		diffs = append(diffs, module.Diff{BeforeHeader: keyFile, AfterHeader: keyFile, Before: "", After: "(key " + keyFile + " written)\n"})
	}
	return &module.Plan{Changed: true, Result: result, Diff: diffs,
		Apply: func(ctx context.Context) (module.Result, error) {
			if writeKey {
				r, ok, err := runCmd(ctx, h, "create "+keyringsDir, "[ -d "+keyringsDir+" ] || install -d -m 0755 "+keyringsDir)
				if err != nil || !ok {
					return r, err
				}
				if err := writeRemote(ctx, h, keyFile, keyData, writeOptions{Mode: 0o644}); err != nil {
					return nil, err
				}
			}
			if writeSources || fixMode {
				if err := writeRemote(ctx, h, dest, []byte(repo), writeOptions{Mode: uint32(mode)}); err != nil {
					return nil, err
				}
			}
			return result, nil
		}}, nil
}

// deb822Probed is what Plan reads from the host: the sources file, the
// sha256 of the key files there are, and the sources file's mode.
type deb822Probed struct {
	content string
	exists  bool
	keySums map[string]string
	mode    string
}

// deb822Key returns the key signed_by provides from the controller, and
// the key file it goes to (asc for an armored key, else gpg): the key
// itself, or (for state=present) the download of its URL. A key file
// named in signed_by is the host's business: no key, keyFile "".
func deb822Key(ctx context.Context, signedBy string, present bool, asc, gpg string) (keyData []byte, keyFile, fail string) {
	const armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	switch {
	case strings.Contains(signedBy, armored):
		return []byte(strings.TrimSpace(signedBy) + "\n"), asc, ""
	case isHTTPURL(signedBy) && present:
		body, err := httpGet(ctx, signedBy, "")
		if err != nil {
			return nil, "", fmt.Sprintf("Could not fetch signed_by key: %v", err)
		}
		keyData, err = io.ReadAll(io.LimitReader(body, 4<<20))
		body.Close()
		if err != nil {
			return nil, "", fmt.Sprintf("Could not fetch signed_by key: %v", err)
		}
		if bytes.Contains(keyData, []byte(armored)) {
			return keyData, asc, ""
		}
		return keyData, gpg, ""
	}
	return nil, "", ""
}

// decideDeb822 decides what state=present writes: the key when its
// checksum differs, the sources file when its content does, or only the
// sources file's mode.
func decideDeb822(p deb822Probed, repo, keyFile string, keyData []byte, mode fs.FileMode) (writeKey, writeSources, fixMode bool) {
	if keyFile != "" {
		sum := sha256.Sum256(keyData)
		writeKey = p.keySums[keyFile] != hex.EncodeToString(sum[:])
	}
	writeSources = !p.exists || p.content != repo
	fixMode = p.exists && !writeSources && p.mode != strconv.FormatUint(uint64(mode), 8)
	return writeKey, writeSources, fixMode
}

// planDeb822Absent removes the sources file and the repository's key
// files that exist.
func planDeb822Absent(h *module.Host, dest string, keys []string, keyName string, p deb822Probed) *module.Plan {
	var rm []string
	if p.exists {
		rm = append(rm, dest)
	}
	for _, f := range keys {
		if _, ok := p.keySums[f]; ok {
			rm = append(rm, f)
		}
	}
	result := module.Result{"repo": nil, "dest": dest, "key_filename": keyName}
	if len(rm) == 0 {
		return module.Unchanged(result)
	}
	diff := module.Diff{BeforeHeader: dest, AfterHeader: dest, Before: p.content}
	return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
		Apply: func(ctx context.Context) (module.Result, error) {
			r, ok, err := runCmd(ctx, h, "remove "+dest, "rm -f -- "+shell.Join(rm...))
			if err != nil || !ok {
				return r, err
			}
			return result, nil
		}}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
