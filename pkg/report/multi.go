package report

import (
	"errors"
	"time"
)

// multi sends every event to several reporters in order.
type multi []Reporter

var _ Reporter = multi(nil)

// Multi returns a Reporter that forwards each event to every reporter in
// order; nil reporters are left out. It is as safe for concurrent use as
// the reporters it wraps. Close closes all of them and joins their errors.
func Multi(reporters ...Reporter) Reporter {
	var m multi
	for _, r := range reporters {
		if r != nil {
			m = append(m, r)
		}
	}
	return m
}

func (m multi) PlaybookStart(path string) {
	for _, r := range m {
		r.PlaybookStart(path)
	}
}

func (m multi) PlayStart(name string, hosts []string, check bool) {
	for _, r := range m {
		r.PlayStart(name, hosts, check)
	}
}

func (m multi) TaskStart(t Task) {
	for _, r := range m {
		r.TaskStart(t)
	}
}

func (m multi) HostResult(res HostResult) {
	for _, r := range m {
		r.HostResult(res)
	}
}

// HostStart and HostDone go to the reporters that follow activity.
func (m multi) HostStart(host string, t Task) {
	for _, r := range m {
		if a, ok := r.(Activity); ok {
			a.HostStart(host, t)
		}
	}
}

func (m multi) HostDone(host string, t Task) {
	for _, r := range m {
		if a, ok := r.(Activity); ok {
			a.HostDone(host, t)
		}
	}
}

func (m multi) Warn(host, msg string) {
	for _, r := range m {
		r.Warn(host, msg)
	}
}

func (m multi) Recap(hosts []string, stats map[string]*Stats, elapsed time.Duration) {
	for _, r := range m {
		r.Recap(hosts, stats, elapsed)
	}
}

func (m multi) Close() error {
	var errs []error
	for _, r := range m {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

func (m multi) NoHostsLeft() {
	for _, r := range m {
		r.NoHostsLeft()
	}
}
