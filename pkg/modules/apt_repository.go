package modules

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// AptRepository manages one-line APT sources ("deb URI SUITE COMPONENTS")
// in /etc/apt/sources.list and /etc/apt/sources.list.d/*.list.
type AptRepository struct{}

var _ module.Module = (*AptRepository)(nil)

// Spec implements module.Module.
func (AptRepository) Spec() *module.Spec {
	return &module.Spec{
		Name:  "apt_repository",
		Short: "Manage one-line APT sources",
		Description: "Adds or removes an APT source line. Every sources file is read in one round trip; " +
			"a source already present (in any file) is left alone, a disabled copy (`# deb ...`) is " +
			"enabled in place, otherwise the line goes to sources.list.d/FILENAME.list (named after the " +
			"repository URL by default, as Ansible does). Like Ansible, a file that is changed is " +
			"rewritten with its source lines normalized, and a file left empty is deleted. After a " +
			"change the package lists are refreshed unless update_cache is false. PPA shortcuts " +
			"(`ppa:...`) are not supported: use deb822_repository.",
		Args: []module.Arg{
			{Name: "repo", Required: true, Type: module.String, Doc: "The source line, e.g. `deb [signed-by=/etc/apt/keyrings/x.asc] https://repo.example.com/apt stable main`."},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "Whether the source is enabled."},
			{Name: "filename", Type: module.String, Doc: "File name in sources.list.d without `.list`; default derived from the URL."},
			{Name: "mode", Type: module.Raw, Doc: "Mode of a new sources file; default 0644."},
			{Name: "update_cache", Aliases: []string{"update-cache"}, Type: module.Bool, Default: true, Doc: "Run `apt-get update` after a change."},
			{Name: "update_cache_retries", Type: module.Int, Default: 5, Doc: "Attempts at `apt-get update`."},
			{Name: "update_cache_retry_max_delay", Type: module.Int, Default: 12, Doc: "Longest wait in seconds between attempts (1, 2, 4... seconds)."},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "Accepted for compatibility; ignored."},
			{Name: "codename", Type: module.String, Doc: "Accepted for compatibility (PPA only); ignored."},
			{Name: "install_python_apt", Type: module.Bool, Default: true, Doc: "Accepted for compatibility; tend needs no python-apt."},
		},
		Check: module.CheckFull,
		Diff:  true,
		Examples: `- name: Vendor repository
  apt_repository:
    repo: deb [signed-by=/etc/apt/keyrings/vendor.asc] https://repo.example.com/apt bookworm main
    filename: vendor
`,
	}
}

var validSourceTypes = map[string]bool{"deb": true, "deb-src": true}

// sourceLine is Ansible's parsed sources.list line.
type sourceLine struct {
	raw     string
	valid   bool
	enabled bool
	source  string
	comment string
}

// parseSourceLine is Ansible's SourcesList._parse.
func parseSourceLine(line string) sourceLine {
	sl := sourceLine{raw: line, enabled: true}
	l := strings.TrimSpace(line)
	if strings.HasPrefix(l, "#") {
		sl.enabled = false
		l = l[1:]
	}
	if i := strings.Index(l, "#"); i > 0 {
		sl.comment = strings.TrimSpace(l[i+1:])
		l = l[:i]
	}
	src := strings.TrimSpace(l)
	if src != "" {
		chunks := strings.Fields(src)
		if validSourceTypes[chunks[0]] {
			sl.valid = true
			src = strings.Join(chunks, " ")
		}
	}
	sl.source = src
	return sl
}

// dump is Ansible's rendering of one line in a rewritten file.
func (s sourceLine) dump() string {
	if !s.valid {
		return s.raw
	}
	prefix := ""
	if !s.enabled {
		prefix = "# "
	}
	c := ""
	if s.comment != "" {
		c = " # " + s.comment
	}
	return prefix + s.source + c
}

// suggestSourcesFilename is Ansible's _suggest_filename.
func suggestSourcesFilename(line string) string {
	line = regexp.MustCompile(`\[[^\]]+\]`).ReplaceAllString(line, "")
	line = regexp.MustCompile(`\w+://`).ReplaceAllString(line, "")
	var parts []string
	for _, p := range strings.Fields(line) {
		if !validSourceTypes[p] {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "repo.list"
	}
	first := parts[0]
	if i := strings.Index(first, "@"); i >= 0 {
		first = first[i+1:]
	}
	clean := regexp.MustCompile(`[^a-zA-Z0-9]`).ReplaceAllString(first, " ")
	return strings.Join(strings.Fields(clean), "_") + ".list"
}

// aptSourcesProbe prints every sources file with each line prefixed by
// "|" so the content comes back line for line.
const aptSourcesProbe = `for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f "$f" ] || continue; echo "@@tend-file@@ $f"; sed 's/^/|/' "$f"; done`

// parseSourcesFiles decodes aptSourcesProbe output.
func parseSourcesFiles(out string) (map[string][]string, []string) {
	files := map[string][]string{}
	var order []string
	cur := ""
	for _, line := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(line, "@@tend-file@@ "); ok {
			cur = f
			files[cur] = []string{}
			order = append(order, cur)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "|"); ok && cur != "" {
			files[cur] = append(files[cur], rest)
		}
	}
	return files, order
}

func renderSourceLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// editSources applies the task to the files; it returns the changed
// files' new content ("" means delete) and the sources added/removed.
func editSources(files map[string][]string, order []string, repo sourceLine, state, target string) (map[string]string, []string, []string) {
	parsed := map[string][]sourceLine{}
	for _, f := range order {
		for _, l := range files[f] {
			parsed[f] = append(parsed[f], parseSourceLine(l))
		}
	}
	changedFiles := map[string]bool{}
	var added, removed []string
	found := false
	for _, f := range order {
		var kept []sourceLine
		for _, sl := range parsed[f] {
			if sl.valid && sl.source == repo.source {
				if state == "present" {
					found = true
					if !sl.enabled {
						sl.enabled = true
						changedFiles[f] = true
					}
				} else if sl.enabled {
					changedFiles[f] = true
					removed = append(removed, sl.source)
					continue
				}
			}
			kept = append(kept, sl)
		}
		parsed[f] = kept
	}
	if state == "present" && !found {
		parsed[target] = append(parsed[target], sourceLine{valid: true, enabled: true, source: repo.source, comment: repo.comment})
		changedFiles[target] = true
		added = append(added, repo.source)
	}
	out := map[string]string{}
	for f := range changedFiles {
		var lines []string
		for _, sl := range parsed[f] {
			lines = append(lines, sl.dump())
		}
		out[f] = renderSourceLines(lines)
	}
	return out, added, removed
}

// Plan implements module.Module.
func (AptRepository) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	repoArg := strings.TrimSpace(args.String("repo"))
	if strings.HasPrefix(repoArg, "ppa:") {
		return module.Unchanged(module.Failed("PPA repositories (%s) are not supported; use deb822_repository", repoArg)), nil
	}
	repo := parseSourceLine(repoArg)
	if !repo.valid || !repo.enabled {
		return module.Unchanged(module.Failed("Invalid repository string: %s", repoArg)), nil
	}
	mode, err := parseOctalMode(args["mode"], 0o644)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	name := suggestSourcesFilename(repo.source)
	if fn := args.String("filename"); fn != "" {
		name = strings.TrimSuffix(fn, ".list") + ".list"
	}
	target := "/etc/apt/sources.list.d/" + name
	secs, err := runProbe(ctx, h, "apt sources", aptSourcesProbe)
	if err != nil {
		return nil, err
	}
	files, order := parseSourcesFiles(secs[0])
	state := args.String("state")
	edits, added, removed := editSources(files, order, repo, state, target)
	result := module.Result{"repo": repoArg, "state": state,
		"sources_added": nonNil(added), "sources_removed": nonNil(removed)}
	if len(edits) == 0 {
		return module.Unchanged(result), nil
	}
	names := make([]string, 0, len(edits))
	for f := range edits {
		names = append(names, f)
	}
	sort.Strings(names)
	var diffs []module.Diff
	for _, f := range names {
		diffs = append(diffs, module.Diff{BeforeHeader: f, AfterHeader: f, Before: renderSourceLines(files[f]), After: edits[f]})
	}
	return &module.Plan{Changed: true, Result: result, Diff: diffs,
		Apply: func(ctx context.Context) (module.Result, error) {
			for _, f := range names {
				if edits[f] == "" {
					r, ok, err := runCmd(ctx, h, "remove "+f, "rm -f -- "+shell.Quote(f))
					if err != nil || !ok {
						return r, err
					}
					continue
				}
				m := mode
				if _, existed := files[f]; existed {
					m = 0o644
				}
				if err := writeRemote(ctx, h, f, []byte(edits[f]), writeOptions{Mode: uint32(m)}); err != nil {
					return nil, err
				}
			}
			if args.Bool("update_cache") {
				retries := args.Int("update_cache_retries")
				if retries < 1 {
					retries = 1
				}
				// Backoff 1, 2, 4... seconds, at most update_cache_retry_max_delay.
				maxDelay := strconv.Itoa(max(args.Int("update_cache_retry_max_delay"), 1))
				cmd := "_n=0; _d=1; until " + aptGetUpdateCmd + "; do _n=$((_n+1)); [ $_n -ge " + strconv.Itoa(retries) + " ] && exit 1; " +
					"sleep $_d; _d=$((_d*2)); [ $_d -gt " + maxDelay + " ] && _d=" + maxDelay + "; done"
				r, ok, err := runCmd(ctx, h, "apt-get update", aptLockWrap(cmd, 60))
				if err != nil || !ok {
					return r, err
				}
			}
			return result, nil
		}}, nil
}

const aptGetUpdateCmd = "apt-get -q update"

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
