package template

import (
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	at := time.Date(2024, time.March, 5, 0, 7, 9, 123456789, time.FixedZone("CET", 3600))
	pm := time.Date(2023, time.December, 31, 13, 0, 0, 0, time.UTC)
	cases := []struct {
		format string
		t      time.Time
		want   string
	}{
		{"%Y-%m-%d %H:%M:%S.%f", at, "2024-03-05 00:07:09.123456"},
		{"%y %I%p %j %e", at, "24 12AM 065  5"},
		{"%I%p", pm, "01PM"},
		{"%a %A %b %h %B", at, "Tue Tuesday Mar Mar March"},
		{"%z %Z %s", at, "+0100 CET 1709593629"},
		{"%w %u / %w %u", at, "2 2 / 2 2"},
		{"%w %u", pm, "0 7"},
		{"%F %T", at, "2024-03-05 00:07:09"},
		{"100%% %q %", at, "100% %q %"},
	}
	for _, c := range cases {
		if got := strftime(c.format, c.t); got != c.want {
			t.Errorf("strftime(%q) = %q, want %q", c.format, got, c.want)
		}
	}
}
