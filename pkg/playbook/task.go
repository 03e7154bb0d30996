package playbook

import (
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vars"
)

var taskKeywords = map[string]bool{
	"name": true, "action": true, "local_action": true, "args": true, "when": true, "loop": true, "loop_control": true,
	"register": true, "notify": true, "listen": true, "changed_when": true, "failed_when": true, "ignore_errors": true,
	"ignore_unreachable": true, "tags": true, "become": true, "become_user": true, "become_method": true,
	"become_flags": true, "become_exe": true, "check_mode": true, "diff": true, "delegate_to": true,
	"delegate_facts": true, "run_once": true, "retries": true, "until": true, "delay": true, "environment": true,
	"no_log": true, "vars": true, "any_errors_fatal": true, "throttle": true, "timeout": true, "collections": true,
	"module_defaults": true, "remote_user": true, "connection": true, "port": true, "debugger": true,
	"block": true, "rescue": true, "always": true, "async": true, "poll": true,
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
	return out
}

func (l *Loader) task(ctx *taskCtx, n *yaml.Node, parent *Task, handler bool) *Task {
	file := ctx.file
	if n.Kind != yaml.MappingNode {
		l.errs.at(file, n, "each task is a mapping like '- name: ...' followed by a module", "a task must be a mapping, not a %s", vars.KindName(n))
		return nil
	}
	t := &Task{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Parent: parent, Handler: handler, Role: ctx.role}
	var actionKey, actionVal *yaml.Node
	var argsNode *yaml.Node
	var blockN, rescueN, alwaysN *yaml.Node
	var extraActions []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		switch {
		case key == "name":
			t.Name = l.str(file, v)
		case key == "action" || key == "local_action":
			if actionKey != nil {
				extraActions = append(extraActions, key)
				continue
			}
			actionKey, actionVal = k, v
			if key == "local_action" {
				t.DelegateTo = "localhost"
			}
		case key == "args":
			argsNode = v
		case key == "when":
			t.When = l.conds(file, v)
			l.checkConds(file, v, t.When)
		case key == "loop":
			t.HasLoop, t.Loop, t.LoopKind = true, l.value(file, v), "loop"
			l.checkNodeTemplates(file, v)
		case strings.HasPrefix(key, "with_"):
			kind := strings.TrimPrefix(key, "with_")
			if !contains(loopKinds, kind) {
				l.errs.at(file, k, "supported: loop, "+strings.Join(prefixed(loopKinds), ", "), "unknown loop %q", key)
				continue
			}
			if t.HasLoop {
				l.errs.at(file, k, "", "a task can have only one loop (loop or with_*)")
			}
			t.HasLoop, t.Loop, t.LoopKind = true, l.value(file, v), kind
		case key == "loop_control":
			t.LoopControl = l.loopControl(file, v)
		case key == "register":
			t.Register = l.str(file, v)
			if !vars.ValidName(t.Register) {
				l.errs.at(file, v, "", "register: %q is not a valid variable name", t.Register)
			}
		case key == "notify":
			t.Notify = l.strList(file, v)
		case key == "listen":
			t.Listen = l.strList(file, v)
			if !handler {
				l.errs.at(file, k, "", "listen is only valid on handlers")
			}
		case key == "changed_when":
			t.ChangedWhen = l.conds(file, v)
			l.checkConds(file, v, t.ChangedWhen)
		case key == "failed_when":
			t.FailedWhen = l.conds(file, v)
			l.checkConds(file, v, t.FailedWhen)
		case key == "ignore_errors":
			t.IgnoreErrors = l.boolKeyword(file, key, v)
		case key == "ignore_unreachable":
			t.IgnoreUnreachable = l.boolKeyword(file, key, v)
		case key == "tags":
			t.Tags = l.tags(file, v)
		case key == "become":
			t.Become = l.boolKeyword(file, key, v)
		case key == "become_user":
			t.BecomeUser = l.str(file, v)
		case key == "become_method":
			t.BecomeMethod = l.str(file, v)
			if t.BecomeMethod != "sudo" && t.BecomeMethod != "su" && !module.IsTemplated(t.BecomeMethod) {
				l.errs.at(file, v, "", "unsupported become_method %q: tend supports sudo and su", t.BecomeMethod)
			}
		case key == "become_flags":
			t.BecomeFlags = l.str(file, v)
		case key == "check_mode":
			t.CheckMode = l.boolKeyword(file, key, v)
		case key == "diff":
			t.Diff = l.boolKeyword(file, key, v)
		case key == "delegate_to":
			t.DelegateTo = l.str(file, v)
		case key == "delegate_facts":
			t.DelegateFacts = l.boolKeyword(file, key, v)
		case key == "run_once":
			t.RunOnce = l.boolKeyword(file, key, v)
		case key == "retries":
			t.Retries = l.intValue(file, v, key)
		case key == "until":
			t.Until = l.conds(file, v)
			l.checkConds(file, v, t.Until)
		case key == "delay":
			t.Delay = l.intValue(file, v, key)
		case key == "port":
			l.intValue(file, v, key)
		case key == "environment":
			t.Environment = l.value(file, v)
		case key == "no_log":
			t.NoLog = l.boolKeyword(file, key, v)
		case key == "vars":
			t.Vars = l.varsMap(file, v)
		case key == "any_errors_fatal":
			t.AnyErrorsFatal = l.boolKeyword(file, key, v)
		case key == "throttle":
			if i, ok := module.ToInt(l.value(file, v)); ok {
				t.Throttle = i
			} else {
				l.errs.at(file, v, "", "throttle must be an integer")
			}
		case key == "timeout":
			t.Timeout = l.value(file, v)
		case key == "remote_user":
			t.RemoteUser = l.str(file, v)
		case key == "connection":
			t.Connection = l.str(file, v)
		case key == "block":
			blockN = v
		case key == "rescue":
			rescueN = v
		case key == "always":
			alwaysN = v
		case key == "async" || key == "poll":
			l.errs.at(file, k, "run the task without async; tend runs hosts in parallel already", "%s is not supported by tend yet", key)
		case taskKeywords[key]:
			// collections, module_defaults, port, debugger, become_exe: accepted, no effect.
		default:
			if actionKey != nil {
				extraActions = append(extraActions, key)
				continue
			}
			actionKey, actionVal = k, v
		}
	}
	if len(extraActions) > 0 {
		names := []string{actionKey.Value}
		names = append(names, extraActions...)
		hint := ""
		for _, e := range names {
			if _, ok := l.Registry.Lookup(e); !ok && !includeActions[e] && e != "meta" {
				if c := closest(e, keywordNames()); c != "" {
					hint = fmt.Sprintf("%q is not a task keyword; did you mean %q?", e, c)
				}
			}
		}
		l.errs.at(file, n, hint, "conflicting action statements: %s (a task runs exactly one module)", strings.Join(names, ", "))
		return nil
	}
	if blockN != nil {
		if actionKey != nil {
			l.errs.at(file, actionKey, "move the module into a task inside the block", "a block cannot also run a module (%s)", actionKey.Value)
			return nil
		}
		t.Action = "block"
		t.Block = l.taskList(ctx, blockN, t, handler)
		t.Rescue = l.taskList(ctx, rescueN, t, handler)
		t.Always = l.taskList(ctx, alwaysN, t, handler)
		if t.HasLoop {
			l.errs.at(file, n, "loop over an include_tasks instead", "a block cannot have a loop")
		}
		return t
	}
	if rescueN != nil || alwaysN != nil {
		l.errs.at(file, n, "", "rescue and always belong to a block")
		return nil
	}
	if actionKey == nil {
		l.errs.at(file, n, "add a module, e.g. '  debug: msg=hello'", "no module/action detected in task")
		return nil
	}
	l.parseAction(ctx, t, actionKey, actionVal, argsNode)
	if t.Action == "" {
		return nil
	}
	l.checkNodeTemplates(file, actionVal)
	l.checkNodeTemplates(file, argsNode)
	return l.expandImports(ctx, t, actionKey)
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
			mod, rest, _ := strings.Cut(strings.TrimSpace(v.Value), " ")
			name, raw = mod, strings.TrimSpace(rest)
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
	canon := module.Canonical(name)
	t.Action = canon
	if includeActions[canon] || canon == "meta" {
		t.Args = l.includeArgs(file, v, canon, raw)
	} else {
		mod, ok := l.Registry.Lookup(name)
		if !ok {
			hint := ""
			if c := closest(canon, append(l.Registry.Names(), keywordNames()...)); c != "" {
				hint = fmt.Sprintf("did you mean %q?", c)
			} else {
				hint = "run 'tend doc --list' to see the modules tend has"
			}
			l.errs.at(file, k, hint, "unknown module or task keyword %q", name)
			t.Action = ""
			return
		}
		spec := mod.Spec()
		args, err := argsFrom(raw, spec)
		if err != nil {
			l.errs.at(file, v, "", "module %s: %v", canon, err)
			t.Action = ""
			return
		}
		t.Args = args
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
	if mod, ok := l.Registry.Lookup(canon); ok && !includeActions[canon] {
		if _, templated := t.Args["_args_template"]; !templated {
			if _, err := mod.Spec().Validate(t.Args, true); err != nil {
				l.errs.at(file, k, "run 'tend doc "+canon+"' for its arguments", "%v", err)
				t.Action = ""
			}
		}
	}
}

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
			if free != "" {
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
// targets are validated now.
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
		path, ok := ResolveTaskFile(name, ctx.dir, ctx.playDir, ctx.role)
		if !ok {
			l.errs.at(ctx.file, at, "paths are relative to the including file, the role's tasks/ dir or the playbook dir", "%s: cannot find task file %q", t.Action, name)
			return nil
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		t.Args["file"] = path
		if t.Action == "include_tasks" {
			// Validate now; the executor loads it again at run time.
			l.loadTaskFileInto(ctx, at, path, t, t.Handler)
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
		role := l.loadRole(ctx, at, name, opts)
		if role == nil {
			return nil
		}
		if t.Action == "include_role" {
			return t
		}
		if t.HasLoop {
			l.errs.at(ctx.file, at, "use include_role to loop over a role", "import_role cannot have a loop")
		}
		block := l.roleBlock(role, nil, t)
		block.Pos = t.Pos
		if l.curPlay != nil {
			l.addPlayRole(l.curPlay, block)
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
			if _, ok := c.(map[string]any); ok {
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

// checkConds reports conditions that do not parse, at their node.
func (l *Loader) checkConds(file string, n *yaml.Node, conds []any) {
	if l.Syntax == nil {
		return
	}
	for _, c := range conds {
		if err := l.Syntax.CheckCondition(c); err != nil {
			l.errs.at(file, n, "conditions are bare Jinja2 expressions, like: result.rc == 0 and x is defined", "invalid condition %q: %v", fmt.Sprint(c), err)
		}
	}
}

// checkNodeTemplates reports template strings under n that do not parse,
// each at its own position.
func (l *Loader) checkNodeTemplates(file string, n *yaml.Node) {
	if l.Syntax == nil || n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if err := l.Syntax.Check(n.Value); err != nil {
			l.errs.at(file, n, "", "invalid template %q: %v", n.Value, err)
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
