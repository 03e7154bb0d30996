// Package module defines what a tend module is: an argument spec, a
// read-only Plan step that works out what would change on a host, and an
// Apply step that does exactly that. Check mode is the Plan step alone.
//
// The module implementations live in package modules; this package holds
// only the contract, argument validation and helpers shared by modules.
package module

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
)

// Module is one kind of task action (copy, apt, debug...). Implementations
// are stateless and safe for concurrent use: all per-run state is passed in.
type Module interface {
	// Spec describes arguments, capabilities and documentation.
	Spec() *Spec
	// Plan inspects the host (read-only) and returns what running the
	// module would do. It must not change anything on the host.
	Plan(ctx context.Context, h *Host, args Args) (*Plan, error)
}

// Plan is the outcome of a module's read-only step.
type Plan struct {
	// Changed says whether Apply would change the host.
	Changed bool
	// Result is reported when nothing is applied: in check mode, or when
	// Changed is false. It should carry the fields Ansible returns
	// (path, dest, state, checksum...).
	Result Result
	// Diff shows what would change, reported in diff mode.
	Diff []Diff
	// Apply performs the change. It is called only when Changed is true
	// and the task is not in check mode. Its Result replaces Plan.Result;
	// the engine sets "changed" from Plan.Changed unless Apply sets it.
	Apply func(ctx context.Context) (Result, error)
	// Housekeeping, when set, runs outside check mode whether or not
	// anything changes, before Apply, and is not reported as a change:
	// work Ansible does on request without counting it, such as systemd's
	// daemon_reload. It returns nil when it succeeded; a Result it returns
	// (a failure) is reported instead of the plan's.
	Housekeeping func(ctx context.Context) (Result, error)
	// CheckWarnings are warnings reported only in check mode, where the
	// plan is not applied: Ansible's file module warns there about an
	// owner or group the host does not have yet ("Create user up to this
	// point in real play"), as an earlier task of a real run may create it.
	CheckWarnings []string
	// Unpredictable marks a plan whose outcome cannot be known without
	// running it (command or shell without creates/removes). In check mode
	// the engine reports such a task as skipped.
	Unpredictable bool
}

// Unchanged returns a Plan that reports r and changes nothing.
func Unchanged(r Result) *Plan { return &Plan{Result: r} }

// Host is what a module sees of the host it runs against.
type Host struct {
	// Name is the inventory hostname.
	Name string
	// Conn reaches the host; nil for controller-only modules.
	Conn connection.Connection
	// Become is the escalation for this task; nil to run as the login user.
	Become *connection.Become
	// Env is the task's environment: keyword, added to every command.
	Env map[string]string
	// Vars are all variables visible to the task. Read-only.
	Vars map[string]any
	// Templar renders strings and evaluates expressions with Vars.
	Templar Templater
	// Files finds controller-side files for src: arguments (role files/,
	// templates/, the playbook directory).
	Files FileFinder
	// Diff is the task's diff mode. Check mode is not here: a module
	// works out what would change in Plan, and check mode stops there.
	Diff bool
	// Warn records a warning shown with the task result.
	Warn func(msg string)
	// Vault decrypts vault-encrypted controller files (include_vars); nil
	// when no vault password was given.
	Vault Decrypter
	// Jobs are the run's async jobs, for async_status; nil outside a run.
	Jobs AsyncJobs
	// Environ returns the environment the module's commands run in on
	// the host, read once per run by the engine (what $VAR in a path or
	// a command's word expands to); nil: Environment reads it.
	Environ func(ctx context.Context) (map[string]string, error)
}

// Environment returns the environment h's commands run in: h.Environ's,
// else read from the host with HostEnv.
func (h *Host) Environment(ctx context.Context) (map[string]string, error) {
	if h.Environ != nil {
		return h.Environ(ctx)
	}
	return HostEnv(ctx, h)
}

// AsyncJobs are the jobs of tasks run with async, as async_status sees
// them. Both methods reach the host through h.Conn as h.Become.
type AsyncJobs interface {
	// Status returns the job's result when it has finished (with
	// finished=1), or started=1 finished=0 while it runs; a job that
	// does not exist on the host is a failed result, as in Ansible.
	Status(ctx context.Context, h *Host, jid string) (Result, error)
	// Cleanup removes the job's directory from the host.
	Cleanup(ctx context.Context, h *Host, jid string) (Result, error)
}

// Decrypter decrypts vault-encrypted data read from file (the name is for
// errors only); *vault.Keyring implements it.
type Decrypter interface {
	Decrypt(file string, data []byte) ([]byte, error)
}

