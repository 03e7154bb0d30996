package ssh

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
)

// commandsPerOp is the batch one benchmark op runs: 200 sequential `true`
// commands, as in the comparison. ns/cmd is reported besides.
const commandsPerOp = 200

// BenchmarkTransport compares, side by side against one local sshd, tend's
// pooled connection (a session per command, and the shared shell that
// read-only commands use) with OpenSSH multiplexed (ControlMaster/ControlPersist,
// what Ansible uses) and with fresh connections, and SFTP uploads with scp.
//
//	go test -run '^$' -bench BenchmarkTransport -benchtime 3x ./pkg/connection/ssh/
func BenchmarkTransport(b *testing.B) {
	sshtest.Require(b)
	if _, err := exec.LookPath("scp"); err != nil {
		b.Skip("scp not installed")
	}
	user := sshtest.CreateUser(b, "bench", sshtest.UserOptions{})
	dir := b.TempDir()
	key := sshtest.GenerateKey(b, dir, "ed25519", "")
	srv := sshtest.StartServer(b, sshtest.ServerOptions{ExtraConfig: "LogLevel ERROR"})
	srv.Authorize(b, user.Name, key)
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	pool := NewPool(Options{SSHConfigFile: "none", KnownHostsFile: known, HostKeyPolicy: PolicyStrict})
	defer pool.Close()
	ctx := context.Background()
	c, err := pool.Get(ctx, "bench", map[string]any{
		"ansible_host": srv.Host, "ansible_port": srv.Port, "ansible_user": user.Name, "ansible_ssh_private_key_file": key.Path,
	})
	if err != nil {
		b.Fatal(err)
	}
	common := []string{"-F", "/dev/null", "-i", key.Path, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + known, "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"}
	sshArgs := append(append([]string{}, common...), "-p", strconv.Itoa(srv.Port), "-l", user.Name)
	controlPath := "/tmp/tend-bench-cm-" + strconv.Itoa(os.Getpid())
	mux := append(append([]string{}, sshArgs...), "-o", "ControlMaster=auto", "-o", "ControlPath="+controlPath, "-o", "ControlPersist=60")
	defer exec.Command("ssh", append(append([]string{}, mux...), "-O", "exit", srv.Host)...).Run()

	sshRun := func(b *testing.B, args []string) {
		if out, err := exec.Command("ssh", append(append([]string{}, args...), srv.Host, "true")...).CombinedOutput(); err != nil {
			b.Fatalf("ssh: %v: %s", err, out)
		}
	}
	batch := func(b *testing.B, one func()) {
		one() // warm up: open connections, start the master
		b.ResetTimer()
		start := time.Now()
		for b.Loop() {
			for range commandsPerOp {
				one()
			}
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*commandsPerOp), "ns/cmd")
	}
	b.Run("command/tend-pooled", func(b *testing.B) {
		batch(b, func() {
			res, err := c.Run(ctx, connection.Command{Cmd: "true"})
			if err != nil || res.ExitCode != 0 {
				b.Fatalf("run: %v %d", err, res.ExitCode)
			}
		})
	})
	// Read-only commands (a module's Plan) run in the connection's shared
	// shell: no session, a subshell of a running sh.
	b.Run("command/tend-shared-shell", func(b *testing.B) {
		roCtx := connection.ReadOnly(ctx)
		batch(b, func() {
			res, err := c.Run(roCtx, connection.Command{Cmd: "true"})
			if err != nil || res.ExitCode != 0 {
				b.Fatalf("run: %v %d", err, res.ExitCode)
			}
		})
	})
	b.Run("command/openssh-controlmaster", func(b *testing.B) { batch(b, func() { sshRun(b, mux) }) })
	b.Run("command/openssh-fresh", func(b *testing.B) { batch(b, func() { sshRun(b, sshArgs) }) })

	for _, size := range []int64{1 << 20, 100 << 20} {
		name := strconv.FormatInt(size>>20, 10) + "MB"
		src := filepath.Join(dir, "upload-"+name)
		f, err := os.Create(src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(f, io.LimitReader(rand.NewChaCha8([32]byte{7}), size)); err != nil {
			b.Fatal(err)
		}
		f.Close()
		dst := user.Home + "/upload-" + name
		b.Run("upload-"+name+"/tend-sftp", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				f, err := os.Open(src)
				if err != nil {
					b.Fatal(err)
				}
				err = c.Put(ctx, f, dst, connection.PutOptions{})
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("upload-"+name+"/scp", func(b *testing.B) {
			b.SetBytes(size)
			args := append(append([]string{"-q"}, common...), "-P", strconv.Itoa(srv.Port), src, user.Name+"@"+srv.Host+":"+dst)
			for b.Loop() {
				if out, err := exec.Command("scp", args...).CombinedOutput(); err != nil {
					b.Fatalf("scp: %v: %s", err, out)
				}
			}
		})
	}
}
