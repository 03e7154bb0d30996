package testbed

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killVerified sends SIGKILL to pid only if its command line still
// contains mark (a path unique to the bed), so a recycled pid of an
// unrelated process is never hit. A process that is gone is not an error.
func killVerified(pid int, mark string) error {
	if pid <= 0 {
		return nil
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil // gone
	}
	if !strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), mark) {
		return nil // the pid now belongs to someone else
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	return nil
}

// waitGone waits until none of pids exists (or is a zombie) any more.
func waitGone(pids []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var alive []string
		for _, p := range pids {
			if processAlive(p) {
				alive = append(alive, strconv.Itoa(p))
			}
		}
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes still running after %s: %s", timeout, strings.Join(alive, " "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return !(i >= 0 && i+2 < len(s) && s[i+2] == 'Z')
}
