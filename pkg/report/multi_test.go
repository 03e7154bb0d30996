package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMultiFansOutAndJoinsErrors(t *testing.T) {
	var human, lines bytes.Buffer
	r := Multi(NewHuman(&human, Options{}), nil, NewJSONLines(&lines, Options{}), NewHuman(failingWriter{}, Options{}))
	debugScenario(r)
	err := r.Close()
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close error = %v, want the failing writer's", err)
	}
	if !strings.Contains(human.String(), `"msg": "hello"`) {
		t.Errorf("human output missing debug message:\n%s", human.String())
	}
	if got := strings.Count(lines.String(), "\n"); got != 9 {
		t.Errorf("json lines = %d, want 9", got)
	}
}

func TestHumanWarningsGoToErrOnceEach(t *testing.T) {
	var out, errOut bytes.Buffer
	r := NewHuman(&out, Options{Err: &errOut})
	r.Warn("", "same")
	r.Warn("", "same")
	r.Warn("web1", "same")
	if got, want := errOut.String(), "[WARNING]: same\n[WARNING]: web1: same\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", out.String())
	}
}

func TestBannerWidth(t *testing.T) {
	tests := []struct {
		name    string
		columns int
		play    string
		want    string
	}{
		{"default 80", 0, "x", "\nPLAY [x] " + strings.Repeat("*", 71) + "\n"},
		{"narrow terminal keeps 80", 40, "x", "\nPLAY [x] " + strings.Repeat("*", 71) + "\n"},
		{"wide terminal", 120, "x", "\nPLAY [x] " + strings.Repeat("*", 111) + "\n"},
		{"long name keeps three stars", 0, strings.Repeat("n", 100), "\nPLAY [" + strings.Repeat("n", 100) + "] ***\n"},
		{"no name", 0, " ", "\nPLAY " + strings.Repeat("*", 75) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			NewHuman(&out, Options{Columns: tt.columns}).PlayStart(tt.play, nil, false)
			if out.String() != tt.want {
				t.Errorf("banner = %q, want %q", out.String(), tt.want)
			}
		})
	}
}
