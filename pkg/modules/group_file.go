package modules

import "github.com/tend-dev/tend/pkg/module"

// fileModules lists this group's modules for Registry.
func fileModules() []module.Module {
	return []module.Module{
		&File{}, &Copy{}, &Template{}, &Stat{},
		&LineInFile{}, &BlockInFile{}, &Replace{}, &IniFile{},
		&Slurp{}, &Fetch{}, &TempFile{}, &Find{}, &Synchronize{},
	}
}
