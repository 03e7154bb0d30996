// Command tend is an agentless configuration-management tool that runs
// Ansible playbooks over SSH with nothing but a POSIX shell on the hosts.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tend-dev/tend/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
