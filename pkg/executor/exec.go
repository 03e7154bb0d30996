package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/pyfmt"
	"github.com/tend-dev/tend/pkg/report"
	"github.com/tend-dev/tend/pkg/template"
)

// execute runs one task (or one loop item) on a host: include and meta
// actions, or a module with until/retries, changed_when and failed_when.
func (p *playRun) execute(ctx context.Context, t *playbook.Task, rt report.Task, h *hostState, vars map[string]any, item any, isItem bool) *outcome {
	switch t.Action {
	case "meta":
		return p.meta(h, t)
	case "include_tasks":
		file, err := p.renderString(t.Args["file"], vars)
		if err != nil {
			return p.templateFailure(t, "include_tasks file", err)
		}
		path, ok := playbook.ResolveTaskFile(file, filepath.Dir(t.Pos.File), p.play.Dir, roleOf(t))
		if !ok {
			return &outcome{status: report.Failed, result: module.Failed("include_tasks: cannot find task file %q (task at %s)", file, t.Pos)}
		}
		return &outcome{status: report.OK, result: module.Result{"changed": false, "include": path}, includes: []*includeReq{{file: path, vars: t.Vars}}}
	case "include_role":
		args, err := p.r.opts.Templates.RenderValue(map[string]any(t.Args), vars)
		if err != nil {
			return p.templateFailure(t, "include_role", err)
		}
		am, _ := args.(map[string]any)
		name, _ := am["name"].(string)
		return &outcome{status: report.OK, result: module.Result{"changed": false, "include_role": name}, includes: []*includeReq{{role: name, args: am, vars: t.Vars}}}
	}

	mod, ok := p.r.opts.Registry.Lookup(t.Action)
	if !ok {
		return &outcome{status: report.Failed, result: module.Failed("unknown module %q", t.Action)}
	}
	// attempts is Ansible's: retries+1 when retries is set, 3 when not.
	retries, delay := 0, 5*time.Second
	if len(t.Until) > 0 {
		retries = 3
		if t.Retries != nil {
			v, err := p.r.opts.Templates.RenderValue(t.Retries, vars)
			if n, ok := module.ToInt(v); err == nil && ok {
				retries = n + 1
				if n <= 0 {
					retries = 1
				}
			}
		}
		if t.Delay != nil {
			v, err := p.r.opts.Templates.RenderValue(t.Delay, vars)
			if n, ok := module.ToInt(v); err == nil && ok {
				delay = time.Duration(n) * time.Second
			}
		}
	}
	var o *outcome
	for attempt := 0; ; attempt++ {
		o = p.runModule(ctx, t, mod, h, vars)
		if o.status == report.Unreachable || len(t.Until) == 0 {
			break
		}
		uvars := vars
		if t.Register != "" {
			uvars = mergeVars(vars, map[string]any{t.Register: map[string]any(o.result)})
		}
		uvars = mergeVars(uvars, map[string]any{"result": map[string]any(o.result)})
		done, err := p.allTrue(t.Until, uvars)
		if err != nil {
			return p.templateFailure(t, "until", err)
		}
		o.result["attempts"] = attempt + 1
		if done {
			break
		}
		if attempt >= retries-1 {
			o.status = report.Failed
			o.result["failed"] = true
			if _, has := o.result["msg"]; !has || o.result["msg"] == "" {
				o.result["msg"] = "Retries exhausted"
			}
			break
		}
		o.result["retries"] = retries
		p.r.opts.Reporter.HostResult(report.HostResult{Host: h.name, Task: rt, Status: report.Retrying, Result: o.result, Retries: attempt + 1})
		select {
		case <-ctx.Done():
			return o
		case <-time.After(delay):
		}
	}
	return o
}

func (p *playRun) renderString(v any, vars map[string]any) (string, error) {
	s := fmt.Sprint(v)
	if !template.IsTemplate(s) {
		return s, nil
	}
	return p.r.opts.Templates.RenderString(s, vars)
}

