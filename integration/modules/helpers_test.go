package modules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/integration/testbed"
	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/modules"
)

// runModule does what the engine does with a task's arguments: Validate,
// then module.Execute (Plan, Apply unless check). Module failures are in
// the returned result; validation and transport errors end the test.
func runModule(t *testing.T, h *module.Host, name string, raw map[string]any, check bool) (module.Result, *module.Plan) {
	t.Helper()
	m, ok := modules.Registry().Lookup(name)
	if !ok {
		t.Fatalf("module %s not registered", name)
	}
	args, err := m.Spec().Validate(raw, false)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, plan, err := module.Execute(ctx, m, h, args, check)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res, plan
}

// bedConn opens an SSH connection to a bed host as user (root if empty).
func bedConn(t *testing.T, host *testbed.Host, user string) connection.Connection {
	t.Helper()
	if user == "" {
		user = "root"
	}
	pool := ssh.NewPool(ssh.Options{KnownHostsFile: host.KnownHostsFile})
	t.Cleanup(func() { pool.Close() })
	conn, err := pool.Get(context.Background(), host.Name, map[string]any{
		"ansible_host": host.Addr, "ansible_port": host.Port, "ansible_user": user,
		"ansible_ssh_private_key_file": host.KeyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// rootShell returns a function that runs a command as root on a bed host
// over OpenSSH and returns its trimmed output; a failure ends the test.
func rootShell(t *testing.T, bed *testbed.Bed, host string) func(cmd string) string {
	return func(cmd string) string {
		t.Helper()
		out, err := bed.SSH(context.Background(), host, cmd)
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		return strings.TrimSpace(out)
	}
}
