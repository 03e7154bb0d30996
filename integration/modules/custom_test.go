package modules_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/custommodule"
	"github.com/tend-dev/tend/pkg/module"
)

// TestCustomModulesOnHosts runs modules content ships in library/ on real
// Debian hosts over SSH: a new-style Python module (ansible-core's
// module_utils from this machine, packed as AnsiballZ) on a host with
// python3, in check mode and for real; a WANT_JSON shell script on a host
// without Python; the Python module there fails saying what to install.
// Nothing is left in the remote temporary directory.
func TestCustomModulesOnHosts(t *testing.T) {
	core, err := custommodule.FindCoreModuleUtils(context.Background())
	if err != nil {
		t.Skipf("no ansible-core on this machine: %v", err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"marker.py": `#!/usr/bin/python
import os
from ansible.module_utils.basic import AnsibleModule
m = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True)), supports_check_mode=True)
p = m.params['path']
changed = not os.path.exists(p)
if changed and not m.check_mode:
    open(p, 'w').close()
m.exit_json(changed=changed, path=p)
`,
		"shellmod": "#!/bin/sh\n# WANT_JSON\nprintf '{\"changed\": false, \"host\": \"%s\"}\\n' \"$(hostname)\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lib := &custommodule.Library{Find: func(n string) (string, bool) { return custommodule.Find([]string{dir}, n) }, CoreModuleUtils: core, Version: "2.14.0"}
	bed := testbed.Start(t, testbed.HostSpec{Name: "py", Python: true}, testbed.HostSpec{Name: "nopy"})
	run := func(t *testing.T, host *testbed.Host, name string, args module.Args, check bool) module.Result {
		t.Helper()
		m, ok := lib.Lookup(name)
		if !ok {
			t.Fatalf("%s not found", name)
		}
		h := &module.Host{Name: host.Name, Conn: bedConn(t, host, ""), Vars: map[string]any{}, Warn: func(string) {}}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := m.(module.Runner).Run(ctx, h, args, module.RunOptions{Check: check})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	py, nopy := bed.Hosts[0], bed.Hosts[1]
	if py.Name != "py" {
		py, nopy = nopy, py
	}
	sh := rootShell(t, bed, py.Name)
	args := module.Args{"path": "/root/marker"}
	if r := run(t, py, "marker", args, true); r["changed"] != true || r["failed"] != false {
		t.Errorf("check run: %v", r)
	}
	if got := sh("test -e /root/marker && echo yes || echo no"); got != "no" {
		t.Errorf("the check run created the file")
	}
	if r := run(t, py, "marker", args, false); r["changed"] != true {
		t.Errorf("first run: %v", r)
	}
	if r := run(t, py, "marker", args, false); r["changed"] != false || r["path"] != "/root/marker" {
		t.Errorf("second run: %v", r)
	}
	if left := sh("ls -A /root/.ansible/tmp 2>/dev/null | wc -l"); left != "0" {
		t.Errorf("%s entries left in /root/.ansible/tmp", left)
	}

	if r := run(t, nopy, "shellmod", nil, false); r["failed"] != false || r["host"] == "" {
		t.Errorf("shell module without Python: %v", r)
	}
	r := run(t, nopy, "marker", args, false)
	if msg, _ := r["msg"].(string); r["failed"] != true || !strings.Contains(msg, "needs Python on nopy") || !strings.Contains(msg, "install python3") {
		t.Errorf("Python module on a host without Python: %v", r)
	}
}
