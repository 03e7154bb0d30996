package modules

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// AptKey adds or removes keys of apt's trusted keyrings with apt-key.
type AptKey struct{}

var _ module.Module = (*AptKey)(nil)

// Spec implements module.Module.
func (*AptKey) Spec() *module.Spec {
	return &module.Spec{
		Name:  "apt_key",
		Short: "Add or remove an apt key",
		Description: "Adds or removes a key of apt's trusted keys with the host's `apt-key` and `gpg` (Debian 12 " +
			"still ships apt-key; it is deprecated, prefer deb822_repository's signed_by), as ansible.builtin.apt_key " +
			"does: without `id` the key id is read from the key itself (`gpg --with-colons`), the keys apt-key lists " +
			"decide whether anything changes, and after adding or removing the list is read again to verify. " +
			"A `url` is fetched by the controller; when the controller cannot reach it, by the host's curl or wget " +
			"when present. Key data reaches the host base64-encoded on a command line, never through a file.",
		Args: []module.Arg{
			{Name: "id", Type: module.String, Doc: "The key id (8, 16 or more hexadecimal digits, optional 0x); read from the key when not given."},
			{Name: "data", Type: module.String, Doc: "The key itself (armored or binary)."},
			{Name: "file", Type: module.Path, Expand: true, Doc: "A key file on the host."},
			{Name: "keyring", Type: module.Path, Expand: true, Doc: "The keyring to change (e.g. /etc/apt/trusted.gpg.d/NAME.gpg) instead of apt's default."},
			{Name: "url", Type: module.String, Doc: "Where to download the key."},
			{Name: "keyserver", Type: module.String, Doc: "A keyserver to receive the key id from (the host's gpg fetches it)."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"absent", "present"}, Doc: "Whether the key is trusted."},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "Check the url's TLS certificate; with false the download skips the check."},
		},
		MutuallyExclusive: [][]string{{"data", "file", "keyserver", "url"}},
		Check:             module.CheckFull,
		Examples: `- apt_key:
    url: https://packages.example.com/key.asc
    keyring: /etc/apt/trusted.gpg.d/example.gpg
`,
	}
}

// parseAptKeyID is Ansible's parse_key_id: the short id (last 8), the
// fingerprint compared with apt-key's list (last 16) and the whole id.
func parseAptKeyID(id string) (short, fp, full string, ok bool) {
	id = strings.ToUpper(id)
	hex := strings.TrimPrefix(id, "0X")
	if hex == "" {
		return "", "", "", false
	}
	if _, err := strconv.ParseUint(hex[max(0, len(hex)-16):], 16, 64); err != nil {
		return "", "", "", false
	}
	for _, c := range hex {
		if !strings.ContainsRune("0123456789ABCDEF", c) {
			return "", "", "", false
		}
	}
	if n := len(hex); n != 8 && n != 16 && n <= 16 {
		return "", "", "", false
	}
	fp = hex
	if len(hex) > 16 {
		fp = hex[len(hex)-16:]
	}
	return hex[len(hex)-8:], fp, hex, true
}

// parseAptKeys is Ansible's parse_output_for_keys: the key ids of the pub
// and sub lines that are not expired, in apt-key's or gpg's colon format.
func parseAptKeys(out string, short bool) []string {
	found := []string{}
	for _, line := range strings.Split(out, "\n") {
		if !(strings.HasPrefix(line, "pub") || strings.HasPrefix(line, "sub")) || strings.Contains(line, "expired") {
			continue
		}
		var code string
		if t := strings.Fields(line); len(t) > 1 && strings.Count(t[1], "/") == 1 {
			_, code, _ = strings.Cut(t[1], "/")
		} else if c := strings.Split(line, ":"); len(c) > 4 {
			code = c[4]
		} else {
			continue
		}
		if short && len(code) > 8 {
			code = code[len(code)-8:]
		}
		found = append(found, code)
	}
	return found
}

