package ssh

import (
	"context"
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

// TestRedial: a redialed connection replaces the old one in the pool, and
// the old one is closed.
func TestRedial(t *testing.T) {
	f := newFixture(t, "")
	p := f.pool(t)
	ctx := ctxT(t)
	c1, err := p.Get(ctx, "target", f.vars())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := c1.(connection.Redialer).Redial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c2 == c1 {
		t.Fatal("Redial returned the same connection")
	}
	if _, err := c1.Run(ctx, connection.Command{Cmd: "true"}); err == nil {
		t.Error("the old connection still runs commands")
	}
	if got := mustOut(t, c2, "echo pong", nil); strings.TrimSpace(got) != "pong" {
		t.Errorf("new connection: %q", got)
	}
	if c3, err := p.Get(ctx, "target", f.vars()); err != nil || c3 != c2 {
		t.Errorf("pool hands out %v (%v), want the new connection", c3, err)
	}
	// Redialing the old connection again shares the healthy replacement.
	if c4, err := c1.(connection.Redialer).Redial(context.Background()); err != nil || c4 != c2 {
		t.Errorf("second redial of the old connection: %v (%v)", c4, err)
	}
}
