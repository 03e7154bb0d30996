package playbook

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/custommodule"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/vars"
)

// Loader loads playbooks, task files and roles. It is not safe for
// concurrent use; the executor serialises dynamic includes through it.
type Loader struct {
	// Registry knows the modules; tasks naming others are warnings, and
	// fail when they run.
	Registry *module.Registry
	// RolesPath are extra directories searched for roles, after the
	// playbook's roles/ directory.
	RolesPath []string
	// CollectionsPath are the directories holding ansible_collections/
	// searched for roles named ns.collection.role, after the playbook's
	// collections/ directory (NewLoader sets DefaultCollectionsPaths).
	CollectionsPath []string
	// Syntax, if set, checks template and condition syntax at load time.
	Syntax SyntaxChecker
	// Vault decrypts vault-encrypted playbooks, task files and role
	// defaults/vars, and inline !vault values in them; nil refuses them
	// with an error naming the file.
	Vault vars.Decrypter
	// Warn, if set, receives warnings about the files loaded (a key given
	// twice in a mapping), each starting with file:line:col.
	Warn func(msg string)
	// Read, if set, is told every file the loader reads and every role
	// directory it loads a role from (saved plans are bound to them).
	Read func(path string)
	// LibraryPath are the configured directories of custom modules,
	// searched after the playbooks' and roles' library/ (NewLoader sets
	// them from ANSIBLE_LIBRARY or ansible.cfg, as Ansible searches them).
	LibraryPath []string
	// ModuleUtilsPath are the configured module_utils directories,
	// searched after the playbooks' and roles' module_utils/.
	ModuleUtilsPath []string

	plugins   pluginDirs
	errs      errorList
	warns     errorList
	curPlay   *Play // the play being loaded: import_role adds its role there
	roleCache map[string]*Role
	loading   map[string]bool
}

// SyntaxChecker parses templates and conditions without evaluating them
// (template.Engine implements it).
type SyntaxChecker interface {
	Check(s string) error
	CheckCondition(cond any) error
}

// NewLoader returns a loader using reg to validate module names and args.
func NewLoader(reg *module.Registry, rolesPath []string) *Loader {
	return &Loader{Registry: reg, RolesPath: rolesPath, CollectionsPath: DefaultCollectionsPaths(),
		LibraryPath: custommodule.ExpandConfigured(DefaultLibraryPaths()), ModuleUtilsPath: DefaultModuleUtilsPaths(),
		roleCache: map[string]*Role{}, loading: map[string]bool{}}
}

// LoadPlaybook loads and validates a playbook file, with import_playbook
// expanded. All problems that Ansible also refuses before a run (YAML,
// keywords, structure) are returned together; those Ansible finds only
// when a task runs are Warnings, and the task fails when it runs.
func (l *Loader) LoadPlaybook(path string) (*Playbook, error) {
	l.errs, l.warns = errorList{}, errorList{}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	pb := &Playbook{Path: path, Dir: filepath.Dir(abs)}
	pb.Plays = l.loadPlays(path, map[string]bool{})
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	return pb, nil
}

func (l *Loader) readYAML(file string) *yaml.Node {
	src, err := os.ReadFile(file)
	if err != nil {
		l.errs.add(fmt.Errorf("%s: %w", file, err))
		return nil
	}
	if l.Read != nil {
		l.Read(file)
	}
	n, err := vars.Loader{Vault: l.Vault, Warn: l.Warn}.ParseYAML(file, src)
	if err != nil {
		l.errs.add(err)
		return nil
	}
	return n
}

