package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// maxRangeHosts bounds how many names one host pattern may expand to, so a
// typo such as web[0:99999999] fails instead of exhausting memory.
const maxRangeHosts = 100000

// asciiLetters is Python's string.ascii_letters: alphabetic ranges run
// through it, so [x:B] yields x y z A B as in Ansible.
const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandHostRange expands every [begin:end(:step)] range in pattern, left to
// right, as Ansible's expand_hostname_range does. A pattern without '[' is
// returned as is.
func expandHostRange(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "[") {
		return []string{pattern}, nil
	}
	var out []string
	if err := expandInto(pattern, pattern, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func expandInto(orig, pattern string, out *[]string) error {
	open := strings.IndexByte(pattern, '[')
	if open < 0 {
		if len(*out) >= maxRangeHosts {
			return fmt.Errorf("invalid host range %q: expands to more than %d hosts", orig, maxRangeHosts)
		}
		*out = append(*out, pattern)
		return nil
	}
	closing := strings.IndexByte(pattern[open:], ']')
	if closing < 0 {
		return fmt.Errorf("invalid host range %q: missing ']'", orig)
	}
	closing += open
	head, spec, tail := pattern[:open], pattern[open+1:closing], pattern[closing+1:]
	values, err := rangeValues(orig, spec)
	if err != nil {
		return err
	}
	for _, v := range values {
		if err := expandInto(orig, head+v+tail, out); err != nil {
			return err
		}
	}
	return nil
}

// rangeValues returns what the range begin:end(:step) (spec, the text
// between the brackets of orig) stands for: single letters through
// asciiLetters, or numbers, zero-padded when begin has a leading zero.
func rangeValues(orig, spec string) ([]string, error) {
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("invalid host range %q: expected [begin:end] or [begin:end:step]", orig)
	}
	beg, end := bounds[0], bounds[1]
	step := 1
	if len(bounds) == 3 {
		s, err := strconv.Atoi(bounds[2])
		if err != nil || s <= 0 {
			return nil, fmt.Errorf("invalid host range %q: step must be a positive number", orig)
		}
		step = s
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("invalid host range %q: missing end value", orig)
	}
	var values []string
	if len(beg) == 1 && len(end) == 1 && isASCIILetter(beg[0]) && isASCIILetter(end[0]) {
		ib, ie := strings.IndexByte(asciiLetters, beg[0]), strings.IndexByte(asciiLetters, end[0])
		if ib > ie {
			return nil, fmt.Errorf("invalid host range %q: begin %q comes after end %q", orig, beg, end)
		}
		for i := ib; i <= ie; i += step {
			values = append(values, asciiLetters[i:i+1])
		}
		return values, nil
	}
	ib, err1 := strconv.Atoi(beg)
	ie, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil || ib < 0 || ie < 0 || !isDigits(beg) || !isDigits(end) {
		return nil, fmt.Errorf("invalid host range %q: expected numbers or letters", orig)
	}
	width := 0
	if len(beg) > 1 && beg[0] == '0' {
		// A leading zero in begin asks for zero padding to its width.
		if len(beg) != len(end) {
			return nil, fmt.Errorf("invalid host range %q: begin and end must have the same length when begin has leading zeros", orig)
		}
		width = len(beg)
	}
	if ib > ie {
		return nil, fmt.Errorf("invalid host range %q: begin %s is greater than end %s", orig, beg, end)
	}
	if (ie-ib)/step >= maxRangeHosts {
		return nil, fmt.Errorf("invalid host range %q: expands to more than %d hosts", orig, maxRangeHosts)
	}
	for i := ib; i <= ie; i += step {
		values = append(values, fmt.Sprintf("%0*d", width, i))
	}
	return values, nil
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
