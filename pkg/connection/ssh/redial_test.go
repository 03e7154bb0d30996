package ssh

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
)

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
