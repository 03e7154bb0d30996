package testbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// proxyPort is where the bed's apt proxy listens on the bridge address.
const proxyPort = 3128

// startProxy runs a tinyproxy for the bed in the foreground of its own
// session, listening on the bridge address and serving only the bed's
// subnet, with its config and log in dir. It returns the proxy's pid once
// the port answers.
func startProxy(ctx context.Context, dir, listen, subnet string) (int, error) {
	conf := filepath.Join(dir, "tinyproxy.conf")
	text := fmt.Sprintf(`# apt proxy of a tend testbed (written by package testbed)
User nobody
Group nogroup
Port %d
Listen %s
Timeout 600
MaxClients 200
Allow %s
ConnectPort 443
ConnectPort 80
DisableViaHeader Yes
LogLevel Warning
`, proxyPort, listen, subnet)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return 0, fmt.Errorf("apt proxy: %w", err)
	}
	log, err := os.OpenFile(filepath.Join(dir, "tinyproxy.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("apt proxy: %w", err)
	}
	defer log.Close()
	cmd := exec.Command("tinyproxy", "-d", "-c", conf)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("apt proxy: start tinyproxy: %w", err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reap it when it ends while we run
	addr := net.JoinHostPort(listen, fmt.Sprint(proxyPort))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return pid, nil
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("apt proxy: tinyproxy exited: %v (see %s)", err, log.Name())
		case <-ctx.Done():
			_ = killVerified(pid, conf)
			return 0, fmt.Errorf("apt proxy: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = killVerified(pid, conf)
			return 0, fmt.Errorf("apt proxy: tinyproxy does not answer on %s (see %s)", addr, log.Name())
		}
	}
}
