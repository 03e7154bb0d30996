// Package recap reads the PLAY RECAP that tend and ansible-playbook print
// alike, for the tests and tools that run both and compare them.
package recap

import (
	"regexp"
	"strconv"

	"github.com/tend-dev/tend/pkg/report"
)

// Counts are one host's counters, as tend's JSON report has them.
type Counts = report.StatsReport

// Host is one host's line of the recap.
type Host struct {
	Name string
	Counts
}

var line = regexp.MustCompile(`(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)`)

// Parse returns the recap lines found in a run's output, in order.
func Parse(out string) []Host {
	var hosts []Host
	for _, m := range line.FindAllStringSubmatch(out, -1) {
		var n [7]int
		for i := range n {
			n[i], _ = strconv.Atoi(m[i+2])
		}
		hosts = append(hosts, Host{Name: m[1], Counts: Counts{OK: n[0], Changed: n[1], Unreachable: n[2], Failed: n[3], Skipped: n[4], Rescued: n[5], Ignored: n[6]}})
	}
	return hosts
}

// Of returns host's counters and whether the output has a line for it.
func Of(out, host string) (Counts, bool) {
	for _, h := range Parse(out) {
		if h.Name == host {
			return h.Counts, true
		}
	}
	return Counts{}, false
}

// Sum adds up the counters of every host in the output.
func Sum(out string) (total Counts, hosts int) {
	for _, h := range Parse(out) {
		total.OK += h.OK
		total.Changed += h.Changed
		total.Unreachable += h.Unreachable
		total.Failed += h.Failed
		total.Skipped += h.Skipped
		total.Rescued += h.Rescued
		total.Ignored += h.Ignored
		hosts++
	}
	return total, hosts
}
