package playbook

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/template"
	"github.com/tend-dev/tend/pkg/vars"
)

// taskDecode is one task mapping being decoded: the task built so far and
// the nodes whose meaning depends on the whole mapping (the module, args:,
// the block sections), resolved once every key has been read.
type taskDecode struct {
	l       *Loader
	file    string
	handler bool
	t       *Task

	actionKey, actionVal  *yaml.Node
	args                  *yaml.Node
	block, rescue, always *yaml.Node
	extraActions          []string
	collections           *yaml.Node
}

// A taskKeyword decodes the value v of one task keyword k into d.
type taskKeyword func(d *taskDecode, k, v *yaml.Node)

// taskKeywords is every keyword a task accepts besides with_* loops, and how
// each is decoded. A key not listed is the module to run.
var taskKeywords = map[string]taskKeyword{
	"name":         func(d *taskDecode, _, v *yaml.Node) { d.t.Name = d.l.str(d.file, v) },
	"action":       (*taskDecode).action,
	"local_action": (*taskDecode).action,
	"args":         func(d *taskDecode, _, v *yaml.Node) { d.args = v },
	"when":         condKeyword(func(t *Task) *[]any { return &t.When }),
	"loop": func(d *taskDecode, _, v *yaml.Node) {
		d.t.HasLoop, d.t.Loop, d.t.LoopKind = true, d.l.orderedValue(d.file, v), "loop"
		d.l.checkNodeTemplates(d.file, v)
	},
	"loop_control": func(d *taskDecode, _, v *yaml.Node) { d.t.LoopControl = d.l.loopControl(d.file, v) },
	"register": func(d *taskDecode, _, v *yaml.Node) {
		d.t.Register = d.l.str(d.file, v)
		if !vars.ValidName(d.t.Register) {
			d.l.errs.at(d.file, v, "", "register: %q is not a valid variable name", d.t.Register)
		}
	},
	"notify": func(d *taskDecode, _, v *yaml.Node) { d.t.Notify = d.l.strList(d.file, v) },
	"listen": func(d *taskDecode, k, v *yaml.Node) {
		d.t.Listen = d.l.strList(d.file, v)
		if !d.handler {
			d.l.errs.at(d.file, k, "", "listen is only valid on handlers")
		}
	},
	"changed_when":       condKeyword(func(t *Task) *[]any { return &t.ChangedWhen }),
	"failed_when":        condKeyword(func(t *Task) *[]any { return &t.FailedWhen }),
	"ignore_errors":      boolTaskKeyword(func(t *Task) *any { return &t.IgnoreErrors }),
	"ignore_unreachable": boolTaskKeyword(func(t *Task) *any { return &t.IgnoreUnreachable }),
	"tags":               func(d *taskDecode, _, v *yaml.Node) { d.t.Tags = d.l.tags(d.file, v) },
	"become":             boolTaskKeyword(func(t *Task) *any { return &t.Become }),
	"become_user":        strTaskKeyword(func(t *Task) *string { return &t.BecomeUser }),
	"become_method": func(d *taskDecode, _, v *yaml.Node) {
		d.t.BecomeMethod = d.l.str(d.file, v)
		if m := d.t.BecomeMethod; m != "sudo" && m != "su" && !module.IsTemplated(m) {
			d.l.errs.at(d.file, v, "", "unsupported become_method %q: tend supports sudo and su", m)
		}
	},
	"become_flags":     strTaskKeyword(func(t *Task) *string { return &t.BecomeFlags }),
	"check_mode":       boolTaskKeyword(func(t *Task) *any { return &t.CheckMode }),
	"diff":             boolTaskKeyword(func(t *Task) *any { return &t.Diff }),
	"delegate_to":      strTaskKeyword(func(t *Task) *string { return &t.DelegateTo }),
	"delegate_facts":   boolTaskKeyword(func(t *Task) *any { return &t.DelegateFacts }),
	"run_once":         boolTaskKeyword(func(t *Task) *any { return &t.RunOnce }),
	"retries":          intTaskKeyword(func(t *Task) *any { return &t.Retries }),
	"until":            condKeyword(func(t *Task) *[]any { return &t.Until }),
	"delay":            intTaskKeyword(func(t *Task) *any { return &t.Delay }),
	"port":             func(d *taskDecode, k, v *yaml.Node) { d.l.intValue(d.file, v, k.Value) },
	"environment":      func(d *taskDecode, _, v *yaml.Node) { d.t.Environment = d.l.value(d.file, v) },
	"module_defaults":  func(d *taskDecode, _, v *yaml.Node) { d.t.ModuleDefaults = d.l.value(d.file, v) },
	"no_log":           boolTaskKeyword(func(t *Task) *any { return &t.NoLog }),
	"vars":             func(d *taskDecode, _, v *yaml.Node) { d.t.Vars = d.l.varsMap(d.file, v) },
	"any_errors_fatal": boolTaskKeyword(func(t *Task) *any { return &t.AnyErrorsFatal }),
	"throttle": func(d *taskDecode, _, v *yaml.Node) {
		val := d.l.value(d.file, v)
		if s, ok := val.(string); ok && module.IsTemplated(s) {
			d.t.Throttle = s
		} else if i, ok := module.ToInt(val); ok {
			d.t.Throttle = i
		} else {
			d.l.errs.at(d.file, v, "", "throttle must be an integer")
		}
	},
	"timeout":     func(d *taskDecode, _, v *yaml.Node) { d.t.Timeout = d.l.value(d.file, v) },
	"remote_user": strTaskKeyword(func(t *Task) *string { return &t.RemoteUser }),
	"connection":  strTaskKeyword(func(t *Task) *string { return &t.Connection }),
	"block":       func(d *taskDecode, _, v *yaml.Node) { d.block = v },
	"rescue":      func(d *taskDecode, _, v *yaml.Node) { d.rescue = v },
	"always":      func(d *taskDecode, _, v *yaml.Node) { d.always = v },
	"async":       intTaskKeyword(func(t *Task) *any { return &t.Async }),
	"poll":        intTaskKeyword(func(t *Task) *any { return &t.Poll }),
	// Accepted, no effect in tend.
	"collections": func(d *taskDecode, _, v *yaml.Node) { d.collections = v },
	"debugger":    ignoredKeyword,
	"become_exe":  ignoredKeyword,
}

