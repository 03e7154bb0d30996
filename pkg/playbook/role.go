package playbook

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/vars"
)

type roleOpts struct {
	tasksFrom, varsFrom, defaultsFrom, handlersFrom string
}

func (o roleOpts) key() string {
	return o.tasksFrom + "|" + o.varsFrom + "|" + o.defaultsFrom + "|" + o.handlersFrom
}

// findRole locates a role directory by name, and the collection it is in
// (ns.coll) when it is a collection's role: ns.coll.role in collections
// only; a short name in the collections colls first, then in roles/
// directories.
func (l *Loader) findRole(name, playDir, fromDir string, colls []string) (dir, coll string, tried []string) {
	if filepath.IsAbs(name) {
		return name, "", []string{name}
	}
	if c, short, ok := splitFQCN(name); ok {
		if d := l.findCollectionRole(c, short, playDir, &tried); d != "" {
			return d, c, tried
		}
		if c == "ansible.builtin" || c == "ansible.legacy" {
			name = short
		} else {
			return "", "", tried
		}
	} else {
		for _, c := range colls {
			if c == "ansible.builtin" || c == "ansible.legacy" {
				continue
			}
			if d := l.findCollectionRole(c, name, playDir, &tried); d != "" {
				return d, c, tried
			}
		}
	}
	cands := tried
	if fromDir != "" {
		cands = append(cands, filepath.Join(fromDir, "roles", name))
	}
	cands = append(cands, filepath.Join(playDir, "roles", name))
	for _, p := range l.RolesPath {
		cands = append(cands, filepath.Join(p, name))
	}
	if env := os.Getenv("ANSIBLE_ROLES_PATH"); env != "" {
		for _, p := range filepath.SplitList(env) {
			cands = append(cands, filepath.Join(p, name))
		}
	}
	cands = append(cands, filepath.Join(playDir, name))
	for _, c := range cands[len(tried):] {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, "", cands
		}
	}
	return "", "", cands
}

// mainFile finds DIR/NAME(.yml|.yaml|) in a role.
func mainFile(roleDir, sub, name string) string {
	if name == "" {
		name = "main"
	}
	base := filepath.Join(roleDir, sub, name)
	for _, c := range []string{base, base + ".yml", base + ".yaml", base + ".json"} {
		if st, err := os.Stat(c); err == nil {
			if st.IsDir() && sub != "tasks" && sub != "handlers" {
				return c
			}
			if !st.IsDir() {
				return c
			}
		}
	}
	return ""
}

func (l *Loader) loadRole(ctx *taskCtx, at *yaml.Node, name string, opts roleOpts) *Role {
	fromDir := ""
	if ctx.role != nil {
		fromDir = filepath.Dir(ctx.role.Path)
	}
	dir, coll, tried := l.findRole(name, ctx.playDir, fromDir, ctx.collectionList())
	if dir == "" {
		l.errs.at(ctx.file, at, "looked in: "+strings.Join(tried, ", "), "role %q not found", name)
		return nil
	}
	key := dir + "|" + opts.key()
	if r, ok := l.roleCache[key]; ok {
		return r
	}
	if l.loading[key] {
		l.errs.at(ctx.file, at, "", "role %q depends on itself", name)
		return nil
	}
	l.loading[key] = true
	defer delete(l.loading, key)
	r := &Role{Name: filepath.Base(name), Path: dir, Collection: coll}
	if coll != "" {
		// Ansible names a collection's role by its full name, however
		// it was found.
		r.Name = coll + "." + filepath.Base(dir)
		r.Collections = []string{coll}
	}
	if l.Read != nil {
		l.Read(dir)
	}
	if coll == "" {
		// A legacy role's library/ and module_utils/ serve the whole
		// run from now on, as in Ansible.
		l.addPluginDirs(dir)
	}
	for _, part := range []struct {
		sub, from string
		dst       *map[string]any
	}{{"defaults", opts.defaultsFrom, &r.Defaults}, {"vars", opts.varsFrom, &r.Vars}} {
		f := mainFile(dir, part.sub, part.from)
		if f == "" {
			if part.from != "" {
				l.errs.at(ctx.file, at, "", "role %s: no %s/%s file", name, part.sub, part.from)
			}
			continue
		}
		m, err := vars.Loader{Vault: l.Vault, Warn: l.Warn}.LoadDirOrFile(f)
		if err != nil {
			l.errs.add(err)
			continue
		}
		*part.dst = m
	}
	rctx := &taskCtx{playDir: ctx.playDir, role: r, depth: ctx.depth + 1}
	if meta := mainFile(dir, "meta", ""); meta != "" {
		l.roleMeta(rctx, meta, r)
	}
	if f := mainFile(dir, "tasks", opts.tasksFrom); f != "" {
		rctx.file, rctx.dir = f, filepath.Dir(f)
		r.Tasks = l.taskList(rctx, l.readYAML(f), nil, false)
	} else if opts.tasksFrom != "" {
		l.errs.at(ctx.file, at, "", "role %s: no tasks/%s file", name, opts.tasksFrom)
	}
	if vt := l.validationTask(dir, r, opts.tasksFrom); vt != nil {
		r.Tasks = append([]*Task{vt}, r.Tasks...)
	}
	if f := mainFile(dir, "handlers", opts.handlersFrom); f != "" {
		rctx.file, rctx.dir = f, filepath.Dir(f)
		r.Handlers = l.taskList(rctx, l.readYAML(f), nil, true)
	}
	l.roleCache[key] = r
	return r
}

