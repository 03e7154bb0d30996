package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/module"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// scenario drives a reporter through a run, in the order an executor
// would call it.
type scenario func(r Reporter)

var (
	taskFacts  = Task{Name: "Gathering Facts", Module: "gather_facts", File: "site.yml", Line: 2}
	taskCopy   = Task{Name: "copy motd", Role: "common", Module: "copy", File: "roles/common/tasks/main.yml", Line: 3}
	taskSkip   = Task{Name: "only on debian", Module: "apt", File: "site.yml", Line: 9}
	taskFail   = Task{Name: "check service", Module: "command", File: "site.yml", Line: 12}
	taskWait   = Task{Name: "wait for port", Module: "wait_for", File: "site.yml", Line: 15}
	taskLoop   = Task{Name: "install packages", Module: "apt", File: "site.yml", Line: 20, Loop: true}
	taskHandle = Task{Name: "restart nginx", Role: "web", Module: "service", File: "roles/web/handlers/main.yml", Line: 1, Handler: true}
)

// playScenario has every status once: ok, changed, skipped, failed,
// ignored, rescued, unreachable, delegation, until retries, warnings,
// a handler and the recap.
func playScenario(r Reporter) {
	hosts := []string{"web1", "web2", "db1"}
	r.PlaybookStart("playbooks/site.yml")
	r.PlayStart("webservers", hosts, false)

	r.TaskStart(taskFacts)
	r.HostResult(HostResult{Host: "web1", Task: taskFacts, Status: OK, Result: module.Result{"ansible_facts": map[string]any{"os": "debian"}, "_ansible_verbose_override": true}})
	r.HostResult(HostResult{Host: "web2", Task: taskFacts, Status: OK, Result: module.Result{"ansible_facts": map[string]any{"os": "debian"}}})
	r.HostResult(HostResult{Host: "db1", Task: taskFacts, Status: Unreachable, Result: module.Result{"unreachable": true, "changed": false,
		"msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.3 port 22: Connection refused"}})

	r.TaskStart(taskCopy)
	r.HostResult(HostResult{Host: "web1", Task: taskCopy, Status: Changed, Result: module.Result{"changed": true, "dest": "/etc/motd", "checksum": "abc"}})
	r.HostResult(HostResult{Host: "web2", Task: taskCopy, Status: OK, Delegated: "bastion", Result: module.Result{"changed": false, "dest": "/etc/motd"}})

	r.TaskStart(taskSkip)
	r.HostResult(HostResult{Host: "web1", Task: taskSkip, Status: Skipped, Result: module.Result{"changed": false, "skip_reason": "Conditional result was False"}})
	r.HostResult(HostResult{Host: "web2", Task: taskSkip, Status: OK, Result: module.Result{"changed": false,
		"warnings": []any{"apt: cache is older than a week; consider update_cache: true"}}})

	r.TaskStart(taskFail)
	r.HostResult(HostResult{Host: "web1", Task: taskFail, Status: Failed, Result: module.Result{"failed": true, "changed": true, "rc": 3,
		"cmd": []any{"systemctl", "is-active", "nginx"}, "stdout": "inactive", "stderr": "", "stdout_lines": []any{"inactive"}, "stderr_lines": []any{},
		"msg": "non-zero return code", "invocation": map[string]any{"module_args": map[string]any{"cmd": "x"}}}})
	r.HostResult(HostResult{Host: "web2", Task: taskFail, Status: Ignored, Result: module.Result{"failed": true, "changed": false, "msg": "Ünïcode & <html> \"quoted\"\ttab"}})

	r.TaskStart(taskWait)
	r.HostResult(HostResult{Host: "web2", Task: taskWait, Status: Retrying, Result: module.Result{"attempts": 1, "retries": 4, "changed": false}})
	r.HostResult(HostResult{Host: "web2", Task: taskWait, Status: Retrying, Result: module.Result{"attempts": 2, "retries": 4, "changed": false}})
	r.HostResult(HostResult{Host: "web2", Task: taskWait, Status: Rescued, Retries: 3, Result: module.Result{"attempts": 3, "changed": false, "failed": true, "elapsed": 1.5, "msg": "Timeout when waiting for 127.0.0.1:8080"}})

	r.Warn("", "Could not match supplied host pattern, ignoring: nosuch")
	r.Warn("web2", "a very long warning that goes on and on so that it needs to be wrapped to the width of the terminal like Ansible does with textwrap")

	r.TaskStart(taskHandle)
	r.HostResult(HostResult{Host: "web1", Task: taskHandle, Status: Changed, Result: module.Result{"changed": true, "name": "nginx", "state": "started"}})
}

