package modules

import "github.com/tend-dev/tend/pkg/module"

// engineModules are the modules the engine itself relies on.
func engineModules() []module.Module {
	return []module.Module{
		&Command{}, newShell(), &Debug{}, &ValidateArgumentSpec{}, &SetFact{}, &Assert{}, &Fail{}, &Meta{}, &IncludeVars{}, &Ping{}, &GroupBy{}, &AddHost{}, &Pause{}, &AsyncStatus{},
	}
}