func ignoredKeyword(*taskDecode, *yaml.Node, *yaml.Node) {}

func boolTaskKeyword(field func(*Task) *any) taskKeyword {
	return func(d *taskDecode, k, v *yaml.Node) { *field(d.t) = d.l.boolKeyword(d.file, k.Value, v) }
}

func intTaskKeyword(field func(*Task) *any) taskKeyword {
	return func(d *taskDecode, k, v *yaml.Node) { *field(d.t) = d.l.intValue(d.file, v, k.Value) }
}

func strTaskKeyword(field func(*Task) *string) taskKeyword {
	return func(d *taskDecode, _, v *yaml.Node) { *field(d.t) = d.l.str(d.file, v) }
}

func condKeyword(field func(*Task) *[]any) taskKeyword {
	return func(d *taskDecode, _, v *yaml.Node) {
		c := d.l.conds(d.file, v)
		*field(d.t) = c
		d.l.checkConds(d.file, v, c)
	}
}

// module records k as the task's module; a second one is kept to report
// the conflict once the whole task has been read.
func (d *taskDecode) module(k, v *yaml.Node) {
	if d.actionKey != nil {
		d.extraActions = append(d.extraActions, k.Value)
		return
	}
	d.actionKey, d.actionVal = k, v
}

// action decodes "action: module args" and "local_action:", which runs it on
// the control node.
func (d *taskDecode) action(k, v *yaml.Node) {
	if d.actionKey != nil {
		d.extraActions = append(d.extraActions, k.Value)
		return
	}
	d.actionKey, d.actionVal = k, v
	if k.Value == "local_action" {
		d.t.DelegateTo = "localhost"
	}
}

