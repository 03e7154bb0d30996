package executor_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/custommodule"
	"github.com/tend-dev/tend/pkg/executor"
	"github.com/tend-dev/tend/pkg/inventory"
	"github.com/tend-dev/tend/pkg/modules"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

// localConnector connects every host with the local connection: the
// test hosts are all this machine.
type localConnector struct{}

func (localConnector) Get(ctx context.Context, host string, vars map[string]any) (connection.Connection, error) {
	return connection.Local{}, nil
}

type playCase struct {
	name     string
	playbook string
	// more are further playbooks of the same run.
	more     []string
	check    bool
	tags     []string
	skipTags []string
	extra    map[string]any
	// noOracle: ansible-playbook 2.14's own output is wrong here (it prints
	// "TASK [meta]" once per host and mislabels handlers after
	// flush_handlers), so only the golden file is compared.
	noOracle bool
}

var cases = []playCase{
	{name: "precedence", playbook: "01_precedence.yml"},
	{name: "precedence_extra_vars", playbook: "01_precedence.yml", extra: map[string]any{"extra": "E", "level": "extra_wins"}},
	{name: "loops", playbook: "02_loops.yml"},
	{name: "handlers", playbook: "03_handlers.yml"},
	{name: "blocks", playbook: "04_blocks.yml"},
	{name: "check", playbook: "05_check.yml", check: true},
	{name: "tags_none", playbook: "06_tags.yml"},
	{name: "tags_a", playbook: "06_tags.yml", tags: []string{"a"}},
	{name: "tags_never", playbook: "06_tags.yml", tags: []string{"debugonly"}},
	{name: "tags_skip_always", playbook: "06_tags.yml", skipTags: []string{"always", "b"}},
	{name: "includes", playbook: "07_includes.yml"},
	{name: "serial", playbook: "08_serial.yml"},
	{name: "undefined", playbook: "09_undefined.yml"},
	{name: "any_errors_fatal", playbook: "10_fatal.yml"},
	{name: "flush_handlers", playbook: "11_flush.yml", noOracle: true},
	{name: "unsafe", playbook: "12_unsafe.yml"},
	{name: "run_once_and_role_lookups", playbook: "13_run_once.yml"},
	{name: "loop_facts", playbook: "14_loop_facts.yml"},
	{name: "first_found", playbook: "15_first_found.yml"},
	{name: "no_log", playbook: "14_nolog.yml"},
	{name: "several_playbooks_ok", playbook: "17_multi_ok.yml", more: []string{"13_run_once.yml"}},
	{name: "several_playbooks_fail_first", playbook: "16_multi_fail.yml", more: []string{"17_multi_ok.yml"}},
	{name: "runtime_inventory", playbook: "18_runtime_inventory.yml"},
	{name: "getent", playbook: "19_getent.yml"},
	// ansible-playbook also prints "Pausing for 1 seconds" and the prompt,
	// which tend's reporter does not show.
	{name: "pause", playbook: "20_pause.yml", noOracle: true},
	{name: "async", playbook: "21_async.yml"},
	{name: "async_check", playbook: "22_async_check.yml", check: true},
	{name: "several_playbooks_fail_second", playbook: "17_multi_ok.yml", more: []string{"16_multi_fail.yml", "17_multi_ok.yml"}},
	{name: "lazy_validation", playbook: "21_lazy.yml"},
	{name: "force_handlers", playbook: "25_force_handlers.yml"},
	{name: "dict_order", playbook: "26_dict_order.yml"},
	{name: "set_fact_templated_keys", playbook: "27_set_fact_keys.yml"},
	{name: "fqcn_lookups", playbook: "28_fqcn_lookups.yml"},
	{name: "collection_roles", playbook: "29_collection_roles.yml"},
	{name: "condition_errors", playbook: "30_conditions.yml"},
	{name: "integration_targets", playbook: "30_targets.yml"},
	{name: "break_play", playbook: "31_break_play.yml"},
	{name: "module_defaults", playbook: "33_module_defaults.yml"},
	{name: "role_names", playbook: "34_role_names.yml"},
	{name: "action_options", playbook: "35_action_options.yml", noOracle: true},
	{name: "end_host_batch", playbook: "31_end_host_batch.yml"},
	{name: "loop_undefined", playbook: "26_loop_undefined.yml"},
	{name: "handler_block", playbook: "27_handler_block.yml"},
	{name: "include_counts", playbook: "28_include_counts.yml"},
	{name: "role_argument_specs", playbook: "31_argspec.yml"},
	{name: "template_block_options", playbook: "32_template_options.yml"},
	{name: "lookup_loops", playbook: "31_lookup_loops.yml"},
	{name: "template_language", playbook: "32_template_language.yml"},
	{name: "module_results", playbook: "31_module_results.yml"},
	{name: "value_types", playbook: "36_value_types.yml"},
	{name: "varnames_order", playbook: "37_varnames.yml"},
	{name: "hostvars_scope", playbook: "38_hostvars_scope.yml"},
	{name: "file_results", playbook: "39_file_results.yml"},
	{name: "vars_prompt", playbook: "40_vars_prompt.yml", extra: map[string]any{"from_extra": "given"}},
	{name: "role_dedup", playbook: "41_role_dedup.yml"},
	{name: "handler_order", playbook: "42_handler_order.yml"},
	{name: "import_keywords", playbook: "43_import_keywords.yml"},
	{name: "import_keywords_tags", playbook: "43_import_keywords.yml", tags: []string{"imp"}},
	{name: "custom_modules", playbook: "36_custom_modules.yml"},
	{name: "path_env", playbook: "36_path_env.yml"},
	{name: "file_owner_lookup", playbook: "37_file_owner_lookup.yml"},
	{name: "file_recurse_follow", playbook: "38_file_recurse_follow.yml"},
	{name: "ping_crash", playbook: "39_ping_crash.yml"},
	{name: "assert_empty", playbook: "40_assert_empty.yml"},
	{name: "block_delegate_to", playbook: "41_block_delegate.yml"},
	{name: "local_cwd", playbook: "42_local_cwd.yml"},
	{name: "copy_remote_dir", playbook: "43_copy_remote_dir.yml"},
}

