package executor

import (
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// TestLoopPause: loop_control.pause is read as seconds, a number or a
// template giving one (ansible-core's loops target pauses 2 s between
// items); before, it was accepted and ignored.
func TestLoopPause(t *testing.T) {
	p := &playRun{r: &runner{opts: Options{Templates: template.New(template.Options{})}}}
	vars := map[string]any{"p": "1.5"}
	for _, c := range []struct {
		pause any
		want  time.Duration
	}{
		{nil, 0}, {2, 2 * time.Second}, {"{{ p }}", 1500 * time.Millisecond}, {"x", 0}, {-1, 0},
	} {
		task := &playbook.Task{LoopControl: playbook.LoopControl{Pause: c.pause}}
		if got := p.loopPause(task, vars); got != c.want {
			t.Errorf("pause %v: %v, want %v", c.pause, got, c.want)
		}
	}
}

// TestUntilSettings: retries and delay are Ansible integer keywords read
// with Python's int(), so a float truncates (loop-until's `delay: 0.5` is
// no delay; it was the five-second default, minutes over a loop).
func TestUntilSettings(t *testing.T) {
	p := &playRun{r: &runner{opts: Options{Templates: template.New(template.Options{})}}}
	vars := map[string]any{"d": 2}
	for _, c := range []struct {
		retries, delay any
		wantTries      int
		wantDelay      time.Duration
	}{
		{nil, nil, 3, 5 * time.Second},
		{4, 0.5, 5, 0},
		{2.7, "{{ d }}", 3, 2 * time.Second},
		{0, -3, 1, time.Second},
		{"x", "y", 3, 5 * time.Second},
	} {
		task := &playbook.Task{Until: []any{"false"}, Retries: c.retries, Delay: c.delay}
		tries, delay := p.untilSettings(task, vars)
		if tries != c.wantTries || delay != c.wantDelay {
			t.Errorf("retries %v delay %v: %d tries, delay %v; want %d, %v", c.retries, c.delay, tries, delay, c.wantTries, c.wantDelay)
		}
	}
}