// withLoop decodes a with_<kind> loop.
func (d *taskDecode) withLoop(k, v *yaml.Node) {
	// with_<fully qualified lookup> (with_community.general.flattened,
	// with_ansible.builtin.items) is the loop of that lookup; any lookup
	// tend has makes a loop (with_lines, with_file...).
	kind := template.LookupName(strings.TrimPrefix(k.Value, "with_"))
	if !contains(loopKinds, kind) && !template.IsLookup(kind) {
		d.l.errs.at(d.file, k, "supported: loop, "+strings.Join(prefixed(loopKinds), ", "), "unknown loop %q", k.Value)
		return
	}
	if d.t.HasLoop {
		d.l.errs.at(d.file, k, "", "a task can have only one loop (loop or with_*)")
	}
	d.t.HasLoop, d.t.Loop, d.t.LoopKind = true, d.l.orderedValue(d.file, v), kind
}

var loopKinds = []string{"items", "dict", "list", "sequence", "together", "nested", "subelements", "indexed_items", "flattened", "fileglob", "first_found", "random_choice"}

// dynamic and static include actions handled by the loader/executor.
var includeActions = map[string]bool{
	"import_tasks": true, "include_tasks": true, "include": true, "import_role": true, "include_role": true,
}

func keywordNames() []string {
	out := make([]string, 0, len(taskKeywords)+len(loopKinds))
	for k := range taskKeywords {
		out = append(out, k)
	}
	for _, k := range loopKinds {
		out = append(out, "with_"+k)
	}
	// Sorted so that a suggestion for a misspelt keyword does not depend on
	// map order.
	sort.Strings(out)
	return out
}

func (l *Loader) task(ctx *taskCtx, n *yaml.Node, parent *Task, handler bool) *Task {
	file := ctx.file
	if n.Kind != yaml.MappingNode {
		l.errs.at(file, n, "each task is a mapping like '- name: ...' followed by a module", "a task must be a mapping, not a %s", vars.KindName(n))
		return nil
	}
	d := &taskDecode{l: l, file: file, handler: handler,
		t: &Task{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Parent: parent, Handler: handler, Role: ctx.role, Collections: ctx.collectionList()}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch kw, ok := taskKeywords[k.Value]; {
		case ok:
			kw(d, k, v)
		case strings.HasPrefix(k.Value, "with_"):
			d.withLoop(k, v)
		default:
			d.module(k, v)
		}
	}
	t := d.t
	if len(d.extraActions) > 0 {
		l.conflictingActions(file, n, append([]string{d.actionKey.Value}, d.extraActions...))
		return nil
	}
	if d.block != nil {
		if d.actionKey != nil {
			l.errs.at(file, d.actionKey, "move the module into a task inside the block", "a block cannot also run a module (%s)", d.actionKey.Value)
			return nil
		}
		t.Action = "block"
		bctx := ctx
		if d.collections != nil {
			// The block's collections: hold for the tasks in it.
			c := *ctx
			c.collections = l.strList(file, d.collections)
			bctx = &c
		}
		t.Block = l.taskList(bctx, d.block, t, handler)
		t.Rescue = l.taskList(bctx, d.rescue, t, handler)
		t.Always = l.taskList(bctx, d.always, t, handler)
		if t.HasLoop {
			l.errs.at(file, n, "loop over an include_tasks instead", "a block cannot have a loop")
		}
		return t
	}
	if d.rescue != nil || d.always != nil {
		l.errs.at(file, n, "", "rescue and always belong to a block")
		return nil
	}
	if d.actionKey == nil {
		l.errs.at(file, n, "add a module, e.g. '  debug: msg=hello'", "no module/action detected in task")
		return nil
	}
	l.parseAction(ctx, t, d.actionKey, d.actionVal, d.args)
	if t.Action == "" {
		return nil
	}
	l.checkNodeTemplates(file, d.actionVal)
	l.checkNodeTemplates(file, d.args)
	return l.expandImports(ctx, t, d.actionKey)
}

// conflictingActions reports a task naming several modules, suggesting the
// keyword meant when one of them is a misspelt keyword rather than a module.
func (l *Loader) conflictingActions(file string, n *yaml.Node, names []string) {
	hint := ""
	for _, e := range names {
		if _, ok := l.Registry.Lookup(e); !ok && !includeActions[e] && e != "meta" {
			if c := closest(e, keywordNames()); c != "" {
				hint = fmt.Sprintf("%q is not a task keyword; did you mean %q?", e, c)
			}
		}
	}
	l.errs.at(file, n, hint, "conflicting action statements: %s (a task runs exactly one module)", strings.Join(names, ", "))
}