// run executes a case with one fork, so output order is deterministic.
// The playbooks write only below the extra variable scratch, a fresh
// directory per run, so that cases can run at once.
func run(t *testing.T, c playCase) (string, *executor.Summary) {
	t.Helper()
	return runIn(t, c, t.TempDir())
}

// runIn is run with the given scratch directory.
func runIn(t *testing.T, c playCase, scratch string) (string, *executor.Summary) {
	t.Helper()
	reg := modules.Registry()
	loader := playbook.NewLoader(reg, nil)
	inv, err := inventory.Load([]string{"testdata/hosts.ini"})
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	var pbs []*playbook.Playbook
	for _, name := range append([]string{c.playbook}, c.more...) {
		pb, err := loader.LoadPlaybook(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if err := inv.AddVarsDir(pb.Dir); err != nil {
			t.Fatal(err)
		}
		pbs = append(pbs, pb)
	}
	var out, stderr bytes.Buffer
	rep := report.NewHuman(&out, report.Options{Err: &stderr})
	sum, err := executor.RunPlaybooks(context.Background(), pbs, executor.Options{
		Inventory: inv, Registry: reg, Loader: loader, Connector: localConnector{}, Reporter: rep,
		Forks: 1, Check: c.check, Tags: c.tags, SkipTags: c.skipTags, ExtraVars: withScratch(c.extra, scratch),
		Custom: &custommodule.Library{Find: loader.FindModule, ModuleUtils: loader.ModuleUtilsDirs, CollectionRoots: loader.CollectionRoots, Version: "2.14.0"},
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	rep.Close()
	if stderr.Len() > 0 {
		out.WriteString(stderrMark + stderr.String())
	}
	return normalize(out.String()), sum
}

// stderrMark separates, in a case's output, what the reporter writes to
// standard error (warnings): ansible-playbook writes them there too, and
// the oracle compares standard output.
const stderrMark = "--- standard error ---\n"

// withScratch returns extra plus the scratch variable.
func withScratch(extra map[string]any, scratch string) map[string]any {
	out := map[string]any{"scratch": scratch}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// exitCode is the exit code tend play gives a run's summary (see
// pkg/cli's exitFor), to compare with ansible-playbook's.
func exitCode(s *executor.Summary) int {
	switch {
	case s.Unreachable():
		return 4
	case s.Failed():
		return 2
	}
	return 0
}

var (
	volatile = regexp.MustCompile(`"(delta|end|start)": "[^"]*"|"(child_pid)": [0-9]+`)
	jobID    = regexp.MustCompile(`\bj[0-9]{1,12}\.[0-9]+\b`)
	// pause reports how long it waited: 1.0 seconds, or 1.01 on a loaded
	// machine, and the whole seconds after it in 20_pause.yml's message.
	paused = regexp.MustCompile(`Paused for [0-9.]+ (seconds|minutes)(?: [0-9]+)?`)
)

// normalize removes what changes from run to run (timings, async job
// ids) and the absolute checkout path.
func normalize(s string) string {
	s = volatile.ReplaceAllString(s, `"$1$2": "X"`)
	s = jobID.ReplaceAllString(s, "JID")
	s = paused.ReplaceAllString(s, "Paused for X $1")
	if wd, err := os.Getwd(); err == nil {
		s = strings.ReplaceAll(s, wd, "WD")
	}
	return s
}

func TestPlaybooksGolden(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, c)
			golden := filepath.Join("testdata", "golden", c.name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
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
		})
	}
}

// TestAnsibleOracle runs the same playbooks with ansible-playbook (Debian's
// ansible-core) and requires byte-identical output, timings aside. Cases
// run in parallel: ansible-playbook mostly starts Python, and each case
// has its own scratch and Ansible temporary directories. Skipped under
// -short.
func TestAnsibleOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the comparison with ansible-playbook")
	}
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ansible-playbook not installed; .ci/run installs ansible-core")
		}
		t.Skip("ansible-playbook not installed (apt-get install ansible-core) - skipping the oracle comparison")
	}
	for _, c := range cases {
		if c.noOracle {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, sum := run(t, c)
			got, _, _ = strings.Cut(got, stderrMark)
			args := []string{"-i", "testdata/hosts.ini", "-f", "1", "-e", "scratch=" + t.TempDir()}
			for _, name := range append([]string{c.playbook}, c.more...) {
				args = append(args, filepath.Join("testdata", name))
			}
			if c.check {
				args = append(args, "--check")
			}
			if len(c.tags) > 0 {
				args = append(args, "--tags", strings.Join(c.tags, ","))
			}
			if len(c.skipTags) > 0 {
				args = append(args, "--skip-tags", strings.Join(c.skipTags, ","))
			}
			for k, v := range c.extra {
				args = append(args, "-e", k+"="+v.(string))
			}
			cmd := exec.Command(ap, args...)
			cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_LOCALHOST_WARNING=0",
				"ANSIBLE_INVENTORY_UNPARSED_WARNING=0", "ANSIBLE_DEPRECATION_WARNINGS=0", "ANSIBLE_RETRY_FILES_ENABLED=0",
				"ANSIBLE_SYSTEM_WARNINGS=0", "ANSIBLE_COMMAND_WARNINGS=0", "ANSIBLE_CALLBACK_RESULT_FORMAT=json",
				"ANSIBLE_LOCAL_TEMP="+t.TempDir(), "ANSIBLE_REMOTE_TEMP="+t.TempDir())
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			_ = cmd.Run() // non-zero exits are part of some cases
			want := normalize(stdout.String())
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("tend's output differs from ansible-playbook's (-ansible +tend):\n%s", d)
			}
			if want, got := cmd.ProcessState.ExitCode(), exitCode(sum); got != want {
				t.Errorf("exit code: tend's summary gives %d, ansible-playbook exited %d", got, want)
			}
		})
	}
}
