package modules

import "github.com/tend-dev/tend/pkg/module"

// engineModules lists this group's modules for Registry.
func engineModules() []module.Module {
	return []module.Module{}
}