func (l *Loader) loadPlays(file string, seen map[string]bool) []*Play {
	abs, _ := filepath.Abs(file)
	if seen[abs] {
		l.errs.add(&Error{Pos: Pos{File: file}, Msg: "import_playbook loop: this playbook imports itself"})
		return nil
	}
	seen[abs] = true
	defer delete(seen, abs)
	l.addPlayDir(filepath.Dir(abs))
	before := len(l.errs.errs)
	doc := l.readYAML(file)
	if doc == nil && len(l.errs.errs) > before {
		return nil
	}
	if doc == nil || doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		// Ansible refuses an empty playbook too ("Empty playbook, nothing to do").
		l.errs.add(&Error{Pos: Pos{File: file}, Msg: "the playbook is empty: nothing to do", Hint: "a playbook is a YAML list of plays, each starting with '- hosts: ...'"})
		return nil
	}
	if doc.Kind != yaml.SequenceNode {
		l.errs.at(file, doc, "a playbook is a YAML list of plays, each starting with '- hosts: ...'", "a playbook must be a list of plays, not a %s", vars.KindName(doc))
		return nil
	}
	var plays []*Play
	for _, pn := range doc.Content {
		if pn.Kind != yaml.MappingNode {
			l.errs.at(file, pn, "", "a play must be a mapping, not a %s", vars.KindName(pn))
			continue
		}
		if imp := mapGet(pn, "import_playbook"); imp != nil {
			plays = append(plays, l.importPlaybookEntry(file, pn, imp, seen)...)
			continue
		}
		if p := l.loadPlay(file, pn); p != nil {
			plays = append(plays, p)
		}
	}
	return plays
}

// importPlaybookEntry loads the plays of an import_playbook entry and
// applies its keywords as Ansible does: its vars override each play's,
// its tags are added to each play's, and its when is prepended to the
// conditions of each play's pre_tasks, roles, tasks and post_tasks (and
// guards fact gathering).
func (l *Loader) importPlaybookEntry(file string, pn, imp *yaml.Node, seen map[string]bool) []*Play {
	var impVars map[string]any
	var when []any
	var tags []string
	for i := 0; i+1 < len(pn.Content); i += 2 {
		k, v := pn.Content[i], pn.Content[i+1]
		switch k.Value {
		case "import_playbook", "name":
		case "vars":
			impVars = l.varsMap(file, v)
		case "when":
			when = l.conds(file, v)
			l.checkConds(file, v, when)
		case "tags":
			tags = l.strList(file, v)
		default:
			l.errs.at(file, k, "import_playbook takes vars, when, tags and name", "%s is not a valid attribute for an import_playbook", k.Value)
		}
	}
	plays := l.importPlaybook(file, imp, seen)
	for _, p := range plays {
		if len(impVars) > 0 {
			p.Vars = vars.Merge(p.Vars, impVars)
		}
		for _, t := range tags {
			if !slices.Contains(p.Tags, t) {
				p.Tags = append(p.Tags, t)
			}
		}
		if len(when) > 0 {
			p.ImportWhen = append(slices.Clone(when), p.ImportWhen...)
			for _, sec := range [][]*Task{p.PreTasks, p.Roles, p.Tasks, p.PostTasks} {
				for _, t := range sec {
					t.When = append(slices.Clone(when), t.When...)
				}
			}
		}
	}
	return plays
}

// importPlaybook loads the plays of an import_playbook entry.
func (l *Loader) importPlaybook(file string, imp *yaml.Node, seen map[string]bool) []*Play {
	if imp.Kind != yaml.ScalarNode || imp.Tag == "!!null" {
		l.errs.at(file, imp, "import_playbook: other.yml", "import_playbook takes a file name, not a %s", typeName(imp))
		return nil
	}
	target := imp.Value
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(file), target)
	}
	if _, err := os.Stat(target); err != nil {
		l.errs.at(file, imp, "paths are relative to the importing playbook", "import_playbook: cannot read %s", target)
		return nil
	}
	if abs, _ := filepath.Abs(target); seen[abs] {
		l.errs.at(file, imp, "", "import_playbook loop: %s is already being imported", imp.Value)
		return nil
	}
	return l.loadPlays(target, seen)
}

// playDecode is one play mapping being decoded: the play built so far and
// the task sections, which are read once every keyword is known (roles and
// tasks see the play's settings).
type playDecode struct {
	l    *Loader
	file string
	p    *Play

	roles, pre, tasks, post, handlers *yaml.Node
}

// A playKeyword decodes the value v of one play keyword k into d.
type playKeyword func(d *playDecode, k, v *yaml.Node)