// fetchKey downloads url on the controller, or on the host with curl or
// wget when the controller cannot.
func fetchKey(ctx context.Context, h *module.Host, url string, verify bool) ([]byte, error) {
	body, cerr := httpGetTLS(ctx, url, verify)
	if cerr == nil {
		defer body.Close()
		b, err := io.ReadAll(io.LimitReader(body, 16<<20))
		if err == nil {
			return b, nil
		}
		cerr = err
	}
	k, w := "", ""
	if !verify {
		k, w = " -k", " --no-check-certificate"
	}
	u := shell.Quote(url)
	res, err := h.Run(ctx, "if command -v curl >/dev/null; then curl -fsSL"+k+" -- "+u+" | base64 -w0; "+
		"elif command -v wget >/dev/null; then wget -qO-"+w+" -- "+u+" | base64 -w0; else exit 127; fi")
	if err != nil || res.ExitCode != 0 || len(res.Stdout) == 0 {
		return nil, cerr
	}
	return base64.StdEncoding.DecodeString(strings.TrimSpace(string(res.Stdout)))
}

// aptKeyIDFromKey reads the id of the key in file, data or url (which it
// downloads: the data is returned), as Ansible does when id is not given.
func aptKeyIDFromKey(ctx context.Context, h *module.Host, a module.Args, keyData []byte) (string, []byte, module.Result, error) {
	url, file := a.String("url"), a.String("file")
	if a.String("keyserver") != "" {
		return "", nil, module.Failed("Missing key_id, required with keyserver."), nil
	}
	if url != "" {
		b, err := fetchKey(ctx, h, url, a.Bool("validate_certs"))
		if err != nil {
			return "", nil, module.Failed("error getting key id from url: %s: %v", url, err), nil
		}
		keyData = b
	}
	var cmd, what string
	switch {
	case file != "":
		cmd, what = "LC_ALL=C gpg --with-colons "+shell.Path(file), file
	case keyData != nil:
		cmd, what = "printf '%s' "+shell.Quote(base64.StdEncoding.EncodeToString(keyData))+" | base64 -d | LC_ALL=C gpg --with-colons -", "inline data"
	default:
		return "", keyData, nil, nil
	}
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return "", nil, nil, fmt.Errorf("read key id on %s: %w", h.Name, err)
	}
	if res.ExitCode != 0 {
		f := module.Failed("Unable to extract key from '%s'", what)
		f["stdout"], f["stderr"] = string(res.Stdout), string(res.Stderr)
		return "", nil, f, nil
	}
	if keys := parseAptKeys(string(res.Stdout), false); len(keys) > 0 {
		return keys[0], keyData, nil, nil
	}
	return "", keyData, nil, nil
}

