package modules

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/module"
)

func TestPauseDuration(t *testing.T) {
	cases := []struct {
		args module.Args
		want time.Duration
		unit string
	}{
		{module.Args{"seconds": 3}, 3 * time.Second, "seconds"},
		{module.Args{"seconds": "0"}, time.Second, "seconds"},
		{module.Args{"seconds": 1.7}, time.Second, "seconds"},
		{module.Args{"minutes": 2}, 2 * time.Minute, "minutes"},
		{module.Args{}, 0, "minutes"},
	}
	for _, c := range cases {
		got, unit, err := pauseDuration(c.args)
		if err != nil || got != c.want || unit != c.unit {
			t.Errorf("pauseDuration(%v) = %v %q %v, want %v %q", c.args, got, unit, err, c.want, c.unit)
		}
	}
	if _, _, err := pauseDuration(module.Args{"seconds": "soon"}); err == nil {
		t.Error(`seconds: "soon" was accepted`)
	}
}

// A pause ends when the run is stopped.
func TestPauseCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&Pause{}).Plan(ctx, &module.Host{Name: "h", Warn: func(string) {}}, module.Args{"minutes": 5, "echo": true})
	if err == nil {
		t.Fatal("a cancelled pause did not fail")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("pause ran %v after cancellation", d)
	}
}

// Without a terminal a prompt does not wait, and says so.
func TestPausePromptWithoutTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var warned []string
	h := &module.Host{Name: "h", Warn: func(s string) { warned = append(warned, s) }}
	plan, err := (&Pause{Stdin: r}).Plan(context.Background(), h, module.Args{"prompt": "go on?", "echo": true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Result["user_input"] != "" || len(warned) != 1 {
		t.Fatalf("result %v, warnings %q", plan.Result, warned)
	}
}
