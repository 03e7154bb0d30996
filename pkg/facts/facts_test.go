package facts

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/connection"
)

var (
	update  = flag.Bool("update", false, "rewrite testdata/*.golden.json from the parser")
	capture = flag.String("capture", "", "run the script on this machine with a clean environment and save its output as testdata/NAME.out")
	via     = flag.String("capture-via", "", "with -capture: run the script through this command instead (e.g. \"ssh root@host\")")
)

func TestResolve(t *testing.T) {
	all := []string{"hardware", "min", "network", "virtual"}
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{"default is all", nil, all, false},
		{"all", []string{"all"}, all, false},
		{"one subset adds min", []string{"network"}, []string{"min", "network"}, false},
		{"only exclusions start from all", []string{"!hardware"}, []string{"min", "network", "virtual"}, false},
		{"not all is min", []string{"!all"}, []string{"min"}, false},
		{"not all keeps named", []string{"!all", "network"}, []string{"min", "network"}, false},
		{"nothing at all", []string{"!all", "!min"}, []string{}, false},
		{"comma list", []string{"!all,hardware"}, []string{"hardware", "min"}, false},
		{"exclusion wins", []string{"all", "!network", "!virtual"}, []string{"hardware", "min"}, false},
		{"unknown", []string{"facter2"}, nil, true},
		{"facter and ohai gather nothing", []string{"!all", "facter", "ohai"}, []string{"min"}, false},
		{"a collector name gathers its subset", []string{"!all", "interfaces", "distribution"}, []string{"min", "network"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Resolve(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Resolve(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCapture saves the script's output on this machine as a fixture
// (go test ./pkg/facts -run TestCapture -capture NAME).
func TestCapture(t *testing.T) {
	if *capture == "" {
		t.Skip("no -capture NAME given")
	}
	cmd := exec.Command("env", "-i", "HOME=/root", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LOGNAME=root", "USER=root", "SHELL=/bin/sh",
		"/bin/sh", "-c", Script(nil))
	if *via != "" {
		args := append(strings.Fields(*via), Script(nil))
		cmd = exec.Command(args[0], args[1:]...)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", *capture+".out"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestParseGolden parses every captured or written output in testdata and
// compares the facts with the golden file beside it.
func TestParseGolden(t *testing.T) {
	outs, _ := filepath.Glob("testdata/*.out")
	if len(outs) == 0 {
		t.Fatal("no testdata/*.out fixtures")
	}
	for _, path := range outs {
		name := strings.TrimSuffix(filepath.Base(path), ".out")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(f, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".out") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); d != "" {
				t.Errorf("facts differ from %s (-want +got):\n%s", golden, d)
			}
		})
	}
}

// TestParseDistributions pins the facts that playbooks branch on, for each
// fixture, independently of the golden files.
func TestParseDistributions(t *testing.T) {
	tests := []struct {
		fixture                                       string
		dist, version, major, release, family, pkgMgr string
		svc, addr, iface, gw                          string
	}{
		{"debian12-testbed", "Debian", "12", "12", "bookworm", "Debian", "apt", "systemd", "10.231.79.10", "eth0", "10.231.79.1"},
		{"ubuntu2204", "Ubuntu", "22.04", "22", "jammy", "Debian", "apt", "systemd", "10.0.2.15", "enp0s3", "10.0.2.2"},
		{"ubuntu2404", "Ubuntu", "24.04", "24", "noble", "Debian", "apt", "systemd", "172.31.5.20", "ens5", "172.31.0.1"},
		{"rhel9", "RedHat", "9.4", "9", "Plow", "RedHat", "dnf", "systemd", "192.168.122.50", "eth0", "192.168.122.1"},
		{"rocky9-noip", "Rocky", "9.4", "9", "Blue Onyx", "RedHat", "dnf", "systemd", "192.168.0.12", "eth0", "192.168.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.fixture+".out"))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			def, _ := f["default_ipv4"].(map[string]any)
			got := []any{f["distribution"], f["distribution_version"], f["distribution_major_version"], f["distribution_release"],
				f["os_family"], f["pkg_mgr"], f["service_mgr"], def["address"], def["interface"], def["gateway"]}
			want := []any{tt.dist, tt.version, tt.major, tt.release, tt.family, tt.pkgMgr, tt.svc, tt.addr, tt.iface, tt.gw}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			all, _ := f["all_ipv4_addresses"].([]any)
			if len(all) == 0 || all[0] == "127.0.0.1" {
				t.Errorf("all_ipv4_addresses = %v", all)
			}
			for _, k := range []string{"hostname", "fqdn", "architecture", "kernel", "system", "user_id", "machine_id", "env"} {
				if _, ok := f[k]; !ok {
					t.Errorf("fact %s missing", k)
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, out := range map[string]string{
		"empty":     "",
		"garbage":   "hello\nworld\n",
		"truncated": "@@tend:version\n1\n\n@@tend:uname\nLinux\n",
		"version":   "@@tend:version\n2\n\n@@tend:end\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(out)); err == nil {
				t.Errorf("Parse(%q) succeeded", out)
			}
		})
	}
}

func TestDateTime(t *testing.T) {
	got, ok := dateTime("1706702400 +0100 CET")
	if !ok {
		t.Fatal("not parsed")
	}
	want := map[string]any{
		"year": "2024", "month": "01", "day": "31", "hour": "13", "minute": "00", "second": "00",
		"weekday": "Wednesday", "weekday_number": "3", "weeknumber": "05", "date": "2024-01-31", "time": "13:00:00",
		"epoch": "1706702400", "epoch_int": "1706702400", "iso8601": "2024-01-31T12:00:00Z",
		"iso8601_basic": "20240131T130000000000", "iso8601_basic_short": "20240131T130000",
		"iso8601_micro": "2024-01-31T12:00:00.000000Z", "tz": "CET", "tz_offset": "+0100",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestEnvContinuationLines(t *testing.T) {
	got := env([]string{"A=1", "MULTI=first", "second line", "B=x=y"})
	want := map[string]any{"A": "1", "MULTI": "first\nsecond line", "B": "x=y"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestGatherLocal runs the script on this machine through the local
// connection and checks facts against what Go sees.
func TestGatherLocal(t *testing.T) {
	ctx := context.Background()
	f, err := Gather(ctx, connection.Local{}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if f["nodename"] != host {
		t.Errorf("nodename = %v, want %s", f["nodename"], host)
	}
	if f["system"] != "Linux" {
		t.Errorf("system = %v", f["system"])
	}
	if n, _ := f["memtotal_mb"].(int); n <= 0 {
		t.Errorf("memtotal_mb = %v", f["memtotal_mb"])
	}
	if n, _ := f["processor_vcpus"].(int); n <= 0 {
		t.Errorf("processor_vcpus = %v", f["processor_vcpus"])
	}
	if e, _ := f["env"].(map[string]any); e["PATH"] != os.Getenv("PATH") {
		t.Errorf("env PATH = %v, want %s", e["PATH"], os.Getenv("PATH"))
	}

	min, err := Gather(ctx, connection.Local{}, []string{"!all"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"memtotal_mb", "default_ipv4", "virtualization_type"} {
		if _, ok := min[k]; ok {
			t.Errorf("gather_subset !all gathered %s", k)
		}
	}
	if _, ok := min["distribution"]; !ok {
		t.Error("gather_subset !all lacks distribution (min)")
	}

	filtered, err := Gather(ctx, connection.Local{}, []string{"!all"}, "ansible_distribution*,kernel")
	if err != nil {
		t.Fatal(err)
	}
	for k := range filtered {
		if !strings.HasPrefix(k, "distribution") && k != "kernel" && k != "gather_subset" && k != "module_setup" {
			t.Errorf("filter kept %s", k)
		}
	}
	if _, ok := filtered["distribution_major_version"]; !ok {
		t.Error("filter dropped distribution_major_version")
	}
	if _, err := Gather(ctx, connection.Local{}, []string{"ohai2"}, ""); err == nil {
		t.Error("unknown subset accepted")
	}
}
