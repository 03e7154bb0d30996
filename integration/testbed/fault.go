package testbed

import (
	"context"
	"fmt"
	"strconv"
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
// lossPercent of them (0-100), with tc netem on both ends of its veth.
// Calling it again replaces the previous setting.
func (b *Bed) Slow(ctx context.Context, host string, delay time.Duration, lossPercent float64) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	if delay < 0 || lossPercent < 0 || lossPercent > 100 {
		return fmt.Errorf("slow %s: delay %s and loss %v%% out of range", host, delay, lossPercent)
	}
	netem := []string{"root", "netem", "delay", strconv.FormatInt(delay.Microseconds(), 10) + "us",
		"loss", strconv.FormatFloat(lossPercent, 'f', -1, 64) + "%"}
	if _, err := run(ctx, "tc", append([]string{"qdisc", "replace", "dev", h.Veth}, netem...)...); err != nil {
		return fmt.Errorf("slow %s: %w", host, err)
	}
	if _, err := run(ctx, "ip", append([]string{"netns", "exec", h.NetnsName, "tc", "qdisc", "replace", "dev", "eth0"}, netem...)...); err != nil {
		return fmt.Errorf("slow %s: %w", host, err)
	}
	return nil
}

// Unslow removes what Slow set. A host that is not slowed is left alone.
func (b *Bed) Unslow(ctx context.Context, host string) error {
	h, err := b.host(host)
	if err != nil {
		return err
	}
	// tc fails when there is no netem qdisc to delete: that is fine.
	_, _ = run(ctx, "tc", "qdisc", "del", "dev", h.Veth, "root")
	_, _ = run(ctx, "ip", "netns", "exec", h.NetnsName, "tc", "qdisc", "del", "dev", "eth0", "root")
	return nil
}