// Plan implements module.Module.
func (*AptKey) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	keyID, data := a.String("id"), a.String("data")
	keyring, state := a.String("keyring"), a.String("state")
	aptKey := "apt-key"
	if keyring != "" {
		aptKey += " --keyring " + shell.Path(keyring)
	}
	if res, err := h.Run(ctx, "command -v apt-key >/dev/null && command -v gpg >/dev/null"); err != nil {
		return nil, fmt.Errorf("look for apt-key on %s: %w", h.Name, err)
	} else if res.ExitCode != 0 {
		return module.Unchanged(module.Failed("Failed to find required executable \"apt-key\" or \"gpg\" in paths (install apt and gnupg)")), nil
	}
	var keyData []byte
	if data != "" {
		keyData = []byte(data)
	}
	r := module.Result{}
	if keyID == "" {
		var fail module.Result
		var err error
		keyID, keyData, fail, err = aptKeyIDFromKey(ctx, h, a, keyData)
		if err != nil || fail != nil {
			return module.Unchanged(fail), err
		}
	}
	r["id"] = keyID
	short, fp, full, ok := parseAptKeyID(keyID)
	if !ok {
		f := module.Failed("Invalid key_id")
		f["id"] = keyID
		return module.Unchanged(f), nil
	}
	r["short_id"], r["fp"], r["key_id"] = short, fp, full
	shortFormat := len(full) == 8
	list := func(ctx context.Context) ([]string, module.Result, error) {
		cmd := aptKey + " adv --list-public-keys --keyid-format=long"
		res, err := h.Run(ctx, cmd)
		if err != nil {
			return nil, nil, fmt.Errorf("list apt keys on %s: %w", h.Name, err)
		}
		if res.ExitCode != 0 {
			f := module.Failed("Unable to list public keys")
			f["cmd"], f["rc"], f["stdout"], f["stderr"] = cmd, res.ExitCode, string(res.Stdout), string(res.Stderr)
			return nil, f, nil
		}
		return parseAptKeys(string(res.Stdout), shortFormat), nil, nil
	}
	has := func(keys []string) bool {
		if shortFormat {
			return containsStr(keys, short)
		}
		return containsStr(keys, fp)
	}
	keys, fail, err := list(ctx)
	if err != nil || fail != nil {
		return module.Unchanged(fail), err
	}
	r["before"] = keys
	if state == "present" && has(keys) || state == "absent" && !containsStr(keys, fp) {
		return module.Unchanged(r), nil
	}
	return &module.Plan{Changed: true, Result: r, Apply: func(ctx context.Context) (module.Result, error) {
		cmd, msg, fail := aptKeyCommand(ctx, h, a, aptKey, short, full, keyData)
		if fail != nil {
			return fail, nil
		}
		res, err := h.Run(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("apt-key on %s: %w", h.Name, err)
		}
		if res.ExitCode != 0 {
			f := module.Failed("%s", msg)
			f["rc"], f["stdout"], f["stderr"] = res.ExitCode, string(res.Stdout), string(res.Stderr)
			return f, nil
		}
		after, fail, err := list(ctx)
		if err != nil || fail != nil {
			return fail, err
		}
		out := module.Result{}
		for k, v := range r {
			out[k] = v
		}
		out["after"] = after
		if state == "present" && !has(after) {
			out["failed"], out["msg"] = true, "apt-key did not return an error, but failed to add the key (check that the id is correct and *not* a subkey)"
		}
		if state == "absent" && containsStr(after, fp) {
			out["failed"], out["msg"] = true, "apt-key did not return an error, but the key was not removed (check that the id is correct and *not* a subkey)"
		}
		return out, nil
	}}, nil
}

// aptKeyCommand is the apt-key command that adds or removes the key, and
// the message of its failure.
func aptKeyCommand(ctx context.Context, h *module.Host, a module.Args, aptKey, short, full string, keyData []byte) (string, string, module.Result) {
	file, keyserver, url := a.String("file"), a.String("keyserver"), a.String("url")
	switch {
	case a.String("state") == "absent":
		return aptKey + " del " + shell.Quote(short), "Unable to remove a key with id " + short, nil
	case file != "":
		return aptKey + " add " + shell.Path(file), "Unable to add a key from file " + file, nil
	case keyserver != "":
		return "LC_ALL=C " + aptKey + " adv --no-tty --keyserver " + shell.Quote(keyserver) + " --recv " + shell.Quote(full),
			"Error fetching key " + full + " from keyserver: " + keyserver, nil
	}
	if keyData == nil && url != "" {
		b, err := fetchKey(ctx, h, url, a.Bool("validate_certs"))
		if err != nil {
			return "", "", module.Failed("Failed to download key at %s: %v", url, err)
		}
		keyData = b
	}
	if keyData == nil {
		return "", "", module.Failed("No key to add ... how did i get here?!?!")
	}
	return "printf '%s' " + shell.Quote(base64.StdEncoding.EncodeToString(keyData)) + " | base64 -d | " + aptKey + " add -",
		"Unable to add a key from binary data", nil
}

// httpGetTLS fetches u on the controller; verify=false skips the TLS
// certificate check (validate_certs: false).
func httpGetTLS(ctx context.Context, u string, verify bool) (io.ReadCloser, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if !verify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // validate_certs: no
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch %s: HTTP %s", u, resp.Status)
	}
	return resp.Body, nil
}
