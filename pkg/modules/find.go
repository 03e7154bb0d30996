package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
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
matching every criterion: patterns/excludes on the base name (shell globs, or Python-style
regular expressions matched at the start with use_regex), file_type, age, size, hidden and
contains (a regular expression searched in regular files' content with grep -E on the host,
one extra round trip). Returns files (stat-like dictionaries), matched and examined.`,
	Args: []module.Arg{
		{Name: "paths", Aliases: []string{"name", "path"}, Type: module.List, Elements: module.String, Required: true, Doc: "Directories to search."},
		{Name: "patterns", Aliases: []string{"pattern"}, Type: module.List, Elements: module.String, Doc: "Base-name globs (or regexps with use_regex); any may match. Default: everything."},
		{Name: "excludes", Aliases: []string{"exclude"}, Type: module.List, Elements: module.String, Doc: "Base-name globs (or regexps) to leave out."},
		{Name: "contains", Type: module.String, Doc: "Regular expression (POSIX extended) a line of regular files must match from its start (Python's re.match, as in Ansible), or with read_whole_file that the whole content must contain."},
		{Name: "read_whole_file", Type: module.Bool, Default: false, Doc: "Search contains in the whole file (grep -z) instead of matching it at the start of each line."},
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
const findFormat = `%y\t%m\t%U\t%G\t%u\t%g\t%s\t%T@\t%A@\t%C@\t%i\t%n\t%l\t%p\0`

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

// nameMatcher compiles patterns as globs or Python-style regexps.
func nameMatcher(pats []string, useRegex bool) (func(string) bool, error) {
	var res []*regexp.Regexp
	for _, p := range pats {
		if useRegex {
			re, err := compilePyRegexp("pattern", "^(?:"+p+")")
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
				if res[i].MatchString(name) {
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
	depth := 1
	if args.Bool("recurse") {
		depth = args.Int("depth")
	}
	res, err := h.Run(ctx, findCommand(args.List("paths"), args.Bool("follow"), depth, args.Bool("recurse")))
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
		if x, ok := strings.CutPrefix(line, findDeeper); ok {
			examined += len(x)
			continue
		}
		if p, ok := strings.CutPrefix(line, findSkipped); ok {
			skipped[p] = fmt.Sprintf("'%s' is not a directory", p)
			if h.Warn != nil {
				h.Warn(fmt.Sprintf("Skipped '%s' path due to this access issue: '%s' is not a directory\n", p, p))
			}
			continue
		}
		rec, ok := parseFindRecord(line)
		if !ok {
			continue
		}
		examined++
		if !filter.keep(rec, now) {
			continue
		}
		files = append(files, rec.entry())
		if rec.typ == "file" {
			regular = append(regular, rec.path)
		}
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
	msg := "All paths examined"
	if len(skipped) > 0 {
		msg = "Not all paths examined, check warnings for details"
	}
	return module.Unchanged(module.Result{"files": files, "matched": len(files), "examined": examined, "msg": msg, "skipped_paths": skipped}), nil
}

// findCommand lists the entries below each path, after the host's time,
// in findFormat records.
// findSkipped starts the record of a path that is not a directory.
const findSkipped = "tend-skip:"

// findDeeper starts the count (one x each) of the entries one level
// below depth, which Ansible counts in examined.
const findDeeper = "tend-deeper:"

func findCommand(paths []string, follow bool, depth int, recurse bool) string {
	var b strings.Builder
	b.WriteString("date +%s; ")
	for _, p := range paths {
		// A path that is not a directory is skipped, named in a record.
		b.WriteString("if [ -d " + remoteWord(p) + " ]; then ")
		b.WriteString("find ")
		if follow {
			b.WriteString("-L ")
		}
		b.WriteString(remoteWord(p) + " -mindepth 1 ")
		if depth > 0 {
			b.WriteString("-maxdepth " + strconv.Itoa(depth) + " ")
		}
		b.WriteString("-printf " + shell.Quote(findFormat) + " 2>/dev/null; ")
		if depth > 0 && recurse {
			// Ansible examines (counts) the entries one level deeper.
			b.WriteString(`printf '\0` + findDeeper + `'; find `)
			if follow {
				b.WriteString("-L ")
			}
			b.WriteString(remoteWord(p) + " -mindepth " + strconv.Itoa(depth+1) + " -maxdepth " + strconv.Itoa(depth+1) + ` -printf x 2>/dev/null; printf '\0'; `)
		}
		b.WriteString(`else printf '\0` + findSkipped + `%s\0' ` + remoteWord(p) + "; fi; ")
	}
	b.WriteString("true")
	return b.String()
}

// findFilter is the task's choice of entries, but for contains.
type findFilter struct {
	include, exclude func(string) bool
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
	if f.include, err = nameMatcher(pats, args.Bool("use_regex")); err != nil {
		return nil, err.Error()
	}
	if f.exclude, err = nameMatcher(excl, args.Bool("use_regex")); err != nil {
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
	typ  string // file, directory, link or "" for others
	path string
	f    []string
}

func parseFindRecord(line string) (findRecord, bool) {
	f := strings.Split(line, "\t")
	if len(f) < 14 {
		return findRecord{}, false
	}
	typ := map[string]string{"f": "file", "d": "directory", "l": "link"}[f[0]]
	return findRecord{typ: typ, path: strings.Join(f[13:], "\t"), f: f}, true
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
// matches the extended regexp c.
func findContaining(ctx context.Context, h *module.Host, c string, whole bool, files []any, regular []string) ([]any, error) {
	keep := map[string]bool{}
	if len(regular) > 0 {
		// Ansible matches each line from its start (re.match), or searches
		// the whole content with read_whole_file.
		cmd := "grep -l -E -- " + shell.Quote("^("+c+")") + " " + shellJoin(regular) + " 2>/dev/null; true"
		if whole {
			// Python's $ also matches before a final newline: the content
			// without it is searched too.
			re := shell.Quote(c)
			cmd = "for f in " + shellJoin(regular) + "; do { grep -q -z -E -- " + re + ` "$f" || sed -z '$ s/\n$//' "$f" | grep -q -z -E -- ` + re +
				`; } 2>/dev/null && printf '%s\n' "$f"; done; true`
		}
		res, err := h.Run(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("find contains %q: %w", c, err)
		}
		for _, l := range strings.Split(string(res.Stdout), "\n") {
			keep[l] = true
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
