package modules

import (
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/pyre"
	"github.com/tend-dev/tend/pkg/shell"
)

// Find is Ansible's find module: list files matching criteria. The host
// runs one GNU find listing; filtering happens on the controller.
type Find struct{}

var _ module.Module = (*Find)(nil)

var findSpec = &module.Spec{
	Name:  "find",
	Short: "Return a list of files based on specific criteria",
	Description: `Lists the entries below paths (one level, or all with recurse/depth) and keeps those
matching every criterion: patterns/excludes on the base name (shell globs, or Python
regular expressions matched at the start with use_regex), file_type, age, size, hidden and
contains (a Python regular expression matched at the start of a line of regular files, or
searched in their whole content with read_whole_file; their content is read in one extra
round trip and matched on the controller). Returns files (stat-like dictionaries), matched
and examined.`,
	Args: []module.Arg{
		{Name: "paths", Aliases: []string{"name", "path"}, Type: module.List, Expand: true, Elements: module.String, Required: true, Doc: "Directories to search."},
		{Name: "patterns", Aliases: []string{"pattern"}, Type: module.List, Elements: module.String, Doc: "Base-name globs (or regexps with use_regex); any may match. Default: everything."},
		{Name: "excludes", Aliases: []string{"exclude"}, Type: module.List, Elements: module.String, Doc: "Base-name globs (or regexps) to leave out."},
		{Name: "contains", Type: module.String, Doc: "Python regular expression a line of regular files must match from its start (Python's re.match, as in Ansible), or with read_whole_file that the whole content must contain."},
		{Name: "read_whole_file", Type: module.Bool, Default: false, Doc: "Search contains in the whole content (re.search) instead of matching it at the start of each line."},
		{Name: "file_type", Type: module.String, Default: "file", Choices: []string{"any", "directory", "file", "link"}, Doc: "Type of entries to return."},
		{Name: "recurse", Type: module.Bool, Default: false, Doc: "Descend into subdirectories."},
		{Name: "depth", Type: module.Int, Doc: "Maximum depth with recurse (1: only the paths' direct entries)."},
		{Name: "age", Type: module.String, Doc: "Older than (positive) or younger than (negative) this age: a number with s, m, h, d or w (seconds by default)."},
		{Name: "age_stamp", Type: module.String, Default: "mtime", Choices: []string{"atime", "ctime", "mtime"}, Doc: "Which time age compares."},
		{Name: "size", Type: module.String, Doc: "At least (positive) or at most (negative) this size: a number with b, k, m, g or t."},
		{Name: "hidden", Type: module.Bool, Default: false, Doc: "Include entries whose name starts with a dot."},
		{Name: "use_regex", Type: module.Bool, Default: false, Doc: "patterns and excludes are regular expressions instead of globs."},
		{Name: "follow", Type: module.Bool, Default: false, Doc: "Follow symbolic links."},
		{Name: "get_checksum", Type: module.Bool, Default: false, Doc: "Add the SHA1 checksum of each regular file found (checksum)."},
	},
	Check: module.CheckFull,
	Examples: `- name: Old log files
  find:
    paths: /var/log/app
    patterns: "*.log,*.gz"
    age: 2w
    recurse: true
  register: old

- name: Remove them
  file:
    path: "{{ item.path }}"
    state: absent
  loop: "{{ old.files }}"`,
}

// Spec implements module.Module.
func (*Find) Spec() *module.Spec { return findSpec }

// findFormat prints one entry per NUL-terminated record.
const findFormat = `%y\t%m\t%U\t%G\t%u\t%g\t%s\t%T@\t%A@\t%C@\t%i\t%n\t%l\t%d\t%p\0`

// parseUnit parses "2d", "-10k" with the given unit table.
func parseUnit(s string, units map[byte]float64) (float64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, fmt.Errorf("empty value")
	}
	mult := 1.0
	if m, ok := units[s[len(s)-1]]; ok {
		mult = m
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number with a unit", s)
	}
	return n * mult, nil
}

