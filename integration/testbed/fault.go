package testbed

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// PowerOff stops host at once, like pulling its power cord: every process
// of the container is killed without a shutdown. Its disk (the overlay)
// keeps what was written. A host that is off stays off.
func (b *Bed) PowerOff(ctx context.Context, host string) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	b.mu.Lock()
	err = h.stop(ctx)
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("power off: %w", err)
	}
	return b.save()
}

// PowerOn boots a powered-off host again and waits until it answers SSH
// and its boot finished. A running host is left alone.
func (b *Bed) PowerOn(ctx context.Context, host string) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if h.PID > 0 && processAlive(h.PID) {
		b.mu.Unlock()
		return nil
	}
	err = h.boot()
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("power on: %w", err)
	}
	if err := b.save(); err != nil {
		return err
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := b.waitReady(bctx, h); err != nil {
		return fmt.Errorf("power on: %w", err)
	}
	return nil
}

// LinkDown cuts host's network cable: its veth end on the bridge goes
// down, so packets neither reach it nor leave it. Connections hang until
// their timeouts.
func (b *Bed) LinkDown(ctx context.Context, host string) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "link", "set", h.Veth, "down"); err != nil {
		return fmt.Errorf("link down %s: %w", host, err)
	}
	return nil
}

// LinkUp plugs host's network cable back in.
func (b *Bed) LinkUp(ctx context.Context, host string) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "link", "set", h.Veth, "up"); err != nil {
		return fmt.Errorf("link up %s: %w", host, err)
	}
	return nil
}

// Slow delays every packet between the controller and host by delay in
// each direction (so a round trip takes 2×delay longer) and drops
// lossPercent of them (0-100) in each direction. Calling it again replaces
// the previous setting.
//
// It uses tc netem on both ends of the host's veth. Kernels without netem
// (CONFIG_NET_SCH_NETEM unset, like the project's VMs) can only drop
// packets, which is done with nftables in the host's namespace; a delay
// then fails with an error wrapping errors.ErrUnsupported.
func (b *Bed) Slow(ctx context.Context, host string, delay time.Duration, lossPercent float64) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	if delay < 0 || lossPercent < 0 || lossPercent > 100 {
		return fmt.Errorf("slow %s: delay %s and loss %v%% out of range", host, delay, lossPercent)
	}
	if err := b.Unslow(ctx, host); err != nil {
		return err
	}
	netem := []string{"root", "netem", "delay", strconv.FormatInt(delay.Microseconds(), 10) + "us",
		"loss", strconv.FormatFloat(lossPercent, 'f', -1, 64) + "%"}
	_, err = run(ctx, "tc", append([]string{"qdisc", "replace", "dev", h.Veth}, netem...)...)
	if err == nil {
		if _, err := run(ctx, "ip", append([]string{"netns", "exec", h.NetnsName, "tc", "qdisc", "replace", "dev", "eth0"}, netem...)...); err != nil {
			return fmt.Errorf("slow %s: %w", host, err)
		}
		return nil
	}
	if !strings.Contains(err.Error(), "qdisc kind is unknown") {
		return fmt.Errorf("slow %s: %w", host, err)
	}
	if delay > 0 {
		return fmt.Errorf("slow %s: delay: %w: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM); only packet loss can be emulated", host, errors.ErrUnsupported)
	}
	if lossPercent == 0 {
		return nil
	}
	// Drop a random share of the packets in and out of the host.
	match := "numgen random mod 10000 < " + strconv.Itoa(int(lossPercent*100)) + " " // basis points
	if lossPercent == 100 {
		match = ""
	}
	rules := fmt.Sprintf(`table inet %[1]s {
	chain in { type filter hook input priority 0; policy accept; %[2]sdrop; }
	chain out { type filter hook output priority 0; policy accept; %[2]sdrop; }
}
`, slowTable, match)
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", h.NetnsName, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("slow %s: nft (package nftables): %w: %s", host, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// slowTable is the nftables table Slow adds inside a host's namespace.
const slowTable = "testbed_slow"

// Unslow removes what Slow set. A host that is not slowed is left alone.
func (b *Bed) Unslow(ctx context.Context, host string) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range [][]string{
		{"tc", "qdisc", "del", "dev", h.Veth, "root"},
		{"ip", "netns", "exec", h.NetnsName, "tc", "qdisc", "del", "dev", "eth0", "root"},
	} {
		// Deleting the default qdisc fails harmlessly when nothing was set.
		if _, err := run(ctx, c[0], c[1:]...); err != nil && !strings.Contains(err.Error(), "handle of zero") && !strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err)
		}
	}
	if _, err := exec.LookPath("nft"); err == nil {
		if _, err := run(ctx, "ip", "netns", "exec", h.NetnsName, "nft", "delete", "table", "inet", slowTable); err != nil &&
			!strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("unslow %s: %w", host, errors.Join(errs...))
	}
	return nil
}
