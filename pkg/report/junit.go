package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// The JUnit XML schema as Jenkins, GitLab and GitHub test reporters read
// it: testsuites > testsuite > testcase with failure, error or skipped.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitProblem   `xml:"failure"`
	Error      *junitProblem   `xml:"error"`
	Skipped    *junitSkipped   `xml:"skipped"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// JUnit renders a run as JUnit XML: one testsuite per play, one testcase
// per task and host, its classname the host (so CI systems group the
// results by host) and its name the task.
//
// failed -> <failure>, unreachable -> <error>, skipped -> <skipped/>.
// Changed is a "changed" property and a line in system-out; in check
// mode it is also a <failure type="drift">, because a CI drift check
// (--check) must show the hosts that are not in the wanted state as red,
// while a run that corrects them (no --check) did its job. A failure
// ignored with ignore_errors, or rescued by a block, passes with a note.
func JUnit(doc *Document) ([]byte, error) {
	out := junitSuites{Name: "tend", Time: seconds(doc.ElapsedSeconds)}
	for _, p := range doc.Plays {
		s := junitSuite{Name: p.Play.Name, Properties: []junitProperty{{Name: "check_mode", Value: strconv.FormatBool(p.Play.CheckMode)}}}
		if s.Name == "" {
			s.Name = "play"
		}
		var elapsed float64
		for _, t := range p.Tasks {
			for _, h := range slices.Sorted(maps.Keys(t.Hosts)) {
				c := junitTestcase(t.Task, h, t.Hosts[h], p.Play.CheckMode || doc.CheckMode)
				elapsed += t.Hosts[h].DurationSeconds
				s.Tests++
				switch {
				case c.Error != nil:
					s.Errors++
				case c.Failure != nil:
					s.Failures++
				case c.Skipped != nil:
					s.Skipped++
				}
				s.Cases = append(s.Cases, c)
			}
		}
		s.Time = seconds(elapsed)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}

func junitTestcase(t TaskInfo, host string, hr *HostReport, check bool) junitCase {
	name := t.Name
	if t.Role != "" {
		name = t.Role + " : " + name
	}
	if t.Handler {
		name = "handler: " + name
	}
	c := junitCase{Name: name, Classname: host, Time: seconds(hr.DurationSeconds)}
	if t.File != "" {
		c.Properties = append(c.Properties, junitProperty{Name: "file", Value: t.File + ":" + strconv.Itoa(t.Line)})
	}
	c.Properties = append(c.Properties,
		junitProperty{Name: "status", Value: string(hr.Status)},
		junitProperty{Name: "changed", Value: strconv.FormatBool(hr.Changed)})
	msg := hr.Msg
	if msg == "" {
		msg = string(hr.Status)
	}
	switch hr.Status {
	case Unreachable:
		c.Error = &junitProblem{Message: msg, Type: "unreachable", Text: resultText(hr)}
	case Failed:
		c.Failure = &junitProblem{Message: msg, Type: "failed", Text: resultText(hr)}
	case Skipped:
		c.Skipped = &junitSkipped{Message: hr.Msg}
	case Ignored:
		c.SystemOut = "failed, ignored (ignore_errors): " + msg + "\n"
	case Rescued:
		c.SystemOut = "failed, rescued by the block's rescue: " + msg + "\n"
	}
	if hr.Changed {
		c.SystemOut += "changed\n"
		if check && c.Failure == nil && c.Error == nil {
			c.Failure = &junitProblem{Message: "would change (drift)", Type: "drift", Text: resultText(hr)}
		}
	}
	return c
}

// resultText is the module result as the failure's body, for the
// person reading the CI page.
func resultText(hr *HostReport) string {
	b, err := json.MarshalIndent(hr.Result, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }
