package vault

import "errors"

// EncryptWithSalt is Encrypt with a given salt instead of a random one, as
// Ansible's vault filter takes it (salt='...'): the same plaintext,
// password, id and salt always give the same vault text. The salt is used
// as it is, of any non-zero length, as ansible-core uses it.
func EncryptWithSalt(plaintext, password []byte, id string, salt []byte) ([]byte, error) {
	if len(salt) == 0 {
		return nil, errors.New("vault salt is empty")
	}
	return encrypt(plaintext, password, id, salt)
}
