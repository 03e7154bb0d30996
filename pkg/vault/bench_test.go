package vault

import "testing"

// BenchmarkDecrypt measures one decryption including PBKDF2 (10000
// iterations), the cost paid once per encrypted file or value.
func BenchmarkDecrypt(b *testing.B) {
	data, err := Encrypt([]byte("db_password: x\n"), []byte("pw"), "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Decrypt(data, []byte("pw")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyringDecryptCached is the same file decrypted again (one
// host after another): derived keys come from the keyring's cache.
func BenchmarkKeyringDecryptCached(b *testing.B) {
	data, err := Encrypt([]byte("db_password: x\n"), []byte("pw"), "")
	if err != nil {
		b.Fatal(err)
	}
	k := NewKeyring()
	_ = k.Add("", []byte("pw"))
	for b.Loop() {
		if _, err := k.Decrypt("f", data); err != nil {
			b.Fatal(err)
		}
	}
}
