package testbed

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkBoot boots beds of 3, 10 and 50 hosts (image cached) and
// reports the time until every host answers SSH with its boot finished,
// and the memory per idle host (proportional set size of the container's
// processes and its systemd-nspawn, so shared libraries count once):
//
//	go test ./integration/testbed -run '^$' -bench Boot -benchtime 1x
func BenchmarkBoot(b *testing.B) {
	if err := CheckPrerequisites(); err != nil {
		b.Skipf("testbed: %v", err)
	}
	for _, n := range []int{3, 10, 50} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			specs := make([]HostSpec, n)
			for i := range specs {
				specs[i] = HostSpec{Name: "h" + strconv.Itoa(i+1)}
			}
			ctx := context.Background()
			if _, err := EnsureImage(ctx, "", "", false, nil); err != nil {
				b.Fatal(err)
			}
			var mem float64
			for i := 0; i < b.N; i++ {
				start := time.Now()
				bed, err := Up(ctx, Options{Name: fmt.Sprintf("bench-%d", n)}, specs...)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/boot")
				time.Sleep(2 * time.Second) // let first-boot jobs settle
				mem = 0
				for _, h := range bed.Hosts {
					pids, _ := netnsPids(ctx, h.NetnsName)
					mem += pssMB(append(pids, h.PID))
				}
				if err := bed.Down(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(mem/float64(n), "MB/host")
		})
	}
}

// pssMB sums the proportional set size of pids in MB.
func pssMB(pids []int) float64 {
	var kb float64
	for _, p := range pids {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/smaps_rollup")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "Pss:" {
				v, _ := strconv.ParseFloat(f[1], 64)
				kb += v
			}
		}
	}
	return kb / 1024
}
