package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// recordingConnector connects locally and records, per task name, the
// connection variables each host was connected with.
type recordingConnector struct {
	mu   sync.Mutex
	seen []string
}

func (c *recordingConnector) Get(ctx context.Context, host string, vars map[string]any) (connection.Connection, error) {
	c.mu.Lock()
	c.seen = append(c.seen, fmt.Sprintf("%s connection=%v user=%v", host, vars["ansible_connection"], vars["ansible_user"]))
	c.mu.Unlock()
	return connection.Local{}, nil
}

// TestConnectionKeywords: the play's and the task's `connection` and
// `remote_user` keywords choose how a host is connected, as in Ansible: a
// task's keyword wins over the play's, a host variable wins over both, and
// both win over the command line's defaults (-u).
func TestConnectionKeywords(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts")
	os.WriteFile(inv, []byte("plain ansible_host=127.0.0.9\npinned ansible_host=127.0.0.9 ansible_connection=ssh ansible_user=inv\n"), 0o644)
	play := filepath.Join(dir, "play.yml")
	os.WriteFile(play, []byte(`- hosts: all
  connection: local
  remote_user: "{{ 'play' + 'user' }}"
  gather_facts: false
  tasks:
    - command: "true"
    - command: "true"
      connection: ssh
      remote_user: task
`), 0o644)
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	pb, err := loader.LoadPlaybook(play)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load([]string{inv})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep := report.NewHuman(&out, report.Options{})
	conn := &recordingConnector{}
	_, err = executor.Run(context.Background(), pb, executor.Options{
		Inventory: hosts, Registry: reg, Loader: loader, Connector: conn, Reporter: rep, Forks: 1,
		DefaultVars: map[string]any{"ansible_user": "from-cli"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep.Close()
	want := []string{
		"plain connection=local user=playuser",
		"pinned connection=ssh user=inv",
		"plain connection=ssh user=task",
		"pinned connection=ssh user=inv",
	}
	if fmt.Sprint(conn.seen) != fmt.Sprint(want) {
		t.Errorf("connected with\n%q\nwant\n%q\n%s", conn.seen, want, out.String())
	}
}