// nameMatcher compiles patterns as globs or Python regexps (matched at the
// start of the name, Python's re.match, as Ansible does). A regexp that
// fails to match (a timeout) counts as no match and its error is kept in
// *matchErr.
func nameMatcher(pats []string, useRegex bool, matchErr *error) (func(string) bool, error) {
	var res []*pyre.Regexp
	for _, p := range pats {
		if useRegex {
			re, err := compilePyRegexp("pattern", p, 0)
			if err != nil {
				return nil, err
			}
			res = append(res, re)
		} else if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", p, err)
		}
	}
	return func(name string) bool {
		for i, p := range pats {
			if useRegex {
				m, err := res[i].Match(name)
				if err != nil && *matchErr == nil {
					*matchErr = err
				}
				if m != nil {
					return true
				}
			} else if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
		return false
	}, nil
}

// Plan implements module.Module: one find run over the paths
// (findCommand), each entry parsed (parseFindRecord) and kept by the
// task's filters (findFilter.keep), then a grep for contains.
func (*Find) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	filter, fail := newFindFilter(args)
	if fail != "" {
		return module.Unchanged(module.Failed("%s", fail)), nil
	}
	depth, listDepth := 1, 1
	if args.Bool("recurse") {
		depth = args.Int("depth")
		// Ansible's walk looks into the directories at depth, so their
		// entries count as examined without being kept.
		listDepth = depth
		if depth > 0 {
			listDepth = depth + 1
		}
	}
	res, err := h.Run(ctx, findCommand(args.List("paths"), args.Bool("follow"), listDepth))
	if err != nil {
		return nil, fmt.Errorf("find in %s: %w", strings.Join(args.List("paths"), ", "), err)
	}
	nowLine, records, _ := strings.Cut(string(res.Stdout), "\n")
	now, _ := strconv.ParseFloat(strings.TrimSpace(nowLine), 64)
	examined := 0
	var files []any
	var regular []string
	skipped := map[string]any{}
	for _, line := range strings.Split(records, "\x00") {
		if p, ok := strings.CutPrefix(line, "\x01"); ok {
			// Ansible 2.14's messages for a path that is not a directory.
			skipped[p] = fmt.Sprintf("'%s' is not a directory", p)
			if h.Warn != nil {
				h.Warn(fmt.Sprintf("Skipped '%s' path due to this access issue: %s\n", p, skipped[p]))
			}
			continue
		}
		rec, ok := parseFindRecord(line)
		if !ok {
			continue
		}
		examined++
		if depth > 0 && rec.depth > depth || !filter.keep(rec, now) {
			continue
		}
		files = append(files, rec.entry())
		if rec.typ == "file" {
			regular = append(regular, rec.path)
		}
	}
	if filter.matchErr != nil {
		return module.Unchanged(module.Failed("%v", filter.matchErr)), nil
	}
	if c := args.String("contains"); c != "" {
		if files, err = findContaining(ctx, h, c, args.Bool("read_whole_file"), files, regular); err != nil {
			return nil, err
		}
	}
	if files == nil {
		files = []any{}
	}
	if args.Bool("get_checksum") {
		if err := findChecksums(ctx, h, files); err != nil {
			return nil, err
		}
	}
	r := module.Result{"files": files, "matched": len(files), "examined": examined, "msg": "All paths examined", "skipped_paths": skipped}
	if len(skipped) > 0 {
		r["msg"] = "Not all paths examined, check warnings for details"
	}
	return module.Unchanged(r), nil
}

// findCommand lists the entries below each path, after the host's time,
// in findFormat records; a path that is not a directory gives a record of
// \x01 and the path.
func findCommand(paths []string, follow bool, depth int) string {
	var b strings.Builder
	b.WriteString("date +%s; ")
	for _, p := range paths {
		w := remoteWord(p)
		b.WriteString("if [ ! -d " + w + " ]; then printf '\\001%s\\000' " + w + "; else ")
		b.WriteString("find ")
		if follow {
			b.WriteString("-L ")
		}
		b.WriteString(remoteWord(p) + " -mindepth 1 ")
		if depth > 0 {
			b.WriteString("-maxdepth " + strconv.Itoa(depth) + " ")
		}
		b.WriteString("-printf " + shell.Quote(findFormat) + " 2>/dev/null; fi; ")
	}
	b.WriteString("true")
	return b.String()
}

