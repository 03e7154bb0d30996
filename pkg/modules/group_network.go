package modules

import "github.com/tend-dev/tend/pkg/module"

// networkModules lists this group's modules for Registry: network
// transfers and checks, remote execution without transfer, PostgreSQL.
func networkModules() []module.Module {
	return []module.Module{
		PostgresqlDB{},
		PostgresqlUser{},
		PostgresqlPrivs{},
		PostgresqlQuery{},
		Raw{},
		Script{},
		WaitFor{},
		URI{},
		GetURL{},
		Unarchive{},
		Helm{},
		HelmRepository{},
		K8s{},
		K8sInfo{},
	}
}
