package sshtest

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Sudo rules for UserOptions.Sudo.
const (
	SudoNone     = ""         // no sudo rights
	SudoNoPasswd = "nopasswd" // sudo to anyone without a password
	SudoPassword = "password" // sudo to anyone with the user's password, never cached
)

// UserOptions configure CreateUser.
type UserOptions struct {
	Sudo string // SudoNone, SudoNoPasswd or SudoPassword
}

// User is a login user created for a test.
type User struct {
	Name     string
	Home     string
	Password string // random; valid for password login, sudo and su
	UID, GID int
}

// gecosPrefix marks users made by this package, with the pid of the test
// process, so that leftovers of a crashed run can be recognised.
const gecosPrefix = "tend test user pid="

// usersLock serialises useradd/userdel across test processes: both fail
// instead of waiting when another holds /etc/passwd's lock.
const usersLock = "/tmp/tendtest-users.lock"

func withUsersLock(t testing.TB, f func()) {
	t.Helper()
	l, err := os.OpenFile(usersLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	defer l.Close()
	if err := syscall.Flock(int(l.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("sshtest: lock %s: %v", usersLock, err)
	}
	defer syscall.Flock(int(l.Fd()), syscall.LOCK_UN)
	f()
}

// CreateUser adds a user named "tendtest-<role>-<random>" with a home
// directory, /bin/sh as shell, a random password and the given sudo rule,
// and deletes it (home included) when the test ends. role should be short
// (user names have at most 32 characters).
func CreateUser(t testing.TB, role string, opts UserOptions) *User {
	t.Helper()
	Require(t)
	name := "tendtest-" + role + "-" + randomHex(3)
	if len(name) > 32 {
		t.Fatalf("sshtest: user name %q too long; use a shorter role", name)
	}
	u := &User{Name: name, Password: randomHex(12)}
	withUsersLock(t, func() {
		removeStaleUsers(t)
		run(t, "useradd", "-m", "-s", "/bin/sh", "-c", gecosPrefix+strconv.Itoa(os.Getpid()), name)
	})
	t.Cleanup(func() { deleteUser(t, name) })
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(name + ":" + u.Password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sshtest: chpasswd %s: %v: %s", name, err, out)
	}
	var rule string
	switch opts.Sudo {
	case SudoNone:
	case SudoNoPasswd:
		rule = name + " ALL=(ALL:ALL) NOPASSWD: ALL\n"
	case SudoPassword:
		rule = "Defaults:" + name + " timestamp_timeout=0\n" + name + " ALL=(ALL:ALL) ALL\n"
	default:
		t.Fatalf("sshtest: unknown sudo rule %q", opts.Sudo)
	}
	if rule != "" {
		if _, err := exec.LookPath("sudo"); err != nil {
			t.Skip("sshtest: sudo not installed (apt-get install sudo); skipping")
		}
		if err := os.WriteFile(sudoersFile(name), []byte(rule), 0o440); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
	}
	pu, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	u.Home = pu.HomeDir
	u.UID, _ = strconv.Atoi(pu.Uid)
	u.GID, _ = strconv.Atoi(pu.Gid)
	return u
}

func sudoersFile(name string) string { return filepath.Join("/etc/sudoers.d", name) }

func deleteUser(t testing.TB, name string) {
	os.Remove(sudoersFile(name))
	withUsersLock(t, func() {
		if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
			// Exit 6: no such user; 12: no home to remove. Both are fine.
			var ee *exec.ExitError
			if !errors.As(err, &ee) || (ee.ExitCode() != 6 && ee.ExitCode() != 12) {
				t.Logf("sshtest: userdel %s: %v: %s", name, err, out)
			}
		}
	})
}

// removeStaleUsers deletes users this package made in processes that are
// gone: leftovers of a test run that crashed before its cleanup.
func removeStaleUsers(t testing.TB) {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return
	}
	defer f.Close()
	var stale []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "tendtest-") || !strings.HasPrefix(fields[4], gecosPrefix) {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(fields[4], gecosPrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			stale = append(stale, fields[0])
		}
	}
	for _, name := range stale {
		os.Remove(sudoersFile(name))
		if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
			t.Logf("sshtest: remove stale user %s: %v: %s", name, err, out)
		}
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("sshtest: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// StartAgent runs ssh-agent on a socket in a new directory, adds keys to
// it, and stops it when the test ends. It returns the socket path (for
// SSH_AUTH_SOCK).
func StartAgent(t testing.TB, keys ...*Key) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("sshtest: ssh-agent not found (apt-get install openssh-client); skipping")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshtest: ssh-agent: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// The socket file exists from bind(), before the agent listens: wait
	// until a connection is accepted.
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		waitABit()
	}
	for _, k := range keys {
		add := exec.Command("ssh-add", k.Path)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock, "SSH_ASKPASS_REQUIRE=never")
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("sshtest: ssh-add %s: %v: %s", k.Path, err, out)
		}
	}
	return sock
}

// Exec runs a command on the controller as root and returns its output,
// failing the test on error. Handy for checking files on the "remote"
// host, which is this machine.
func Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
