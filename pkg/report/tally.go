package report

// Tally adds r to its host's counters in stats, creating them when
// missing, exactly as Ansible's strategy counts for the recap:
//
//   - ok: ok=+1; changed: ok=+1 and changed=+1;
//   - failed: failed=+1; unreachable: unreachable=+1; skipped: skipped=+1;
//   - ignored (ignore_errors): ok=+1 and ignored=+1, and changed=+1 when
//     the failed result reports a change;
//   - rescued (failure caught by a block's rescue): rescued=+1 only;
//   - loop items and until: retries are not counted: a loop counts once
//     per task and host, by its aggregate result.
//
// Tally is not safe for concurrent use on the same map; the caller
// serialises (the executor counts under its own lock).
func Tally(stats map[string]*Stats, r HostResult) {
	if r.IsItem || r.Status == Retrying || r.Status == Async {
		return
	}
	s := stats[r.Host]
	if s == nil {
		s = &Stats{}
		stats[r.Host] = s
	}
	switch r.Status {
	case OK:
		s.OK++
	case Changed:
		s.OK++
		s.Changed++
	case Failed:
		s.Failed++
	case Unreachable:
		s.Unreachable++
	case Skipped:
		s.Skipped++
	case Ignored:
		s.OK++
		s.Ignored++
		if isChanged(r) {
			s.Changed++
		}
	case Rescued:
		s.Rescued++
	}
}
