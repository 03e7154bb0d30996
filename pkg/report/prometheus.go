package report

import (
	"bytes"
	"fmt"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// Prometheus renders a run as a node_exporter textfile (Prometheus text
// exposition format, written by expfmt):
//
//	tend_last_run_timestamp_seconds     when the run ended
//	tend_last_run_duration_seconds      how long it took
//	tend_last_run_exit_code             tend's exit code
//	tend_last_run_check_mode            1 for --check runs
//	tend_host_tasks{host,status}        recap counters: ok, changed, failed, unreachable, skipped, rescued, ignored
//	tend_host_drifted_tasks{host}       tasks that changed (with --check: would change)
func Prometheus(doc *Document, info RunInfo) ([]byte, error) {
	hosts := make([]string, 0, len(doc.Stats))
	for h := range doc.Stats {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	check := 0.0
	if doc.CheckMode {
		check = 1
	}
	fams := []*dto.MetricFamily{
		gaugeFamily("tend_last_run_timestamp_seconds", "Unix time at which the last tend run ended.", gauge(float64(info.Finished.UnixNano())/1e9)),
		gaugeFamily("tend_last_run_duration_seconds", "Duration of the last tend run.", gauge(doc.ElapsedSeconds)),
		gaugeFamily("tend_last_run_exit_code", "Exit code of the last tend run (0 ok, 1 error, 2 failed or changed with --detailed-exitcode, 4 unreachable).", gauge(float64(info.ExitCode))),
		gaugeFamily("tend_last_run_check_mode", "1 if the last tend run was a --check run.", gauge(check)),
	}
	var tasks, drifted []*dto.Metric
	drift := driftedTasks(doc)
	for _, h := range hosts {
		s := doc.Stats[h]
		for _, st := range []struct {
			name string
			n    int
		}{{"ok", s.OK}, {"changed", s.Changed}, {"failed", s.Failed}, {"unreachable", s.Unreachable}, {"skipped", s.Skipped}, {"rescued", s.Rescued}, {"ignored", s.Ignored}} {
			tasks = append(tasks, gauge(float64(st.n), "host", h, "status", st.name))
		}
		drifted = append(drifted, gauge(float64(drift[h]), "host", h))
	}
	fams = append(fams,
		gaugeFamily("tend_host_tasks", "Task results per host in the last tend run, as counted in its recap.", tasks...),
		gaugeFamily("tend_host_drifted_tasks", "Tasks that changed on the host in the last tend run (with --check: would change).", drifted...))
	var b bytes.Buffer
	for _, f := range fams {
		if len(f.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			return nil, fmt.Errorf("prometheus textfile: %w", err)
		}
	}
	return b.Bytes(), nil
}

// driftedTasks counts, per host, the tasks whose outcome was changed.
func driftedTasks(doc *Document) map[string]int {
	n := map[string]int{}
	for _, p := range doc.Plays {
		for _, t := range p.Tasks {
			for h, hr := range t.Hosts {
				if hr.Changed {
					n[h]++
				}
			}
		}
	}
	return n
}

func gaugeFamily(name, help string, metrics ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(), Metric: metrics}
}

// gauge is a sample with label name, value pairs.
func gauge(v float64, labels ...string) *dto.Metric {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return m
}
