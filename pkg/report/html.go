package report

import (
	"bytes"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HTML renders a run as one self-contained page for people: the command
// line and inventories, a summary per host, the hosts x tasks matrix of
// each play coloured by status, the diff of each changed task, and
// timings. Everything the page needs is inline (CSS and a few lines of
// script), so it opens from a mail attachment or an air-gapped share
// without fetching anything. html/template escapes every task name,
// host, message and diff: they come from playbooks and managed hosts.
func HTML(doc *Document, info RunInfo) ([]byte, error) {
	var b bytes.Buffer
	if err := htmlPage.Execute(&b, htmlView(doc, info)); err != nil {
		return nil, fmt.Errorf("html report: %w", err)
	}
	return b.Bytes(), nil
}

type htmlData struct {
	Finished    string
	Elapsed     string
	ExitCode    int
	CheckMode   bool
	Command     string
	Inventories []string
	Hosts       []htmlHost
	Plays       []htmlPlay
	Diffs       []htmlDiff
	Warnings    []WarningReport
	Cells       int
}

type htmlHost struct {
	Name    string
	Stats   StatsReport
	Drifted int
	Class   string
}

type htmlPlay struct {
	Name  string
	Tasks []htmlTask
	Rows  []htmlRow
}

type htmlTask struct {
	Label   string
	Seconds string
}

type htmlRow struct {
	Host  string
	Cells []htmlCell
}

type htmlCell struct {
	Status string
	Title  string
}

type htmlDiff struct {
	Play, Task, Host string
	Text             string
}

func htmlView(doc *Document, info RunInfo) htmlData {
	d := htmlData{
		Finished:    info.Finished.UTC().Format(time.RFC3339),
		Elapsed:     strconv.FormatFloat(doc.ElapsedSeconds, 'f', 2, 64),
		ExitCode:    info.ExitCode,
		CheckMode:   doc.CheckMode,
		Command:     strings.Join(info.Command, " "),
		Inventories: info.Inventories,
		Warnings:    doc.Warnings,
	}
	drift := driftedTasks(doc)
	for _, h := range docHosts(doc) {
		s := doc.Stats[h]
		d.Hosts = append(d.Hosts, htmlHost{Name: h, Stats: s, Drifted: drift[h], Class: hostClass(s)})
	}
	for _, p := range doc.Plays {
		hp := htmlPlayView(p)
		for _, r := range hp.Rows {
			d.Cells += len(r.Cells)
		}
		d.Plays = append(d.Plays, hp)
		d.Diffs = append(d.Diffs, playDiffs(p)...)
	}
	return d
}

// docHosts lists the run's hosts in play order, then any others (hosts
// added during the run) sorted.
func docHosts(doc *Document) []string {
	seen := map[string]bool{}
	var hosts []string
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	for _, p := range doc.Plays {
		for _, h := range p.Play.Hosts {
			add(h)
		}
	}
	var rest []string
	for h := range doc.Stats {
		if !seen[h] {
			rest = append(rest, h)
		}
	}
	for _, p := range doc.Plays {
		for _, t := range p.Tasks {
			for h := range t.Hosts {
				if !seen[h] && !slices.Contains(rest, h) {
					rest = append(rest, h)
				}
			}
		}
	}
	sort.Strings(rest)
	for _, h := range rest {
		add(h)
	}
	return hosts
}

func hostClass(s StatsReport) string {
	switch {
	case s.Unreachable > 0:
		return "unreachable"
	case s.Failed > 0:
		return "failed"
	case s.Changed > 0:
		return "changed"
	}
	return "ok"
}

// htmlPlayView is a play's matrix: a row per host of the play (and any
// host that reported a result without being listed), a cell per task.
func htmlPlayView(p PlayReport) htmlPlay {
	hp := htmlPlay{Name: p.Play.Name}
	if hp.Name == "" {
		hp.Name = "play"
	}
	hosts := docHosts(&Document{Plays: []PlayReport{p}})
	for _, t := range p.Tasks {
		var longest float64
		for _, hr := range t.Hosts {
			longest = max(longest, hr.DurationSeconds)
		}
		hp.Tasks = append(hp.Tasks, htmlTask{Label: taskLabel(t.Task), Seconds: strconv.FormatFloat(longest, 'f', 2, 64)})
	}
	for _, h := range hosts {
		row := htmlRow{Host: h}
		for i, t := range p.Tasks {
			row.Cells = append(row.Cells, htmlCellFor(hp.Tasks[i].Label, h, t.Hosts[h]))
		}
		hp.Rows = append(hp.Rows, row)
	}
	return hp
}

func taskLabel(t TaskInfo) string {
	name := t.Name
	if name == "" {
		name = t.Module
	}
	if t.Role != "" {
		name = t.Role + " : " + name
	}
	if t.Handler {
		name = "handler: " + name
	}
	return name
}

func htmlCellFor(task, host string, hr *HostReport) htmlCell {
	if hr == nil {
		return htmlCell{Status: "none", Title: task + " on " + host + ": not run"}
	}
	title := fmt.Sprintf("%s on %s: %s, %.2fs", task, host, hr.Status, hr.DurationSeconds)
	if hr.Msg != "" {
		title += "\n" + hr.Msg
	}
	return htmlCell{Status: string(hr.Status), Title: title}
}

// playDiffs are the diffs of a play's changed tasks, host by host.
func playDiffs(p PlayReport) []htmlDiff {
	var out []htmlDiff
	for _, t := range p.Tasks {
		for _, h := range slices.Sorted(maps.Keys(t.Hosts)) {
			hr := t.Hosts[h]
			if !hr.Changed {
				continue
			}
			diffs := hr.Diff
			for _, it := range hr.Items {
				if it.Changed {
					diffs = append(diffs, it.Diff...)
				}
			}
			text := renderDiffs(painter{}, diffs)
			if text == "" {
				continue
			}
			out = append(out, htmlDiff{Play: p.Play.Name, Task: taskLabel(t.Task), Host: h, Text: text})
		}
	}
	return out
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tend run {{.Finished}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .5em; }
h2 { font-size: 1.15em; margin: 1.5em 0 .5em; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; }
td.n { text-align: right; }
.matrix th.task { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 14em; white-space: nowrap; overflow: hidden; font-weight: normal; }
.matrix td.cell { width: 1.4em; height: 1.4em; padding: 0; }
.ok { background: #bfe8bf; }
.changed { background: #f7dc8c; }
.failed { background: #f2a0a0; }
.unreachable { background: #c9a0dc; }
.skipped { background: #b8d8f0; }
.ignored { background: #f5c6a5; }
.rescued { background: #e8d1a0; }
.none { background: #eee; }
.legend span { display: inline-block; padding: 0 .5em; margin-right: .3em; border: 1px solid #ccc; }
dl.meta dt { font-weight: bold; float: left; clear: left; width: 8em; }
dl.meta dd { margin-left: 8.5em; }
</style>
</head>
<body data-cells="{{.Cells}}" data-hosts="{{len .Hosts}}">
<h1>tend run{{if .CheckMode}} (check mode){{end}}</h1>
<dl class="meta">
<dt>finished</dt><dd>{{.Finished}}</dd>
<dt>duration</dt><dd>{{.Elapsed}} s</dd>
<dt>exit code</dt><dd id="exit-code">{{.ExitCode}}</dd>
<dt>command</dt><dd><code id="command">{{.Command}}</code></dd>
<dt>inventory</dt><dd>{{range $i, $inv := .Inventories}}{{if $i}}, {{end}}<code>{{$inv}}</code>{{else}}(none){{end}}</dd>
</dl>

<h2>Hosts</h2>
<table id="hosts">
<thead><tr><th>host</th><th>ok</th><th>changed</th><th>failed</th><th>unreachable</th><th>skipped</th><th>rescued</th><th>ignored</th><th>drifted tasks</th></tr></thead>
<tbody>
{{range .Hosts}}<tr class="host"><th class="{{.Class}}">{{.Name}}</th><td class="n">{{.Stats.OK}}</td><td class="n">{{.Stats.Changed}}</td><td class="n">{{.Stats.Failed}}</td><td class="n">{{.Stats.Unreachable}}</td><td class="n">{{.Stats.Skipped}}</td><td class="n">{{.Stats.Rescued}}</td><td class="n">{{.Stats.Ignored}}</td><td class="n">{{.Drifted}}</td></tr>
{{end}}</tbody>
</table>

<h2>Tasks</h2>
<p class="legend"><span class="ok">ok</span><span class="changed">changed</span><span class="failed">failed</span><span class="unreachable">unreachable</span><span class="skipped">skipped</span><span class="ignored">ignored</span><span class="rescued">rescued</span><span class="none">not run</span></p>
{{range .Plays}}<h3>PLAY [{{.Name}}]</h3>
<table class="matrix">
<thead><tr><th>host</th>{{range .Tasks}}<th class="task" title="{{.Label}} (longest host: {{.Seconds}} s)">{{.Label}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><th>{{.Host}}</th>{{range .Cells}}<td class="cell {{.Status}}" title="{{.Title}}"></td>{{end}}</tr>
{{end}}</tbody>
</table>
<table class="timings">
<thead><tr><th>task</th><th>longest host (s)</th></tr></thead>
<tbody>{{range .Tasks}}<tr><td>{{.Label}}</td><td class="n">{{.Seconds}}</td></tr>{{end}}</tbody>
</table>
{{end}}
<h2>Changes</h2>
{{range .Diffs}}<details class="diff"><summary>{{.Play}} / {{.Task}} on {{.Host}}</summary><pre>{{.Text}}</pre></details>
{{else}}<p>No diffs (changed tasks show theirs when tend runs with --diff).</p>
{{end}}
{{if .Warnings}}<h2>Warnings</h2>
<ul>{{range .Warnings}}<li>{{if .Host}}[{{.Host}}] {{end}}{{.Msg}}</li>{{end}}</ul>
{{end}}
<script>
(function () {
  var b = document.body;
  var cells = document.querySelectorAll("table.matrix td.cell").length;
  var hosts = document.querySelectorAll("#hosts tr.host").length;
  if (String(cells) === b.getAttribute("data-cells") && String(hosts) === b.getAttribute("data-hosts")) {
    b.setAttribute("data-rendered", "ok");
  }
})();
</script>
</body>
</html>
`))
