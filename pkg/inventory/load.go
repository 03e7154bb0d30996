package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/tend-dev/tend/pkg/vault"
)

// ignoredInDir matches directory entries Ansible skips when a directory is
// an inventory source: hidden files, group_vars/host_vars/vars_plugins, and
// INVENTORY_IGNORE_EXTS (which, in ansible-core 2.14, includes .ini and .cfg).
var ignoredInDir = regexp.MustCompile(`^\.|^host_vars$|^group_vars$|^vars_plugins$|` +
	`(?:\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$`)

// Load reads the given inventory sources in order and returns the merged
// inventory. A source is an INI or YAML/JSON file, a directory of such files
// (read recursively in name order, skipping what Ansible skips), or a
// comma-separated host list such as "web1,web2:2222," when no file of that
// name exists. group_vars/ and host_vars/ next to each file source, or
// inside each directory source, are loaded.
//
// A nonexistent source without a comma is skipped with a warning (see
// Warnings), as Ansible does; with no sources the inventory is empty apart
// from the implicit localhost. Parse errors are *ParseError values naming
// file and line; errors from several sources are joined. Vault-encrypted
// files and values are errors wrapping ErrVaultEncrypted; use LoadWith to
// decrypt them.
func Load(sources []string) (*Inventory, error) {
	return LoadWith(sources, Options{})
}

// Decrypter decrypts vault-encrypted data read from file ("file:line:col"
// for inline values); *vault.Keyring implements it.
type Decrypter interface {
	Decrypt(file string, data []byte) ([]byte, error)
}

// Options tune LoadWith.
type Options struct {
	// Vault decrypts vault-encrypted inventory files, group_vars/host_vars
	// files and inline !vault values (also for later AddVarsDir calls).
	// Nil refuses them with an error naming the file.
	Vault Decrypter
}

// orNoVault returns d, or a decrypter that refuses vault data with an
// error telling to pass a vault password.
func orNoVault(d Decrypter) Decrypter {
	if d == nil {
		return (*vault.Keyring)(nil)
	}
	return d
}

// decrypt decrypts vault data found at file:line:col (what names it for
// messages: "inventory file", "value"), reporting failures as
// *ParseError values that wrap the vault error. Messages never hold
// decrypted data.
func decrypt(d Decrypter, file string, line, col int, what string, data []byte) ([]byte, error) {
	plain, err := orNoVault(d).Decrypt(file, data)
	if err == nil {
		return plain, nil
	}
	msg := strings.TrimPrefix(err.Error(), file+": ")
	switch {
	case errors.Is(err, vault.ErrNoSecret):
		msg = what + " is vault-encrypted but " + vault.ErrNoSecret.Error()
	case errors.Is(err, vault.ErrWrongPassword):
		msg = "wrong vault password or corrupted " + what
	}
	return nil, &ParseError{File: file, Line: line, Col: col, Msg: msg, Err: err}
}

// LoadWith is Load with options.
func LoadWith(sources []string, opts Options) (*Inventory, error) {
	inv := newInventory()
	inv.vault = opts.Vault
	var errs []error
	var varsBases []string
	for _, src := range sources {
		st, err := os.Stat(src)
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			if strings.Contains(src, ",") {
				if err := inv.loadHostList(src); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			inv.warnf("unable to parse %s as an inventory source: no such file or directory", src)
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("inventory source %s: %w", src, err))
			continue
		case st.IsDir():
			if err := inv.loadDir(src); err != nil {
				errs = append(errs, err)
			}
			varsBases = append(varsBases, src)
		default:
			if err := inv.loadFile(src); err != nil {
				errs = append(errs, err)
			}
			varsBases = append(varsBases, filepath.Dir(src))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	inv.reconcile()
	cache := map[string]*varsDir{}
	for _, base := range varsBases {
		d, ok := cache[base]
		if !ok {
			var err error
			if d, err = inv.loadVarsDir(base); err != nil {
				errs = append(errs, err)
				continue
			}
			cache[base] = d
		}
		inv.invDirs = append(inv.invDirs, d)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	inv.refreshVars()
	return inv, nil
}

// AddVarsDir loads group_vars/ and host_vars/ from dir (normally the
// playbook directory). They take precedence over the inventory-side ones at
// the same level; later calls take precedence over earlier ones. A dir
// without those subdirectories adds nothing. Not safe for concurrent use
// with readers of the inventory.
func (inv *Inventory) AddVarsDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("playbook vars directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("playbook vars directory %s: not a directory", dir)
	}
	d, err := inv.loadVarsDir(dir)
	if err != nil {
		return err
	}
	inv.playDirs = append(inv.playDirs, d)
	inv.refreshVars()
	return nil
}

func isHostList(src string) bool {
	if !strings.Contains(src, ",") {
		return false
	}
	_, err := os.Stat(src)
	return err != nil
}

// loadHostList reads Ansible's "host1,host2:2222," form. Ranges are not
// expanded there, as in Ansible's host_list plugin.
func (inv *Inventory) loadHostList(src string) error {
	for _, h := range strings.Split(src, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, hasPort, ok := parseAddress(h, false)
		if !ok {
			host, hasPort = h, false
		}
		if _, exists := inv.hostIdx[host]; exists {
			continue
		}
		if err := inv.addHost(host, "ungrouped", port, hasPort, src); err != nil {
			return fmt.Errorf("host list %q: %w", src, err)
		}
	}
	return nil
}

// loadDir reads every inventory file below dir in name order.
func (inv *Inventory) loadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("inventory directory %s: %w", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !ignoredInDir.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("inventory directory %s: %w", dir, err)
		}
		if st.IsDir() {
			err = inv.loadDir(p)
		} else {
			err = inv.loadFile(p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loadFile reads one inventory file, choosing the format as Ansible's plugin
// chain does: .yml/.yaml/.json are YAML; a file without extension is YAML if
// it parses as a YAML mapping and INI otherwise; anything else is INI.
func (inv *Inventory) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("inventory file: %w", err)
	}
	if vault.IsEncrypted(data) {
		if data, err = decrypt(inv.vault, path, 1, 0, "inventory file", data); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("inventory file %s: %w", path, err)
	}
	if bytes.HasPrefix(data, []byte("#!")) {
		return &ParseError{File: path, Line: 1, Msg: "dynamic inventory scripts are not supported; export the inventory to YAML with ansible-inventory --list -y"}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml", ".json":
		doc, err := parseYAMLDocument(path, data)
		if err != nil {
			return err
		}
		return inv.loadYAML(path, abs, doc)
	case "":
		// Try YAML first; fall back to INI when it is not a YAML mapping.
		doc, yerr := parseYAMLDocument(path, data)
		if yerr == nil && isYAMLMapping(doc) {
			return inv.loadYAML(path, abs, doc)
		}
		ierr := inv.loadINI(path, abs, data)
		if ierr != nil && yerr != nil && looksLikeYAML(data) {
			// Report the error of the format the author meant.
			return yerr
		}
		return ierr
	}
	return inv.loadINI(path, abs, data)
}

// looksLikeYAML reports whether the first significant line of data reads
// like the start of a YAML inventory ("---" or "key:").
func looksLikeYAML(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		return line == "---" || strings.HasSuffix(line, ":")
	}
	return false
}
