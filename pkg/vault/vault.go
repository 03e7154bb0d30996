package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Header starts every vault-encrypted file and inline value.
const Header = "$ANSIBLE_VAULT"

// DefaultID is the vault id of secrets given without a label, and of
// 1.1-format data (which carries no id).
const DefaultID = "default"

// Parameters of Ansible's VaultAES256.
const (
	iterations = 10000
	saltLen    = 32
	keyLen     = 32
	ivLen      = aes.BlockSize
	lineWidth  = 80
	cipherName = "AES256"
)

var (
	// ErrWrongPassword means the HMAC did not match: the password is wrong
	// or the data was altered.
	ErrWrongPassword = errors.New("wrong vault password or corrupted file")
	// ErrNoSecret means vault data was met but no password was given.
	ErrNoSecret = errors.New("no vault password was given: pass --vault-password-file or --ask-vault-pass")
	// ErrFormat is wrapped by errors about malformed vault envelopes.
	ErrFormat = errors.New("not a valid vault envelope")
)

// IsEncrypted reports whether data (ignoring leading white space) starts
// with the vault header.
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(Header+";"))
}

// Envelope is a parsed vault text.
type Envelope struct {
	// Version is "1.1" or "1.2".
	Version string
	// Cipher is always "AES256".
	Cipher string
	// ID is the vault id of a 1.2 envelope, DefaultID for 1.1.
	ID         string
	Salt       []byte
	HMAC       []byte // hex digest as written, 64 lowercase hex characters
	Ciphertext []byte
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Parse splits vault text into its parts without decrypting. It never
// panics on bad input; errors wrap ErrFormat.
func Parse(data []byte) (*Envelope, error) {
	data = bytes.TrimLeft(data, " \t\r\n")
	lines := bytes.Split(data, []byte("\n"))
	head := strings.Split(strings.TrimSpace(string(lines[0])), ";")
	if head[0] != Header {
		return nil, formatErr("missing %s header", Header)
	}
	if len(head) < 3 {
		return nil, formatErr("header %q has no version and cipher", lines[0])
	}
	e := &Envelope{Version: strings.TrimSpace(head[1]), Cipher: strings.TrimSpace(head[2]), ID: DefaultID}
	switch e.Version {
	case "1.1", "1.2":
	default:
		return nil, formatErr("unsupported vault format version %q (1.1 and 1.2 are supported)", e.Version)
	}
	if e.Cipher != cipherName {
		return nil, formatErr("unsupported vault cipher %q (only %s is supported)", e.Cipher, cipherName)
	}
	if len(head) >= 4 {
		if id := strings.TrimSpace(head[3]); id != "" {
			e.ID = id
		}
	}
	// The body may have been re-indented (inline values) or re-wrapped:
	// only the hex digits count.
	var body []byte
	for _, l := range lines[1:] {
		body = append(body, bytes.TrimSpace(l)...)
	}
	inner := make([]byte, hex.DecodedLen(len(body)))
	if _, err := hex.Decode(inner, body); err != nil {
		return nil, formatErr("body is not hexadecimal")
	}
	parts := bytes.SplitN(inner, []byte("\n"), 3)
	if len(parts) != 3 {
		return nil, formatErr("body does not hold salt, HMAC and ciphertext")
	}
	var err error
	if e.Salt, err = hex.DecodeString(string(parts[0])); err != nil || len(e.Salt) == 0 {
		return nil, formatErr("bad salt")
	}
	if len(parts[1]) != 2*sha256.Size {
		return nil, formatErr("bad HMAC")
	}
	e.HMAC = parts[1]
	ct := bytes.TrimRight(parts[2], "\n")
	if e.Ciphertext, err = hex.DecodeString(string(ct)); err != nil {
		return nil, formatErr("bad ciphertext")
	}
	if len(e.Ciphertext) == 0 || len(e.Ciphertext)%aes.BlockSize != 0 {
		return nil, formatErr("ciphertext length %d is not a positive multiple of the AES block size", len(e.Ciphertext))
	}
	return e, nil
}

// derivedKeys are the three parts of the PBKDF2 output.
type derivedKeys struct {
	cipherKey, hmacKey, iv []byte
}

func deriveKeys(password, salt []byte) (derivedKeys, error) {
	k, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 2*keyLen+ivLen)
	if err != nil {
		return derivedKeys{}, fmt.Errorf("derive vault keys: %w", err)
	}
	return derivedKeys{cipherKey: k[:keyLen], hmacKey: k[keyLen : 2*keyLen], iv: k[2*keyLen:]}, nil
}

