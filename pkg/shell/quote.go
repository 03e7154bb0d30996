// Package shell builds POSIX sh command lines safely: every interpolated
// value goes through Quote.
package shell

import "strings"

// Quote returns s as a single POSIX shell word that expands to exactly s,
// whatever it holds (spaces, quotes, $(), backticks, newlines, globs, UTF-8).
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=+,:@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Join quotes each argument and joins them with spaces into a command line.
func Join(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// Path returns path as one shell word that no command can take for an
// option: a path starting with "-" gets "./" in front, which names the same
// file. Use it for every path on a command line, also after "--", since
// some tools (find, cd, test) do not end their options with "--".
func Path(path string) string {
	if strings.HasPrefix(path, "-") {
		path = "./" + path
	}
	return Quote(path)
}
