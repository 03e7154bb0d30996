package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/tend-dev/tend/pkg/atomicfile"
	"github.com/tend-dev/tend/pkg/vault"
)

// vaultFlags are the vault password options shared by play, inventory
// and vault, spelled as in ansible-playbook.
func vaultFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringSliceFlag{Name: "vault-password-file", Aliases: []string{"vault-pass-file"}, Usage: "file holding the vault password, or an executable printing it (repeatable; $ANSIBLE_VAULT_PASSWORD_FILE is tried too)"},
		&ucli.BoolFlag{Name: "ask-vault-pass", Aliases: []string{"J", "ask-vault-password"}, Usage: "ask for the vault password"},
		&ucli.StringSliceFlag{Name: "vault-id", Usage: "vault password by id: [LABEL@]FILE, [LABEL@]SCRIPT or [LABEL@]prompt (repeatable)"},
	}
}

// vaultSources reads the vault flags of c.
func vaultSources(c *ucli.Context) vault.Sources {
	return vault.Sources{
		PasswordFiles:   c.StringSlice("vault-password-file"),
		IDs:             c.StringSlice("vault-id"),
		Ask:             c.Bool("ask-vault-pass"),
		EnvPasswordFile: os.Getenv("ANSIBLE_VAULT_PASSWORD_FILE"),
	}
}

// loadKeyring builds the keyring from the vault flags, prompting on
// stdin/stderr when asked. The keyring may be empty: vault data then fails
// with an error telling which flags to pass.
func loadKeyring(ctx context.Context, src vault.Sources, stdin io.Reader, stderr io.Writer) (*vault.Keyring, error) {
	src.Prompt = func(p string) (string, error) { return readSecret(ctx, stdin, stderr, p) }
	return vault.Load(ctx, src)
}

func vaultCommand() *ucli.Command {
	withKeyring := func(action func(c *ucli.Context, k *vault.Keyring) error) ucli.ActionFunc {
		return func(c *ucli.Context) error {
			k, err := loadKeyring(c.Context, vaultSources(c), c.App.Reader, c.App.ErrWriter)
			if err != nil {
				return exitWith(ExitError, err)
			}
			if k.Len() == 0 {
				return exitWith(ExitError, fmt.Errorf("vault %s: %w", c.Command.Name, vault.ErrNoSecret))
			}
			if err := action(c, k); err != nil {
				return exitWith(ExitError, err)
			}
			return nil
		}
	}
	encryptID := &ucli.StringFlag{Name: "encrypt-vault-id", Usage: "vault id whose password encrypts (default: the first given)"}
	output := &ucli.StringFlag{Name: "output", Usage: "write to this file instead of in place ('-' for standard output); one input file only"}
	return &ucli.Command{
		Name:  "vault",
		Usage: "encrypt and decrypt Ansible Vault files and strings (like ansible-vault)",
		Subcommands: []*ucli.Command{
			{
				Name:      "encrypt",
				Usage:     "encrypt files in place (mode 0600)",
				ArgsUsage: "FILE...",
				Flags:     append(vaultFlags(), encryptID, output),
				Action: withKeyring(func(c *ucli.Context, k *vault.Keyring) error {
					return vaultRewrite(c, func(file string, data []byte) ([]byte, error) {
						if vault.IsEncrypted(data) {
							return nil, fmt.Errorf("%s: already vault-encrypted", file)
						}
						return k.Encrypt(data, c.String("encrypt-vault-id"))
					})
				}),
			},
			{
				Name:      "decrypt",
				Usage:     "decrypt files in place (mode 0600)",
				ArgsUsage: "FILE...",
				Flags:     append(vaultFlags(), output),
				Action: withKeyring(func(c *ucli.Context, k *vault.Keyring) error {
					return vaultRewrite(c, func(file string, data []byte) ([]byte, error) {
						if !vault.IsEncrypted(data) {
							return nil, fmt.Errorf("%s: not vault-encrypted", file)
						}
						return k.Decrypt(file, data)
					})
				}),
			},
			{
				Name:      "view",
				Usage:     "print decrypted files",
				ArgsUsage: "FILE...",
				Flags:     vaultFlags(),
				Action: withKeyring(func(c *ucli.Context, k *vault.Keyring) error {
					if c.NArg() == 0 {
						return errors.New("vault view: no file given")
					}
					for _, f := range c.Args().Slice() {
						data, err := os.ReadFile(f)
						if err != nil {
							return fmt.Errorf("vault view: %w", err)
						}
						plain, err := k.Decrypt(f, data)
						if err != nil {
							return err
						}
						if _, err := c.App.Writer.Write(plain); err != nil {
							return err
						}
					}
					return nil
				}),
			},
			{
				Name:      "encrypt_string",
				Aliases:   []string{"encrypt-string"},
				Usage:     "print strings encrypted as inline '!vault |' YAML values (reads standard input without arguments)",
				ArgsUsage: "[STRING...]",
				Flags:     append(vaultFlags(), encryptID, &ucli.StringSliceFlag{Name: "name", Aliases: []string{"n"}, Usage: "variable name for each string (repeatable)"}),
				Action: withKeyring(func(c *ucli.Context, k *vault.Keyring) error {
					values := c.Args().Slice()
					if len(values) == 0 {
						b, err := io.ReadAll(c.App.Reader)
						if err != nil {
							return fmt.Errorf("vault encrypt_string: read standard input: %w", err)
						}
						values = []string{string(b)}
					}
					names := c.StringSlice("name")
					for i, v := range values {
						enc, err := k.Encrypt([]byte(v), c.String("encrypt-vault-id"))
						if err != nil {
							return fmt.Errorf("vault encrypt_string: %w", err)
						}
						name := ""
						if i < len(names) {
							name = names[i]
						}
						fmt.Fprint(c.App.Writer, vault.FormatInline(name, enc))
					}
					return nil
				}),
			},
		},
	}
}

// vaultRewrite applies fn to every file argument and writes the result
// back atomically (or to --output).
func vaultRewrite(c *ucli.Context, fn func(file string, data []byte) ([]byte, error)) error {
	files := c.Args().Slice()
	if len(files) == 0 {
		return fmt.Errorf("vault %s: no file given", c.Command.Name)
	}
	out := c.String("output")
	if out != "" && len(files) > 1 {
		return fmt.Errorf("vault %s: --output takes one input file", c.Command.Name)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("vault %s: %w", c.Command.Name, err)
		}
		res, err := fn(f, data)
		if err != nil {
			return err
		}
		switch out {
		case "-":
			_, err = c.App.Writer.Write(res)
		case "":
			err = atomicfile.Write(f, res, 0o600)
		default:
			err = atomicfile.Write(out, res, 0o600)
		}
		if err != nil {
			return fmt.Errorf("vault %s: %w", c.Command.Name, err)
		}
		if out == "" {
			fmt.Fprintf(c.App.ErrWriter, "%s successful: %s\n", strings.ToUpper(c.Command.Name[:1])+c.Command.Name[1:]+"ion", f)
		}
	}
	return nil
}
