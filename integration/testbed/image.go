package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DefaultImageCache is where base images are kept between runs.
const DefaultImageCache = "/var/cache/tend-testbed"

// DefaultMirror is the Debian mirror the base image is bootstrapped from
// and that hosts use through the bed's apt proxy.
const DefaultMirror = "http://deb.debian.org/debian"

// imageSuite is the Debian release of every host.
const imageSuite = "bookworm"

// imageRecipe names the post-processing done after debootstrap; bump it
// whenever prepareImage changes so cached images are rebuilt.
const imageRecipe = "2"

// imagePackages returns the packages debootstrap installs on top of the
// minbase variant; python adds python3 for reference Ansible runs (tend
// itself needs no Python on a target).
func imagePackages(python bool) []string {
	p := []string{"systemd", "systemd-sysv", "openssh-server", "dbus", "iproute2", "sudo", "ca-certificates"}
	if python {
		p = append(p, "python3")
	}
	return p
}

// imageKey names a cached image by a hash of everything that goes into it.
func imageKey(mirror string, python bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", imageSuite, mirror, imageRecipe, strings.Join(imagePackages(python), ","))
	variant := "base"
	if python {
		variant = "python"
	}
	return imageSuite + "-" + variant + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// EnsureImage returns the root filesystem of the base image (with python3
// if python is set), building it with debootstrap into cacheDir first if it
// is not cached yet. Concurrent callers, also in other processes, wait for
// a single build: the build holds an exclusive lock on a file beside the
// image and publishes the image with an atomic rename. Progress of a build
// goes to log (may be nil).
func EnsureImage(ctx context.Context, cacheDir, mirror string, python bool, log io.Writer) (string, error) {
	if cacheDir == "" {
		cacheDir = DefaultImageCache
	}
	if mirror == "" {
		mirror = DefaultMirror
	}
	if log == nil {
		log = io.Discard
	}
	key := imageKey(mirror, python)
	final := filepath.Join(cacheDir, key)
	rootfs := filepath.Join(final, "rootfs")
	if imageReady(final) {
		return rootfs, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("image %s: %w", key, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cacheDir, key+".lock"))
	if err != nil {
		return "", fmt.Errorf("image %s: %w", key, err)
	}
	defer unlock()
	if imageReady(final) { // another process built it while we waited
		return rootfs, nil
	}
	// Anything left under the build directory is from a crashed build
	// (we hold the lock): make sure no mount survives before removing it.
	build := filepath.Join(cacheDir, ".build-"+key)
	if err := removeTree(build); err != nil {
		return "", fmt.Errorf("image %s: clean stale build: %w", key, err)
	}
	if err := removeTree(final); err != nil {
		return "", fmt.Errorf("image %s: clean incomplete image: %w", key, err)
	}
	start := time.Now()
	fmt.Fprintf(log, "testbed: building image %s with debootstrap (once, about a minute)\n", key)
	args := []string{"--variant=minbase", "--include=" + strings.Join(imagePackages(python), ","),
		imageSuite, filepath.Join(build, "rootfs"), mirror}
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = removeTree(build)
		return "", fmt.Errorf("image %s: debootstrap: %w: %s", key, err, lastLines(string(out), 15))
	}
	if err := prepareImage(filepath.Join(build, "rootfs")); err != nil {
		_ = removeTree(build)
		return "", fmt.Errorf("image %s: %w", key, err)
	}
	if err := os.WriteFile(filepath.Join(build, "packages"), []byte(strings.Join(imagePackages(python), "\n")+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("image %s: %w", key, err)
	}
	if err := os.Rename(build, final); err != nil {
		return "", fmt.Errorf("image %s: publish: %w", key, err)
	}
	fmt.Fprintf(log, "testbed: image %s built in %s\n", key, time.Since(start).Round(time.Second))
	return rootfs, nil
}

func imageReady(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "packages"))
	return err == nil
}

// prepareImage turns a fresh debootstrap tree into a template for hosts:
// no host keys or machine id (each host gets its own), no timers that
// would grab the dpkg lock in the middle of a test, an empty apt cache.
func prepareImage(root string) error {
	keys, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		if err := os.Remove(k); err != nil {
			return fmt.Errorf("prepare image: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), nil, 0o444); err != nil {
		return fmt.Errorf("prepare image: %w", err)
	}
	_ = os.Remove(filepath.Join(root, "var/lib/dbus/machine-id"))
	for _, unit := range []string{"apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer", "man-db.timer"} {
		link := filepath.Join(root, "etc/systemd/system", unit)
		_ = os.Remove(link)
		if err := os.Symlink("/dev/null", link); err != nil {
			return fmt.Errorf("prepare image: mask %s: %w", unit, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "root/.ssh"), 0o700); err != nil {
		return fmt.Errorf("prepare image: %w", err)
	}
	debs, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
	for _, d := range debs {
		_ = os.Remove(d)
	}
	return nil
}

// lockFile takes an exclusive flock on path, waiting until ctx is done.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// removeTree unmounts everything below dir, then removes it. It refuses to
// remove a tree that still has a mount inside, so a failed unmount can never
// make it delete files of a bind-mounted host directory.
func removeTree(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := unmountUnder(dir); err != nil {
		return err
	}
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	if len(mounts) > 0 {
		return fmt.Errorf("remove %s: still mounted: %s", dir, strings.Join(mounts, ", "))
	}
	return os.RemoveAll(dir)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
