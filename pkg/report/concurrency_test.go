package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

// writeLog is a plain bytes.Buffer that also checks every Write ends a
// line. It has no lock of its own: the race detector catches a reporter
// writing from two goroutines at once.
type writeLog struct {
	t   *testing.T
	buf bytes.Buffer
}

func (w *writeLog) Write(p []byte) (int, error) {
	if len(p) > 0 && p[len(p)-1] != '\n' {
		w.t.Errorf("write does not end a line: %q", p)
	}
	return w.buf.Write(p)
}

const (
	goroutines = 50
	perHost    = 20
)

// emitConcurrently has 50 hosts report results of one task at once,
// each calling TaskStart as a per-host executor might.
func emitConcurrently(r Reporter) {
	task := Task{Name: "concurrent", Module: "debug"}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := fmt.Sprintf("host%02d", g)
			r.TaskStart(task)
			for i := 0; i < perHost; i++ {
				r.HostResult(HostResult{Host: host, Task: task, Status: OK,
					Result: module.Result{"msg": []any{fmt.Sprintf("%s-%d-a", host, i), fmt.Sprintf("%s-%d-b", host, i)}}})
				if i%5 == 0 {
					r.Warn(host, fmt.Sprintf("warning %d", i))
				}
			}
		}()
	}
	wg.Wait()
}

func TestHumanConcurrentLinesDoNotInterleave(t *testing.T) {
	w := &writeLog{t: t}
	r := NewHuman(w, Options{})
	emitConcurrently(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	banners, results, warnings := 0, 0, 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "":
		case strings.HasPrefix(l, "TASK [concurrent]"):
			banners++
		case strings.HasPrefix(l, "[WARNING]: host"):
			warnings++
		case strings.HasPrefix(l, "ok: [host"):
			// Each debug result is 6 lines that must stay together.
			host := strings.TrimSuffix(strings.TrimPrefix(l, "ok: ["), "] => {")
			if i+5 >= len(lines) {
				t.Fatalf("truncated result at line %d", i)
			}
			block := lines[i+1 : i+6]
			if block[0] != `    "msg": [` || !strings.HasPrefix(block[1], `        "`+host+"-") ||
				!strings.HasPrefix(block[2], `        "`+host+"-") || block[3] != "    ]" || block[4] != "}" {
				t.Fatalf("result of %s interleaved at line %d:\n%s", host, i, strings.Join(lines[i:i+6], "\n"))
			}
			results++
			i += 5
		default:
			t.Fatalf("unexpected line %d: %q", i, l)
		}
	}
	if banners != 1 {
		t.Errorf("task banner printed %d times, want 1", banners)
	}
	if results != goroutines*perHost {
		t.Errorf("results = %d, want %d", results, goroutines*perHost)
	}
	if want := goroutines * perHost / 5; warnings != want {
		t.Errorf("warnings = %d, want %d", warnings, want)
	}
}

func TestJSONReportersConcurrent(t *testing.T) {
	t.Run("jsonlines", func(t *testing.T) {
		w := &writeLog{t: t}
		r := NewJSONLines(w, Options{})
		emitConcurrently(r)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		n := 0
		sc := bufio.NewScanner(&w.buf)
		for sc.Scan() {
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %d: %v: %s", n, err, sc.Text())
			}
			n++
		}
		if want := goroutines * (1 + perHost + perHost/5); n != want {
			t.Errorf("events = %d, want %d", n, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		r := NewJSON(&buf, Options{})
		emitConcurrently(r)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		var doc Document
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Plays) != 1 || len(doc.Plays[0].Tasks) != 1 || len(doc.Plays[0].Tasks[0].Hosts) != goroutines {
			t.Errorf("document shape wrong: %d plays", len(doc.Plays))
		}
		if s := doc.Stats["host07"]; s.OK != perHost {
			t.Errorf("stats[host07] = %+v, want ok=%d", s, perHost)
		}
	})
}
