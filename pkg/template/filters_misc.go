package template

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/vault"
)

// miscFilters are ansible-core's urldecode, win_* path and vault filters
// (ansible/plugins/filter/{urls,core,encryption}.py) and to_datetime.
func miscFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"urldecode":      strFilter(unquotePlus),
		"win_basename":   strFilter(func(p string) string { _, b := ntSplit(p); return b }),
		"win_dirname":    strFilter(func(p string) string { d, _ := ntSplit(p); return d }),
		"win_splitdrive": filterWinSplitdrive,
		"vault":          filterVault,
		"unvault":        filterUnvault,
		"to_datetime":    filterToDatetime,
	}
}

// unquotePlus is Python's urllib.parse.unquote_plus: '+' is a space,
// %XX escapes are UTF-8 bytes (invalid ones U+FFFD), a malformed escape
// stays as it is.
func unquotePlus(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if !strings.Contains(s, "%") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// ntSplitdrive is Python 3.11's ntpath.splitdrive: a drive letter ("C:")
// or a UNC share ("\\server\share", "\\?\UNC\server\share"), then the
// rest.
func ntSplitdrive(p string) (string, string) {
	if len(p) < 2 {
		return "", p
	}
	norm := strings.ReplaceAll(p, "/", `\`)
	if norm[:2] == `\\` {
		start := 2
		if len(norm) >= 8 && strings.ToUpper(norm[:8]) == `\\?\UNC\` {
			start = 8
		}
		i := strings.Index(norm[min(start, len(norm)):], `\`)
		if i < 0 {
			return p, ""
		}
		i += start
		j := strings.Index(norm[i+1:], `\`)
		if j < 0 {
			return p, ""
		}
		j += i + 1
		return p[:j], p[j:]
	}
	if norm[1] == ':' {
		return p[:2], p[2:]
	}
	return "", p
}

// ntSplit is ntpath.split: the head (trailing separators removed unless
// it is all separators) and the last component.
func ntSplit(p string) (string, string) {
	d, rest := ntSplitdrive(p)
	i := len(rest)
	for i > 0 && rest[i-1] != '/' && rest[i-1] != '\\' {
		i--
	}
	head, tail := rest[:i], rest[i:]
	if h := strings.TrimRight(head, `/\`); h != "" {
		head = h
	}
	return d + head, tail
}

// filterWinSplitdrive is win_splitdrive: ntpath.splitdrive's pair as a
// list.
func filterWinSplitdrive(_ *state, in any, _ []any, _ map[string]any) (any, error) {
	d, rest := ntSplitdrive(toStr(in))
	return []any{d, rest}, nil
}

// pyClass is Python's repr of a value's type, as Ansible's vault filters
// print it.
func pyClass(v any) string { return fmt.Sprintf("<class '%s'>", typeName(v)) }

// filterVault is vault(data, secret, salt=None, vaultid='filter_default',
// wrap_object=False): the data encrypted as ansible-vault text.
func filterVault(_ *state, in any, args []any, kw map[string]any) (any, error) {
	secret := arg(args, kw, 0, "secret", nil)
	if _, ok := secret.(string); !ok {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Secret passed is required to be a string, instead we got: %s", pyClass(secret))
	}
	data, ok := in.(string)
	if !ok {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Can only vault strings, instead we got: %s", pyClass(in))
	}
	id := argStr(args, kw, 2, "vaultid", "filter_default")
	var out []byte
	var err error
	if salt := arg(args, kw, 1, "salt", nil); salt != nil {
		if toStr(salt) == "" {
			//lint:ignore ST1005 Ansible's own message, word for word
			return nil, errors.New("Unable to encrypt: Empty or invalid salt passed to encrypt()")
		}
		out, err = vault.EncryptWithSalt([]byte(data), []byte(secret.(string)), id, []byte(toStr(salt)))
	} else {
		out, err = vault.Encrypt([]byte(data), []byte(secret.(string)), id)
	}
	if err != nil {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Unable to encrypt: %w", err)
	}
	return string(out), nil
}

// filterUnvault is unvault(vault, secret, vaultid='filter_default'): the
// vault text decrypted; text that is not vault text is returned as it is.
func filterUnvault(_ *state, in any, args []any, kw map[string]any) (any, error) {
	secret := arg(args, kw, 0, "secret", nil)
	if _, ok := secret.(string); !ok {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Secret passed is required to be as string, instead we got: %s", pyClass(secret))
	}
	text, ok := in.(string)
	if !ok {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Vault should be in the form of a string, instead we got: %s", pyClass(in))
	}
	if !vault.IsEncrypted([]byte(text)) {
		return text, nil
	}
	out, err := vault.Decrypt([]byte(text), []byte(secret.(string)))
	if errors.Is(err, vault.ErrWrongPassword) {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Unable to decrypt: Decryption failed (no vault secrets were found that could decrypt)")
	}
	if err != nil {
		//lint:ignore ST1005 Ansible's own message, word for word
		return nil, fmt.Errorf("Unable to decrypt: %w", err)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}
