package modules

import "github.com/tend-dev/tend/pkg/module"

// networkModules lists this group's modules for Registry.
func networkModules() []module.Module {
	return []module.Module{}
}
