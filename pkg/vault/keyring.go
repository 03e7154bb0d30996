package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Keyring holds vault passwords by vault id and decrypts vault data with
// them. The zero value is not usable; call NewKeyring. A Keyring is safe
// for concurrent use.
type Keyring struct {
	mu      sync.Mutex
	secrets []secret
	// keys caches derived keys by secret and salt: the same encrypted file
	// is often decrypted once per host (vars_files), and PBKDF2 is slow on
	// purpose.
	keys map[keyCacheKey]derivedKeys
}

type secret struct {
	id       string
	password []byte
}

type keyCacheKey struct {
	secret int
	salt   string
}

// NewKeyring returns an empty keyring. Decrypting with an empty keyring
// fails with an error wrapping ErrNoSecret.
func NewKeyring() *Keyring {
	return &Keyring{keys: map[keyCacheKey]derivedKeys{}}
}

// Add adds a password under a vault id ("" means DefaultID). Passwords
// are tried in the order they were added, after those whose id matches
// the data's.
func (k *Keyring) Add(id string, password []byte) error {
	if len(password) == 0 {
		return fmt.Errorf("vault id %s: empty vault password", orDefault(id))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.secrets = append(k.secrets, secret{id: orDefault(id), password: bytes.Clone(password)})
	return nil
}

// Len returns the number of passwords held.
func (k *Keyring) Len() int {
	if k == nil {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.secrets)
}

// IDs returns the vault ids of the passwords held, in order.
func (k *Keyring) IDs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, len(k.secrets))
	for i, s := range k.secrets {
		out[i] = s.id
	}
	return out
}

func orDefault(id string) string {
	if id == "" {
		return DefaultID
	}
	return id
}

