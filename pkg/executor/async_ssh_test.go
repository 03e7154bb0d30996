package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// cutProxy forwards TCP connections to an sshd and can cut them all and
// refuse new ones for a while: a network that drops tend's connection.
type cutProxy struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	conns    []net.Conn
	down     bool
	accepted int
}

func startProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.accepted++
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(u, c); u.Close(); c.Close() }()
			go func() { defer wg.Done(); io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		wg.Wait()
	})
	return p
}

// cut closes every forwarded connection and refuses new ones until up.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *cutProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

type poolConnector struct{ pool *ssh.Pool }

func (c poolConnector) Get(ctx context.Context, host string, vars map[string]any) (connection.Connection, error) {
	return c.pool.Get(ctx, host, vars)
}

// waitFile waits up to a minute for name to exist.
func waitFile(t *testing.T, name string, done <-chan struct{}) {
	t.Helper()
	for range 600 {
		if _, err := os.Stat(name); err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("the run ended before %s appeared", name)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not appear", name)
}

// TestAsyncSurvivesDroppedConnection runs a long async task (with become)
// on a real sshd through a proxy that cuts the connection while the task
// runs and refuses new ones until the command has finished on the host:
// tend connects again and reports the command's result, and removes the
// job's directory.
func TestAsyncSurvivesDroppedConnection(t *testing.T) {
	sshtest.Require(t)
	dir := sshtest.Dir(t)
	u := sshtest.CreateUser(t, "async", sshtest.UserOptions{Sudo: sshtest.SudoNoPasswd})
	key := sshtest.GenerateKey(t, dir, "ed25519", "")
	srv := sshtest.StartServer(t, sshtest.ServerOptions{})
	srv.Authorize(t, u.Name, key)
	proxy := startProxy(t, srv.Addr())
	_, port, _ := net.SplitHostPort(proxy.ln.Addr().String())

	inv := filepath.Join(dir, "hosts.ini")
	os.WriteFile(inv, []byte(fmt.Sprintf("target ansible_host=127.0.0.1 ansible_port=%s ansible_user=%s ansible_ssh_private_key_file=%s\n", port, u.Name, key.Path)), 0o644)
	pbFile := filepath.Join(dir, "site.yml")
	os.WriteFile(pbFile, []byte(`- hosts: target
  gather_facts: false
  tasks:
    - name: a long command
      shell: touch {{ dir }}/started; while [ ! -e {{ dir }}/go ]; do sleep 0.1; done; touch {{ dir }}/finished; id -un; echo finished on the host
      become: true
      async: 120
      poll: 1
      register: long
    - name: its result
      debug:
        var: long
`), 0o644)

	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	pb, err := loader.LoadPlaybook(pbFile)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := inventory.Load([]string{inv})
	if err != nil {
		t.Fatal(err)
	}
	pool := ssh.NewPool(ssh.Options{SSHConfigFile: "none", KnownHostsFile: filepath.Join(dir, "known_hosts"), ConnectTimeout: 5 * time.Second})
	defer pool.Close()
	var out bytes.Buffer
	rep := report.NewHuman(&out, report.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type result struct {
		sum *executor.Summary
		err error
	}
	done := make(chan struct{})
	var res result
	go func() {
		defer close(done)
		res.sum, res.err = executor.RunPlaybooks(ctx, []*playbook.Playbook{pb}, executor.Options{
			Inventory: iv, Registry: reg, Loader: loader, Connector: poolConnector{pool}, Reporter: rep,
			Forks: 5, ExtraVars: map[string]any{"dir": dir},
		})
	}()
	waitFile(t, filepath.Join(dir, "started"), done)
	proxy.cut()
	// The command finishes on the host while tend cannot reach it.
	os.WriteFile(filepath.Join(dir, "go"), nil, 0o644)
	waitFile(t, filepath.Join(dir, "finished"), done)
	time.Sleep(2 * time.Second) // a few failed polls, while the connection is down
	proxy.up()
	<-done
	rep.Close()
	got := out.String()
	t.Logf("output:\n%s", got)
	if res.err != nil || res.sum.Failed() || res.sum.Unreachable() {
		t.Fatalf("run: %v\n%s", res.err, got)
	}
	for _, want := range []string{"ASYNC OK on target: jid=", "changed: [target]", `"stdout": "root\nfinished on the host"`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := proxy.count(); n < 2 {
		t.Errorf("%d connections through the proxy: tend did not connect again", n)
	}
	m := regexp.MustCompile(`"results_file": "([^"]+)"`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no results_file in the output:\n%s", got)
	}
	root, _ := user.Lookup("root")
	if !strings.HasPrefix(m[1], root.HomeDir+"/.ansible_async/j") {
		t.Errorf("results_file %s is not in root's ~/.ansible_async (the job ran with become)", m[1])
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("the job directory %s is still there (%v)", m[1], err)
		os.RemoveAll(m[1])
	}
}
