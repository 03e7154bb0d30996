package custommodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// FilterNonJSON is Ansible's _filter_non_json_lines with objects_only:
// the lines before the first one starting (blanks aside) with "{" and
// after the last one ending with "}" are dropped; junk after the JSON
// gives a warning.
func FilterNonJSON(data string) (string, []string, error) {
	lines := splitLines(data)
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "{") {
			start = i
			break
		}
	}
	if start < 0 {
		return "", nil, errors.New("no start of json char found")
	}
	lines = lines[start:]
	end := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasSuffix(strings.TrimSpace(lines[i]), "}") {
			end = i
			break
		}
	}
	if end < 0 {
		return "", nil, errors.New("no end of json char found")
	}
	var warnings []string
	if trailing := lines[end+1:]; len(trailing) > 0 {
		for _, l := range trailing {
			if strings.TrimSpace(l) != "" {
				warnings = append(warnings, "Module invocation had junk after the JSON data: "+strings.Join(trailing, "\n"))
				break
			}
		}
	}
	return strings.Join(lines[:end+1], "\n"), warnings, nil
}

// splitLines splits as Python's str.splitlines does for the line ends a
// module prints (\n, \r\n, \r).
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// ParseOutput turns what a module printed into its result, as Ansible's
// _parse_returned_data and _execute_module do: the JSON object it printed
// (junk around it ignored, with a warning for junk after it), internal
// _ansible_ keys removed, stdout_lines/stderr_lines added, failed set
// when it is missing and rc is not 0. Output that holds no JSON object is
// Ansible's "MODULE FAILURE" result with module_stdout, module_stderr and
// rc. interpreter is the one the module ran with, for the hint when it is
// missing on the host.
func ParseOutput(stdout, stderr string, rc int, interpreter string) (module.Result, []string) {
	filtered, warnings, err := FilterNonJSON(stdout)
	var data map[string]any
	if err == nil {
		data, err = decodeObject(filtered)
	}
	if err != nil {
		return moduleFailure(stdout, stderr, rc, interpreter), nil
	}
	res := module.Result(data)
	for k, v := range res {
		if strings.HasPrefix(k, "_ansible_") {
			warnings = append(warnings, "Removed unexpected internal key in module return: "+k+" = "+pyStr(v))
			delete(res, k)
		}
	}
	for _, k := range []string{"warnings", "deprecations"} {
		if l, ok := res[k].([]any); ok && len(l) == 0 {
			delete(res, k)
		}
	}
	if r, ok := res["results"]; ok {
		if _, list := r.([]any); !list {
			res["ansible_module_results"] = r
			delete(res, "results")
			warnings = append(warnings, "Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
		}
	}
	for _, k := range []string{"stdout", "stderr"} {
		if v, ok := res[k]; ok {
			if _, has := res[k+"_lines"]; !has {
				s, _ := v.(string)
				res[k+"_lines"] = pyLines(s)
			}
		}
	}
	if _, ok := res["failed"]; !ok {
		rcv, has := res["rc"]
		res["failed"] = has && rcv != 0 && rcv != "0"
	}
	return res, warnings
}

// moduleFailure is Ansible's result for output it cannot parse.
func moduleFailure(stdout, stderr string, rc int, interpreter string) module.Result {
	res := module.Result{"failed": true, "module_stdout": stdout, "module_stderr": stderr, "rc": rc}
	switch {
	case strings.HasPrefix(stderr, "Traceback"):
		res["exception"] = stderr
	case strings.HasPrefix(stdout, "Traceback"):
		res["exception"] = stdout
	}
	msg := "MODULE FAILURE"
	if interpreter != "" {
		re := regexp.MustCompile(regexp.QuoteMeta(interpreter) + `: (?:No such file or directory|not found)`)
		if re.MatchString(stderr) || re.MatchString(stdout) {
			msg = "The module failed to execute correctly, you probably need to set the interpreter."
		}
	}
	res["msg"] = msg + "\nSee stdout/stderr for the exact error"
	return res
}

// decodeObject decodes a JSON object with numbers as Python's json gives
// them: integers as int, others as float64.
func decodeObject(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("extra data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return numbers(m).(map[string]any), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// pyLines is Python's str.splitlines for a result's text.
func pyLines(s string) []any {
	out := []any{}
	for _, l := range splitLines(s) {
		out = append(out, l)
	}
	return out
}

func pyStr(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(bytes.TrimSpace(b))
}
