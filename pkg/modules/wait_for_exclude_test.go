package modules

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestProcNetHex(t *testing.T) {
	got := strings.Join(procNetHex(netip.MustParseAddr("10.2.1.2")), " ")
	if got != "0201020A 0000000000000000FFFF00000201020A" {
		t.Errorf("IPv4: %s", got)
	}
	if got := procNetHex(netip.MustParseAddr("::1")); got[0] != "00000000000000000000000001000000" {
		t.Errorf("::1: %s", got)
	}
}

// TestWaitForExcludeHosts: an established connection from 127.0.0.1
// keeps the port from being drained unless exclude_hosts names it.
func TestWaitForExcludeHosts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := l.Addr().(*net.TCPAddr).Port
	h := &module.Host{Name: "localhost", Conn: connection.Local{}}
	r, _ := netRun(t, h, WaitFor{}, map[string]any{"port": port, "state": "drained", "timeout": 1}, false)
	if !netFailed(r) {
		t.Fatalf("drained with a live connection: %v", r)
	}
	for _, ex := range []string{"127.0.0.1", "localhost"} {
		r, _ = netRun(t, h, WaitFor{}, map[string]any{"port": port, "state": "drained", "timeout": 5, "exclude_hosts": []any{ex}}, false)
		if netFailed(r) {
			t.Errorf("exclude_hosts %s: %v", ex, r)
		}
	}
	r, _ = netRun(t, h, WaitFor{}, map[string]any{"port": port, "timeout": 5, "exclude_hosts": []any{"127.0.0.1"}}, false)
	if !netFailed(r) || r["msg"] != "exclude_hosts should only be with state=drained" {
		t.Errorf("exclude_hosts with started: %v", r)
	}
}
