package modules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/template"
)

// fileTemplar renders with tend's template engine.
type fileTemplar struct{ e *template.Engine }

func (t fileTemplar) Render(s string) (string, error)    { return t.e.RenderString(s, nil) }
func (t fileTemplar) Eval(expr string) (any, error)      { return t.e.Render("{{ "+expr+" }}", nil) }
func (t fileTemplar) Condition(expr string) (any, error) { return t.e.EvalCondition(expr, nil) }
func (t fileTemplar) Value(expr string) (any, error)     { return t.e.EvalValue(expr, nil) }
func (t fileTemplar) RenderWith(s string, extra map[string]any) (string, error) {
	return t.e.RenderString(s, extra)
}

type fileFinder string

func (d fileFinder) Find(kind, name string) (string, error) {
	p := filepath.Join(string(d), kind, name)
	_, err := os.Stat(p)
	return p, err
}

// runFileModule runs a module that must not fail.
func runFileModule(t *testing.T, h *module.Host, name string, raw map[string]any, check bool) module.Result {
	t.Helper()
	res, _ := runModule(t, h, name, raw, check)
	if res["failed"] == true {
		t.Fatalf("%s failed: %v", name, res["msg"])
	}
	return res
}

// TestFileModulesWithBecome runs the file modules on a testbed host as an
// unprivileged login user with sudo become, writing root-owned 0600 files.
func TestFileModulesWithBecome(t *testing.T) {
	bed := testbed.Start(t, testbed.HostSpec{Name: "f1"})
	host := bed.Hosts[0]
	root := rootShell(t, bed, host.Name)
	root("id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy; " +
		"echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy; chmod 0440 /etc/sudoers.d/deploy; " +
		"mkdir -p ~deploy/.ssh; cp /root/.ssh/authorized_keys ~deploy/.ssh/; chown -R deploy: ~deploy/.ssh; " +
		"mkdir -p /etc/tendtest; printf '[Server]\\n\\tAddress = x\\n' > /etc/tendtest/pm.gcfg")

	conn := bedConn(t, host, "deploy")
	ctrl := t.TempDir()
	os.MkdirAll(filepath.Join(ctrl, "templates"), 0o755)
	os.WriteFile(filepath.Join(ctrl, "templates", "app.j2"), []byte("# {{ ansible_managed }}\nhost={{ template_host }}\n"), 0o644)
	h := &module.Host{Name: host.Name, Conn: conn, Become: &connection.Become{Method: "sudo"},
		Templar: fileTemplar{template.New(template.Options{})}, Files: fileFinder(ctrl), Diff: true, Warn: func(string) {}}

	state := func() string {
		return root("cd /etc/tendtest && find . -exec stat -c '%n %U %a' {} + | sort; sha1sum $(find . -type f | sort) 2>/dev/null")
	}
	tasks := []struct {
		name  string
		mod   string
		args  map[string]any
		check string // command whose output must contain want after the run
		want  string
	}{
		{"copy root 0600", "copy", map[string]any{"content": "secret=1\n", "dest": "/etc/tendtest/secret.conf", "owner": "root", "group": "root", "mode": "0600"},
			"stat -c '%U %G %a' /etc/tendtest/secret.conf", "root root 600"},
		{"template", "template", map[string]any{"src": "app.j2", "dest": "/etc/tendtest/app.conf", "mode": "0640"},
			"head -1 /etc/tendtest/app.conf", "# Ansible managed"},
		{"lineinfile", "lineinfile", map[string]any{"path": "/etc/tendtest/secret.conf", "regexp": "^secret=", "line": "secret=2"},
			"stat -c '%U %a' /etc/tendtest/secret.conf; cat /etc/tendtest/secret.conf", "root 600\nsecret=2"},
		{"ini_file gcfg", "ini_file", map[string]any{"path": "/etc/tendtest/pm.gcfg", "gcfg": true, "section": `Database "main"`, "option": "Provider", "value": "postgres", "mode": "0600"},
			"cat /etc/tendtest/pm.gcfg", "[Database \"main\"]\n\tProvider = postgres"},
		{"file directory", "file", map[string]any{"path": "/etc/tendtest/private", "state": "directory", "mode": "0700", "owner": "root"},
			"stat -c '%U %a' /etc/tendtest/private", "root 700"},
	}
	for _, task := range tasks {
		t.Run(task.name, func(t *testing.T) {
			before := state()
			if r := runFileModule(t, h, task.mod, task.args, true); r["changed"] != true {
				t.Fatalf("check mode predicted no change: %v", r)
			}
			if after := state(); after != before {
				t.Fatalf("check mode changed the host:\n%s\n---\n%s", before, after)
			}
			if r := runFileModule(t, h, task.mod, task.args, false); r["changed"] != true {
				t.Fatalf("first run: %v", r)
			}
			if out := root(task.check); !strings.Contains(out, task.want) {
				t.Errorf("after run: %q does not contain %q", out, task.want)
			}
			if r := runFileModule(t, h, task.mod, task.args, false); r["changed"] != false {
				t.Errorf("second run changed: %v", r)
			}
		})
	}
}