// playKeywords is every keyword a play accepts and how each is decoded.
var playKeywords = map[string]playKeyword{
	"name":          func(d *playDecode, _, v *yaml.Node) { d.p.Name = d.l.str(d.file, v) },
	"hosts":         func(d *playDecode, _, v *yaml.Node) { d.p.Hosts = d.l.hosts(d.file, v) },
	"vars":          func(d *playDecode, _, v *yaml.Node) { d.p.Vars = d.l.varsMap(d.file, v) },
	"vars_files":    (*playDecode).varsFiles,
	"vars_prompt":   (*playDecode).varsPrompt,
	"roles":         func(d *playDecode, _, v *yaml.Node) { d.roles = v },
	"pre_tasks":     func(d *playDecode, _, v *yaml.Node) { d.pre = v },
	"tasks":         func(d *playDecode, _, v *yaml.Node) { d.tasks = v },
	"post_tasks":    func(d *playDecode, _, v *yaml.Node) { d.post = v },
	"handlers":      func(d *playDecode, _, v *yaml.Node) { d.handlers = v },
	"gather_facts":  boolPlayKeyword(func(p *Play) *any { return &p.GatherFacts }),
	"gather_subset": func(d *playDecode, _, v *yaml.Node) { d.p.GatherSubset = d.l.strList(d.file, v) },
	"become":        boolPlayKeyword(func(p *Play) *any { return &p.Become }),
	"become_user":   strPlayKeyword(func(p *Play) *string { return &p.BecomeUser }),
	"become_method": strPlayKeyword(func(p *Play) *string { return &p.BecomeMethod }),
	"become_flags":  strPlayKeyword(func(p *Play) *string { return &p.BecomeFlags }),
	"serial":        func(d *playDecode, _, v *yaml.Node) { d.p.Serial = d.l.serial(d.file, v) },
	"max_fail_percentage": func(d *playDecode, _, v *yaml.Node) {
		f, ok := toFloat(d.l.value(d.file, v))
		if !ok {
			d.l.errs.at(d.file, v, "", "max_fail_percentage must be a number")
		}
		d.p.MaxFailPercentage = &f
	},
	"any_errors_fatal": boolPlayKeyword(func(p *Play) *any { return &p.AnyErrorsFatal }),
	"strategy": func(d *playDecode, _, v *yaml.Node) {
		d.p.Strategy = v.Value
		if d.p.Strategy != "linear" && d.p.Strategy != "free" {
			d.l.errs.at(d.file, v, "", "unknown strategy %q: expected linear or free", v.Value)
		}
	},
	"order": func(d *playDecode, _, v *yaml.Node) {
		d.p.Order = v.Value
		switch d.p.Order {
		case "inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle":
		default:
			d.l.errs.at(d.file, v, "", "unknown order %q: expected inventory, reverse_inventory, sorted, reverse_sorted or shuffle", v.Value)
		}
	},
	"tags":               func(d *playDecode, _, v *yaml.Node) { d.p.Tags = d.l.tags(d.file, v) },
	"environment":        func(d *playDecode, _, v *yaml.Node) { d.p.Environment = d.l.value(d.file, v) },
	"module_defaults":    func(d *playDecode, _, v *yaml.Node) { d.p.ModuleDefaults = d.l.value(d.file, v) },
	"check_mode":         boolPlayKeyword(func(p *Play) *any { return &p.CheckMode }),
	"diff":               boolPlayKeyword(func(p *Play) *any { return &p.Diff }),
	"ignore_errors":      boolPlayKeyword(func(p *Play) *any { return &p.IgnoreErrors }),
	"ignore_unreachable": boolPlayKeyword(func(p *Play) *any { return &p.IgnoreUnreachable }),
	"remote_user":        strPlayKeyword(func(p *Play) *string { return &p.RemoteUser }),
	"connection":         strPlayKeyword(func(p *Play) *string { return &p.Connection }),
	"no_log":             boolPlayKeyword(func(p *Play) *any { return &p.NoLog }),
	"run_once":           boolPlayKeyword(func(p *Play) *any { return &p.RunOnce }),
	"force_handlers":     boolPlayKeyword(func(p *Play) *any { return &p.ForceHandlers }),
	"port":               func(d *playDecode, k, v *yaml.Node) { d.l.intValue(d.file, v, k.Value) },
	"throttle":           func(d *playDecode, k, v *yaml.Node) { d.l.intValue(d.file, v, k.Value) },
	// Accepted; these have no effect in tend yet.
	"collections":    func(d *playDecode, _, v *yaml.Node) { d.p.Collections = d.l.strList(d.file, v) },
	"timeout":        ignoredPlayKeyword,
	"debugger":       ignoredPlayKeyword,
	"fact_path":      ignoredPlayKeyword,
	"gather_timeout": ignoredPlayKeyword,
	"become_exe":     ignoredPlayKeyword,
}

