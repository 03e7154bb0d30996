package pyre

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// benchLines is a 2000-line configuration file with the line lineinfile
// looks for near its end.
func benchLines() []string {
	lines := make([]string, 0, 2000)
	for i := range 1999 {
		lines = append(lines, fmt.Sprintf("# option_%d = some value %d\n", i, i))
	}
	return append(lines, "#PermitRootLogin yes\n")
}

const benchPattern = `^#?\s*PermitRootLogin\s`

// BenchmarkLineSearch compares the engines on lineinfile's work for one
// task: a search of every line of a 2000-line file. Go's regexp is what
// lineinfile used before pyre. Run:
//
//	go test ./pkg/pyre -run '^$' -bench LineSearch -benchtime 2s
func BenchmarkLineSearch(b *testing.B) {
	lines := benchLines()
	b.Run("go-regexp", func(b *testing.B) {
		re := regexp.MustCompile(benchPattern)
		for b.Loop() {
			n := 0
			for _, l := range lines {
				if re.FindStringSubmatchIndex(strings.TrimSuffix(l, "\n")) != nil {
					n++
				}
			}
			if n != 1 {
				b.Fatal(n)
			}
		}
	})
	b.Run("pyre", func(b *testing.B) {
		re := MustCompile(benchPattern, 0)
		for b.Loop() {
			n := 0
			for _, l := range lines {
				m, err := re.Search(l)
				if err != nil {
					b.Fatal(err)
				}
				if m != nil {
					n++
				}
			}
			if n != 1 {
				b.Fatal(n)
			}
		}
	})
}

// BenchmarkFileReplace compares the engines on replace's work: one
// multiline substitution over the whole 2000-line file.
func BenchmarkFileReplace(b *testing.B) {
	content := strings.Join(benchLines(), "")
	const pat = `^(#?\s*PermitRootLogin)\s.*$`
	b.Run("go-regexp", func(b *testing.B) {
		re := regexp.MustCompile("(?m)" + pat)
		for b.Loop() {
			if out := re.ReplaceAllString(content, "${1} no"); len(out) == len(content) {
				b.Fatal("no replacement")
			}
		}
	})
	b.Run("pyre", func(b *testing.B) {
		re := MustCompile(pat, Multiline)
		for b.Loop() {
			if _, n, err := re.Subn(content, `\1 no`, 0); err != nil || n != 1 {
				b.Fatal(n, err)
			}
		}
	})
}