// findFilter is the task's choice of entries, but for contains.
type findFilter struct {
	include, exclude func(string) bool
	// matchErr is the first error of a patterns/excludes regexp.
	matchErr         error
	hasPats, hasExcl bool
	hidden           bool
	fileType         string
	ageStamp         string
	// age and size: positive for at least, negative for at most; 0 for
	// no limit.
	age, size float64
}

// newFindFilter reads the filter arguments; fail says what is wrong
// with them.
func newFindFilter(args module.Args) (f *findFilter, fail string) {
	var pats, excl []string
	for _, p := range args.List("patterns") {
		pats = append(pats, splitPatterns(p, args.Bool("use_regex"))...)
	}
	for _, p := range args.List("excludes") {
		excl = append(excl, splitPatterns(p, args.Bool("use_regex"))...)
	}
	f = &findFilter{hasPats: len(pats) > 0, hasExcl: len(excl) > 0, hidden: args.Bool("hidden"),
		fileType: args.String("file_type"), ageStamp: args.String("age_stamp")}
	var err error
	if f.include, err = nameMatcher(pats, args.Bool("use_regex"), &f.matchErr); err != nil {
		return nil, err.Error()
	}
	if f.exclude, err = nameMatcher(excl, args.Bool("use_regex"), &f.matchErr); err != nil {
		return nil, err.Error()
	}
	if a := args.String("age"); a != "" {
		if f.age, err = parseUnit(a, map[byte]float64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}); err != nil {
			return nil, "failed to process age: " + err.Error()
		}
	}
	if s := args.String("size"); s != "" {
		if f.size, err = parseUnit(s, map[byte]float64{'b': 1, 'k': 1024, 'm': 1 << 20, 'g': 1 << 30, 't': 1 << 40}); err != nil {
			return nil, "failed to process size: " + err.Error()
		}
	}
	return f, ""
}

// keep reports whether the entry passes the filter at time now.
func (f *findFilter) keep(rec findRecord, now float64) bool {
	name := path.Base(rec.path)
	if !f.hidden && strings.HasPrefix(name, ".") {
		return false
	}
	if f.fileType != "any" && rec.typ != f.fileType {
		return false
	}
	if f.hasPats && !f.include(name) || f.hasExcl && f.exclude(name) {
		return false
	}
	stamp := map[string]float64{"mtime": rec.num(7), "atime": rec.num(8), "ctime": rec.num(9)}[f.ageStamp]
	if f.age > 0 && now-stamp < f.age || f.age < 0 && now-stamp > -f.age {
		return false
	}
	size := rec.num(6)
	return !(f.size > 0 && size < f.size || f.size < 0 && size > -f.size)
}

// findRecord is one findFormat record.
type findRecord struct {
	typ   string // file, directory, link or "" for others
	path  string
	depth int // below the searched path: 1 for its entries
	f     []string
}

func parseFindRecord(line string) (findRecord, bool) {
	f := strings.Split(line, "\t")
	if len(f) < 15 {
		return findRecord{}, false
	}
	typ := map[string]string{"f": "file", "d": "directory", "l": "link"}[f[0]]
	depth, _ := strconv.Atoi(f[13])
	return findRecord{typ: typ, path: strings.Join(f[14:], "\t"), depth: depth, f: f}, true
}

func (r findRecord) num(i int) float64 {
	v, _ := strconv.ParseFloat(r.f[i], 64)
	return v
}

// entry is the record as Ansible's find reports a file.
func (r findRecord) entry() map[string]any {
	f, typ := r.f, r.typ
	mode, _ := strconv.ParseUint(f[1], 8, 32)
	uid, _ := strconv.Atoi(f[2])
	gid, _ := strconv.Atoi(f[3])
	entry := map[string]any{
		"path": r.path, "mode": fmt.Sprintf("%04o", mode), "isdir": typ == "directory", "isreg": typ == "file", "islnk": typ == "link",
		"uid": uid, "gid": gid, "pw_name": f[4], "gr_name": f[5], "size": int64(r.num(6)),
		"mtime": r.num(7), "atime": r.num(8), "ctime": r.num(9), "inode": uint64(r.num(10)), "nlink": int(r.num(11)),
		"roth": mode&0o4 != 0, "woth": mode&0o2 != 0, "xoth": mode&0o1 != 0,
		"rgrp": mode&0o40 != 0, "wgrp": mode&0o20 != 0, "xgrp": mode&0o10 != 0,
		"rusr": mode&0o400 != 0, "wusr": mode&0o200 != 0, "xusr": mode&0o100 != 0,
		"isuid": mode&0o4000 != 0, "isgid": mode&0o2000 != 0,
	}
	if typ == "link" {
		entry["lnk_target"] = f[12]
	}
	return entry
}

