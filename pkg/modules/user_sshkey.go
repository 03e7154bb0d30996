package modules

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
	"golang.org/x/crypto/ssh"
)

// encryptedUserKey makes the key pair of generate_ssh_key with
// ssh_key_passphrase on the controller: ssh-keygen takes a new passphrase
// only on its command line (seen by every process on the host) or from a
// terminal, and the key is written encrypted, in OpenSSH's format, as
// ssh-keygen -N would write it.
func encryptedUserKey(keyType string, bits int, comment, passphrase string) (private, public []byte, err error) {
	var key crypto.Signer
	switch keyType {
	case "rsa":
		if bits == 0 {
			bits = 3072 // ssh-keygen's default
		}
		key, err = rsa.GenerateKey(rand.Reader, bits)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		curve := map[int]elliptic.Curve{0: elliptic.P256(), 256: elliptic.P256(), 384: elliptic.P384(), 521: elliptic.P521()}[bits]
		if curve == nil {
			return nil, nil, fmt.Errorf("ssh_key_bits %d: an ecdsa key has 256, 384 or 521 bits", bits)
		}
		key, err = ecdsa.GenerateKey(curve, rand.Reader)
	default:
		return nil, nil, fmt.Errorf("ssh_key_type %q with ssh_key_passphrase: tend makes rsa, ed25519 and ecdsa keys", keyType)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", keyType, err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(key, comment, []byte(passphrase))
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt %s key: %w", keyType, err)
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("public %s key: %w", keyType, err)
	}
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
	if comment != "" {
		line += " " + comment
	}
	return pem.EncodeToMemory(block), []byte(line + "\n"), nil
}

// writeUserKey writes a key pair made by encryptedUserKey as the user's
// (private 0600, public 0644).
func writeUserKey(ctx context.Context, h *module.Host, user, file string, private, public []byte) error {
	if err := writeRemote(ctx, h, file, private, writeOptions{Mode: 0o600}); err != nil {
		return err
	}
	if err := writeRemote(ctx, h, file+".pub", public, writeOptions{Mode: 0o644}); err != nil {
		return err
	}
	return runOK(ctx, h, "chown -- "+shell.Quote(user+":")+" "+shell.Quote(file)+" "+shell.Quote(file+".pub"), "give "+file+" to "+user)
}