func prefixed(kinds []string) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = "with_" + k
	}
	return out
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// parseAction fills t.Action and t.Args from "module: args" (dict or
// free-form k=v), "action: module args", and "args:".
func (l *Loader) parseAction(ctx *taskCtx, t *Task, k, v, argsNode *yaml.Node) {
	file := ctx.file
	name := k.Value
	var raw any
	if name == "action" || name == "local_action" {
		switch v.Kind {
		case yaml.ScalarNode:
			mod, rest := splitAction(v.Value)
			name, raw = mod, rest
		case yaml.MappingNode:
			m, _ := l.value(file, v).(map[string]any)
			mod, _ := m["module"].(string)
			if mod == "" {
				l.errs.at(file, v, "", "action: mapping needs a module: key")
				return
			}
			delete(m, "module")
			name, raw = mod, m
		default:
			l.errs.at(file, v, "", "action must be a string or a mapping")
			return
		}
	} else {
		raw = l.value(file, v)
	}
	t.ArgOrder = argOrder(v)
	canon := module.Canonical(name)
	t.Action = canon
	switch {
	case module.IsTemplated(name):
		// The module is chosen when the task runs (action: "{{ m }}
		// args"): its arguments are read then, with its spec.
		t.Action, t.RawArgs, t.Args = name, raw, map[string]any{}
	case includeActions[canon] || canon == "meta":
		t.Args = l.includeArgs(file, v, canon, raw)
	default:
		mod, ok := l.Registry.Lookup(name)
		if !ok {
			if custom := l.customModuleName(ctx, name, canon); custom != "" {
				t.Action, t.Args = custom, CustomModuleArgs(raw)
			} else if l.unknownModule(file, k, t, name, raw); t.Action == "" {
				return
			}
		} else {
			args, err := argsFrom(raw, mod.Spec())
			if err != nil && !module.IsTemplated(raw) && !includeActions[canon] && !rawParamActions[canon] {
				// Ansible's parser refuses these too (a number or a list,
				// unbalanced quotes, extra words for a module without
				// free-form text) before anything runs.
				l.errs.at(file, v, "", "module %s: %v", canon, err)
				t.Action = ""
				return
			}
			if err != nil {
				// Templated text is read when the task runs (Ansible's
				// _variable_params): a warning now, the task's failure then
				// (if it runs at all).
				l.warnAt(file, v, "run 'tend doc "+canon+"' for its arguments", "module %s: %v", canon, err)
				t.ArgsError = fmt.Sprintf("module %s: %v", canon, err)
				args = map[string]any{}
			}
			t.Args = args
		}
	}
	if argsNode != nil {
		extra, ok := l.value(file, argsNode).(map[string]any)
		if !ok {
			if s, isStr := l.value(file, argsNode).(string); isStr && module.IsTemplated(s) {
				t.Args["_args_template"] = s
			} else {
				l.errs.at(file, argsNode, "", "args must be a mapping")
			}
		}
		for ak, av := range extra {
			t.Args[ak] = av
		}
	}
	// With module_defaults of its own the task's arguments are complete
	// only when it runs.
	if mod, ok := l.Registry.Lookup(canon); ok && !includeActions[canon] && t.ArgsError == "" && t.ModuleDefaults == nil {
		if _, templated := t.Args["_args_template"]; !templated {
			if _, err := mod.Spec().Validate(t.Args, true); err != nil {
				// Ansible checks arguments when the task runs: so does
				// tend, and the task fails then (if it runs at all).
				l.warnAt(file, k, "run 'tend doc "+canon+"' for its arguments", "%v", err)
			}
		}
	}
}

