package inventory

import (
	"fmt"

	"github.com/tend-dev/tend/pkg/vault"
)

// ErrVaultEncrypted is wrapped by errors about vault-encrypted files or
// values met while no vault password was given (see Options.Vault). It is
// vault.ErrNoSecret.
var ErrVaultEncrypted = vault.ErrNoSecret

// ParseError is an error in an inventory or variables file. It prints as
// "file:line: message" (or "file:line:col: message" when the column is known)
// so editors can jump to the location.
type ParseError struct {
	File string // path as given by the caller
	Line int    // 1-based; 0 when the error concerns the whole file
	Col  int    // 1-based; 0 when unknown
	Msg  string
	Err  error // optional underlying error, returned by Unwrap
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

// Unwrap returns the underlying error, if any.
func (e *ParseError) Unwrap() error { return e.Err }

func parseErrorf(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
