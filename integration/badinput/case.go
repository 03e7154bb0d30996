package badinput

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Outcome is how a run of tend ended.
type Outcome string

// The outcomes a case can expect, by exit code.
const (
	OK          Outcome = "ok"          // exit 0
	Error       Outcome = "error"       // exit 1: load, validation or usage error
	Failed      Outcome = "failed"      // exit 2: a task failed on a host
	Unreachable Outcome = "unreachable" // exit 4
)

// Expect is what one command of a case must give.
type Expect struct {
	Outcome Outcome
	// File and Line locate the message, when the input has a location;
	// Line 0 accepts any line of File.
	File string
	Line int
}

// Case is one malformed input.
type Case struct {
	Name   string
	Title  string           // the first comment line
	Syntax Expect           // tend play --syntax-check
	Play   Expect           // tend play
	Args   []string         // extra arguments of both commands
	Match  []*regexp.Regexp // must appear in the output of each command
	// PlayMatch must appear in the output of the run only: the failure of
	// a task whose problem the syntax check reports as an error.
	PlayMatch []*regexp.Regexp
	Warn      []Expect // locations a warning must name, whatever the outcome
	// PlayWarn are locations a warning of the run must name: files that a
	// syntax check does not read (known_hosts).
	PlayWarn []Expect
	SSH      bool              // the case needs an SSH host: @SSH_...@ placeholders are replaced
	Files    map[string][]byte // relative path -> content
	Order    []string
	Comment  string
}

// ParseCase reads a txtar case: header lines "key: value" (lines starting
// with # are comments), then files introduced by "-- name --" lines. A
// file whose name ends in ".q" holds one Go-quoted string, written without
// the suffix: it carries NUL bytes, invalid UTF-8 and BOMs.
func ParseCase(name string, data []byte) (*Case, error) {
	c := &Case{Name: name, Files: map[string][]byte{}}
	header, files := splitTxtar(data)
	var expect, syntax, play string
	for i, line := range strings.Split(header, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if c.Title == "" {
				c.Title = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			}
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want key: value", name, i+1)
		}
		val = strings.TrimSpace(val)
		switch key {
		case "expect":
			expect = val
		case "syntax":
			syntax = val
		case "play":
			play = val
		case "args":
			c.Args = strings.Fields(val)
		case "match", "playmatch":
			re, err := regexp.Compile(val)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", name, i+1, key, err)
			}
			if key == "match" {
				c.Match = append(c.Match, re)
			} else {
				c.PlayMatch = append(c.PlayMatch, re)
			}
		case "warn", "playwarn":
			w, err := parseExpect("ok " + val)
			if err != nil || w.File == "" {
				return nil, fmt.Errorf("%s:%d: %s: want FILE:LINE", name, i+1, key)
			}
			if key == "warn" {
				c.Warn = append(c.Warn, w)
			} else {
				c.PlayWarn = append(c.PlayWarn, w)
			}
		case "ssh":
			c.SSH = val == "true"
		case "note":
			c.Comment = val
		default:
			return nil, fmt.Errorf("%s:%d: unknown key %q", name, i+1, key)
		}
	}
	if syntax == "" {
		syntax = expect
	}
	if play == "" {
		play = expect
	}
	var err error
	if c.Syntax, err = parseExpect(syntax); err != nil {
		return nil, fmt.Errorf("%s: syntax: %w", name, err)
	}
	if c.Play, err = parseExpect(play); err != nil {
		return nil, fmt.Errorf("%s: play: %w", name, err)
	}
	for _, f := range files {
		content := f.data
		fname := f.name
		if strings.HasSuffix(fname, ".q") {
			s, err := strconv.Unquote(strings.TrimSpace(string(content)))
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", name, fname, err)
			}
			fname, content = strings.TrimSuffix(fname, ".q"), []byte(s)
		}
		c.Files[fname] = content
		c.Order = append(c.Order, fname)
	}
	if _, ok := c.Files["site.yml"]; !ok && !hasArg(c.Args, "site.yml") {
		return nil, fmt.Errorf("%s: no site.yml", name)
	}
	return c, nil
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

// parseExpect reads "OUTCOME [FILE:LINE|FILE:*]".
func parseExpect(s string) (Expect, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return Expect{}, fmt.Errorf("want OUTCOME [FILE:LINE], got %q", s)
	}
	e := Expect{Outcome: Outcome(f[0])}
	switch e.Outcome {
	case OK, Error, Failed, Unreachable:
	default:
		return Expect{}, fmt.Errorf("unknown outcome %q", f[0])
	}
	if len(f) == 2 {
		file, line, ok := strings.Cut(f[1], ":")
		if !ok {
			return Expect{}, fmt.Errorf("location %q: want FILE:LINE or FILE:*", f[1])
		}
		e.File = file
		if line != "*" {
			n, err := strconv.Atoi(line)
			if err != nil {
				return Expect{}, fmt.Errorf("location %q: %w", f[1], err)
			}
			e.Line = n
		}
	}
	return e, nil
}

type txtarFile struct {
	name string
	data []byte
}

// splitTxtar splits the txtar format: a comment, then "-- name --" files.
func splitTxtar(data []byte) (string, []txtarFile) {
	var files []txtarFile
	var header []byte
	cur := -1
	for len(data) > 0 {
		line := data
		rest := []byte(nil)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, rest = data[:i+1], data[i+1:]
		}
		data = rest
		t := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) && len(t) > 6 {
			files = append(files, txtarFile{name: strings.TrimSpace(string(t[3 : len(t)-3]))})
			cur = len(files) - 1
			continue
		}
		if cur < 0 {
			header = append(header, line...)
		} else {
			files[cur].data = append(files[cur].data, line...)
		}
	}
	return string(header), files
}

// Write lays the case's files out under dir, with replace applied to
// every file (the SSH placeholders).
func (c *Case) Write(dir string, replace *strings.Replacer) error {
	for _, name := range c.Order {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		data := c.Files[name]
		if replace != nil {
			data = []byte(replace.Replace(string(data)))
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			return err
		}
	}
	if _, ok := c.Files["hosts"]; !ok {
		return os.WriteFile(filepath.Join(dir, "hosts"), []byte("localhost ansible_connection=local\n"), 0o644)
	}
	return nil
}

// Located reports whether out names file:line (any line when line is 0)
// as a path or a path's tail, in tend's form (file:line:col) or in the
// form of Ansible's task errors ('file': line N, column M).
func Located(out, file string, line int) bool {
	l := `[0-9]+`
	if line > 0 {
		l = strconv.Itoa(line)
	}
	re := regexp.MustCompile(`(^|[\s/'"(\[=])` + regexp.QuoteMeta(file) + `(:|': line )` + l + `([^0-9]|$)`)
	return re.MatchString(out)
}
