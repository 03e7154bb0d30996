package facts

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCmdline(t *testing.T) {
	c, p := cmdline(`BOOT_IMAGE=/vmlinuz root=UUID=abc ro quiet console=tty0 console=ttyS0,115200 opt="a b"`)
	wantC := map[string]any{"BOOT_IMAGE": "/vmlinuz", "root": "UUID=abc", "ro": true, "quiet": true, "console": "ttyS0,115200", "opt": `"a b"`}
	wantP := map[string]any{"BOOT_IMAGE": "/vmlinuz", "root": "UUID=abc", "ro": true, "quiet": true, "console": []any{"tty0", "ttyS0,115200"}, "opt": `"a b"`}
	if d := cmp.Diff(wantC, c); d != "" {
		t.Errorf("cmdline (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantP, p); d != "" {
		t.Errorf("proc_cmdline (-want +got):\n%s", d)
	}
}

func TestLocalFacts(t *testing.T) {
	got := localFacts([]string{
		"F app 0", `|{"port": 8080, "tags": ["a"]}`,
		"F ini 0", "|[main]", "|Name = web", "|# comment",
		"F broken 0", "|no section = here",
		"F script 3",
	})
	want := map[string]any{
		"app":    map[string]any{"port": float64(8080), "tags": []any{"a"}},
		"ini":    map[string]any{"main": map[string]any{"name": "web"}},
		"broken": "error loading facts as JSON or ini - please check content: broken.fact",
		"script": "Failure executing fact script (script.fact), rc: 3",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestPythonFacts(t *testing.T) {
	f := map[string]any{}
	python(f, []string{"/usr/bin/python3", "Python 3.13.0rc2"})
	want := map[string]any{
		"python_version": "3.13.0",
		"python": map[string]any{"executable": "/usr/bin/python3", "has_sslcontext": true, "type": "cpython",
			"version":      map[string]any{"major": 3, "minor": 13, "micro": 0, "releaselevel": "candidate", "serial": 2},
			"version_info": []any{3, 13, 0, "candidate", 2}},
	}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	none := map[string]any{}
	python(none, nil)
	if len(none) != 0 {
		t.Errorf("python facts without python3: %v", none)
	}
}

// TestDebianVersion: Ansible takes distribution_version from os-release
// (12) and the minor version from /etc/debian_version (12.15).
func TestDebianVersion(t *testing.T) {
	f := map[string]any{}
	parseDistribution(f, map[string][]string{
		"os-release":     {`ID=debian`, `VERSION_ID="12"`, `VERSION_CODENAME=bookworm`},
		"debian_version": {"12.15"},
	})
	for k, want := range map[string]any{"distribution_version": "12", "distribution_major_version": "12",
		"distribution_minor_version": "15", "distribution_release": "bookworm", "distribution_file_path": "/etc/os-release"} {
		if f[k] != want {
			t.Errorf("%s = %v, want %v", k, f[k], want)
		}
	}
}

func TestMemoryFacts(t *testing.T) {
	f := map[string]any{}
	memoryFacts(f, []string{"MemTotal: 2048000 kB", "MemFree: 1024000 kB", "Buffers: 10240 kB", "Cached: 102400 kB",
		"SwapCached: 0 kB", "SwapTotal: 1024000 kB", "SwapFree: 1024000 kB"})
	want := map[string]any{
		"real":    map[string]any{"total": 2000, "used": 1000, "free": 1000},
		"nocache": map[string]any{"free": 1110, "used": 890},
		"swap":    map[string]any{"total": 1000, "free": 1000, "used": 0, "cached": 0},
	}
	if d := cmp.Diff(want, f["memory_mb"]); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