func ignoredPlayKeyword(*playDecode, *yaml.Node, *yaml.Node) {}

func boolPlayKeyword(field func(*Play) *any) playKeyword {
	return func(d *playDecode, k, v *yaml.Node) { *field(d.p) = d.l.boolKeyword(d.file, k.Value, v) }
}

func strPlayKeyword(field func(*Play) *string) playKeyword {
	return func(d *playDecode, _, v *yaml.Node) { *field(d.p) = d.l.str(d.file, v) }
}

// playKeywordNames lists the play keywords, sorted so that a suggestion for
// a misspelt keyword does not depend on map order.
func playKeywordNames() []string {
	out := make([]string, 0, len(playKeywords))
	for k := range playKeywords {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (d *playDecode) varsFiles(_, v *yaml.Node) {
	if lst, ok := d.l.value(d.file, v).([]any); ok {
		d.p.VarsFiles = lst
	} else if s, ok := d.l.value(d.file, v).(string); ok {
		d.p.VarsFiles = []any{s}
	} else {
		d.l.errs.at(d.file, v, "", "vars_files must be a list of file names")
	}
}

// unknownPlayKeyword reports a key no play accepts, suggesting the keyword
// meant, or the tasks: section when it names a module.
func (d *playDecode) unknownPlayKeyword(k *yaml.Node) {
	hint := ""
	if c := closest(k.Value, playKeywordNames()); c != "" {
		hint = fmt.Sprintf("did you mean %q?", c)
	} else if _, isMod := d.l.Registry.Lookup(k.Value); isMod {
		hint = "modules go in a task under tasks:, not directly in the play"
	}
	d.l.errs.at(d.file, k, hint, "unknown play keyword %q", k.Value)
}

func (l *Loader) loadPlay(file string, pn *yaml.Node) *Play {
	abs, _ := filepath.Abs(file)
	d := &playDecode{l: l, file: file,
		p: &Play{Pos: Pos{File: file, Line: pn.Line, Col: pn.Column}, Dir: filepath.Dir(abs), Strategy: "linear", Order: "inventory"}}
	for i := 0; i+1 < len(pn.Content); i += 2 {
		k, v := pn.Content[i], pn.Content[i+1]
		if kw, ok := playKeywords[k.Value]; ok {
			kw(d, k, v)
		} else {
			d.unknownPlayKeyword(k)
		}
	}
	p := d.p
	if mapGet(pn, "hosts") == nil {
		l.errs.at(file, pn, "add hosts: all (or a group or host pattern)", "play has no hosts")
	}
	ctx := &taskCtx{file: file, dir: filepath.Dir(file), playDir: p.Dir, collections: p.Collections}
	l.curPlay = p
	defer func() { l.curPlay = nil }()
	if d.roles != nil {
		p.Roles = l.roleList(ctx, d.roles, p)
	}
	p.PreTasks = l.taskList(ctx, d.pre, nil, false)
	p.Tasks = l.taskList(ctx, d.tasks, nil, false)
	p.PostTasks = l.taskList(ctx, d.post, nil, false)
	// Role handlers come first, then the play's, as Ansible orders them.
	p.Handlers = append(p.Handlers, l.taskList(ctx, d.handlers, nil, true)...)
	return p
}

// hosts reads a play's host pattern: a string or a list of strings, never
// empty, as Ansible's Play._validate_hosts requires.
func (l *Loader) hosts(file string, v *yaml.Node) string {
	const hint = "hosts: is a host pattern (all, a group, a host) or a list of them"
	switch {
	case v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == ""),
		v.Kind == yaml.SequenceNode && len(v.Content) == 0:
		l.errs.at(file, v, hint, "the hosts list cannot be empty")
		return ""
	case v.Kind == yaml.ScalarNode && v.Tag != "!!str":
		l.errs.at(file, v, fmt.Sprintf("quote it if it is a host name: hosts: \"%s\"", v.Value), "hosts must be a string or a list of strings, not a %s", typeName(v))
		return ""
	case v.Kind == yaml.ScalarNode:
		return v.Value
	case v.Kind != yaml.SequenceNode:
		l.errs.at(file, v, hint, "hosts must be a string or a list of strings, not a %s", vars.KindName(v))
		return ""
	}
	var hs []string
	for _, h := range v.Content {
		switch {
		case h.Kind == yaml.ScalarNode && h.Tag == "!!null":
			l.errs.at(file, h, hint, "the hosts list cannot contain null")
		case h.Kind != yaml.ScalarNode || h.Tag != "!!str":
			l.errs.at(file, h, hint, "the hosts list can only contain strings, not a %s", typeName(h))
		default:
			hs = append(hs, h.Value)
		}
	}
	return strings.Join(hs, ",")
}

var percentRe = regexp.MustCompile(`^\s*[0-9]+(\.[0-9]*)?\s*%+\s*$`)

// serial reads a play's batch sizes: a number, a percentage or a list of
// them (templates are resolved when the play runs).
func (l *Loader) serial(file string, n *yaml.Node) []any {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []any
	for _, it := range items {
		v := l.value(file, it)
		if v == nil {
			continue
		}
		if !validSerial(v) {
			l.errs.at(file, it, "serial is a number (5), a percentage (\"30%\") or a list of them", "serial must be a number or a percentage, not %s", describe(it))
			continue
		}
		out = append(out, v)
	}
	return out
}

func validSerial(v any) bool {
	switch x := v.(type) {
	case int, float64:
		return true
	case string:
		_, ok := module.ToInt(x)
		return ok || percentRe.MatchString(x) || module.IsTemplated(x)
	}
	return false
}

// intValue reads an integer keyword (Ansible's isa='int'): a number, a
// string holding one, or a template, which is converted when the task
// runs. Anything else can never convert and is refused here, with its
// position, rather than failing every host later.
func (l *Loader) intValue(file string, n *yaml.Node, name string) any {
	v := l.value(file, n)
	switch x := v.(type) {
	case nil, int, float64:
		return v
	case string:
		if module.IsTemplated(x) {
			return v
		}
		if _, ok := module.ToInt(x); ok {
			return v
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return v
		}
	}
	l.errs.at(file, n, "", "%s must be an integer, not %s", name, describe(n))
	return nil
}

// describe names a node for messages: a scalar's value, or its type.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + typeName(n)
}

