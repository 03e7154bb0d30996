package modules

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFixSysctlLines(t *testing.T) {
	in := "# comment\nvm.swappiness = 60\n\nnet.ipv4.ip_forward=0\nvm.swappiness=10\n; other\n"
	tests := []struct {
		name, value, state, want string
	}{
		{"net.ipv4.ip_forward", "1", "present", "# comment\nvm.swappiness=60\n\nnet.ipv4.ip_forward=1\n; other\n"},
		{"kernel.pid_max", "65536", "present", "# comment\nvm.swappiness=60\n\nnet.ipv4.ip_forward=0\n; other\nkernel.pid_max=65536\n"},
		{"vm.swappiness", "", "absent", "# comment\n\nnet.ipv4.ip_forward=0\n; other\n"},
	}
	for _, tt := range tests {
		if got := fixSysctlLines(in, tt.name, tt.value, tt.state); got != tt.want {
			t.Errorf("%s=%s %s:\ngot  %q\nwant %q", tt.name, tt.value, tt.state, got, tt.want)
		}
	}
	if v := parseSysctlFile(in)["vm.swappiness"]; v != "10" {
		t.Errorf("last value wins: got %q", v)
	}
	if sysctlValue("yes") != "1" || sysctlValue(" off ") != "0" || !sysctlEqual("4096 87380", "4096\t87380 ") {
		t.Error("value normalization")
	}
}

func TestSysctlFileLocal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "90-tend.conf")
	args := map[string]any{"name": "vm.tend_test", "value": "yes", "sysctl_file": file, "reload": false}
	if r, _ := runLocal(t, Sysctl{}, args, true); r["changed"] != true {
		t.Fatalf("check: %v", r)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("check mode wrote the file")
	}
	if r, _ := runLocal(t, Sysctl{}, args, false); r["changed"] != true || r["value"] != "1" {
		t.Fatalf("first: %v", r)
	}
	if b, _ := os.ReadFile(file); string(b) != "vm.tend_test=1\n" {
		t.Errorf("file = %q", b)
	}
	if r, _ := runLocal(t, Sysctl{}, args, false); r["changed"] != false {
		t.Fatalf("second: %v", r)
	}
	if r, _ := runLocal(t, Sysctl{}, map[string]any{"name": "vm.tend_test", "sysctl_file": file}, false); r["failed"] != true {
		t.Errorf("present without value: %v", r)
	}
}

func TestDecideSysctl(t *testing.T) {
	vals := map[string]string{"vm.swappiness": "10", "net.ipv4.ip_forward": "1"}
	tests := []struct {
		name                       string
		w                          sysctlWant
		live                       string
		liveKnown                  bool
		writeFile, setProc, change bool
	}{
		{name: "converged", w: sysctlWant{state: "present", name: "vm.swappiness", value: "10", reload: true, set: true}, live: "10", liveKnown: true},
		{name: "file differs", w: sysctlWant{state: "present", name: "vm.swappiness", value: "20", reload: true}, live: "10", liveKnown: true, writeFile: true, change: true},
		{name: "only the kernel differs, reload", w: sysctlWant{state: "present", name: "vm.swappiness", value: "10", reload: true}, live: "60", liveKnown: true, change: true},
		{name: "only the kernel differs, no reload", w: sysctlWant{state: "present", name: "vm.swappiness", value: "10"}, live: "60", liveKnown: true},
		{name: "sysctl_set", w: sysctlWant{state: "present", name: "vm.swappiness", value: "10", set: true}, live: "60", liveKnown: true, setProc: true, change: true},
		{name: "unknown key in the kernel", w: sysctlWant{state: "present", name: "vm.swappiness", value: "10", set: true}, setProc: true, change: true},
		{name: "new key", w: sysctlWant{state: "present", name: "kernel.panic", value: "5"}, live: "0", liveKnown: true, writeFile: true, change: true},
		{name: "absent", w: sysctlWant{state: "absent", name: "vm.swappiness", set: true}, live: "10", liveKnown: true, writeFile: true, change: true},
		{name: "absent already", w: sysctlWant{state: "absent", name: "kernel.panic"}, live: "0", liveKnown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf, sp, ch := decideSysctl(tt.w, vals, tt.live, tt.liveKnown)
			if wf != tt.writeFile || sp != tt.setProc || ch != tt.change {
				t.Errorf("decideSysctl = %v, %v, %v; want %v, %v, %v", wf, sp, ch, tt.writeFile, tt.setProc, tt.change)
			}
		})
	}
}
