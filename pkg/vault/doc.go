// Package vault reads and writes Ansible Vault data: whole files and the
// inline "!vault |" scalars of YAML vars files, in the 1.1 format
// ("$ANSIBLE_VAULT;1.1;AES256") and the 1.2 format that adds a vault id
// ("$ANSIBLE_VAULT;1.2;AES256;prod").
//
// The cryptography is Ansible's VaultAES256: PBKDF2-HMAC-SHA256 with 10000
// iterations over a 32-byte random salt derives 80 bytes (AES key, HMAC
// key, CTR initial counter); the plaintext is PKCS#7 padded, encrypted with
// AES-256-CTR and authenticated with HMAC-SHA256 over the ciphertext. The
// envelope is hexlified twice, as ansible-vault writes it, so files move
// between tend and ansible-vault in both directions.
//
// A Keyring holds the passwords given on the command line (password files,
// executable password scripts, prompts, vault ids) and decrypts with
// whichever matches. Decrypted data and passwords never appear in the
// errors of this package.
package vault
