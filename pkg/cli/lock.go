package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sys/unix"
)

// ExitLocked is returned when another run holds the run lock. It is
// sysexits.h's EX_TEMPFAIL ("try again later"): Ansible uses 0-2, 4-6,
// 8, 99, 250 and 255 and reserves 3 for unreachable hosts, so none of
// its codes can be read as "locked".
const ExitLocked = 75

// lockDirEnv overrides where run locks are kept (tests, or hosts where
// /run is not shared between the users who run tend).
const lockDirEnv = "TEND_LOCK_DIR"

// runLock is a held run lock; Release lets the next run in.
type runLock struct {
	fl *flock.Flock
}

// Release unlocks. The file stays: removing it would let a waiting run
// lock an unlinked inode while a third run creates a new file.
func (l *runLock) Release() {
	if l != nil {
		_ = l.fl.Unlock()
	}
}

// lockDir picks the directory for run locks: /run/tend when it can be
// written (root, or a tmpfiles.d entry), else the user's runtime
// directory, else a per-user directory under the temporary directory.
func lockDir() (string, error) {
	if d := os.Getenv(lockDirEnv); d != "" {
		return d, os.MkdirAll(d, 0o755)
	}
	if err := os.MkdirAll("/run/tend", 0o755); err == nil && unix.Access("/run/tend", unix.W_OK) == nil {
		return "/run/tend", nil
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		d := filepath.Join(x, "tend")
		if err := os.MkdirAll(d, 0o700); err == nil {
			return d, nil
		}
	}
	// Per user: a shared /tmp/tend would let any user plant the file.
	d := filepath.Join(os.TempDir(), "tend-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create lock directory %s: %w", d, err)
	}
	return d, nil
}

// lockKey names the lock of a run of playbooks against inventories: a
// hash of their absolute paths, so "tend play -i inv site.yml" run from
// two directories is one run. Sources that are not files (a comma list
// of hosts) are hashed as written.
func lockKey(inventories, playbooks []string) string {
	h := sha256.New()
	for _, group := range [][]string{inventories, playbooks} {
		for _, p := range group {
			if _, err := os.Stat(p); err == nil {
				if a, err := filepath.Abs(p); err == nil {
					p = a
				}
			}
			fmt.Fprintf(h, "%s\x00", p)
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// acquireRunLock takes the run lock at path, waiting up to wait for it
// (0: not at all). Once held, the lock file names this process so that a
// blocked run can say who holds it. The kernel drops a flock when its
// holder dies, so a lock left by a killed run never blocks.
func acquireRunLock(ctx context.Context, path string, wait time.Duration, args []string) (*runLock, error) {
	fl := flock.New(path, flock.SetPermissions(0o644))
	var ok bool
	var err error
	if wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		ok, err = fl.TryLockContext(wctx, 100*time.Millisecond)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = nil
		}
	} else {
		ok, err = fl.TryLock()
	}
	if err != nil {
		return nil, exitWith(ExitError, fmt.Errorf("take run lock %s: %w", path, err))
	}
	if !ok {
		msg := fmt.Sprintf("another tend run holds the lock %s", path)
		if wait > 0 {
			msg += fmt.Sprintf(" (waited %s)", wait)
		}
		return nil, exitWith(ExitLocked, fmt.Errorf("%s: %s; wait for it with --wait-lock DURATION", msg, holder(path)))
	}
	info := fmt.Sprintf("pid=%d\nstarted=%s\ncommand=%s\n", os.Getpid(), time.Now().Format(time.RFC3339), strings.Join(args, " "))
	if err := os.WriteFile(path, []byte(info), 0o644); err != nil {
		_ = fl.Unlock()
		return nil, exitWith(ExitError, fmt.Errorf("write run lock %s: %w", path, err))
	}
	return &runLock{fl: fl}, nil
}

// holder describes the run named in a lock file.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return "holder unknown"
	}
	f := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			f[k] = v
		}
	}
	return fmt.Sprintf("held by pid %s, started %s, command: %s", f["pid"], f["started"], f["command"])
}