// validationTask is the task Ansible puts first in a role that has an
// argument spec for the entry point (main, or tasks_from): the spec is in
// meta/argument_specs.yml, else under argument_specs: in meta/main.yml.
func (l *Loader) validationTask(dir string, r *Role, tasksFrom string) *Task {
	file := mainFile(dir, "meta", "argument_specs")
	if file == "" {
		file = mainFile(dir, "meta", "")
	}
	if file == "" {
		return nil
	}
	n := l.readYAML(file)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	specs := mapGet(n, "argument_specs")
	if specs == nil || specs.Kind != yaml.MappingNode {
		return nil
	}
	entry := tasksFrom
	if entry == "" {
		entry = "main"
	}
	en := mapGet(specs, entry)
	if en == nil || en.Kind != yaml.MappingNode || len(en.Content) == 0 {
		return nil
	}
	name := fmt.Sprintf("Validating arguments against arg spec '%s'", entry)
	if sd := mapGet(en, "short_description"); sd != nil {
		name += " - " + fmt.Sprint(l.value(file, sd))
	}
	var options any = odict.New(0)
	if o := mapGet(en, "options"); o != nil {
		if options = l.orderedValue(file, o); options == nil {
			options = odict.New(0)
		}
	}
	return &Task{
		Pos:    Pos{File: file, Line: en.Line, Col: en.Column},
		Name:   name,
		Action: "validate_argument_spec",
		Args: map[string]any{
			"argument_spec":      options,
			"provided_arguments": map[string]any{},
			"validate_args_context": map[string]any{
				"type": "role", "name": r.Name, "argument_spec_name": entry, "path": dir,
			},
		},
		Tags: []string{"always"},
		Role: r,
	}
}

// isValidationTask reports whether t is a role's implicit argument spec
// check.
func isValidationTask(t *Task) bool {
	if t.Action != "validate_argument_spec" {
		return false
	}
	_, ok := t.Args["validate_args_context"]
	return ok && strings.HasPrefix(t.Name, "Validating arguments against arg spec ")
}

func (l *Loader) roleMeta(ctx *taskCtx, file string, r *Role) {
	n := l.readYAML(file)
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errs.at(file, n, "", "meta/main.yml must be a mapping")
		return
	}
	if c := mapGet(n, "collections"); c != nil {
		r.Collections = append(r.Collections, l.strList(file, c)...)
	}
	if ad := mapGet(n, "allow_duplicates"); ad != nil {
		if b := l.boolPtr(file, ad); b != nil {
			r.AllowDuplicates = *b
		}
	}
	deps := mapGet(n, "dependencies")
	if deps == nil || (deps.Kind == yaml.ScalarNode && deps.Value == "") {
		return
	}
	if deps.Kind != yaml.SequenceNode {
		l.errs.at(file, deps, "", "dependencies must be a list of roles")
		return
	}
	ctx.file = file
	r.Deps = l.roleRefs(ctx, deps, nil)
}

