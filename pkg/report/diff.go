package report

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/tend-dev/tend/pkg/module"
)

// diffContext is Ansible's DIFF_CONTEXT default: lines of context around
// each hunk.
const diffContext = 3

// renderDiffs formats diffs as Ansible's CallbackBase._get_diff does: a
// unified diff per entry, headers "--- before: H" and "+++ after: H",
// "\ No newline at end of file" markers, and a blank line after each
// non-empty diff. Ansible computes the diff with Python's difflib; the
// go-difflib SequenceMatcher is a line-for-line port of it (same junk
// heuristic, same grouping), so hunks come out identical.
func renderDiffs(p painter, diffs []module.Diff) string {
	var out strings.Builder
	for _, d := range diffs {
		beforeHeader, afterHeader := "before", "after"
		if d.BeforeHeader != "" {
			beforeHeader = "before: " + d.BeforeHeader
		}
		if d.AfterHeader != "" {
			afterHeader = "after: " + d.AfterHeader
		}
		a := diffLines(d.Before)
		b := diffLines(d.After)
		groups := difflib.NewMatcher(a, b).GetGroupedOpCodes(diffContext)
		if len(groups) == 0 {
			continue
		}
		line := func(s string) {
			switch {
			case strings.HasPrefix(s, "+"):
				s = p.stringc(s, colorDiffAdd)
			case strings.HasPrefix(s, "-"):
				s = p.stringc(s, colorDiffRemove)
			case strings.HasPrefix(s, "@@"):
				s = p.stringc(s, colorDiffLines)
			}
			out.WriteString(s)
		}
		line("--- " + beforeHeader + "\n")
		line("+++ " + afterHeader + "\n")
		for _, g := range groups {
			first, last := g[0], g[len(g)-1]
			line("@@ -" + unifiedRange(first.I1, last.I2) + " +" + unifiedRange(first.J1, last.J2) + " @@\n")
			for _, c := range g {
				if c.Tag == 'e' {
					for _, l := range a[c.I1:c.I2] {
						line(" " + l)
					}
					continue
				}
				if c.Tag == 'r' || c.Tag == 'd' {
					for _, l := range a[c.I1:c.I2] {
						line("-" + l)
					}
				}
				if c.Tag == 'r' || c.Tag == 'i' {
					for _, l := range b[c.J1:c.J2] {
						line("+" + l)
					}
				}
			}
		}
		out.WriteString("\n")
	}
	return out.String()
}

// unifiedRange is difflib's _format_range_unified: "start,length", or
// just "start" for one line, with empty ranges starting before the hunk.
func unifiedRange(start, stop int) string {
	beginning := start + 1
	length := stop - start
	if length == 1 {
		return strconv.Itoa(beginning)
	}
	if length == 0 {
		beginning--
	}
	return strconv.Itoa(beginning) + "," + strconv.Itoa(length)
}

// diffLines splits text as Python's str.splitlines(True) and marks a
// missing final newline the way Ansible does.
func diffLines(s string) []string {
	lines := pySplitLines(s)
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n\\ No newline at end of file\n"
	}
	return lines
}

// pySplitLines is Python's str.splitlines(keepends=True): it breaks on
// \n, \r, \r\n and the other Unicode line boundaries, keeping them.
func pySplitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch r {
		case '\r':
			end = i + size
			if end < len(s) && s[end] == '\n' {
				end++
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end = i + size
		}
		if end < 0 {
			i += size
			continue
		}
		lines = append(lines, s[start:end])
		start, i = end, end
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// UnifiedDiff formats diffs as --diff shows them, without colour.
func UnifiedDiff(diffs []module.Diff) string { return renderDiffs(painter{}, diffs) }