// withRecap runs s, then the recap for hosts with the counters Tally
// makes of s's results.
func withRecap(s scenario, hosts ...string) scenario {
	return func(r Reporter) {
		s(r)
		rec := &recorder{}
		s(rec)
		stats := map[string]*Stats{}
		for _, res := range rec.results {
			Tally(stats, res)
		}
		r.Recap(hosts, stats, 2500*time.Millisecond)
	}
}

// recorder is a Reporter keeping results, used to tally scenarios.
type recorder struct {
	results []HostResult
}

func (*recorder) PlaybookStart(string)                             {}
func (*recorder) PlayStart(string, []string, bool)                 {}
func (*recorder) TaskStart(Task)                                   {}
func (r *recorder) HostResult(h HostResult)                        { r.results = append(r.results, h) }
func (*recorder) Warn(string, string)                              {}
func (*recorder) NoHostsLeft()                                     {}
func (*recorder) Recap([]string, map[string]*Stats, time.Duration) {}
func (*recorder) Close() error                                     { return nil }

// loopScenario has item results of every kind and their aggregates.
func loopScenario(r Reporter) {
	r.PlayStart("loops", []string{"web1"}, false)
	r.TaskStart(taskLoop)
	items := []struct {
		item   any
		status Status
		result module.Result
	}{
		{"nginx", OK, module.Result{"changed": false, "item": "nginx", "ansible_loop_var": "item"}},
		{"curl", Changed, module.Result{"changed": true, "item": "curl", "ansible_loop_var": "item"}},
		{map[string]any{"name": "vim", "state": "latest"}, Failed, module.Result{"changed": false, "failed": true, "msg": "No package matching 'vim' is available",
			"item": map[string]any{"name": "vim", "state": "latest"}, "ansible_loop_var": "item"}},
		{[]any{"a", 1, true, nil, 2.5}, Skipped, module.Result{"changed": false, "skip_reason": "Conditional result was False", "skipped": true}},
		{"it's", OK, module.Result{"changed": false}},
	}
	var results []any
	for _, it := range items {
		r.HostResult(HostResult{Host: "web1", Task: taskLoop, IsItem: true, Item: it.item, Status: it.status, Result: it.result})
		results = append(results, map[string]any(it.result))
	}
	r.HostResult(HostResult{Host: "web1", Task: taskLoop, Status: Failed, Result: module.Result{"changed": true, "failed": true,
		"msg": "One or more items failed", "results": results}})

	ignoredLoop := taskLoop
	ignoredLoop.Name = "remove packages"
	r.TaskStart(ignoredLoop)
	// Module results carry "changed" (the executor sets it, as Ansible's
	// task executor does); a failure raised before any module ran has none.
	r.HostResult(HostResult{Host: "web1", Task: ignoredLoop, IsItem: true, Item: 42, Status: Ignored, Result: module.Result{"changed": false, "failed": true, "msg": "boom"}})
	r.HostResult(HostResult{Host: "web1", Task: ignoredLoop, Status: Ignored, Result: module.Result{"changed": false, "failed": true, "results": []any{}}})

	debugLoop := Task{Name: "show items", Module: "ansible.builtin.debug", Loop: true}
	r.TaskStart(debugLoop)
	r.HostResult(HostResult{Host: "web1", Task: debugLoop, IsItem: true, Item: "x", Status: OK, Result: module.Result{"msg": "item x", "changed": false}})
	r.HostResult(HostResult{Host: "web1", Task: debugLoop, Status: OK, Result: module.Result{"changed": false, "results": []any{}}})
}

// debugScenario covers debug msg, var, structured values and verbosity
// skips.
func debugScenario(r Reporter) {
	r.PlayStart("", []string{"localhost"}, false)
	msg := Task{Module: "debug"}
	r.TaskStart(msg)
	r.HostResult(HostResult{Host: "localhost", Task: msg, Status: OK, Result: module.Result{"msg": "hello", "changed": false, "failed": false}})
	v := Task{Name: "show var", Module: "debug"}
	r.TaskStart(v)
	r.HostResult(HostResult{Host: "localhost", Task: v, Status: OK, Result: module.Result{"changed": false,
		"x": map[string]any{"list": []any{1, 2.0, 1e16, 0.0001, 1e-5, "é"}, "empty": map[string]any{}, "none": nil, "nested": []any{}}}})
	skip := Task{Name: "verbose only", Module: "debug"}
	r.TaskStart(skip)
	r.HostResult(HostResult{Host: "localhost", Task: skip, Status: Skipped, Result: module.Result{"skipped_reason": "Verbosity threshold not met."}})
	fail := Task{Name: "bad template", Module: "debug"}
	r.TaskStart(fail)
	r.HostResult(HostResult{Host: "localhost", Task: fail, Status: Failed, Result: module.Result{"msg": "'undefined_var' is undefined"}})
}