// roleList loads a play's roles: section into role blocks, dependencies
// first, and collects their handlers into the play.
func (l *Loader) roleList(ctx *taskCtx, n *yaml.Node, p *Play) []*Task {
	if n.Kind != yaml.SequenceNode {
		l.errs.at(ctx.file, n, "", "roles must be a list")
		return nil
	}
	blocks := l.roleRefs(ctx, n, p)
	return blocks
}

var roleRefKeywords = map[string]bool{
	"role": true, "name": true, "when": true, "tags": true, "vars": true, "become": true, "become_user": true,
	"become_method": true, "environment": true, "ignore_errors": true, "delegate_to": true, "any_errors_fatal": true,
	"check_mode": true, "diff": true, "no_log": true, "ignore_unreachable": true, "run_once": true, "tasks_from": true, "vars_from": true, "defaults_from": true,
	"handlers_from": true, "collections": true, "public": true,
}

// roleRefs parses a list of role references (play roles: or meta
// dependencies:) into role blocks. With p non-nil, roles and their
// handlers are recorded on the play.
func (l *Loader) roleRefs(ctx *taskCtx, n *yaml.Node, p *Play) []*Task {
	var out []*Task
	for _, rn := range n.Content {
		ref := &Task{Pos: Pos{File: ctx.file, Line: rn.Line, Col: rn.Column}, Role: ctx.role}
		var name string
		params := map[string]any{}
		switch rn.Kind {
		case yaml.ScalarNode:
			name = rn.Value
		case yaml.MappingNode:
			for i := 0; i+1 < len(rn.Content); i += 2 {
				k, v := rn.Content[i], rn.Content[i+1]
				switch k.Value {
				case "role", "name":
					name = v.Value
				case "when":
					ref.When = l.conds(ctx.file, v)
				case "tags":
					ref.Tags = l.tags(ctx.file, v)
				case "vars":
					for vk, vv := range l.varsMap(ctx.file, v) {
						params[vk] = vv
					}
				case "become":
					ref.Become = l.boolKeyword(ctx.file, k.Value, v)
				case "become_user":
					ref.BecomeUser = l.str(ctx.file, v)
				case "become_method":
					ref.BecomeMethod = l.str(ctx.file, v)
				case "environment":
					ref.Environment = l.value(ctx.file, v)
				case "ignore_errors":
					ref.IgnoreErrors = l.boolKeyword(ctx.file, k.Value, v)
				case "delegate_to":
					ref.DelegateTo = l.str(ctx.file, v)
				case "check_mode":
					ref.CheckMode = l.boolKeyword(ctx.file, k.Value, v)
				case "diff":
					ref.Diff = l.boolKeyword(ctx.file, k.Value, v)
				case "no_log":
					ref.NoLog = l.boolKeyword(ctx.file, k.Value, v)
				case "any_errors_fatal":
					ref.AnyErrorsFatal = l.boolKeyword(ctx.file, k.Value, v)
				case "ignore_unreachable":
					ref.IgnoreUnreachable = l.boolKeyword(ctx.file, k.Value, v)
				case "run_once":
					ref.RunOnce = l.boolKeyword(ctx.file, k.Value, v)
				case "tasks_from", "vars_from", "defaults_from", "handlers_from", "collections", "public":
					params["__"+k.Value] = l.value(ctx.file, v)
				default:
					// Any other key is a role parameter (Ansible's old style).
					if !roleRefKeywords[k.Value] {
						params[k.Value] = l.value(ctx.file, v)
					}
				}
			}
		default:
			l.errs.at(ctx.file, rn, "", "a role is a name or a mapping with role: NAME")
			continue
		}
		if name == "" {
			l.errs.at(ctx.file, rn, "", "role entry without a role name")
			continue
		}
		opts := roleOpts{tasksFrom: str(params["__tasks_from"]), varsFrom: str(params["__vars_from"]), defaultsFrom: str(params["__defaults_from"]), handlersFrom: str(params["__handlers_from"])}
		for k := range params {
			if strings.HasPrefix(k, "__") {
				delete(params, k)
			}
		}
		// The role comes before any role its tasks import, as in Ansible's
		// play roles.
		at := 0
		if p != nil {
			at = len(p.PlayRoles)
		}
		r := l.loadRole(ctx, rn, name, opts)
		if r == nil {
			continue
		}
		block := l.roleBlock(r, params, ref)
		if p != nil {
			l.addPlayRole(p, block)
			p.PlayRoles = slices.Insert(p.PlayRoles, at, block.Role)
		}
		out = append(out, block)
	}
	return out
}

