package modules

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// systemModules lists this group's modules for Registry.
func systemModules() []module.Module {
	return []module.Module{
		&Apt{}, &AptRepository{}, &Deb822Repository{},
		&Dnf{}, &Yum{}, &Package{},
		&Systemd{}, &SystemdService{}, &Service{},
		&User{}, &Group{},
		&Mount{}, &Sysctl{}, &Cron{}, &Hostname{}, &AuthorizedKey{}, &Timezone{}, &Getent{}, &Setup{},
		&ServiceFacts{}, &PackageFacts{}, &Git{}, &WaitForConnection{}, &Reboot{},
		&LocaleGen{}, &PamLimits{}, &Debconf{}, &Alternatives{},
		&KnownHosts{}, &Modprobe{}, &AptKey{}, &Capabilities{}, &OpensshKeypair{}, &Pamd{}, &Ufw{},
	}
}

// factVar returns a fact from h.Vars under its ansible_ name or inside
// ansible_facts, or "".
func factVar(h *module.Host, name string) string {
	if v, ok := h.Vars["ansible_"+name]; ok && v != nil {
		return fmt.Sprint(v)
	}
	if f, ok := h.Vars["ansible_facts"].(map[string]any); ok {
		if v, ok := f[name]; ok && v != nil {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// withChanged returns r with "changed" set, for Apply steps whose real
// outcome may differ from the prediction (a refreshed package cache).
func withChanged(r module.Result, changed bool) module.Result {
	r["changed"] = changed
	return r
}

// putOpts returns PutOptions with the task's become.
func putOpts(h *module.Host, mode fs.FileMode) connection.PutOptions {
	return connection.PutOptions{Mode: mode, Become: h.Become}
}

// argFloat returns a float argument or 0.
func argFloat(a module.Args, name string) float64 {
	switch x := a[name].(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f
	}
	return 0
}
