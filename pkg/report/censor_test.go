package report

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

// resultTap keeps the results it is given.
type resultTap struct {
	multi
	got []HostResult
}

func (r *resultTap) HostResult(h HostResult) { r.got = append(r.got, h) }

// TestCensorHidesEverything sends no_log results holding a secret in every
// field to every reporter, at every verbosity, and through Censoring to a
// reporter that prints whatever it receives.
func TestCensorHidesEverything(t *testing.T) {
	const secret = "s3cr3t-Tok3n-91"
	task := Task{Name: "t", Module: "copy", Loop: true}
	result := func() module.Result {
		return module.Result{"msg": secret, "stdout": secret, "warnings": []any{secret}, "changed": true,
			"attempts": 1, "retries": 3, "exception": secret, "include": "/tasks.yml",
			"invocation": map[string]any{"module_args": map[string]any{"content": secret}},
			"results":    []any{map[string]any{"item": secret}}}
	}
	diff := []module.Diff{{Before: "", After: secret + "\n", AfterHeader: secret}}
	var results []HostResult
	for _, st := range []Status{OK, Changed, Failed, Ignored, Rescued, Skipped, Unreachable, Retrying, Included} {
		for _, isItem := range []bool{false, true} {
			results = append(results, HostResult{Host: "h", Task: task, Status: st, Result: result(), Item: secret,
				IsItem: isItem, NoLog: true, Diff: diff, Msg: secret, Retries: 1})
		}
	}
	makers := map[string]func(io.Writer, Options) Reporter{"human": NewHuman, "json": NewJSON, "jsonl": NewJSONLines}
	for name, mk := range makers {
		for _, v := range []int{0, 1, 2, 3, 4} {
			var out bytes.Buffer
			rep := mk(&out, Options{Verbosity: v, Diff: true})
			rep.TaskStart(task)
			for _, r := range results {
				rep.HostResult(r)
			}
			rep.Close()
			if strings.Contains(out.String(), secret) {
				t.Errorf("%s -v%d shows the secret:\n%s", name, v, out.String())
			}
		}
	}
	rec := &resultTap{}
	c := Censoring(rec)
	for _, r := range results {
		c.HostResult(r)
	}
	for _, r := range rec.got {
		var b bytes.Buffer
		NewJSONLines(&b, Options{}).HostResult(HostResult{Host: r.Host, Task: r.Task, Status: r.Status, Result: r.Result, Item: r.Item, Diff: r.Diff, Msg: r.Msg})
		if strings.Contains(b.String(), secret) || r.Item != nil || r.Diff != nil || r.Msg != "" {
			t.Errorf("Censoring passed on %s %+v", r.Status, r)
		}
		if _, ok := r.Result["changed"].(bool); r.Result["censored"] != CensoredMessage || !ok {
			t.Errorf("%s: censored result %v lacks the stand-in or changed", r.Status, r.Result)
		}
	}
}
