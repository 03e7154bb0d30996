package modules

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// TestPackagePassesArgumentsOn: package hands the arguments it does not
// know to the package manager's module, as Ansible does; that module
// refuses those it does not know either, as a failed task.
func TestPackagePassesArgumentsOn(t *testing.T) {
	spec := Package{}.Spec()
	args, err := spec.Validate(map[string]any{"name": "bash", "use": "apt", "enablerepo": "epel"}, false)
	if err != nil {
		t.Fatalf("package refused an argument it passes on: %v", err)
	}
	p, err := Package{}.Plan(context.Background(), &module.Host{Name: "x"}, args)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := p.Result["msg"].(string)
	if p.Result["failed"] != true || !strings.Contains(msg, "module apt") || !strings.Contains(msg, `"enablerepo"`) {
		t.Errorf("an argument apt does not know: result = %v, want a failure naming apt and enablerepo", p.Result)
	}

	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query not installed: the apt half needs a Debian host")
	}
	// An argument apt knows reaches it: bash is installed here, so
	// nothing changes (Plan only reads the host).
	args, err = spec.Validate(map[string]any{"name": "bash", "use": "apt", "install_recommends": false}, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err = Package{}.Plan(context.Background(), &module.Host{Name: "x", Conn: connection.Local{}}, args)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result["failed"] == true || p.Result["changed"] == true {
		t.Errorf("package name=bash install_recommends=false via apt: result = %v, want ok", p.Result)
	}
}