// typeName names a node's type for messages: mapping, list, number,
// boolean, null or string.
func typeName(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return vars.KindName(n)
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "string"
}

// taskCtx carries where tasks are being read from.
type taskCtx struct {
	file    string
	dir     string // directory relative includes resolve against
	playDir string
	role    *Role
	depth   int
	// collections, when set, are the play's or block's collections:
	// (see collectionList).
	collections []string
}

func (l *Loader) taskList(ctx *taskCtx, n *yaml.Node, parent *Task, handler bool) []*Task {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errs.at(ctx.file, n, "", "expected a list of tasks, got a %s", vars.KindName(n))
		return nil
	}
	var out []*Task
	for _, tn := range n.Content {
		if tn.Kind == yaml.ScalarNode && tn.Tag == "!!null" {
			continue // an empty list entry: Ansible skips it too
		}
		if t := l.task(ctx, tn, parent, handler); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// LoadTaskFile loads a task file for include_tasks at run time (and for
// validation at load time).
func (l *Loader) LoadTaskFile(file, playDir string, role *Role, parent *Task, handler bool) ([]*Task, error) {
	l.errs, l.warns = errorList{}, errorList{}
	doc := l.readYAML(file)
	ctx := &taskCtx{file: file, dir: filepath.Dir(file), playDir: playDir, role: role}
	tasks := l.taskList(ctx, doc, parent, handler)
	return tasks, l.errs.err()
}

func (l *Loader) loadTaskFileInto(ctx *taskCtx, at *yaml.Node, file string, parent *Task, handler bool) []*Task {
	if ctx.depth > 50 {
		l.errs.at(ctx.file, at, "", "import_tasks nesting deeper than 50: an import loop?")
		return nil
	}
	doc := l.readYAML(file)
	sub := &taskCtx{file: file, dir: filepath.Dir(file), playDir: ctx.playDir, role: ctx.role, depth: ctx.depth + 1, collections: ctx.collections}
	return l.taskList(sub, doc, parent, handler)
}

// ResolveTaskFile finds a task file named in import_tasks/include_tasks:
// relative to the including file, the role's tasks/ dir, or the playbook dir.
func ResolveTaskFile(name, fromDir, playDir string, role *Role) (string, bool) {
	if filepath.IsAbs(name) {
		_, err := os.Stat(name)
		return name, err == nil
	}
	var cands []string
	if role != nil {
		cands = append(cands, filepath.Join(role.Path, "tasks", name), filepath.Join(role.Path, name))
	}
	cands = append(cands, filepath.Join(fromDir, name), filepath.Join(playDir, name), filepath.Join(playDir, "tasks", name))
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, true
		}
	}
	return cands[0], false
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// value decodes a node. A mapping at the top comes back as a
// map[string]any (keywords, arguments and variable names, whose order does
// not matter); mappings below it keep their order (*odict.Dict).
func (l *Loader) value(file string, n *yaml.Node) any {
	v := l.orderedValue(file, n)
	if d, ok := v.(*odict.Dict); ok {
		return d.Map()
	}
	return v
}

