package modules

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
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

// Plan implements module.Module.
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

	// The key, when the controller provides it.
	var keyData []byte
	keyFile := ""
	signedBy := args.String("signed_by")
	switch {
	case strings.Contains(signedBy, "-----BEGIN PGP PUBLIC KEY BLOCK-----"):
		keyData = []byte(strings.TrimSpace(signedBy) + "\n")
		keyFile = asc
	case isHTTPURL(signedBy) && state == "present":
		body, err := httpGet(ctx, signedBy, "")
		if err != nil {
			return module.Unchanged(module.Failed("Could not fetch signed_by key: %v", err)), nil
		}
		keyData, err = io.ReadAll(io.LimitReader(body, 4<<20))
		body.Close()
		if err != nil {
			return module.Unchanged(module.Failed("Could not fetch signed_by key: %v", err)), nil
		}
		keyFile = gpg
		if bytes.Contains(keyData, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			keyFile = asc
		}
	}
	secs, err := runProbe(ctx, h, "deb822 source "+slug, catIfExists(dest),
		"for f in "+shell.Quote(asc)+" "+shell.Quote(gpg)+"; do [ -f \"$f\" ] && sha256sum \"$f\"; done; true",
		"stat -c %a -- "+shell.Quote(dest)+" 2>/dev/null || true")
	if err != nil {
		return nil, err
	}
	cur, exists := readCat(secs[0])
	keySums := map[string]string{}
	for _, line := range strings.Split(secs[1], "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			keySums[f[1]] = f[0]
		}
	}
	curMode := strings.TrimSpace(secs[2])

	if state == "absent" {
		var rm []string
		if exists {
			rm = append(rm, dest)
		}
		for _, f := range []string{asc, gpg} {
			if _, ok := keySums[f]; ok {
				rm = append(rm, f)
			}
		}
		keyName := gpg
		result := module.Result{"repo": nil, "dest": dest, "key_filename": keyName}
		if len(rm) == 0 {
			return module.Unchanged(result), nil
		}
		diff := module.Diff{BeforeHeader: dest, AfterHeader: dest, Before: cur}
		return &module.Plan{Changed: true, Result: result, Diff: []module.Diff{diff},
			Apply: func(ctx context.Context) (module.Result, error) {
				r, ok, err := runCmd(ctx, h, "remove "+dest, "rm -f -- "+shell.Join(rm...))
				if err != nil || !ok {
					return r, err
				}
				return result, nil
			}}, nil
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
	writeKey := false
	if keyFile != "" {
		sum := sha256.Sum256(keyData)
		writeKey = keySums[keyFile] != hex.EncodeToString(sum[:])
	}
	writeSources := !exists || cur != repo
	fixMode := exists && !writeSources && curMode != strconv.FormatUint(uint64(mode), 8)
	if !writeKey && !writeSources && !fixMode {
		return module.Unchanged(result), nil
	}
	var diffs []module.Diff
	if writeSources {
		diffs = append(diffs, module.Diff{BeforeHeader: dest, AfterHeader: dest, Before: cur, After: repo})
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

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