// addPlayRole records a role block's role (and its dependencies) on the
// play, with its handlers bound to this use of the role.
func (l *Loader) addPlayRole(p *Play, block *Task) {
	r := block.Role
	for _, existing := range p.RoleList {
		if existing == r {
			return
		}
	}
	for _, d := range block.Block {
		if d.Implicit && d.Role != nil && d.Role != r && d.IsBlock() {
			l.addPlayRole(p, d)
		}
	}
	p.RoleList = append(p.RoleList, r)
	p.Handlers = append(p.Handlers, block.RoleHandlers...)
}

// roleBlock wraps a role's tasks (after its dependencies) in an implicit
// block that carries the reference's keywords.
func (l *Loader) roleBlock(r *Role, params map[string]any, ref *Task) *Task {
	b := &Task{
		Pos:               ref.Pos,
		Name:              r.Name,
		Action:            "block",
		Implicit:          true,
		Role:              r,
		RoleParams:        params,
		When:              ref.When,
		Tags:              ref.Tags,
		Become:            ref.Become,
		BecomeUser:        ref.BecomeUser,
		BecomeMethod:      ref.BecomeMethod,
		Environment:       ref.Environment,
		IgnoreErrors:      ref.IgnoreErrors,
		IgnoreUnreachable: ref.IgnoreUnreachable,
		RunOnce:           ref.RunOnce,
		DelegateTo:        ref.DelegateTo,
		CheckMode:         ref.CheckMode,
		Diff:              ref.Diff,
		NoLog:             ref.NoLog,
		AnyErrorsFatal:    ref.AnyErrorsFatal,
		Vars:              ref.Vars,
		Parent:            ref.Parent,
	}
	b.RoleBlock = true
	if ref.Action == "import_role" || ref.Action == "include_role" {
		b.RoleVia = ref.Action
	}
	for _, d := range r.Deps {
		b.Block = append(b.Block, cloneTree(d, b))
	}
	for _, t := range r.Tasks {
		c := cloneTree(t, b)
		if isValidationTask(c) {
			// Ansible validates the role's parameters on top of its
			// variables.
			c.Args = maps.Clone(c.Args)
			c.Args["provided_arguments"] = maps.Clone(params)
		}
		b.Block = append(b.Block, c)
	}
	// Handlers see the role's parameters and the reference's vars, but
	// not its when or tags.
	hp := &Task{Pos: ref.Pos, Action: "block", Implicit: true, Role: r, RoleParams: params, Vars: ref.Vars}
	for _, h := range r.Handlers {
		hp.RoleHandlers = append(hp.RoleHandlers, cloneTree(h, hp))
	}
	b.RoleHandlers = hp.RoleHandlers
	return b
}

// cloneTree copies a task and its block children with Parent links
// pointing into the copy, so one role can be used several times with
// different parameters.
func cloneTree(t *Task, parent *Task) *Task {
	c := *t
	c.Parent = parent
	clone := func(ts []*Task) []*Task {
		if ts == nil {
			return nil
		}
		out := make([]*Task, len(ts))
		for i, x := range ts {
			out[i] = cloneTree(x, &c)
		}
		return out
	}
	c.Block, c.Rescue, c.Always = clone(t.Block), clone(t.Rescue), clone(t.Always)
	return &c
}

// IncludeRole loads a role for include_role at run time.
func (l *Loader) IncludeRole(name, playDir string, args map[string]any, parent *Task) (*Task, error) {
	l.errs, l.warns = errorList{}, errorList{}
	ctx := &taskCtx{file: parent.Pos.File, playDir: playDir, role: parent.Role, collections: parent.Collections}
	opts := roleOpts{tasksFrom: str(args["tasks_from"]), varsFrom: str(args["vars_from"]), defaultsFrom: str(args["defaults_from"]), handlersFrom: str(args["handlers_from"])}
	r := l.loadRole(ctx, nil, name, opts)
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("role %q not found", name)
	}
	return l.roleBlock(r, nil, parent), nil
}
