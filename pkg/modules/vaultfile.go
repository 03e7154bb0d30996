package modules

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vault"
)

// vaultEncryptedFile reports whether the controller file at local starts
// with an Ansible Vault header (only the first bytes are read).
func vaultEncryptedFile(local string) (bool, error) {
	f, err := os.Open(local)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	return vault.IsEncrypted(head[:n]), nil
}

// decryptControllerFile returns the plain content of a vault-encrypted
// controller file, as Ansible's get_real_file(decrypt=True) does for the
// src of copy, script and unarchive.
func decryptControllerFile(h *module.Host, local string, data []byte) ([]byte, error) {
	// Ansible's words, which content compares with; the run was started
	// without --vault-password-file or --ask-vault-pass.
	noSecret := noVaultSecret(local)
	if h.Vault == nil {
		return nil, noSecret
	}
	plain, err := h.Vault.Decrypt(local, data)
	if errors.Is(err, vault.ErrNoSecret) {
		return nil, noSecret
	}
	if err != nil {
		return nil, fmt.Errorf("decrypting %s: %w", local, err)
	}
	return plain, nil
}

// plainControllerFile returns local, or with decrypt a temporary copy of
// it decrypted when it is vault-encrypted; cleanup removes the copy.
func plainControllerFile(h *module.Host, local string, decrypt bool) (string, func(), error) {
	noop := func() {}
	if !decrypt {
		return local, noop, nil
	}
	enc, err := vaultEncryptedFile(local)
	if err != nil || !enc {
		return local, noop, err
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return "", noop, err
	}
	plain, err := decryptControllerFile(h, local, data)
	if err != nil {
		return "", noop, err
	}
	tmp, err := os.CreateTemp("", "tend-decrypted-*")
	if err != nil {
		return "", noop, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	if _, err := tmp.Write(plain); err != nil {
		tmp.Close()
		cleanup()
		return "", noop, err
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", noop, err
	}
	return tmp.Name(), cleanup, nil
}

// noVaultSecret is the failure to decrypt a controller file without a
// vault password, worded as Ansible words it (a sentence, capitalised).
type noVaultSecret string

func (p noVaultSecret) Error() string {
	return "A vault password or secret must be specified to decrypt " + string(p)
}