// diffScenario covers diff mode: a changed file, a new file, a missing
// final newline, two hunks, and an unchanged file (no diff shown).
func diffScenario(r Reporter) {
	r.PlayStart("diffs", []string{"web1"}, false)
	tmpl := Task{Name: "template nginx.conf", Module: "template"}
	r.TaskStart(tmpl)
	before := "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\nline11\nline12\n"
	after := "line1\nLINE2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\nline11\nline12\nline13\n"
	r.HostResult(HostResult{Host: "web1", Task: tmpl, Status: Changed, Result: module.Result{"changed": true},
		Diff: []module.Diff{{BeforeHeader: "/etc/nginx/nginx.conf", AfterHeader: "/tmp/src/nginx.conf.j2", Before: before, After: after}}})
	newFile := Task{Name: "new file", Module: "copy"}
	r.TaskStart(newFile)
	r.HostResult(HostResult{Host: "web1", Task: newFile, Status: Changed, Result: module.Result{"changed": true},
		Diff: []module.Diff{{BeforeHeader: "/etc/new", AfterHeader: "/etc/new", Before: "", After: "a\nb"}}})
	state := Task{Name: "file state", Module: "file"}
	r.TaskStart(state)
	r.HostResult(HostResult{Host: "web1", Task: state, Status: Changed, Result: module.Result{"changed": true},
		Diff: []module.Diff{{Before: "path: /srv\nstate: absent\n", After: "path: /srv\nstate: directory\n"}}})
	same := Task{Name: "unchanged", Module: "copy"}
	r.TaskStart(same)
	r.HostResult(HostResult{Host: "web1", Task: same, Status: OK, Result: module.Result{"changed": false},
		Diff: []module.Diff{{Before: "x\n", After: "x\n"}}})
}

// secret is the no_log value that must never appear in any output.
const secret = "hunter2-s3cr3t"

// noLogScenario puts the secret everywhere a result can carry it.
func noLogScenario(r Reporter) {
	r.PlayStart("secrets", []string{"web1"}, false)
	pw := Task{Name: "set password", Module: "user"}
	r.TaskStart(pw)
	r.HostResult(HostResult{Host: "web1", Task: pw, Status: Changed, NoLog: true, Msg: "password " + secret,
		Result:  module.Result{"changed": true, "password": secret, "warnings": []any{"weak password " + secret}},
		Diff:    []module.Diff{{BeforeHeader: "/etc/shadow", Before: "old", After: secret}},
		Item:    nil,
		Retries: 0})
	r.HostResult(HostResult{Host: "web1", Task: pw, Status: Failed, NoLog: true,
		Result: module.Result{"failed": true, "changed": false, "msg": "bad " + secret, "attempts": 2}})
	loop := Task{Name: "set passwords", Module: "user", Loop: true}
	r.TaskStart(loop)
	r.HostResult(HostResult{Host: "web1", Task: loop, IsItem: true, Item: map[string]any{"pw": secret}, Status: Changed, NoLog: true,
		Result: module.Result{"changed": true, "item": map[string]any{"pw": secret}}})
	r.HostResult(HostResult{Host: "web1", Task: loop, IsItem: true, Item: secret, Status: Failed, NoLog: true,
		Result: module.Result{"failed": true, "msg": secret}})
	r.HostResult(HostResult{Host: "web1", Task: loop, IsItem: true, Item: secret, Status: Skipped, NoLog: true,
		Result: module.Result{"skipped": true, "msg": secret}})
	dbg := Task{Name: "show secret", Module: "debug"}
	r.TaskStart(dbg)
	r.HostResult(HostResult{Host: "web1", Task: dbg, Status: OK, NoLog: true, Result: module.Result{"msg": secret}})
}

// longHostsScenario has host names around and beyond the 26-column pad.
func longHostsScenario(r Reporter) {
	hosts := []string{"a", "exactly-twenty-six-chars-x", "a-really-long-host-name.example.internal.corp", "ünïcode-host"}
	r.PlayStart("recap", hosts, false)
	stats := map[string]*Stats{
		"a":                          {OK: 12345, Changed: 1},
		"exactly-twenty-six-chars-x": {OK: 3, Failed: 1},
		"a-really-long-host-name.example.internal.corp": {Unreachable: 1},
		"ünïcode-host": {OK: 2, Skipped: 2, Rescued: 1, Ignored: 1},
	}
	r.Recap(hosts, stats, time.Second)
}
