package report

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func writeRun(t *testing.T, h *History, end time.Time) {
	t.Helper()
	files := NewFiles(nil, h, Options{})
	playDrift(files)
	if err := files.Write(RunInfo{Finished: end, ExitCode: 2}); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryKeepsLatestAndPrunes(t *testing.T) {
	dir := t.TempDir()
	// Something else in the directory is never pruned.
	if err := os.Mkdir(filepath.Join(dir, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &History{Dir: dir, Keep: 3}
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for i := range 5 {
		writeRun(t, h, start.Add(time.Duration(i)*time.Hour))
	}
	// Two runs ending in the same second both survive, in order.
	writeRun(t, h, start.Add(4*time.Hour))

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"20261206T060000Z", "20261206T070000Z", "20261206T070000Z-1", "latest", "notes"}
	if !slices.Equal(names, want) {
		t.Errorf("directory holds %v, want %v", names, want)
	}
	target, err := os.Readlink(filepath.Join(dir, "latest"))
	if err != nil || target != "20261206T070000Z-1" {
		t.Errorf("latest -> %q (%v), want the newest run", target, err)
	}
	for _, f := range historyFiles {
		if _, err := os.Stat(filepath.Join(dir, "latest", f.Path)); err != nil {
			t.Errorf("run set lacks %s: %v", f.Path, err)
		}
	}
}

func TestHistoryKeepZeroKeepsAll(t *testing.T) {
	dir := t.TempDir()
	h := &History{Dir: dir}
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for i := range 12 {
		writeRun(t, h, start.Add(time.Duration(i)*time.Minute))
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "2026*"))
	if len(runs) != 12 {
		t.Errorf("%d runs kept, want all 12", len(runs))
	}
}

func TestIsRunDir(t *testing.T) {
	for name, want := range map[string]bool{
		"20261206T070000Z": true, "20261206T070000Z-12": true,
		"20261206T070000Z-": false, "20261206T070000Z-0": false, "20261206T070000Zx": false,
		"latest": false, "2026": false, "20261306T070000Z": false,
	} {
		if got := isRunDir(name); got != want {
			t.Errorf("isRunDir(%q) = %v, want %v", name, got, want)
		}
	}
}
