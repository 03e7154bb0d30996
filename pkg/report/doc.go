// Package report turns the executor's events into output: Ansible-shaped
// human text (PLAY, TASK, ok/changed/failed lines, diffs, PLAY RECAP) or a
// JSON document for scripts. Reporters mask no_log results.
//
// Three reporters implement Reporter:
//
//   - NewHuman prints what ansible-playbook 2.14's default stdout callback
//     prints, byte for byte where tend has the same information: banners
//     padded with stars, "ok: [host]", "fatal: [host]: FAILED! => {...}"
//     with Python-style JSON (sorted keys, ", " separators, 4-space
//     indentation for debug and -vvv), loop item lines with Python's
//     str() of the label, unified diffs computed with difflib's algorithm,
//     and the PLAY RECAP with Ansible's column padding and colours.
//   - NewJSON collects the run and writes one Document at Close.
//   - NewJSONLines writes one Event per line as things happen.
//
// Files collects a run for --report and writes it, at the end, to files
// replaced atomically: the JSON Document, JUnit XML (JUnit), a
// node_exporter textfile (Prometheus) and a self-contained HTML page
// (HTML), all rendered from one Document.
//
// Multi fans events out to several reporters; Tally counts a HostResult
// into a host's Stats exactly as Ansible's recap counts.
//
// All reporters are safe for concurrent use: each event is rendered in
// full and written with one Write under a mutex, so lines of concurrent
// hosts never interleave.
//
// no_log: a HostResult with NoLog set goes through Censor, the one place
// that hides it: its result becomes Ansible's censored stand-in
// ({"censored": "...", "changed": ...}), its item label None, and its
// diff, message and result warnings are dropped. Every reporter calls
// Censor first, and Censoring wraps any Reporter so that it only ever
// receives censored results.
package report
