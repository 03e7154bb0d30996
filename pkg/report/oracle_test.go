package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-dev/tend/pkg/module"
)

// oracleEvent is one line written by testdata/oracle/callback_plugins/
// tend_events.py.
type oracleEvent struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Task   Task           `json:"task"`
	Host   string         `json:"host"`
	Status Status         `json:"status"`
	Result map[string]any `json:"result"`
	NoLog  bool           `json:"no_log"`
	IsItem bool           `json:"is_item"`
	Item   any            `json:"item"`
	Diff   []module.Diff  `json:"diff"`
	Hosts  []string       `json:"hosts"`
	Stats  map[string]*Stats
}

// configLine is what ansible-playbook -v prints about its config file
// before any callback output.
var configLine = regexp.MustCompile(`(?m)^(\x1b\[[0-9;]*m)?(Using .* as config file|No config file found; using defaults)(\x1b\[0m)?\n`)

// TestOracleAnsiblePlaybook runs testdata/oracle/site.yml with the real
// ansible-playbook, recording every callback event with a small callback
// plugin, replays the events into NewHuman and requires the output to be
// byte-identical to what Ansible's default callback printed.
func TestOracleAnsiblePlaybook(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle runs ansible-playbook (seconds); skipped with -short")
	}
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed (apt-get install ansible-core): oracle test skipped")
	}
	oracleDir, err := filepath.Abs(filepath.Join("testdata", "oracle"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		opts Options
	}{
		{"plain", nil, Options{}},
		{"verbose colour", []string{"-v"}, Options{Verbosity: 1, Color: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "web1.conf"), []byte("line1\nline2\nline3"), 0o644); err != nil {
				t.Fatal(err)
			}
			events := filepath.Join(dir, "events.jsonl")
			args := append([]string{"-i", "inventory.ini", "site.yml", "-e", "dir=" + dir}, tt.args...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = oracleDir
			color := "ANSIBLE_NOCOLOR=1"
			if tt.opts.Color {
				color = "ANSIBLE_FORCE_COLOR=1"
			}
			cmd.Env = append(os.Environ(), color,
				"TEND_EVENTS_FILE="+events,
				"ANSIBLE_CALLBACK_PLUGINS="+filepath.Join(oracleDir, "callback_plugins"),
				"ANSIBLE_CALLBACKS_ENABLED=tend_events",
				"ANSIBLE_STDOUT_CALLBACK=default",
				"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"),
				"ANSIBLE_HOME="+filepath.Join(dir, "home"),
				"ANSIBLE_RETRY_FILES_ENABLED=0",
				"ANSIBLE_CONFIG="+filepath.Join(dir, "none.cfg"),
			)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("ansible-playbook: %v\n%s\n%s", err, stdout.String(), stderr.String())
			}
			want := configLine.ReplaceAllString(stdout.String(), "")

			var got bytes.Buffer
			r := NewHuman(&got, Options{Verbosity: tt.opts.Verbosity, Color: tt.opts.Color, Diff: true, Err: &bytes.Buffer{}})
			replay(t, r, events)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("tend differs from ansible-playbook (-ansible +tend):\n%s", cmp.Diff(want, got.String()))
			}
			if strings.Contains(got.String(), "hunter2") {
				t.Errorf("no_log secret printed")
			}
		})
	}
}

// replay feeds recorded events to r as tend's executor would.
func replay(t *testing.T, r Reporter, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer f.Close()
	var task Task
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev oracleEvent
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber() // keep 1 and 1.0 apart, as Python does
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("event %s: %v", sc.Text(), err)
		}
		switch ev.Type {
		case "play":
			r.PlayStart(ev.Name, nil, false)
		case "task":
			task = ev.Task
			r.TaskStart(task)
		case "result":
			r.HostResult(HostResult{Host: ev.Host, Task: task, Status: ev.Status, Result: ev.Result,
				NoLog: ev.NoLog, IsItem: ev.IsItem, Item: ev.Item, Diff: ev.Diff})
		case "recap":
			r.Recap(ev.Hosts, ev.Stats, time.Second)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