// unknownModule records a task naming a module tend does not have: a
// warning now (Ansible, with its collections, may have it, and the task
// may never run on these hosts) and a failed task when it runs. Its
// arguments are kept as written.
func (l *Loader) unknownModule(file string, k *yaml.Node, t *Task, name string, raw any) {
	if module.Canonical(name) == "import_playbook" {
		// Ansible refuses it when it parses the play.
		l.errs.at(file, k, "import_playbook is a play of its own, at the top level of a playbook", "import_playbook is not valid in a task list")
		t.Action = ""
		return
	}
	hint := ""
	if c := closest(module.Canonical(name), append(l.Registry.Names(), keywordNames()...)); c != "" {
		hint = fmt.Sprintf("did you mean %q?", c)
	} else {
		hint = "run 'tend doc --list' to see the modules tend has"
	}
	l.warnAt(file, k, hint, "unknown module or task keyword %q: the task fails if it runs", name)
	t.UnknownModule = name
	switch x := raw.(type) {
	case map[string]any:
		t.Args = x
	case string:
		t.Args = map[string]any{"_raw_params": x}
	default:
		t.Args = map[string]any{}
	}
}

// CustomModuleArgs reads the arguments of a custom module (found in a
// library/ directory) as Ansible's parse_kv does for a module that takes
// no free-form text: key=value words, and the other words, if any, in
// _raw_params.
func CustomModuleArgs(raw any) map[string]any {
	switch x := raw.(type) {
	case map[string]any:
		return x
	case string:
		if module.IsTemplated(x) && !strings.Contains(x, "=") {
			return map[string]any{"_args_template": x}
		}
		kv, free, err := ParseKV(x, true, isIdent)
		if err != nil {
			return map[string]any{"_raw_params": x}
		}
		if free != "" {
			kv["_raw_params"] = free
		}
		return kv
	case nil:
		return map[string]any{}
	}
	return map[string]any{"_raw_params": fmt.Sprint(raw)}
}

// splitAction splits "action: module args" text into the module and its
// arguments; the module may be a template ("{{ m }} x=1").
func splitAction(s string) (mod, rest string) {
	s = strings.TrimSpace(s)
	from := 0
	if strings.HasPrefix(s, "{{") {
		if i := strings.Index(s, "}}"); i >= 0 {
			from = i + 2
		}
	}
	if i := strings.IndexAny(s[from:], " \t\n"); i >= 0 {
		return s[:from+i], strings.TrimSpace(s[from+i:])
	}
	return s, ""
}

// ModuleArgs turns the arguments written for a module (a mapping, or
// key=value text with the module's free-form part) into an argument map,
// for a task whose module is known only when it runs.
func ModuleArgs(raw any, spec *module.Spec) (map[string]any, error) { return argsFrom(raw, spec) }

// argsFrom turns a module's raw value into an argument map.
func argsFrom(raw any, spec *module.Spec) (map[string]any, error) {
	switch x := raw.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = v
		}
		return out, nil
	case string:
		if spec.FreeForm != "" {
			allowed := func(k string) bool { _, ok := spec.Arg(k); return ok && k != spec.FreeForm }
			kv, free, err := ParseKV(x, true, allowed)
			if err != nil {
				return nil, err
			}
			if free != "" {
				kv[spec.FreeForm] = free
			}
			return kv, nil
		}
		if module.IsTemplated(x) && !strings.Contains(x, "=") {
			return map[string]any{"_args_template": x}, nil
		}
		kv, _, err := ParseKV(x, false, nil)
		return kv, err
	case bool, int, float64:
		if spec.FreeForm != "" {
			return map[string]any{spec.FreeForm: fmt.Sprint(x)}, nil
		}
	}
	return nil, fmt.Errorf("arguments must be a mapping or key=value text, got %T", raw)
}

// includeArgs normalises include/import/meta arguments.
func (l *Loader) includeArgs(file string, n *yaml.Node, action string, raw any) map[string]any {
	switch x := raw.(type) {
	case string:
		switch action {
		case "meta":
			return map[string]any{"_raw_params": strings.TrimSpace(x)}
		case "import_role", "include_role":
			kv, _, err := ParseKV(x, false, nil)
			if err != nil {
				l.errs.at(file, n, "", "%s: %v", action, err)
			}
			return kv
		default:
			kv, free, err := ParseKV(x, true, func(k string) bool { return k == "file" || k == "apply" })
			if err != nil {
				l.errs.at(file, n, "", "%s: %v", action, err)
			}
			if free = strings.TrimRight(free, "\n"); free != "" {
				kv["file"] = free
			}
			return kv
		}
	case map[string]any:
		return x
	}
	l.errs.at(file, n, "", "%s needs a file name or a mapping of arguments", action)
	return map[string]any{}
}

