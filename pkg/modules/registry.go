package modules

import "github.com/tend-dev/tend/pkg/module"

// Registry returns every module tend ships, by name.
func Registry() *module.Registry {
	var all []module.Module
	all = append(all, engineModules()...)
	all = append(all, fileModules()...)
	all = append(all, systemModules()...)
	all = append(all, networkModules()...)
	return module.NewRegistry(all...)
}