// open checks the HMAC (in constant time) and decrypts.
func (e *Envelope) open(k derivedKeys) ([]byte, error) {
	mac := hmac.New(sha256.New, k.hmacKey)
	mac.Write(e.Ciphertext)
	want := make([]byte, hex.EncodedLen(sha256.Size))
	hex.Encode(want, mac.Sum(nil))
	if !hmac.Equal(want, bytes.ToLower(e.HMAC)) {
		return nil, ErrWrongPassword
	}
	block, err := aes.NewCipher(k.cipherKey)
	if err != nil {
		return nil, fmt.Errorf("vault cipher: %w", err)
	}
	out := make([]byte, len(e.Ciphertext))
	cipher.NewCTR(block, k.iv).XORKeyStream(out, e.Ciphertext)
	n := int(out[len(out)-1])
	if n == 0 || n > aes.BlockSize || n > len(out) {
		return nil, ErrWrongPassword
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, ErrWrongPassword
		}
	}
	return out[:len(out)-n], nil
}

// Decrypt decrypts vault text with one password. A wrong password or
// altered data gives ErrWrongPassword; a malformed envelope an error
// wrapping ErrFormat.
func Decrypt(data, password []byte) ([]byte, error) {
	e, err := Parse(data)
	if err != nil {
		return nil, err
	}
	k, err := deriveKeys(password, e.Salt)
	if err != nil {
		return nil, err
	}
	return e.open(k)
}

// Encrypt encrypts plaintext with password into vault text as
// ansible-vault writes it: the 1.1 format when id is "" or DefaultID, the
// 1.2 format naming id otherwise; hex lines of 80 characters and a final
// newline.
func Encrypt(plaintext, password []byte, id string) ([]byte, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("vault salt: %w", err)
	}
	return encrypt(plaintext, password, id, salt)
}

func encrypt(plaintext, password []byte, id string, salt []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("vault password is empty")
	}
	if strings.ContainsAny(id, ";\n\r") {
		return nil, fmt.Errorf("vault id %q: must not contain ';' or a newline", id)
	}
	k, err := deriveKeys(password, salt)
	if err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := make([]byte, len(plaintext)+n)
	copy(padded, plaintext)
	for i := len(plaintext); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	block, err := aes.NewCipher(k.cipherKey)
	if err != nil {
		return nil, fmt.Errorf("vault cipher: %w", err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCTR(block, k.iv).XORKeyStream(ct, padded)
	mac := hmac.New(sha256.New, k.hmacKey)
	mac.Write(ct)
	inner := hex.EncodeToString(salt) + "\n" + hex.EncodeToString(mac.Sum(nil)) + "\n" + hex.EncodeToString(ct)
	body := hex.EncodeToString([]byte(inner))
	var b strings.Builder
	if id == "" || id == DefaultID {
		b.WriteString(Header + ";1.1;" + cipherName + "\n")
	} else {
		b.WriteString(Header + ";1.2;" + cipherName + ";" + id + "\n")
	}
	for i := 0; i < len(body); i += lineWidth {
		b.WriteString(body[i:min(i+lineWidth, len(body))])
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// FormatInline returns vault text as an inline YAML value ("!vault |" and
// the text indented by ten spaces, as ansible-vault encrypt_string prints
// it), prefixed with "name: " when name is not empty.
func FormatInline(name string, vaultText []byte) string {
	var b strings.Builder
	if name != "" {
		b.WriteString(name + ": ")
	}
	b.WriteString("!vault |\n")
	for _, l := range strings.Split(strings.TrimRight(string(vaultText), "\n"), "\n") {
		b.WriteString("          " + l + "\n")
	}
	return b.String()
}