// Templater renders templates with the task's variables.
type Templater interface {
	// Render renders a template string ("{{ x }} text").
	Render(s string) (string, error)
	// Eval evaluates a bare Jinja2 expression ("x is defined and x > 1").
	Eval(expr string) (any, error)
	// Condition evaluates an expression as Ansible evaluates conditions
	// (when, assert's that): Python's escapes in string literals apply.
	Condition(expr string) (any, error)
	// Value evaluates a bare expression to the value Ansible gives
	// "{{ expr }}" (debug's var): numbers become text, text reading as a
	// list, dict or boolean becomes one.
	Value(expr string) (any, error)
	// RenderWith renders the template file content s with extra variables
	// layered on top (template module: template_host, template_path...).
	RenderWith(s string, extra map[string]any) (string, error)
}

// FileFinder resolves controller-side paths the way Ansible does.
type FileFinder interface {
	// Find returns the controller path of name, searching the role's kind
	// directory ("files", "templates", "vars", "tasks") and the playbook
	// directory. An absolute name is returned unchanged if it exists.
	Find(kind, name string) (string, error)
}

// Result is a module's result in Ansible's shape: changed, failed, msg, rc,
// stdout, stderr, and module-specific keys. Registered results are this map.
// The special key "ansible_facts" holds facts for the host.
type Result map[string]any

// FactsCacheable marks the result of a set_fact whose values are also host
// facts (cacheable: true); an internal key, neither registered nor shown.
const FactsCacheable = "_ansible_facts_cacheable"

// Failed returns a Result with failed=true and msg.
func Failed(format string, a ...any) Result {
	return Result{"failed": true, "msg": fmt.Sprintf(format, a...)}
}

// Diff is a before/after pair shown in diff mode.
type Diff struct {
	BeforeHeader string `json:"before_header,omitempty"`
	AfterHeader  string `json:"after_header,omitempty"`
	Before       string `json:"before"`
	After        string `json:"after"`
}

// Run runs a shell command on the host with the task's become and
// environment.
func (h *Host) Run(ctx context.Context, cmd string) (connection.Result, error) {
	return h.RunWith(ctx, connection.Command{Cmd: cmd})
}

// RunWith is Run with full control over the command; Become and Env
// default to the task's.
func (h *Host) RunWith(ctx context.Context, c connection.Command) (connection.Result, error) {
	if h.Conn == nil {
		return connection.Result{}, fmt.Errorf("module needs a connection to %s", h.Name)
	}
	if c.Become == nil {
		c.Become = h.Become
	}
	if len(h.Env) > 0 {
		env := make(map[string]string, len(h.Env)+len(c.Env))
		for k, v := range h.Env {
			env[k] = v
		}
		for k, v := range c.Env {
			env[k] = v
		}
		c.Env = env
	}
	return h.Conn.Run(ctx, c)
}

// CommandResult turns a command's outcome into Ansible's result fields.
func CommandResult(r connection.Result) Result {
	out := strings.TrimRight(string(r.Stdout), "\n")
	errOut := strings.TrimRight(string(r.Stderr), "\n")
	return Result{
		"rc":           r.ExitCode,
		"stdout":       out,
		"stderr":       errOut,
		"stdout_lines": Lines(out),
		"stderr_lines": Lines(errOut),
	}
}

// Lines splits s into lines; an empty s has no lines.
func Lines(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// MetaActions are the actions of the meta module. The executor carries
// them out itself, before any module code runs; the meta module's
// argument spec offers the same list.
var MetaActions = []string{"flush_handlers", "end_play", "end_host", "end_batch", "noop", "clear_facts", "clear_host_errors", "refresh_inventory", "reset_connection"}

// Runner is a module that cannot say what it would change without
// running: a custom module shipped by the content (package custommodule),
// a program written for Ansible. The engine calls Run instead of Plan and
// Apply, once, with the task's check mode, which the module handles
// itself (Ansible's _ansible_check_mode). Its Plan, for callers that need
// one (async jobs, saved plans), is unpredictable and runs it in Apply.
type Runner interface {
	Module
	Run(ctx context.Context, h *Host, args Args, opts RunOptions) (Result, error)
}

// RunOptions are what a Runner is told of the task beyond its arguments.
type RunOptions struct {
	Check     bool
	NoLog     bool
	Verbosity int
	// Version is the Ansible version the module is told (_ansible_version).
	Version string
}
