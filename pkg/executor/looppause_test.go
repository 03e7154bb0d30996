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
