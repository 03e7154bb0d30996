// Command testbed boots real Debian hosts on this machine (systemd-nspawn
// containers on a private bridge, reachable over SSH) for trying tend by
// hand and for demos. It needs root. See integration/testbed/README.md.
//
//	testbed up [-n NAME] [--python] HOST[:ROLE]...   boot hosts (web[1:3] expands to web1 web2 web3)
//	testbed status                                    list beds and their hosts
//	testbed ssh [-n NAME] HOST [COMMAND...]           log in to a host, or run a command there
//	testbed inventory [-n NAME]                       print the paths of the inventories and keys
//	testbed down [-n NAME]                            stop the hosts and remove everything
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newApp(os.Stdin, os.Stdout, os.Stderr).RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		os.Exit(exitCode(err))
	}
}
