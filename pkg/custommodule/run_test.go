package custommodule

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// runLocal runs the module file at path on this machine, as a task would
// with the local connection, with HOME set to a fresh directory so that
// the temporary files left behind show.
func runLocal(t *testing.T, lib *Library, name string, args module.Args, vars map[string]any, check bool) (module.Result, string) {
	t.Helper()
	home := t.TempDir()
	m, ok := lib.Lookup(name)
	if !ok {
		t.Fatalf("module %s not found", name)
	}
	var warns []string
	h := &module.Host{Name: "local", Conn: connection.Local{}, Vars: vars, Env: map[string]string{"HOME": home, "TEND_TEST_ENV": "from-env"},
		Warn: func(s string) { warns = append(warns, s) }}
	res, err := m.(module.Runner).Run(context.Background(), h, args, module.RunOptions{Check: check, Version: "2.14.0"})
	if err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(home, ".ansible", "tmp", "*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	return res, strings.Join(warns, "\n")
}

func library(t *testing.T, files map[string]string) *Library {
	d := t.TempDir()
	for name, content := range files {
		write(t, filepath.Join(d, name), content)
	}
	return &Library{Find: func(name string) (string, bool) { return Find([]string{d}, name) }, Version: "2.14.0"}
}

func TestRunScript(t *testing.T) {
	lib := library(t, map[string]string{
		"env_sh":   "#!/bin/sh\n# WANT_JSON\necho \"{\\\"changed\\\": true, \\\"env\\\": \\\"$TEND_TEST_ENV\\\", \\\"args\\\": $(cat \"$1\")}\"\n",
		"jsonargs": "#!/bin/sh\ncat <<'X'\n{\"changed\": false, \"got\": <<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>}\nX\n",
		"noline":   "echo hi\n",
	})
	res, _ := runLocal(t, lib, "env_sh", module.Args{"word": "x y", "n": 1.0}, nil, true)
	a, _ := res["args"].(map[string]any)
	if res["changed"] != true || res["env"] != "from-env" || a["word"] != "x y" || a["n"] != 1.0 || a["_ansible_check_mode"] != true || a["_ansible_module_name"] != "env_sh" {
		t.Errorf("got %v", res)
	}
	res, _ = runLocal(t, lib, "jsonargs", module.Args{"k": "v"}, nil, false)
	if g, _ := res["got"].(map[string]any); g["k"] != "v" || g["_ansible_check_mode"] != false {
		t.Errorf("got %v", res)
	}
	res, _ = runLocal(t, lib, "noline", nil, nil, false)
	if res["msg"] != "module (noline) is missing interpreter line" {
		t.Errorf("got %v", res)
	}
}

func TestRunInterpreterMissing(t *testing.T) {
	lib := library(t, map[string]string{"py.py": "#!/usr/bin/python\nimport json\nprint(json.dumps({}))\n"})
	res, _ := runLocal(t, lib, "py", nil, map[string]any{"ansible_python_interpreter": "/nonexistent/python9"}, false)
	if msg, _ := res["msg"].(string); !strings.HasPrefix(msg, "The module failed to execute correctly, you probably need to set the interpreter.") || res["failed"] != true {
		t.Errorf("got %v", res)
	}
}

func TestRunNewStyleWithoutModuleUtils(t *testing.T) {
	lib := library(t, map[string]string{"new.py": "#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n"})
	lib.CoreModuleUtils = t.TempDir()
	res, _ := runLocal(t, lib, "new", nil, nil, false)
	if msg, _ := res["msg"].(string); !strings.Contains(msg, "needs ansible-core's module_utils on the controller") || !strings.Contains(msg, "install ansible-core") {
		t.Errorf("got %v", res)
	}
}

// TestRunNewStyle runs a new-style module with ansible-core's
// module_utils, when this machine has them and python3.
func TestRunNewStyle(t *testing.T) {
	core, err := FindCoreModuleUtils(context.Background())
	if err != nil {
		t.Skipf("no ansible-core here: %v", err)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 here")
	}
	lib := library(t, map[string]string{"new.py": `#!/usr/bin/python
import os
from ansible.module_utils.basic import AnsibleModule
m = AnsibleModule(argument_spec=dict(n=dict(type='int', required=True)), supports_check_mode=True)
m.exit_json(changed=True, n=m.params['n'] * 2, check=m.check_mode, env=os.environ.get('TEND_TEST_ENV'))
`})
	lib.CoreModuleUtils = core
	res, _ := runLocal(t, lib, "new", module.Args{"n": "21"}, nil, true)
	if res["n"] != 42 || res["check"] != true || res["env"] != "from-env" || res["discovered_interpreter_python"] != nil {
		t.Errorf("got %v", res)
	}
	if f, _ := res["ansible_facts"].(map[string]any); f["discovered_interpreter_python"] == nil {
		t.Errorf("no discovered interpreter in %v", res)
	}
	res, _ = runLocal(t, lib, "new", module.Args{"n": 1, "bogus": 1}, nil, false)
	if msg, _ := res["msg"].(string); res["failed"] != true || !strings.Contains(msg, "Unsupported parameters") {
		t.Errorf("got %v", res)
	}
	if _, err := os.Stat(core); err != nil {
		t.Fatal(err)
	}
}
