package report

import (
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

func TestTally(t *testing.T) {
	tests := []struct {
		name string
		rs   []HostResult
		want Stats
	}{
		{"ok", []HostResult{{Status: OK}}, Stats{OK: 1}},
		{"changed counts ok too", []HostResult{{Status: Changed}}, Stats{OK: 1, Changed: 1}},
		{"failed", []HostResult{{Status: Failed, Result: module.Result{"changed": true}}}, Stats{Failed: 1}},
		{"unreachable", []HostResult{{Status: Unreachable}}, Stats{Unreachable: 1}},
		{"skipped", []HostResult{{Status: Skipped}}, Stats{Skipped: 1}},
		{"ignored", []HostResult{{Status: Ignored}}, Stats{OK: 1, Ignored: 1}},
		{"ignored with change", []HostResult{{Status: Ignored, Result: module.Result{"changed": true}}}, Stats{OK: 1, Changed: 1, Ignored: 1}},
		{"rescued", []HostResult{{Status: Rescued}}, Stats{Rescued: 1}},
		{"retries not counted", []HostResult{{Status: Retrying}, {Status: Retrying}, {Status: OK}}, Stats{OK: 1}},
		{"loop counts its aggregate only", []HostResult{
			{Status: OK, IsItem: true}, {Status: Changed, IsItem: true}, {Status: Failed, IsItem: true}, {Status: Failed},
		}, Stats{Failed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats := map[string]*Stats{}
			for _, r := range tt.rs {
				r.Host = "h"
				Tally(stats, r)
			}
			if got := *stats["h"]; got != tt.want {
				t.Errorf("Tally = %+v, want %+v", got, tt.want)
			}
		})
	}
}
