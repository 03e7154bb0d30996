// Package playbook loads Ansible playbooks, task files and roles into a
// validated model. Everything static (YAML, keywords, module names and
// arguments, roles, imported files) is checked before any host is
// contacted; every problem names file:line:column and what was expected.
// Problems Ansible also refuses before a run are errors; those it finds
// only when a task runs (an unknown module or argument, a template that
// does not parse, anything in a file include_tasks or include_role reads)
// are warnings (Loader.Warnings), and the task fails when it runs.
package playbook

import "fmt"

// Pos is a position in a source file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Playbook is a loaded playbook with import_playbook expanded.
type Playbook struct {
	Path  string
	Dir   string
	Plays []*Play
}

// Play is one play.
type Play struct {
	Pos               Pos
	Name              string
	Hosts             string // host pattern; a YAML list is joined with ","
	Dir               string // playbook_dir
	Vars              map[string]any
	VarsPrompt        []VarPrompt
	VarsFiles         []any // strings, or lists of strings (first found)
	GatherFacts       any
	GatherSubset      []string
	Become            any
	BecomeUser        string
	BecomeMethod      string
	BecomeFlags       string
	Serial            []any // ints or "N%" strings
	MaxFailPercentage *float64
	AnyErrorsFatal    any
	ForceHandlers     any
	Strategy          string // linear | free
	Order             string // inventory | reverse_inventory | sorted | reverse_sorted | shuffle
	Tags              []string
	Environment       any
	// ModuleDefaults is the module_defaults keyword as written: module
	// names (short or fully qualified) to default arguments.
	ModuleDefaults    any
	CheckMode         any
	Diff              any
	IgnoreErrors      any
	IgnoreUnreachable any
	NoLog             any
	RunOnce           any
	RemoteUser        string
	Connection        string
	// Roles are the play's roles: each is a block of the role's tasks
	// (dependencies first), run between pre_tasks and tasks.
	Roles     []*Task
	PreTasks  []*Task
	Tasks     []*Task
	PostTasks []*Task
	// Handlers holds the play's handlers followed by its roles' handlers.
	Handlers []*Task
	// ImportWhen are the conditions of the import_playbook entries that
	// brought the play in (they guard fact gathering too).
	ImportWhen []any
	// RoleList are the roles used in the play (for their defaults/vars).
	RoleList []*Role
	// PlayRoles are the roles of roles: and of import_role tasks, in order:
	// Ansible's play roles (role_names), without their dependencies.
	PlayRoles []*Role
	// Collections is the play's collections: list, through which short
	// role names are also looked up.
	Collections []string
}

// LoopControl is a task's loop_control.
type LoopControl struct {
	LoopVar  string // default "item"
	IndexVar string
	Label    string
	Pause    any
	Extended bool
}

// Task is a task, a handler, or a block (Action "block"). Keyword fields
// hold raw values: strings may be templates rendered at run time. Boolean
// keywords typed any (NoLog, CheckMode, Diff, Become, IgnoreErrors,
// IgnoreUnreachable, DelegateFacts, AnyErrorsFatal, RunOnce; GatherFacts
// on plays)
// hold nil (unset), a bool, or a template string.
type Task struct {
	Pos    Pos
	Name   string
	Action string // canonical module name, or block, include_tasks, include_role, meta
	Args   map[string]any
	// Collections are the collections short role names resolve through
	// where the task is (for include_role at run time).
	Collections []string
	// UnknownModule is the module named as written when tend has no such
	// module: the loader warned, and the task fails when it runs.
	UnknownModule string
	// ArgsError is why the module's arguments as written could not be
	// read (free-form text that is not key=value): the loader warned, and
	// the task fails with it when it runs, as in Ansible.
	ArgsError string
	// ArgOrder is the module's argument names in the order written (a
	// mapping's keys, or the key=value words of free-form text): set_fact
	// defines its variables in that order.
	ArgOrder []string
	// RawArgs are the arguments as written when the module is a template
	// (action: "{{ m }} x=1"): the executor reads them with the module's
	// spec once the name is rendered. Args then holds only args:.
	RawArgs any

	Block, Rescue, Always []*Task

	When              []any
	HasLoop           bool
	Loop              any
	LoopKind          string // loop, items, dict, list, sequence, together, nested, subelements, indexed_items, flattened, fileglob
	LoopControl       LoopControl
	Register          string
	Notify            []string
	Listen            []string
	ChangedWhen       []any
	FailedWhen        []any
	IgnoreErrors      any
	IgnoreUnreachable any
	Tags              []string
	Become            any
	BecomeUser        string
	BecomeMethod      string
	BecomeFlags       string
	CheckMode         any
	Diff              any
	DelegateTo        string
	DelegateFacts     any
	RunOnce           any
	Retries           any
	Until             []any
	Delay             any
	Environment       any
	// ModuleDefaults is the module_defaults keyword as written: module
	// names (short or fully qualified) to default arguments.
	ModuleDefaults any
	NoLog          any
	Vars           map[string]any
	AnyErrorsFatal any
	Throttle       any // an int, or a template giving one
	Timeout        any
	// Async is the async keyword (seconds, 0 or nil: run synchronously)
	// and Poll the poll keyword (seconds between checks, nil: 15, 0: fire
	// and forget); either may be a template.
	Async      any
	Poll       any
	RemoteUser string
	Connection string

	// Handler is set on handlers.
	Handler bool
	// Role is the role the task came from, nil for play tasks.
	Role *Role
	// RoleParams are the parameters the role was called with (role
	// blocks only).
	RoleParams map[string]any
	// RoleHandlers are the role's handlers bound to this use of the role
	// (they see its vars and parameters); role blocks only.
	RoleHandlers []*Task
	// Parent is the enclosing block, nil at the top.
	Parent *Task
	// Implicit marks blocks tend made itself (roles, import_tasks): they
	// carry keywords for their children but are not user blocks.
	Implicit bool
	// RoleBlock marks the implicit block holding a role's tasks; RoleVia
	// is "import_role" or "include_role" when those brought the role in.
	RoleBlock bool
	RoleVia   string
}

// IsBlock reports whether t is a block.
func (t *Task) IsBlock() bool { return t.Action == "block" }

// DisplayName is the task's name for output: its name, or the action.
func (t *Task) DisplayName() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Action
}

// Role is a loaded role.
type Role struct {
	Name string
	Path string
	// Collection is the collection (ns.coll) the role comes from, if any.
	Collection string
	// Collections are the collections its short role names resolve
	// through: its own collection, then its meta/main.yml collections:.
	Collections []string
	Defaults    map[string]any
	Vars        map[string]any
	// Deps are the role's meta/main.yml dependencies, as role blocks.
	Deps            []*Task
	Tasks           []*Task
	Handlers        []*Task
	AllowDuplicates bool
}
