package modules

import "github.com/tend-dev/tend/pkg/module"

// newShell returns the shell module: command, but through /bin/sh.
func newShell() module.Module { return &Command{useShell: true} }
