package modules

import "github.com/tend-dev/tend/pkg/module"

// NewShell returns the shell module: command, but through /bin/sh.
func NewShell() module.Module { return &Command{useShell: true} }
