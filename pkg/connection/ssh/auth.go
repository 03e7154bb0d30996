package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// auth builds authentication methods for endpoints and remembers secrets
// the user typed, so one run asks for each at most once.
type auth struct {
	opts Options
	home string

	mu          sync.Mutex
	passphrases map[string][]byte // key file -> passphrase that worked
	loginPass   *string           // --ask-pass answer
}

func newAuth(opts Options) *auth {
	home, _ := os.UserHomeDir()
	return &auth{opts: opts, home: home, passphrases: map[string][]byte{}}
}

// agentConn dials SSH_AUTH_SOCK; nil when there is no agent.
func agentConn() net.Conn {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		return nil
	}
	return c
}

// methods returns the auth methods for e in OpenSSH's order (public key,
// then password, then keyboard-interactive answering with the password),
// a closer for the agent connection, and notes explaining keys that could
// not be used, for the error message when authentication fails.
func (a *auth) methods(e *endpoint) ([]ssh.AuthMethod, func(), *[]string) {
	notes := &[]string{}
	var signers []ssh.Signer
	closer := func() {}

	var agentSigners []ssh.Signer
	if c := agentConn(); c != nil {
		closer = func() { c.Close() }
		if s, err := agent.NewClient(c).Signers(); err == nil {
			agentSigners = s
		} else {
			*notes = append(*notes, fmt.Sprintf("ssh-agent: %v", err))
		}
	}

	files := e.identityFiles
	defaults := false
	if len(files) == 0 && len(agentSigners) == 0 {
		defaults = true
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			files = append(files, filepath.Join(a.home, ".ssh", n))
		}
	}
	// With explicit identities and IdentitiesOnly, the agent may only offer
	// the keys of those files; otherwise it offers all of its keys first.
	if !e.identitiesOnly || len(e.identityFiles) == 0 {
		signers = append(signers, agentSigners...)
	}
	for _, f := range files {
		if pub := readPublic(f); pub != nil {
			if s := matchSigner(agentSigners, pub); s != nil {
				if e.identitiesOnly {
					signers = append(signers, s)
				}
				continue // the agent holds it: no passphrase needed
			}
		}
		s, err := a.loadKey(f)
		if err != nil {
			if !(defaults && errors.Is(err, os.ErrNotExist)) {
				*notes = append(*notes, err.Error())
			}
			continue
		}
		signers = append(signers, s)
	}

	var ms []ssh.AuthMethod
	if len(signers) > 0 {
		ms = append(ms, ssh.PublicKeys(signers...))
	}
	pass := e.password
	if pass == "" && a.opts.AskLoginPassword {
		p, err := a.askLogin(e)
		if err != nil {
			*notes = append(*notes, err.Error())
		}
		pass = p
	}
	if pass != "" {
		ms = append(ms, ssh.Password(pass))
		ms = append(ms, ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range questions {
				if !echos[i] {
					answers[i] = pass
				}
			}
			return answers, nil
		}))
	}
	return ms, closer, notes
}

func (a *auth) askLogin(e *endpoint) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.loginPass != nil {
		return *a.loginPass, nil
	}
	if a.opts.AskPass == nil {
		return "", errors.New("--ask-pass given but no way to prompt for the password")
	}
	p, err := a.opts.AskPass("SSH password: ")
	if err != nil {
		return "", fmt.Errorf("ask for SSH password: %w", err)
	}
	a.loginPass = &p
	return p, nil
}

func readPublic(keyFile string) ssh.PublicKey {
	b, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pub
}

func matchSigner(signers []ssh.Signer, pub ssh.PublicKey) ssh.Signer {
	for _, s := range signers {
		if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			return s
		}
	}
	return nil
}

// loadKey reads a private key file, decrypting it with the passphrase file
// or a prompt when it is protected.
func (a *auth) loadKey(file string) (ssh.Signer, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", file, err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err == nil {
		return s, nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return nil, fmt.Errorf("identity file %s: %w", file, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.passphrases[file]; ok {
		if s, err := ssh.ParsePrivateKeyWithPassphrase(b, p); err == nil {
			return s, nil
		}
	}
	var tried []string
	if a.opts.PassphraseFile != "" {
		pb, err := os.ReadFile(a.opts.PassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("identity file %s is passphrase-protected; read passphrase file: %w", file, err)
		}
		p := []byte(strings.TrimRight(strings.SplitN(string(pb), "\n", 2)[0], "\r"))
		if s, err := ssh.ParsePrivateKeyWithPassphrase(b, p); err == nil {
			a.passphrases[file] = p
			return s, nil
		}
		tried = append(tried, "the passphrase file "+a.opts.PassphraseFile+" does not decrypt it")
	}
	if a.opts.AskPass == nil {
		tried = append(tried, "no way to prompt for a passphrase (use --ask-pass, a passphrase file or ssh-agent)")
		return nil, fmt.Errorf("identity file %s is passphrase-protected: %s", file, strings.Join(tried, "; "))
	}
	for i := 0; i < 3; i++ {
		p, err := a.opts.AskPass(fmt.Sprintf("Enter passphrase for key '%s': ", file))
		if err != nil {
			return nil, fmt.Errorf("identity file %s: ask for passphrase: %w", file, err)
		}
		if s, err := ssh.ParsePrivateKeyWithPassphrase(b, []byte(p)); err == nil {
			a.passphrases[file] = []byte(p)
			return s, nil
		}
	}
	return nil, fmt.Errorf("identity file %s: wrong passphrase", file)
}