func (p *playRun) allTrue(conds []any, vars map[string]any) (bool, error) {
	for _, c := range conds {
		ok, err := p.r.opts.Templates.Truthy(c, vars)
		if err != nil {
			return false, &condError{cond: c, err: err}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func (p *playRun) meta(h *hostState, t *playbook.Task) *outcome {
	action, _ := t.Args["_raw_params"].(string)
	res := module.Result{"changed": false, "skipped": false}
	switch action {
	case "noop", "refresh_inventory", "reset_connection":
	case "flush_handlers", "end_play", "end_batch":
		return &outcome{status: report.OK, result: res, meta: action}
	case "end_host":
		h.mu.Lock()
		h.ended = true
		h.mu.Unlock()
		res["msg"] = "ending play for host"
	case "clear_facts":
		h.clearFacts()
	case "clear_host_errors":
		h.mu.Lock()
		h.failed = false
		h.mu.Unlock()
	default:
		return &outcome{status: report.Failed, result: module.Failed("unknown meta action %q (supported: %s)", action, strings.Join(metaActions, ", "))}
	}
	return &outcome{status: report.OK, result: res, meta: action}
}

var metaActions = []string{"flush_handlers", "end_play", "end_host", "end_batch", "noop", "clear_facts", "clear_host_errors", "refresh_inventory", "reset_connection"}

// runModule templates the arguments, plans, applies unless in check mode,
// and evaluates changed_when/failed_when.
func (p *playRun) runModule(ctx context.Context, t *playbook.Task, mod module.Module, h *hostState, vars map[string]any) *outcome {
	spec := mod.Spec()
	rawArgs := map[string]any(t.Args)
	if tmpl, ok := rawArgs["_args_template"].(string); ok {
		v, err := p.r.opts.Templates.Render(tmpl, vars)
		if err != nil {
			return p.templateFailure(t, "args", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &outcome{status: report.Failed, result: module.Failed("args template %q did not produce a mapping (task at %s)", tmpl, t.Pos)}
		}
		rawArgs = m
	}
	rendered, err := p.r.opts.Templates.RenderValue(rawArgs, vars)
	if err != nil {
		return p.templateFailure(t, "args", err)
	}
	argMap, _ := rendered.(map[string]any)
	for k, v := range argMap {
		if s, ok := v.(string); ok && s == p.r.omit {
			delete(argMap, k)
		}
	}
	args, err := spec.Validate(argMap, false)
	if err != nil {
		return &outcome{status: report.Failed, result: module.Failed("%v (task %q at %s)", err, t.DisplayName(), t.Pos)}
	}

	check := p.boolKeyword(t, func(a *playbook.Task) any { return a.CheckMode }, p.play.CheckMode, vars)
	if !p.keywordSet(t, func(a *playbook.Task) any { return a.CheckMode }, p.play.CheckMode) {
		check = p.r.opts.Check
	}
	diff := p.r.opts.Diff
	if p.keywordSet(t, func(a *playbook.Task) any { return a.Diff }, p.play.Diff) {
		diff = p.boolKeyword(t, func(a *playbook.Task) any { return a.Diff }, p.play.Diff, vars)
	}
	if check && spec.Check == module.CheckNone {
		return &outcome{status: report.Skipped, result: module.Result{"changed": false, "skipped": true, "msg": "remote module (" + spec.Name + ") does not support check mode"}}
	}

	mh := &module.Host{
		Name:    h.name,
		Vars:    vars,
		Templar: &templar{e: p.r.opts.Templates, vars: vars},
		Files:   &fileFinder{play: p.play, role: roleOf(t), taskDir: filepath.Dir(t.Pos.File)},
		Check:   check,
		Diff:    diff,
		Warn:    func(msg string) { p.r.opts.Reporter.Warn(h.name, msg) },
		Vault:   p.r.opts.Vault,
	}
	mh.Templar = p.templarFor(mh.Files.(*fileFinder), vars)
	delegated := ""
	if !spec.Controller {
		connHost, connVars := h.name, vars
		if t.DelegateTo != "" {
			d, err := p.renderString(t.DelegateTo, vars)
			if err != nil {
				return p.templateFailure(t, "delegate_to", err)
			}
			delegated = d
			connHost = d
			connVars = p.delegateVars(d, vars)
		}
		conn, err := p.r.opts.Connector.Get(ctx, connHost, connVars)
		if err != nil {
			return &outcome{status: report.Unreachable, result: module.Result{"unreachable": true, "changed": false, "msg": err.Error()}}
		}
		mh.Conn = conn
		mh.Become, err = p.become(t, connVars)
		if err != nil {
			return p.templateFailure(t, "become", err)
		}
		mh.Env, err = p.environment(t, vars)
		if err != nil {
			return p.templateFailure(t, "environment", err)
		}
	}

	res, plan, err := module.Execute(ctx, mod, mh, args, check)
	o := &outcome{result: res}
	switch {
	case err != nil && isUnreachable(err):
		return &outcome{status: report.Unreachable, result: module.Result{"unreachable": true, "changed": false, "msg": err.Error()}}
	case err != nil:
		o.status, o.result = report.Failed, module.Failed("%v", err)
		if plan != nil {
			o.result["changed"] = false
		}
	}
	if o.status == "" {
		if diff && plan != nil && len(plan.Diff) > 0 {
			o.result["diff"] = plan.Diff
		}
		if delegated != "" {
			o.result["_ansible_delegated_vars"] = delegated
		}
		o.status = statusOf(o.result)
	}
	if o.status == report.Failed && o.result["msg"] == nil {
		o.result["msg"] = "module failed"
	}
	o.result["failed"] = o.status == report.Failed
	return p.applyConditions(t, o, vars)
}

func statusOf(r module.Result) report.Status {
	if f, _ := r["failed"].(bool); f {
		return report.Failed
	}
	if s, _ := r["skipped"].(bool); s {
		return report.Skipped
	}
	if c, _ := r["changed"].(bool); c {
		return report.Changed
	}
	return report.OK
}

// applyConditions evaluates changed_when and failed_when with the result
// registered under the task's register name.
func (p *playRun) applyConditions(t *playbook.Task, o *outcome, vars map[string]any) *outcome {
	if len(t.ChangedWhen) == 0 && len(t.FailedWhen) == 0 {
		return o
	}
	cvars := vars
	if t.Register != "" {
		cvars = mergeVars(vars, map[string]any{t.Register: map[string]any(o.result)})
	}
	if len(t.ChangedWhen) > 0 && o.status != report.Skipped {
		changed, err := p.anyTrue(t.ChangedWhen, cvars)
		if err != nil {
			return p.templateFailure(t, "changed_when", err)
		}
		o.result["changed"] = changed
		if o.status != report.Failed {
			o.status = report.OK
			if changed {
				o.status = report.Changed
			}
		}
	}
	if len(t.FailedWhen) > 0 && o.status != report.Skipped {
		failed, err := p.anyTrue(t.FailedWhen, cvars)
		if err != nil {
			return p.templateFailure(t, "failed_when", err)
		}
		o.result["failed_when_result"] = failed
		o.result["failed"] = failed
		if failed {
			o.status = report.Failed
		} else {
			o.status = report.OK
			if c, _ := o.result["changed"].(bool); c {
				o.status = report.Changed
			}
		}
	}
	return o
}

// anyTrue is used for failed_when/changed_when lists: Ansible ANDs list
// entries for when, but for changed_when/failed_when too; keep AND.
func (p *playRun) anyTrue(conds []any, vars map[string]any) (bool, error) {
	return p.allTrue(conds, vars)
}

// keywordSet reports whether a keyword is set on t's chain or the play.
func (p *playRun) keywordSet(t *playbook.Task, get func(*playbook.Task) any, play any) bool {
	return inherited(t, get, play) != nil
}

// boolKeyword returns a keyword's boolean value (templated) from t's
// chain, or the play's.
func (p *playRun) boolKeyword(t *playbook.Task, get func(*playbook.Task) any, play any, vars map[string]any) bool {
	v := inherited(t, get, play)
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok && template.IsTemplate(s) {
		b, err := p.r.opts.Templates.Truthy(s, vars)
		return err == nil && b
	}
	b, _ := module.ToBool(v)
	return b
}

// become resolves privilege escalation: host variables (ansible_become*)
// override task and play keywords, as in Ansible.
func (p *playRun) become(t *playbook.Task, vars map[string]any) (*connection.Become, error) {
	on := false
	var user, method, flags string
	if v := inherited(t, func(a *playbook.Task) any {
		if a.Become != nil {
			return *a.Become
		}
		return nil
	}, boolPtrAny(p.play.Become)); v != nil {
		on, _ = v.(bool)
	}
	for _, a := range chain(t) {
		if user == "" {
			user = a.BecomeUser
		}
		if method == "" {
			method = a.BecomeMethod
		}
		if flags == "" {
			flags = a.BecomeFlags
		}
	}
	if user == "" {
		user = p.play.BecomeUser
	}
	if method == "" {
		method = p.play.BecomeMethod
	}
	if flags == "" {
		flags = p.play.BecomeFlags
	}
	if v, ok := vars["ansible_become"]; ok {
		on, _ = module.ToBool(v)
	}
	if v, ok := vars["ansible_become_user"]; ok {
		user = fmt.Sprint(v)
	}
	if v, ok := vars["ansible_become_method"]; ok {
		method = fmt.Sprint(v)
	}
	if v, ok := vars["ansible_become_flags"]; ok {
		flags = fmt.Sprint(v)
	}
	if !on {
		return nil, nil
	}
	b := &connection.Become{Method: method, User: user, Flags: flags, Password: p.r.opts.BecomePassword}
	for _, k := range []string{"ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"} {
		if v, ok := vars[k]; ok && v != nil {
			b.Password = fmt.Sprint(v)
			break
		}
	}
	var err error
	for _, f := range []*string{&b.User, &b.Method, &b.Flags, &b.Password} {
		if *f, err = p.renderString(*f, vars); err != nil {
			return nil, err
		}
	}
	if b.Method == "" {
		b.Method = "sudo"
	}
	if b.User == "" {
		b.User = "root"
	}
	return b, nil
}

func boolPtrAny(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// environment merges the environment keyword from the play down to t.
func (p *playRun) environment(t *playbook.Task, vars map[string]any) (map[string]string, error) {
	var layers []any
	if p.play.Environment != nil {
		layers = append(layers, p.play.Environment)
	}
	ch := chain(t)
	for i := len(ch) - 1; i >= 0; i-- {
		if ch[i].Environment != nil {
			layers = append(layers, ch[i].Environment)
		}
	}
	if len(layers) == 0 {
		return nil, nil
	}
	env := map[string]string{}
	for _, l := range layers {
		v, err := p.r.opts.Templates.RenderValue(l, vars)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			// Ansible warns and runs the task without this layer.
			p.r.opts.Reporter.Warn("", fmt.Sprintf("could not parse environment value, skipping: %s", pyfmt.Repr(v)))
			continue
		}
		for k, val := range m {
			env[k] = fmt.Sprint(val)
		}
	}
	return env, nil
}

// delegateVars returns the connection variables for a delegated host: its
// own inventory variables (ansible_host, ansible_user...), with the task's
// other variables.
func (p *playRun) delegateVars(host string, vars map[string]any) map[string]any {
	out := mergeVars(vars, nil)
	for k := range out {
		if strings.HasPrefix(k, "ansible_") && isConnVar(k) {
			delete(out, k)
		}
	}
	for k, v := range p.r.opts.Inventory.HostVars(host) {
		out[k] = v
	}
	if _, ok := p.r.opts.Inventory.Host(host); !ok || host == "localhost" || host == "127.0.0.1" {
		if _, set := out["ansible_connection"]; !set {
			out["ansible_connection"] = "local"
		}
	}
	out["inventory_hostname"] = host
	return out
}

func isConnVar(k string) bool {
	switch k {
	case "ansible_host", "ansible_port", "ansible_user", "ansible_connection", "ansible_ssh_private_key_file",
		"ansible_password", "ansible_ssh_pass", "ansible_ssh_common_args", "ansible_ssh_extra_args":
		return true
	}
	return false
}

// templar adapts the template engine to module.Templater.
type templar struct {
	e    *template.Engine
	vars map[string]any
}

func (t *templar) Render(s string) (string, error) { return t.e.RenderString(s, t.vars) }
func (t *templar) Eval(expr string) (any, error)   { return t.e.Eval(expr, t.vars) }
func (t *templar) RenderWith(s string, extra map[string]any) (string, error) {
	return t.e.RenderString(s, mergeVars(t.vars, extra))
}

func (p *playRun) templarFor(ff *fileFinder, vars map[string]any) module.Templater {
	e := p.r.opts.Templates
	if ff.role != nil {
		e = e.WithSearchPath(filepath.Join(ff.role.Path, "files"), filepath.Join(ff.role.Path, "templates"), ff.role.Path)
	}
	return &templar{e: e, vars: vars}
}

// fileFinder resolves controller files as Ansible does: the role's kind
// directory, the role, the task file's directory, then the playbook's.
type fileFinder struct {
	play    *playbook.Play
	role    *playbook.Role
	taskDir string
}

func (f *fileFinder) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("could not find %s: %w", name, err)
		}
		return name, nil
	}
	var cands []string
	if f.role != nil {
		cands = append(cands, filepath.Join(f.role.Path, kind, name), filepath.Join(f.role.Path, name))
	}
	cands = append(cands,
		filepath.Join(f.taskDir, kind, name), filepath.Join(f.taskDir, name),
		filepath.Join(f.play.Dir, kind, name), filepath.Join(f.play.Dir, name))
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("could not find %q; searched %s", name, strings.Join(cands, ", "))
}

// resolvePath makes a playbook-relative path absolute.
func resolvePath(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}
