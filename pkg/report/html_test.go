package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tend-dev/tend/pkg/module"
)

// The html report holds the run's facts: a row per host, a cell per
// task and host, each changed task's diff, the command line; and
// nothing it should not: markup from task names, hosts, messages and
// diffs is text, and a no_log result's secret never appears.
func TestHTMLReport(t *testing.T) {
	const secret = "s3cr3t-Tok3n-91"
	dir := t.TempDir()
	path := filepath.Join(dir, "run.html")
	files := NewFiles([]FileSpec{{Format: "html", Path: path}}, nil, Options{Diff: true})
	playDrift(files)
	evil := Task{Name: `<script>alert("task")</script>`, Module: "copy"}
	files.PlayStart(`<b>play</b>`, []string{"<img src=x onerror=alert(1)>", "a"}, false)
	files.TaskStart(evil)
	files.HostResult(HostResult{Host: "<img src=x onerror=alert(1)>", Task: evil, Status: Changed, Msg: `</td><script>alert("msg")</script>`,
		Result: module.Result{"changed": true}, Diff: []module.Diff{{Before: "old\n", After: "<script>alert(\"diff\")</script>\n", AfterHeader: "/etc/motd"}}})
	secretTask := Task{Name: "set password", Module: "copy"}
	files.TaskStart(secretTask)
	files.HostResult(HostResult{Host: "a", Task: secretTask, Status: Changed, NoLog: true, Msg: secret,
		Result: module.Result{"changed": true, "msg": secret}, Diff: []module.Diff{{Before: "", After: secret + "\n"}}})
	if err := files.Close(); err != nil {
		t.Fatal(err)
	}
	if err := files.Write(RunInfo{Finished: time.Unix(1_800_000_000, 0), ExitCode: 2, Command: []string{"tend", "play", "-i", "hosts", "site.yml"}, Inventories: []string{"hosts"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if strings.Contains(page, secret) {
		t.Errorf("the page shows a no_log secret:\n%s", page)
	}
	for _, raw := range []string{"<script>alert", "<img src=x", "<b>play", "</td><script>"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds unescaped markup %q", raw)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d script elements, want only the page's own", n)
	}
	for _, want := range []string{
		`<code id="command">tend play -i hosts site.yml</code>`,
		`&lt;script&gt;alert(&#34;diff&#34;)&lt;/script&gt;`,
		"after: /etc/motd",
		`<dd id="exit-code">2</dd>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*"?(https?:)?//`).MatchString(page) || strings.Contains(page, "@import") || strings.Contains(page, "url(") {
		t.Error("the page fetches something from the network")
	}
	// Hosts a-d and the evil one; play "web": 4 hosts x 2 tasks, the
	// second play 2 hosts x 2 tasks.
	if got := strings.Count(page, `<tr class="host">`); got != 5 {
		t.Errorf("%d host rows, want 5", got)
	}
	if got := strings.Count(page, `<td class="cell `); got != 12 {
		t.Errorf("%d matrix cells, want 12", got)
	}
	if !strings.Contains(page, `data-cells="12" data-hosts="5"`) {
		t.Error("the body does not announce 12 cells and 5 hosts")
	}
	if got := strings.Count(page, `<details class="diff">`); got != 1 {
		t.Errorf("%d diffs, want 1 (the no_log task's is censored)", got)
	}
}
