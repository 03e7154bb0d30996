// Command tend is an agentless configuration-management tool that runs
// Ansible playbooks over SSH with nothing but a POSIX shell on the hosts.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tend-dev/tend/pkg/cli"
)

// stopGrace is how long tend may take to stop after SIGINT or SIGTERM
// before it exits anyway.
const stopGrace = 3 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go exitIfStuck(ctx)
	code := cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitIfStuck ends tend when it has not stopped on its own stopGrace after
// a signal, or at a second signal. Catching the signals turns off their
// default action, so a wait that does not watch the context (a read from
// a pipe or FIFO that never ends) would otherwise never end. Commands tend
// started are killed as soon as the context is cancelled, before this.
func exitIfStuck(ctx context.Context) {
	<-ctx.Done()
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	select {
	case <-again:
	case <-time.After(stopGrace):
	}
	fmt.Fprintln(os.Stderr, "ERROR: interrupted, and tend did not stop by itself: exiting")
	os.Exit(cli.ExitInterrupted)
}
