package modules

import "github.com/tend-dev/tend/pkg/module"

// systemModules lists this group's modules for Registry.
func systemModules() []module.Module {
	return []module.Module{}
}