// orderedValue decodes a node, every mapping keeping its order.
func (l *Loader) orderedValue(file string, n *yaml.Node) any {
	v, err := vars.Decode(file, n)
	if err != nil {
		l.errs.add(err)
	}
	return v
}

func (l *Loader) str(file string, n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		l.errs.at(file, n, "", "expected a string, got a %s", vars.KindName(n))
		return ""
	}
	return n.Value
}

// boolPtr reads a boolean keyword that tend needs before any host is
// contacted, so it cannot be a template; null leaves it unset.
func (l *Loader) boolPtr(file string, n *yaml.Node) *bool {
	v := l.value(file, n)
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok && module.IsTemplated(s) {
		l.errs.at(file, n, "", "this keyword must be a literal boolean here, not a template")
		return nil
	}
	b, err := vars.Boolean(v)
	if err != nil {
		l.errs.at(file, n, "write true or false", "%v", err)
		return nil
	}
	return &b
}

// boolKeyword reads a boolean keyword that may be a template: a literal
// is checked now, with Ansible's boolean rules, and kept as a bool; a
// template is kept as written and checked by the executor once rendered.
// null leaves the keyword unset (nil), as in Ansible.
func (l *Loader) boolKeyword(file, key string, n *yaml.Node) any {
	v := l.value(file, n)
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok && module.IsTemplated(s) {
		l.checkNodeTemplates(file, n)
		return s
	}
	b, err := vars.Boolean(v)
	if err != nil {
		l.errs.at(file, n, "write true or false, or a template such as \"{{ flag }}\"", "%s: %v", key, err)
		return nil
	}
	return b
}

func (l *Loader) strList(file string, n *yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				l.errs.at(file, c, "", "expected a string, got a %s", vars.KindName(c))
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	l.errs.at(file, n, "", "expected a string or a list of strings, got a %s", vars.KindName(n))
	return nil
}

// tags accepts a string (comma separated), a number, or a list.
func (l *Loader) tags(file string, n *yaml.Node) []string {
	var out []string
	for _, s := range l.strList(file, n) {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (l *Loader) varsMap(file string, n *yaml.Node) map[string]any {
	v := l.value(file, n)
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		for k := range x {
			if !vars.ValidName(k) {
				l.errs.at(file, n, "variable names are letters, digits and underscores, not starting with a digit", "invalid variable name %q", k)
			}
		}
		return x
	case []any:
		// Old style: a list of one-key mappings.
		out := map[string]any{}
		for _, e := range x {
			m, ok := odict.AsMap(e)
			if !ok {
				l.errs.at(file, n, "", "vars must be a mapping")
				return nil
			}
			for k, val := range m {
				out[k] = val
			}
		}
		return out
	}
	l.errs.at(file, n, "", "vars must be a mapping of names to values, got a %s", vars.KindName(n))
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
