package executor_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// TestUnsafeInputIsATaskError: a NUL byte in an argument or an environment
// value, and an environment name that is not a shell name, fail that task
// with a message naming what is wrong; the host stays reachable, nothing of
// the bad value runs, and the next task runs.
func TestUnsafeInputIsATaskError(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	tasks := []struct{ yaml, want string }{
		{`command: "echo a\0b"`, `argument "cmd" contains a NUL byte`},
		{`file: {path: "` + dir + `/x\0y", state: touch}`, `argument "path" contains a NUL byte`},
		{`command: {argv: [echo, "a\0b"]}`, `argument "argv[1]" contains a NUL byte`},
		{`get_url: {url: "http://127.0.0.1:1/", dest: /tmp/x, headers: {X-A: "a\0b"}}`, `argument "headers.X-A" contains a NUL byte`},
		{"command: \"true\"\n      environment: {GREETING: \"a\\0b\"}", `environment variable "GREETING" contains a NUL byte`},
		{"shell: \"true\"\n      environment: {\"X=1; touch " + marker + "; Y\": v}", `is not a valid environment variable name`},
		{"shell: \"true\"\n      environment: {MY-VAR: v}", `"MY-VAR" is not a valid environment variable name`},
	}
	var pb strings.Builder
	pb.WriteString("- hosts: h1\n  gather_facts: false\n  tasks:\n")
	for _, tk := range tasks {
		pb.WriteString("    - " + tk.yaml + "\n      ignore_errors: true\n")
	}
	pb.WriteString("    - command: echo still-reachable\n")
	file := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(file, []byte(pb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	p, err := loader.LoadPlaybook(file)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	inv, err := inventory.Load([]string{"testdata/hosts.ini"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep := report.NewHuman(&out, report.Options{})
	sum, err := executor.Run(context.Background(), p, executor.Options{
		Inventory: inv, Registry: reg, Loader: loader, Connector: localConnector{}, Reporter: rep, Forks: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep.Close()
	text := strings.ReplaceAll(out.String(), `\"`, `"`) // the messages are JSON in the output
	st := sum.Stats["h1"]
	if st == nil || st.Unreachable != 0 || st.Ignored != len(tasks) || st.OK != len(tasks)+1 {
		t.Errorf("stats %+v, want %d ignored failures, every task ok and nothing unreachable\n%s", st, len(tasks), out.String())
	}
	for _, tk := range tasks {
		if !strings.Contains(text, tk.want) {
			t.Errorf("output lacks %q:\n%s", tk.want, out.String())
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("an environment name ran as code: %s exists", marker)
	}
}
