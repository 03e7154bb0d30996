// Package badinput runs tend on a corpus of malformed inputs (playbooks,
// keyword types, modules, includes, templates, inventories, extra vars,
// vault files, known_hosts) and checks that every run ends within a time
// and memory limit, without a crash, with the outcome the case expects and,
// for errors in a file, with the file:line of the mistake.
//
// Each case is a txtar file in testdata/: a header of expectations and the
// files of the case. See README.md for the format and the counts.
package badinput
