package executor_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/facts"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

// unsafePayload is what the managed host hands back (command output, a
// file name, file content, an environment variable): were it rendered, it
// would create the marker file on the controller.
const unsafePayload = "{{ lookup('pipe', 'touch ' + marker) }}"

// TestHostDataIsNeverTemplated runs playbooks that carry host data through
// every path where tend stores or reuses values: it must print the text
// literally, as ansible-playbook does, and never run the payload.
func TestHostDataIsNeverTemplated(t *testing.T) {
	for _, name := range []string{
		"stdout_set_fact",   // command stdout -> set_fact -> debug
		"stdout_lines_loop", // stdout_lines -> loop items -> set_fact
		"find_loop",         // file names found on the host -> loop
		"facts",             // gathered facts (ansible_env)
		"slurp",             // slurp content | b64decode
		"nested",            // host data inside dicts and lists
		"vars",              // include_vars, play and task vars, vars/template/pipe lookups
		"hostvars",          // another host's registered value, delegate_facts
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("TEND_UNSAFE", unsafePayload)
			dir := t.TempDir()
			marker := filepath.Join(dir, "pwned")
			got := runUnsafe(t, name, map[string]any{"marker": marker, "workdir": dir})
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("host data was rendered as a template: the payload ran on the controller")
			}
			if !strings.Contains(got, unsafePayload) {
				t.Errorf("the payload is not printed literally:\n%s", got)
			}
			golden := filepath.Join("testdata", "golden", "unsafe_"+name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, d)
			}
			if ap, err := exec.LookPath("ansible-playbook"); err == nil && !testing.Short() {
				oracle := t.TempDir()
				want := ansibleUnsafe(t, ap, name, filepath.Join(oracle, "pwned"), oracle)
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("tend's output differs from ansible-playbook's (-ansible +tend):\n%s", d)
				}
			}
		})
	}
}

func runUnsafe(t *testing.T, name string, extra map[string]any) string {
	t.Helper()
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	pb, err := loader.LoadPlaybook(filepath.Join("testdata", "unsafe", name+".yml"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	inv, err := inventory.Load([]string{"testdata/hosts.ini"})
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	var out bytes.Buffer
	rep := report.NewHuman(&out, report.Options{})
	_, err = executor.Run(context.Background(), pb, executor.Options{
		Inventory: inv, Registry: reg, Loader: loader, Connector: localConnector{}, Reporter: rep,
		Forks: 1, ExtraVars: extra, Facts: facts.Gather,
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	rep.Close()
	return normalize(out.String())
}

func ansibleUnsafe(t *testing.T, ap, name, marker, workdir string) string {
	t.Helper()
	cmd := exec.Command(ap, "-i", "testdata/hosts.ini", "-f", "1", filepath.Join("testdata", "unsafe", name+".yml"),
		"-e", "marker="+marker, "-e", "workdir="+workdir)
	cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_LOCALHOST_WARNING=0",
		"ANSIBLE_INVENTORY_UNPARSED_WARNING=0", "ANSIBLE_DEPRECATION_WARNINGS=0", "ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_SYSTEM_WARNINGS=0", "ANSIBLE_COMMAND_WARNINGS=0", "ANSIBLE_CALLBACK_RESULT_FORMAT=json")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, stdout.String())
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("ansible-playbook ran the payload: the playbook does not test what it should")
	}
	return normalize(stdout.String())
}