// Decrypt decrypts vault data read from file (the name is only used in
// errors; give "file:line" for inline values). Secrets whose id matches a
// 1.2 envelope's are tried first, then all others, as Ansible does.
// Errors name the file and never contain decrypted data:
// "wrong vault password or corrupted file: FILE" wraps ErrWrongPassword,
// and an empty (or nil) keyring gives an error wrapping ErrNoSecret.
func (k *Keyring) Decrypt(file string, data []byte) ([]byte, error) {
	// Without a password, saying so is more useful than any format error.
	if k.Len() == 0 {
		return nil, fmt.Errorf("%s is vault-encrypted but %w", file, ErrNoSecret)
	}
	e, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	k.mu.Lock()
	secrets := append([]secret(nil), k.secrets...)
	k.mu.Unlock()
	order := make([]int, 0, len(secrets))
	for i, s := range secrets {
		if s.id == e.ID {
			order = append(order, i)
		}
	}
	for i, s := range secrets {
		if s.id != e.ID {
			order = append(order, i)
		}
	}
	for _, i := range order {
		keys, err := k.derive(i, secrets[i].password, e.Salt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out, err := e.open(keys)
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, ErrWrongPassword) {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrWrongPassword, file)
}

func (k *Keyring) derive(i int, password, salt []byte) (derivedKeys, error) {
	ck := keyCacheKey{secret: i, salt: string(salt)}
	k.mu.Lock()
	d, ok := k.keys[ck]
	k.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := deriveKeys(password, salt)
	if err != nil {
		return d, err
	}
	k.mu.Lock()
	k.keys[ck] = d
	k.mu.Unlock()
	return d, nil
}

// Encrypt encrypts plaintext with the password of vault id id, or with
// the first password when id is "". The output names the id (format 1.2)
// unless it is DefaultID.
func (k *Keyring) Encrypt(plaintext []byte, id string) ([]byte, error) {
	k.mu.Lock()
	var s *secret
	for i := range k.secrets {
		if id == "" || k.secrets[i].id == id {
			s = &k.secrets[i]
			break
		}
	}
	k.mu.Unlock()
	if s == nil {
		if id == "" {
			return nil, fmt.Errorf("encrypt: %w", ErrNoSecret)
		}
		return nil, fmt.Errorf("encrypt: no vault password for vault id %q", id)
	}
	return Encrypt(plaintext, s.password, s.id)
}

// Sources says where a keyring's passwords come from; the fields mirror
// ansible-playbook's options.
type Sources struct {
	// PasswordFiles are --vault-password-file values, for the default id.
	PasswordFiles []string
	// IDs are --vault-id values: "label@source" or "source", where source
	// is a file, an executable script, or "prompt".
	IDs []string
	// Ask is --ask-vault-pass: prompt for the default id's password.
	Ask bool
	// EnvPasswordFile is $ANSIBLE_VAULT_PASSWORD_FILE, tried after the
	// other sources as Ansible does.
	EnvPasswordFile string
	// Prompt reads a password without echo; required for Ask and
	// "prompt" sources.
	Prompt func(prompt string) (string, error)
}

// Empty reports whether no source is given.
func (s Sources) Empty() bool {
	return len(s.PasswordFiles) == 0 && len(s.IDs) == 0 && !s.Ask && s.EnvPasswordFile == ""
}

// Load builds a keyring from the sources. Password files are read with
// surrounding white space removed; executable ones are run and their
// standard output, without trailing newlines, is the password. Scripts
// named *-client (extension aside) get "--vault-id LABEL", as Ansible's
// client scripts do.
func Load(ctx context.Context, src Sources) (*Keyring, error) {
	k := NewKeyring()
	add := func(id, source string) error {
		var pw []byte
		var err error
		if source == "prompt" {
			pw, err = prompt(src.Prompt, id)
		} else {
			pw, err = ReadPasswordFile(ctx, source, id)
		}
		if err != nil {
			return err
		}
		return k.Add(id, pw)
	}
	if src.Ask {
		if err := add(DefaultID, "prompt"); err != nil {
			return nil, err
		}
	}
	for _, f := range src.PasswordFiles {
		if err := add(DefaultID, f); err != nil {
			return nil, err
		}
	}
	for _, v := range src.IDs {
		id, source := DefaultID, v
		if i := strings.Index(v, "@"); i >= 0 {
			id, source = v[:i], v[i+1:]
		}
		if source == "" {
			return nil, fmt.Errorf("--vault-id %q: no password source (use LABEL@FILE, LABEL@prompt or FILE)", v)
		}
		if err := add(orDefault(id), source); err != nil {
			return nil, err
		}
	}
	if src.EnvPasswordFile != "" {
		if err := add(DefaultID, src.EnvPasswordFile); err != nil {
			return nil, fmt.Errorf("ANSIBLE_VAULT_PASSWORD_FILE: %w", err)
		}
	}
	return k, nil
}

func prompt(ask func(string) (string, error), id string) ([]byte, error) {
	if ask == nil {
		return nil, errors.New("cannot prompt for a vault password here")
	}
	p := "Vault password: "
	if id != DefaultID {
		p = fmt.Sprintf("Vault password (%s): ", id)
	}
	pw, err := ask(p)
	if err != nil {
		return nil, fmt.Errorf("vault password: %w", err)
	}
	if pw == "" {
		return nil, errors.New("vault password: empty password")
	}
	return []byte(pw), nil
}

// ReadPasswordFile returns the password in path: the file's contents
// without surrounding white space, or, when path is executable, the
// script's standard output without trailing newlines. id is passed to
// client scripts (names ending in "-client", extension aside) as
// --vault-id.
func ReadPasswordFile(ctx context.Context, path, id string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("vault password file: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("vault password file %s: is a directory", path)
	}
	var pw []byte
	if st.Mode()&0o111 != 0 {
		var args []string
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if strings.HasSuffix(base, "-client") {
			args = []string{"--vault-id", id}
		}
		// A name without a directory is the file here, as the stat above
		// found it, not a command of that name on PATH.
		cmd := exec.CommandContext(ctx, scriptPath(path), args...)
		// A script's children can hold its output open after it is killed
		// on cancellation; stop waiting for them. The script keeps tend's
		// process group so that it can prompt on the terminal.
		cmd.WaitDelay = time.Second
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			// The script's stderr is its own diagnostic, not the password.
			return nil, fmt.Errorf("vault password script %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
		}
		pw = bytes.TrimRight(out, "\r\n")
	} else {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("vault password file: %w", err)
		}
		if IsEncrypted(data) {
			return nil, fmt.Errorf("vault password file %s: is itself vault-encrypted, which tend does not support", path)
		}
		pw = bytes.TrimSpace(data)
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("vault password file %s: empty password", path)
	}
	return pw, nil
}

// scriptPath makes a relative script path start with "./" so that exec
// runs that file instead of searching PATH for its name.
func scriptPath(path string) string {
	if filepath.IsAbs(path) || strings.ContainsRune(path, filepath.Separator) {
		return path
	}
	return "." + string(filepath.Separator) + path
}
