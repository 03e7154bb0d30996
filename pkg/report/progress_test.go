package report

import (
	"strings"
	"testing"
	"time"
)

// TestProgressLine checks the status line's text against a fake clock:
// nothing for quick tasks, the longest-running hosts first with their
// times, the host count, cutting to the terminal's width, and several
// tasks at once (strategy free).
func TestProgressLine(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	s := newProgressState(func() time.Time { return now })
	apt := Task{Name: "apt", File: "site.yml", Line: 3}
	s.taskStart()
	for i, h := range []string{"web1", "web2", "web3", "web7", "web9"} {
		now = now.Add(time.Duration(i) * 50 * time.Millisecond)
		s.start(h, apt)
	}
	if got := s.line(200); got != "" {
		t.Errorf("line before %s = %q, want none", ProgressDelay, got)
	}
	s.done("web1")
	s.done("web2")
	now = now.Add(12 * time.Second)
	want := "TASK [apt] 3/5 hosts running: web3 12s, web7 12s, web9 12s"
	if got := s.line(200); got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	got := s.line(45)
	if len(got) > 45 || !strings.HasPrefix(got, "TASK [apt] 3/5 hosts running: web3 12s") || !strings.HasSuffix(got, ", ...") {
		t.Errorf("line cut to 45 columns = %q (%d)", got, len(got))
	}
	// The next task starts when the last host ends: counts start afresh.
	s.done("web3")
	s.done("web7")
	s.done("web9")
	if got := s.line(200); got != "" {
		t.Errorf("line with nothing running = %q", got)
	}
	s.taskStart()
	svc := Task{Name: "svc", Role: "web", File: "site.yml", Line: 9}
	s.start("web1", svc)
	now = now.Add(65 * time.Second)
	if got, want := s.line(200), "TASK [web : svc] 1/1 hosts running: web1 1m05s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	// Two tasks at once name each host's task.
	s.start("db1", apt)
	now = now.Add(2 * time.Second)
	if got, want := s.line(200), "2 hosts running: web1 [web : svc] 1m07s, db1 [apt] 2s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestElapsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m01s", 3725 * time.Second: "1h02m",
	} {
		if got := elapsed(d); got != want {
			t.Errorf("elapsed(%s) = %q, want %q", d, got, want)
		}
	}
}
