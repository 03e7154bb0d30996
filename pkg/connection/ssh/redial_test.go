package ssh

import (
	"errors"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
)

// TestPoolRedialsLostConnection: once a host's connection is lost, Get
// dials again (as Ansible connects again for the next task), and a dial
// that fails while the host is down is not remembered.
func TestPoolRedialsLostConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "nopasswd")
	p := f.pool(t)
	c, err := p.Get(ctxT(t), "target", f.vars())
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Kill()
	if _, err := c.Run(ctxT(t), connection.Command{Cmd: "true"}); !errors.Is(err, connection.ErrUnreachable) {
		t.Fatalf("run on a killed server: %v, want ErrUnreachable", err)
	}
	if _, err := p.Get(ctxT(t), "target", f.vars()); !errors.Is(err, connection.ErrUnreachable) {
		t.Fatalf("Get while the server is down: %v, want ErrUnreachable", err)
	}
	srv := sshtest.StartServer(t, sshtest.ServerOptions{Port: f.srv.Port, HostKeyFile: f.srv.HostKeyFile})
	srv.Authorize(t, f.user.Name, f.key)
	c2, err := p.Get(ctxT(t), "target", f.vars())
	if err != nil {
		t.Fatalf("Get once the server is back: %v", err)
	}
	res, err := c2.Run(ctxT(t), connection.Command{Cmd: "echo back"})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "back" {
		t.Fatalf("run on the new connection: %q, %v", res.Stdout, err)
	}
}
