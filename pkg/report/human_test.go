package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestHumanGolden(t *testing.T) {
	tests := []struct {
		name string
		s    scenario
		opts Options
	}{
		{"play", withRecap(playScenario, "web1", "web2", "db1"), Options{}},
		{"play_color", withRecap(playScenario, "web1", "web2", "db1"), Options{Color: true}},
		{"play_v", withRecap(playScenario, "web1", "web2", "db1"), Options{Verbosity: 1}},
		{"play_vvv", withRecap(playScenario, "web1", "web2", "db1"), Options{Verbosity: 3, Columns: 100}},
		{"loop", withRecap(loopScenario, "web1"), Options{}},
		{"loop_v", withRecap(loopScenario, "web1"), Options{Verbosity: 1}},
		{"debug", debugScenario, Options{}},
		{"diff", diffScenario, Options{Diff: true}},
		{"diff_color", diffScenario, Options{Diff: true, Color: true}},
		{"diff_off", diffScenario, Options{}},
		{"nolog", noLogScenario, Options{Diff: true}},
		{"recap_long", longHostsScenario, Options{}},
		{"recap_long_color", longHostsScenario, Options{Color: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := NewHuman(&out, tt.opts)
			tt.s(r)
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !tt.opts.Color && strings.Contains(out.String(), "\033") {
				t.Errorf("ANSI escape in output without colour")
			}
			golden(t, "human_"+tt.name+".golden", out.Bytes())
		})
	}
}
