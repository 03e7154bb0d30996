package ssh

import (
	"errors"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
)

func TestBecome(t *testing.T) {
	t.Parallel()
	sf := newSudoFixture(t, "")
	nopw, pw, other := sf.nopw, sf.pw, sf.other
	cNopw, cPw, cOther := sf.cNopw, sf.cPw, sf.cOther

	tests := []struct {
		name    string
		c       connection.Connection
		become  *connection.Become
		cmd     connection.Command
		wantOut string
		wantErr string // substring; the error must also wrap ErrBecome
	}{
		{name: "sudo NOPASSWD", c: cNopw, become: &connection.Become{}, wantOut: "root"},
		{name: "sudo NOPASSWD become_user", c: cNopw, become: &connection.Become{User: other.Name}, wantOut: other.Name},
		{name: "sudo with password", c: cPw, become: &connection.Become{Password: pw.Password}, wantOut: "root"},
		{name: "sudo with password become_user", c: cPw, become: &connection.Become{User: other.Name, Password: pw.Password}, wantOut: other.Name},
		{name: "sudo with password and stdin", c: cPw, become: &connection.Become{Password: pw.Password},
			cmd: connection.Command{Cmd: "id -un; cat", Stdin: strings.NewReader("from stdin")}, wantOut: "root\nfrom stdin"},
		{name: "sudo wrong password", c: cPw, become: &connection.Become{Password: "wrong"}, wantErr: "incorrect sudo password"},
		{name: "sudo password missing", c: cPw, become: &connection.Become{}, wantErr: "requires a password"},
		{name: "sudo not allowed", c: cOther, become: &connection.Become{}, wantErr: "become root with sudo"},
		{name: "su with password", c: cNopw, become: &connection.Become{Method: "su", User: other.Name, Password: other.Password}, wantOut: other.Name},
		{name: "su wrong password", c: cNopw, become: &connection.Become{Method: "su", User: other.Name, Password: "wrong"}, wantErr: "incorrect su password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the wrong-password cases wait out PAM's delay
			cmd := tt.cmd
			if cmd.Cmd == "" {
				cmd.Cmd = "id -un"
			}
			cmd.Become = tt.become
			res, err := tt.c.Run(ctxT(t), cmd)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, connection.ErrBecome) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBecome with %q", err, tt.wantErr)
				}
				if tt.become.Password != "" && strings.Contains(err.Error(), tt.become.Password) {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(string(res.Stdout))
			if got != tt.wantOut || res.ExitCode != 0 {
				t.Errorf("got %q exit %d (stderr %q), want %q", got, res.ExitCode, res.Stderr, tt.wantOut)
			}
			for _, s := range []string{string(res.Stdout), string(res.Stderr)} {
				if strings.Contains(s, connection.SudoPrompt) || strings.Contains(s, "tend-") ||
					(tt.become.Password != "" && strings.Contains(s, tt.become.Password)) {
					t.Errorf("output leaks prompt, marker or password: %q", s)
				}
			}
		})
	}

	t.Run("put and get under become", func(t *testing.T) {
		rootDir := privateRootDir(t)
		for _, tc := range []struct {
			name   string
			c      connection.Connection
			become *connection.Become
		}{
			{"sudo nopasswd", cNopw, &connection.Become{}},
			{"sudo password", cPw, &connection.Become{Password: pw.Password}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dst := rootDir + "/tend test " + tc.name + " $(x) 'q'"
				t.Cleanup(func() { removeLocal(dst) })
				content := "secret\ncontent 'with' $(quotes)\n"
				err := tc.c.Put(ctxT(t), strings.NewReader(content), dst, connection.PutOptions{Mode: 0o640, Owner: "root", Group: other.Name, Become: tc.become})
				if err != nil {
					t.Fatal(err)
				}
				checkFile(t, dst, content, 0o640, 0, other.GID)
				var buf strings.Builder
				if err := tc.c.Get(ctxT(t), dst, &buf, connection.GetOptions{Become: tc.become}); err != nil {
					t.Fatal(err)
				}
				if buf.String() != content {
					t.Errorf("get: %q", buf.String())
				}
				noTempFiles(t, rootDir)
				noTempFiles(t, nopw.Home)
				noTempFiles(t, pw.Home)
			})
		}
		t.Run("become_user other than root", func(t *testing.T) {
			dst := other.Home + "/owned by other"
			err := cNopw.Put(ctxT(t), strings.NewReader("x"), dst, connection.PutOptions{Mode: 0o600, Become: &connection.Become{User: other.Name}})
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, dst, "x", 0o600, other.UID, other.GID)
		})
		t.Run("su with password to a non-root user is refused", func(t *testing.T) {
			err := cNopw.Put(ctxT(t), strings.NewReader("x"), other.Home+"/f", connection.PutOptions{
				Become: &connection.Become{Method: "su", User: other.Name, Password: other.Password}})
			if !errors.Is(err, connection.ErrBecome) {
				t.Fatalf("err = %v, want ErrBecome", err)
			}
		})
	})
}
