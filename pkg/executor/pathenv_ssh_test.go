package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/connection/ssh"
	"github.com/tend-dev/tend/pkg/connection/ssh/sshtest"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// TestPathArgsExpandOnHost runs path arguments holding $HOME over a real
// sshd as an unprivileged user: $HOME is the login user's home, with
// become root's, and the environment: keyword's variables count, as in
// Ansible's modules (the environment is read per user and environment).
func TestPathArgsExpandOnHost(t *testing.T) {
	sshtest.Require(t)
	dir := sshtest.Dir(t)
	u := sshtest.CreateUser(t, "pathenv", sshtest.UserOptions{Sudo: sshtest.SudoNoPasswd})
	key := sshtest.GenerateKey(t, dir, "ed25519", "")
	srv := sshtest.StartServer(t, sshtest.ServerOptions{})
	srv.Authorize(t, u.Name, key)
	host, port, _ := strings.Cut(srv.Addr(), ":")

	inv := filepath.Join(dir, "hosts.ini")
	os.WriteFile(inv, []byte(fmt.Sprintf("target ansible_host=%s ansible_port=%s ansible_user=%s ansible_ssh_private_key_file=%s\n", host, port, u.Name, key.Path)), 0o644)
	pbFile := filepath.Join(dir, "site.yml")
	os.WriteFile(pbFile, []byte(`- hosts: target
  gather_facts: false
  tasks:
    - file:
        path: $HOME/made-by-tend
        state: touch
      register: made
    - copy:
        src: ${HOME}/made-by-tend
        dest: $HOME/copied-$NOSUCHVAR
        remote_src: true
      register: copied
    - stat:
        path: $HOME
      become: true
      register: roothome
    - stat:
        path: $PE_DIR/made-by-tend
      environment:
        PE_DIR: "{{ home }}"
      become: true
      register: viaenv
    - debug:
        msg: "made={{ made.dest }} copied={{ copied.dest }} root={{ roothome.stat.path }} viaenv={{ viaenv.stat.exists }}"
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := executor.RunPlaybooks(ctx, []*playbook.Playbook{pb}, executor.Options{
		Inventory: iv, Registry: reg, Loader: loader, Connector: poolConnector{pool}, Reporter: rep,
		Forks: 5, ExtraVars: map[string]any{"home": u.Home},
	})
	rep.Close()
	got := out.String()
	if err != nil || sum.Failed() || sum.Unreachable() {
		t.Fatalf("run: %v\n%s", err, got)
	}
	want := fmt.Sprintf("made=%s/made-by-tend copied=%s/copied-$NOSUCHVAR root=/root viaenv=True", u.Home, u.Home)
	if !strings.Contains(got, want) {
		t.Errorf("output lacks %q:\n%s", want, got)
	}
	st, err := os.Stat(filepath.Join(u.Home, "copied-$NOSUCHVAR"))
	if err != nil {
		t.Fatalf("the copy is not in the user's home: %v", err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !ok || int(sys.Uid) != u.UID {
		t.Errorf("the copy does not belong to %s (uid %d): %+v", u.Name, u.UID, st.Sys())
	}
}