// expandImports replaces import_tasks/import_role with an implicit block
// holding the imported tasks; include_* stay dynamic but their static
// targets are checked now, their problems reported as warnings.
func (l *Loader) expandImports(ctx *taskCtx, t *Task, at *yaml.Node) *Task {
	switch t.Action {
	case "import_tasks", "include_tasks", "include":
		name, _ := t.Args["file"].(string)
		if name == "" {
			name, _ = t.Args["_raw_params"].(string)
		}
		if name == "" {
			l.errs.at(ctx.file, at, "", "%s needs a file", t.Action)
			return nil
		}
		if t.Action == "include" {
			t.Action = "include_tasks"
		}
		if module.IsTemplated(name) {
			if t.Action == "import_tasks" {
				l.errs.at(ctx.file, at, "use include_tasks for a file name chosen at run time", "import_tasks file name cannot be a template: %s", name)
				return nil
			}
			return t
		}
		const where = "paths are relative to the including file, the role's tasks/ dir or the playbook dir"
		path, ok := ResolveTaskFile(name, ctx.dir, ctx.playDir, ctx.role)
		if !ok && t.Action == "include_tasks" {
			// Ansible looks for the file when the include runs, and
			// fails it then: the include may never run on these hosts.
			l.warnAt(ctx.file, at, where, "%s: cannot find task file %q: the include fails if it runs", t.Action, name)
			return t
		}
		if !ok {
			l.errs.at(ctx.file, at, where, "%s: cannot find task file %q", t.Action, name)
			return nil
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		t.Args["file"] = path
		if t.Action == "include_tasks" {
			// Validate now, as warnings: Ansible reads the file only when
			// the include runs. The executor loads it again then.
			l.lazily(func() { l.loadTaskFileInto(ctx, at, path, t, t.Handler) })
			return t
		}
		if t.HasLoop {
			l.errs.at(ctx.file, at, "use include_tasks to loop over a task file", "import_tasks cannot have a loop")
		}
		t.Action = "block"
		t.Implicit = true
		t.Block = l.loadTaskFileInto(ctx, at, path, t, t.Handler)
		return t
	case "import_role", "include_role":
		l.checkRoleBools(ctx.file, at, t)
		name, _ := t.Args["name"].(string)
		if name == "" {
			l.errs.at(ctx.file, at, "", "%s needs name: ROLE", t.Action)
			return nil
		}
		if module.IsTemplated(name) {
			if t.Action == "import_role" {
				l.errs.at(ctx.file, at, "use include_role for a role chosen at run time", "import_role name cannot be a template")
				return nil
			}
			return t
		}
		opts := roleOpts{
			tasksFrom:    str(t.Args["tasks_from"]),
			varsFrom:     str(t.Args["vars_from"]),
			defaultsFrom: str(t.Args["defaults_from"]),
			handlersFrom: str(t.Args["handlers_from"]),
		}
		if t.Action == "include_role" {
			// Checked as warnings: Ansible loads the role when the
			// include runs, and fails the include then.
			l.lazily(func() { l.loadRole(ctx, at, name, opts) })
			return t
		}
		role := l.loadRole(ctx, at, name, opts)
		if role == nil {
			return nil
		}
		if t.HasLoop {
			l.errs.at(ctx.file, at, "use include_role to loop over a role", "import_role cannot have a loop")
		}
		block := l.roleBlock(role, nil, t)
		block.Pos = t.Pos
		if l.curPlay != nil {
			l.addPlayRole(l.curPlay, block)
			l.curPlay.PlayRoles = append(l.curPlay.PlayRoles, block.Role)
		}
		return block
	}
	return t
}

// checkRoleBools checks the boolean arguments of import_role and
// include_role with Ansible's boolean rules; templates are left as they
// are.
func (l *Loader) checkRoleBools(file string, at *yaml.Node, t *Task) {
	for _, k := range []string{"public", "allow_duplicates", "rolespec_validate"} {
		v, ok := t.Args[k]
		if s, isStr := v.(string); !ok || (isStr && module.IsTemplated(s)) {
			continue
		}
		if _, err := vars.Boolean(v); err != nil {
			l.errs.at(file, at, "write true or false", "%s %s: %v", t.Action, k, err)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (l *Loader) conds(file string, n *yaml.Node) []any {
	v := l.value(file, n)
	switch x := v.(type) {
	case []any:
		for _, c := range x {
			if odict.IsDict(c) {
				l.errs.at(file, n, "quote conditions that contain ': '", "a condition must be an expression, not a mapping")
			}
		}
		return x
	case map[string]any:
		l.errs.at(file, n, "quote conditions that contain ': '", "a condition must be an expression, not a mapping")
		return nil
	case nil:
		return nil
	default:
		return []any{x}
	}
}

func (l *Loader) loopControl(file string, n *yaml.Node) LoopControl {
	lc := LoopControl{}
	m, ok := l.value(file, n).(map[string]any)
	if !ok {
		l.errs.at(file, n, "", "loop_control must be a mapping")
		return lc
	}
	for k, v := range m {
		switch k {
		case "loop_var":
			lc.LoopVar = fmt.Sprint(v)
		case "index_var":
			lc.IndexVar = fmt.Sprint(v)
		case "label":
			lc.Label = fmt.Sprint(v)
		case "pause":
			lc.Pause = v
		case "extended":
			b, err := vars.Boolean(v)
			if err != nil {
				l.errs.at(file, n, "write true or false", "loop_control extended: %v", err)
			}
			lc.Extended = b
		case "extended_allitems", "break_when":
		default:
			l.errs.at(file, n, "supported: loop_var, index_var, label, pause, extended", "unknown loop_control option %q", k)
		}
	}
	return lc
}

// RoleFile is a helper for role-relative paths.
func RoleFile(r *Role, dir, name string) string { return filepath.Join(r.Path, dir, name) }

// checkConds reports conditions that do not parse, at their node, as
// warnings: Ansible parses them when the task runs, and so the task fails
// then.
func (l *Loader) checkConds(file string, n *yaml.Node, conds []any) {
	if l.Syntax == nil {
		return
	}
	for _, c := range conds {
		if err := l.Syntax.CheckCondition(c); err != nil {
			l.warnAt(file, n, "conditions are bare Jinja2 expressions, like: result.rc == 0 and x is defined", "invalid condition %q: %v", fmt.Sprint(c), err)
		}
	}
}

// checkNodeTemplates reports template strings under n that do not parse,
// each at its own position, as warnings: Ansible parses templates only
// when it renders them, and so the task fails then.
func (l *Loader) checkNodeTemplates(file string, n *yaml.Node) {
	if l.Syntax == nil || n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if err := l.Syntax.Check(n.Value); err != nil {
			l.warnAt(file, n, "", "invalid template %q: %v", n.Value, err)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			l.checkNodeTemplates(file, n.Content[i])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			l.checkNodeTemplates(file, c)
		}
	}
}

// rawParamActions, with includeActions, take free-form words at parse time
// in Ansible 2.14 (mod_args.RAW_PARAM_MODULES beyond the free-form
// modules): words that are not key=value fail the task when it runs, not
// the playbook.
var rawParamActions = map[string]bool{
	"add_host": true, "group_by": true, "set_fact": true, "include_vars": true, "meta": true,
}

// argOrder is the argument names of a task's module node in the order
// written: a mapping's keys, or the keys of free-form key=value words.
func argOrder(n *yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	case yaml.ScalarNode:
		words, _, err := splitArgSpans(n.Value)
		if err != nil {
			return nil
		}
		for _, w := range words {
			if k, _, ok := strings.Cut(w, "="); ok {
				out = append(out, k)
			}
		}
	}
	return out
}