// findContaining keeps the regular files among files whose content
// matches the Python regexp c as Ansible's contentfilter does: re.match
// on each line, or re.search on the whole content with read_whole_file,
// text read as UTF-8 with universal newlines (a file that is not UTF-8 or
// cannot be read does not match). The contents come to the controller in
// one round trip (base64, one line per file) and are only matched.
func findContaining(ctx context.Context, h *module.Host, c string, whole bool, files []any, regular []string) ([]any, error) {
	re, err := compilePyRegexp("contains", c, 0)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	if len(regular) > 0 {
		script := "for f in " + shellJoin(regular) + `; do if [ -r "$f" ]; then base64 -w0 < "$f" 2>/dev/null || printf '!'; else printf '!'; fi; echo; done`
		res, err := h.Run(ctx, script)
		if err != nil {
			return nil, fmt.Errorf("find contains %q: %w", c, err)
		}
		if res.ExitCode != 0 {
			return nil, fmt.Errorf("find contains %q: reading the files failed (exit %d): %s", c, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
		encoded := strings.Split(strings.TrimSuffix(string(res.Stdout), "\n"), "\n")
		if len(encoded) != len(regular) {
			return nil, fmt.Errorf("find contains %q: read %d files of %d", c, len(encoded), len(regular))
		}
		for i, enc := range encoded {
			ok, err := contentMatches(re, enc, whole)
			if err != nil {
				return nil, fmt.Errorf("find contains on %s: %w", regular[i], err)
			}
			keep[regular[i]] = ok
		}
	}
	var kept []any
	for _, e := range files {
		m := e.(map[string]any)
		if m["isreg"] == true && keep[m["path"].(string)] {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// contentMatches applies contentfilter's test to one file's base64
// content ("!" for a file that could not be read).
func contentMatches(re *pyre.Regexp, enc string, whole bool) (bool, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || !utf8.Valid(raw) {
		return false, nil
	}
	text := strings.ReplaceAll(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\r", "\n")
	if whole {
		return re.MatchString(text)
	}
	for _, l := range splitLinesKeep(text) {
		m, err := re.Match(l)
		if m != nil || err != nil {
			return m != nil, err
		}
	}
	return false, nil
}

// findChecksums adds the SHA1 checksum of each regular file found, in
// one round trip.
func findChecksums(ctx context.Context, h *module.Host, files []any) error {
	var paths []string
	for _, e := range files {
		if m := e.(map[string]any); m["isreg"] == true {
			paths = append(paths, m["path"].(string))
		}
	}
	if len(paths) == 0 {
		return nil
	}
	var b strings.Builder
	for _, p := range paths {
		b.WriteString("{ sha1sum < " + shell.Quote(p) + " || echo -; } 2>/dev/null; ")
	}
	res, err := h.Run(ctx, b.String())
	if err != nil {
		return fmt.Errorf("find checksums: %w", err)
	}
	sums := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(sums) != len(paths) {
		return fmt.Errorf("find checksums: unexpected output")
	}
	sumOf := map[string]string{}
	for i, p := range paths {
		if s, _, _ := strings.Cut(sums[i], " "); s != "-" {
			sumOf[p] = s
		}
	}
	for _, e := range files {
		m := e.(map[string]any)
		if s, ok := sumOf[fmt.Sprint(m["path"])]; ok {
			m["checksum"] = s
		}
	}
	return nil
}

// splitPatterns splits a comma-separated pattern string as Ansible does
// for globs (regexps may contain commas and are kept whole).
func splitPatterns(p string, useRegex bool) []string {
	if useRegex {
		return []string{p}
	}
	var out []string
	for _, s := range strings.Split(p, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func shellJoin(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = shell.Quote(p)
	}
	return strings.Join(q, " ")
}
