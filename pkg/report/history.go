package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// History keeps one report set per run under Dir: a subdirectory named
// by the run's end time (UTC, so names sort in time order whatever the
// zone), a "latest" symlink to the newest, and at most Keep runs (0
// keeps all).
type History struct {
	Dir  string
	Keep int
}

// runDirLayout names run directories; the same layout recognises them
// when pruning, so nothing else in Dir is ever removed.
const runDirLayout = "20060102T150405Z"

// historyFiles are the reports of a run set.
var historyFiles = []FileSpec{
	{Format: "json", Path: "report.json"},
	{Format: "junit", Path: "junit.xml"},
	{Format: "prometheus", Path: "tend.prom"},
	{Format: "html", Path: "report.html"},
}

// newRunDir creates the directory of a run that ended at t; runs ending
// in the same second get -1, -2, ... suffixes.
func (h *History) newRunDir(t time.Time) (string, error) {
	if err := os.MkdirAll(h.Dir, 0o755); err != nil {
		return "", fmt.Errorf("create report directory %s: %w", h.Dir, err)
	}
	base := t.UTC().Format(runDirLayout)
	for i := 0; i < 100; i++ {
		name := base
		if i > 0 {
			name += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(filepath.Join(h.Dir, name), 0o755)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create run report directory: %w", err)
		}
	}
	return "", fmt.Errorf("create run report directory in %s: too many runs at %s", h.Dir, base)
}

// finish points "latest" at the run (replacing the link atomically) and
// prunes the oldest runs beyond Keep.
func (h *History) finish(name string) error {
	tmp := filepath.Join(h.Dir, ".latest.tmp"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	// Relative, so the directory can be moved or mounted elsewhere.
	if err := os.Symlink(name, tmp); err != nil {
		return fmt.Errorf("link latest report: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(h.Dir, "latest")); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link latest report: %w", err)
	}
	return h.prune()
}

// prune removes the oldest run directories beyond Keep.
func (h *History) prune() error {
	if h.Keep <= 0 {
		return nil
	}
	entries, err := os.ReadDir(h.Dir)
	if err != nil {
		return fmt.Errorf("prune reports in %s: %w", h.Dir, err)
	}
	var runs []string
	for _, e := range entries {
		if e.IsDir() && isRunDir(e.Name()) {
			runs = append(runs, e.Name())
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runOrder(runs[i], runs[j]) })
	var errs []error
	for len(runs) > h.Keep {
		if err := os.RemoveAll(filepath.Join(h.Dir, runs[0])); err != nil {
			errs = append(errs, fmt.Errorf("prune reports: %w", err))
		}
		runs = runs[1:]
	}
	return errors.Join(errs...)
}

// isRunDir reports whether name is a run directory: a time in
// runDirLayout, maybe with a -N suffix.
func isRunDir(name string) bool {
	if len(name) < len(runDirLayout) {
		return false
	}
	if _, err := time.Parse(runDirLayout, name[:len(runDirLayout)]); err != nil {
		return false
	}
	rest := name[len(runDirLayout):]
	if rest == "" {
		return true
	}
	n, err := strconv.Atoi(rest[1:])
	return rest[0] == '-' && err == nil && n > 0
}

// runOrder sorts run directories oldest first: by time, then suffix
// (so "…Z-10" comes after "…Z-9").
func runOrder(a, b string) bool {
	ta, tb := a[:len(runDirLayout)], b[:len(runDirLayout)]
	if ta != tb {
		return ta < tb
	}
	return suffix(a) < suffix(b)
}

func suffix(name string) int {
	n, _ := strconv.Atoi(name[min(len(name), len(runDirLayout)+1):])
	return n
}
