package custommodule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/pyfmt"
	"github.com/tend-dev/tend/pkg/shell"
)

// Library finds a run's custom modules and holds what running them needs
// from the controller. Safe for concurrent use.
type Library struct {
	// Find resolves a module name (short, ansible.legacy.NAME or
	// ns.coll.NAME) to its file, searching the content's library/
	// directories and the configured ones; nil finds nothing.
	Find func(name string) (path string, ok bool)
	// ModuleUtils returns the content's and the configured module_utils
	// directories in Ansible's order; ansible-core's comes after them.
	ModuleUtils func() []string
	// CollectionRoots returns the directories holding ansible_collections/.
	CollectionRoots func() []string
	// CoreModuleUtils is ansible-core's module_utils directory; empty, it
	// is looked for (FindCoreModuleUtils) when a new-style Python module
	// first needs it.
	CoreModuleUtils string
	// Version is the Ansible version modules are told (_ansible_version,
	// ansible.__version__).
	Version string

	once    sync.Once
	core    string
	coreErr error

	mu    sync.Mutex
	cache map[string][]byte // archives by module file, size and time
}

// Lookup returns the custom module called name, if the content has one.
func (l *Library) Lookup(name string) (module.Module, bool) {
	if l == nil || l.Find == nil {
		return nil, false
	}
	path, ok := l.Find(name)
	if !ok {
		return nil, false
	}
	// The module's Python name is its file's (want_json.sh, ns.c.foo and
	// foo all name a file; its base name without extension is what
	// Python can import).
	base := filepath.Base(path)
	short := strings.TrimSuffix(base, filepath.Ext(base))
	if short == "" {
		short = base
	}
	fqn := "ansible.modules." + short
	if m := collectionModuleRE.FindStringSubmatch(filepath.ToSlash(path)); m != nil {
		fqn = strings.ReplaceAll(m[1], "/", ".")
	}
	return &Module{lib: l, name: name, short: short, path: path, fqn: fqn}, true
}

var collectionModuleRE = regexp.MustCompile(`/(ansible_collections/[A-Za-z0-9_]+/[A-Za-z0-9_]+/plugins/modules/[A-Za-z0-9_]+)\.py$`)

// coreModuleUtils returns ansible-core's module_utils directory.
func (l *Library) coreModuleUtils(ctx context.Context) (string, error) {
	l.once.Do(func() {
		if l.CoreModuleUtils != "" {
			l.core = l.CoreModuleUtils
			if !isCoreModuleUtils(l.core) {
				l.coreErr = fmt.Errorf("%s holds no basic.py", l.core)
			}
			return
		}
		l.core, l.coreErr = FindCoreModuleUtils(ctx)
	})
	return l.core, l.coreErr
}

// Module is a custom module found in the content's library.
type Module struct {
	lib         *Library
	name, short string
	path, fqn   string
}

// Spec accepts any argument: the module checks its own.
func (m *Module) Spec() *module.Spec {
	return &module.Spec{
		Name:        m.name,
		Short:       "custom module " + m.path,
		Description: "A module shipped by the content (" + m.path + "), run on the host as Ansible runs it.",
		AnyArgs:     true,
		Check:       module.CheckFull,
		Diff:        true,
	}
}

// Plan cannot know what the module would do: it is run in Apply.
func (m *Module) Plan(_ context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	return &module.Plan{Changed: true, Unpredictable: true, Apply: func(ctx context.Context) (module.Result, error) {
		return m.Run(ctx, h, args, module.RunOptions{Version: m.lib.Version})
	}}, nil
}

// Path is the module's file on the controller.
func (m *Module) Path() string { return m.path }

// Run runs the module on the host once, with the task's check mode.
func (m *Module) Run(ctx context.Context, h *module.Host, args module.Args, o module.RunOptions) (module.Result, error) {
	data, err := os.ReadFile(m.path)
	if err != nil {
		return module.Failed("read module %s: %v", m.path, err), nil
	}
	style := Classify(data)
	if style == PowerShell {
		return module.Failed("module %s (%s) is a PowerShell module for Windows hosts; tend runs modules on POSIX hosts only", m.name, m.path), nil
	}
	if h.Conn == nil {
		return nil, fmt.Errorf("module %s needs a connection to %s", m.name, h.Name)
	}
	tmp, err := makeTmp(ctx, h)
	if err != nil {
		return nil, err
	}
	cleaned := false
	defer func() {
		if !cleaned {
			removeTmp(ctx, h, tmp)
		}
	}()
	margs := m.moduleArgs(h, args, o, tmp)
	var prep *prepared
	var failure module.Result
	if style == NewPython {
		prep, failure, err = m.preparePython(ctx, h, data, margs, tmp)
	} else {
		prep, failure, err = m.prepareScript(ctx, h, data, style, margs, tmp)
	}
	if err != nil || failure != nil {
		return failure, err
	}
	// The temporary directory goes in the same round trip, as with
	// Ansible's rm -rf after the module.
	r, err := h.RunWith(ctx, connection.Command{Cmd: prep.cmd + "; __rc=$?; rm -rf -- " + shell.Quote(tmp) + " >/dev/null 2>&1; exit $__rc"})
	if err != nil {
		return nil, fmt.Errorf("run module %s: %w", m.name, err)
	}
	cleaned = true
	res, warnings := ParseOutput(string(r.Stdout), string(r.Stderr), r.ExitCode, prep.interpreter)
	// As in Ansible, the arguments the module saw are not kept (they are
	// shown only at -vvv there).
	delete(res, "invocation")
	if prep.discovered != "" {
		facts, _ := res["ansible_facts"].(map[string]any)
		if facts == nil {
			facts = map[string]any{}
		}
		facts["discovered_interpreter_python"] = prep.discovered
		res["ansible_facts"] = facts
	}
	for _, w := range warnings {
		if h.Warn != nil {
			h.Warn(w)
		}
	}
	return res, nil
}

// prepared is a module uploaded to the host and the command running it.
type prepared struct {
	cmd         string
	interpreter string
	// discovered is the Python found on the host, reported as the
	// discovered_interpreter_python fact.
	discovered string
}

// interpreterFailure is the task's result when the module's interpreter
// cannot be found.
func (m *Module) interpreterFailure(h *module.Host, err error) module.Result {
	if errors.Is(err, errNoPython) {
		return module.Failed("module %s is a Python module and needs Python on %s, where none was found (tried %s): install python3 there, or set ansible_python_interpreter", m.name, h.Name, strings.Join(pythonCandidates, ", "))
	}
	return module.Failed("module %s: %v", m.name, err)
}

// moduleArgs are the arguments as Ansible hands them to a module: the
// task's, and the _ansible_ settings of _update_module_args.
func (m *Module) moduleArgs(h *module.Host, args module.Args, o module.RunOptions, tmp string) map[string]any {
	out := make(map[string]any, len(args)+16)
	for k, v := range args {
		out[k] = v
	}
	facility := "LOG_USER"
	if f, ok := h.Vars["ansible_syslog_facility"].(string); ok && f != "" {
		facility = f
	}
	version := o.Version
	if version == "" {
		version = m.lib.Version
	}
	for k, v := range map[string]any{
		"_ansible_check_mode":               o.Check,
		"_ansible_no_log":                   o.NoLog,
		"_ansible_debug":                    false,
		"_ansible_diff":                     h.Diff,
		"_ansible_verbosity":                o.Verbosity,
		"_ansible_version":                  version,
		"_ansible_module_name":              m.name,
		"_ansible_syslog_facility":          facility,
		"_ansible_selinux_special_fs":       []any{"fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"},
		"_ansible_string_conversion_action": "warn",
		"_ansible_socket":                   nil,
		"_ansible_shell_executable":         "/bin/sh",
		"_ansible_keep_remote_files":        false,
		"_ansible_tmpdir":                   tmp + "/",
		"_ansible_remote_tmp":               "~/.ansible/tmp",
	} {
		out[k] = v
	}
	return out
}

// jsonArgs encodes a value as Python's json.dumps does.
func jsonArgs(v any) ([]byte, error) {
	s, err := pyfmt.JSON(v, pyfmt.JSONOptions{ItemSep: ", ", KeySep: ": ", KeepOrder: true, EnsureASCII: true})
	if err != nil {
		return nil, msgError(fmt.Sprintf("Unable to pass options to module, they must be JSON serializable: %v", err))
	}
	return []byte(s), nil
}

// preparePython packs a new-style module (AnsiballZ) and uploads it.
func (m *Module) preparePython(ctx context.Context, h *module.Host, src []byte, margs map[string]any, tmp string) (*prepared, module.Result, error) {
	params, err := jsonArgs(map[string]any{"ANSIBLE_MODULE_ARGS": margs})
	if err != nil {
		return nil, module.Failed("%v", err), nil
	}
	zipData, err := m.archive(ctx, src)
	if err != nil {
		var nf *notFoundError
		if errors.As(err, &nf) {
			return nil, module.Failed("%v", err), nil
		}
		return nil, module.Failed("module %s: %v", m.name, err), nil
	}
	interp, iargs := Shebang(src)
	if interp == "" {
		interp = "/usr/bin/python"
	}
	cmdInterp, shebang, discovered, err := m.interpreter(ctx, h, interp, iargs)
	if err != nil {
		return nil, m.interpreterFailure(h, err), nil
	}
	script := ansiballz(shebang, m.short, m.fqn, zipData, params)
	dst := tmp + "/AnsiballZ_" + m.short + ".py"
	if err := h.Conn.Put(ctx, bytes.NewReader(script), dst, connection.PutOptions{Mode: 0o700, Become: h.Become}); err != nil {
		return nil, nil, fmt.Errorf("upload module %s: %w", m.name, err)
	}
	return &prepared{cmd: cmdInterp + " " + shell.Quote(dst), interpreter: strings.TrimPrefix(shebang, "#!"), discovered: discovered}, nil, nil
}

// notFoundError is a module_utils import found nowhere, or no
// ansible-core on the controller.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// archive returns the module's AnsiballZ archive, built once per module
// file version.
func (m *Module) archive(ctx context.Context, src []byte) ([]byte, error) {
	key := m.path
	if st, err := os.Stat(m.path); err == nil {
		key = fmt.Sprintf("%s|%d|%d|%s", m.path, st.Size(), st.ModTime().UnixNano(), m.fqn)
	}
	l := m.lib
	l.mu.Lock()
	if z, ok := l.cache[key]; ok {
		l.mu.Unlock()
		return z, nil
	}
	l.mu.Unlock()
	core, err := l.coreModuleUtils(ctx)
	if err != nil {
		return nil, &notFoundError{fmt.Sprintf("module %s is a Python module written for Ansible: it needs ansible-core's module_utils on the controller, and %v; install ansible-core (apt install ansible-core, or pip install ansible-core) on the machine running tend", m.name, err)}
	}
	var mu []string
	if l.ModuleUtils != nil {
		mu = l.ModuleUtils()
	}
	var roots []string
	if l.CollectionRoots != nil {
		roots = l.CollectionRoots()
	}
	f := &depFinder{muPaths: append(mu, core), collRoots: roots, version: l.Version}
	deps, err := f.findDeps(m.fqn, src)
	if err != nil {
		return nil, &notFoundError{err.Error()}
	}
	z, err := buildZip(m.fqn, src, deps)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.cache == nil {
		l.cache = map[string][]byte{}
	}
	l.cache[key] = z
	l.mu.Unlock()
	return z, nil
}

// prepareScript uploads a module that is not new-style Python and its
// arguments file.
func (m *Module) prepareScript(ctx context.Context, h *module.Host, src []byte, style Style, margs map[string]any, tmp string) (*prepared, module.Result, error) {
	js, err := jsonArgs(margs)
	if err != nil {
		return nil, module.Failed("%v", err), nil
	}
	interp, iargs := "", []string(nil)
	if style != Binary {
		interp, iargs = Shebang(src)
		if interp == "" {
			return nil, module.Failed("module (%s) is missing interpreter line", m.name), nil
		}
	}
	if style == JSONArgs {
		src = bytes.ReplaceAll(src, []byte(replacerVersion), []byte(pyfmt.Quote(m.lib.Version)))
		src = bytes.ReplaceAll(src, []byte(replacerComplex), []byte(pyfmt.Quote(string(js))))
		src = bytes.ReplaceAll(src, []byte(replacerSELinux), []byte("fuse,nfs,vboxsf,ramfs,9p,vfat"))
		src = bytes.ReplaceAll(src, []byte(replacerJSONArgs), js)
	}
	dst := tmp + "/AnsiballZ_" + pyIdentChars(m.short)
	if err := h.Conn.Put(ctx, bytes.NewReader(src), dst, connection.PutOptions{Mode: 0o700, Become: h.Become}); err != nil {
		return nil, nil, fmt.Errorf("upload module %s: %w", m.name, err)
	}
	cmd := shell.Quote(dst)
	p := &prepared{}
	if interp != "" {
		cmdInterp, shebang, discovered, err := m.interpreter(ctx, h, interp, iargs)
		if err != nil {
			return nil, m.interpreterFailure(h, err), nil
		}
		cmd = cmdInterp + " " + cmd
		p.interpreter, p.discovered = strings.TrimPrefix(shebang, "#!"), discovered
	}
	if style == Old || style == WantJSON || style == Binary {
		argsData := js
		if style == Old {
			argsData = oldStyleArgs(margs)
		}
		argsFile := tmp + "/args"
		if err := h.Conn.Put(ctx, bytes.NewReader(argsData), argsFile, connection.PutOptions{Mode: 0o600, Become: h.Become}); err != nil {
			return nil, nil, fmt.Errorf("upload arguments of module %s: %w", m.name, err)
		}
		cmd += " " + shell.Quote(argsFile)
	}
	p.cmd = cmd
	return p, nil, nil
}

// oldStyleArgs is the key=value arguments file of an old-style module:
// each value as Python's str() prints it, shell-quoted.
func oldStyleArgs(margs map[string]any) []byte {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(margs)) {
		b.WriteString(k + "=" + shell.Quote(pyfmt.Str(margs[k])) + " ")
	}
	return []byte(b.String())
}

// makeTmp creates the task's temporary directory on the host, private to
// the user the module runs as, under ~/.ansible/tmp as Ansible's
// remote_tmp (the system's temporary directory when that fails).
func makeTmp(ctx context.Context, h *module.Host) (string, error) {
	cmd := `umask 77 && { mkdir -p "$HOME/.ansible/tmp" 2>/dev/null && mktemp -d "$HOME/.ansible/tmp/ansible-tmp-XXXXXXXXXX" 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/ansible-tmp-XXXXXXXXXX"; }`
	r, err := h.RunWith(ctx, connection.Command{Cmd: cmd})
	if err != nil {
		return "", fmt.Errorf("create a temporary directory for the module: %w", err)
	}
	dir := strings.TrimSpace(string(r.Stdout))
	if r.ExitCode != 0 || !strings.HasPrefix(dir, "/") || strings.ContainsAny(dir, "\n") {
		return "", fmt.Errorf("create a temporary directory for the module: rc=%d: %s", r.ExitCode, strings.TrimSpace(string(r.Stderr)))
	}
	return dir, nil
}

// removeTmp removes the temporary directory, also when the run was
// interrupted.
func removeTmp(ctx context.Context, h *module.Host, dir string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = h.RunWith(cctx, connection.Command{Cmd: "rm -rf -- " + shell.Quote(dir)})
}

// pythonCandidates are tried in order when the host's Python is not set
// (ansible_python_interpreter), as Ansible's interpreter discovery falls
// back to (INTERPRETER_PYTHON_FALLBACK), Debian's /usr/bin/python3 first.
var pythonCandidates = []string{"/usr/bin/python3", "python3.11", "python3.10", "python3.9", "python3.8", "python3.7", "python3.6", "python3.5",
	"/usr/libexec/platform-python", "python2.7", "/usr/bin/python", "python"}

// interpreter returns the command line prefix running a module whose
// shebang names interp (with args), and the shebang Ansible would write:
// a "python" interpreter is ansible_python_interpreter, else the host's
// Python found as Ansible's interpreter discovery does (discovered is then
// its path, for the discovered_interpreter_python fact); another is
// ansible_NAME_interpreter when set, else itself.
func (m *Module) interpreter(ctx context.Context, h *module.Host, interp string, args []string) (cmd, shebang, discovered string, err error) {
	name := filepath.Base(strings.TrimSpace(interp))
	quoted := func(words []string) string {
		q := make([]string, len(words))
		for i, w := range words {
			q[i] = shell.Quote(w)
		}
		return strings.Join(q, " ")
	}
	use := func(v string) (string, string, string, error) {
		return quoted(append(strings.Fields(v), args...)), "#!" + strings.Join(append([]string{v}, args...), " "), discovered, nil
	}
	if name == "python" {
		if v := m.varString(h, "ansible_python_interpreter"); v != "" && !strings.HasPrefix(v, "auto") {
			return use(v)
		}
		if v := discoveredFact(h); v != "" {
			return use(v)
		}
		if discovered, err = discoverPython(ctx, h); err != nil {
			return "", "", "", err
		}
		return use(discovered)
	}
	if v := m.varString(h, "ansible_"+name+"_interpreter"); v != "" {
		return use(v)
	}
	return use(interp)
}

// discoveredFact is the host's discovered_interpreter_python fact, set
// by an earlier module.
func discoveredFact(h *module.Host) string {
	if f, ok := h.Vars["ansible_facts"].(map[string]any); ok {
		if v, ok := asString(f["discovered_interpreter_python"]); ok {
			return v
		}
	}
	v, _ := asString(h.Vars["ansible_discovered_interpreter_python"])
	return v
}

// errNoPython is a host without Python for a Python module.
var errNoPython = errors.New("no python")

// discoverPython finds the host's Python as Ansible's discovery falls back
// to doing: the first of pythonCandidates on the host.
func discoverPython(ctx context.Context, h *module.Host) (string, error) {
	var b strings.Builder
	b.WriteString("for p in")
	for _, c := range pythonCandidates {
		b.WriteString(" " + shell.Quote(c))
	}
	b.WriteString(`; do command -v "$p" 2>/dev/null && exit 0; done; exit 1`)
	r, err := h.RunWith(connection.ReadOnly(ctx), connection.Command{Cmd: b.String()})
	if err != nil {
		return "", fmt.Errorf("find the host's python: %w", err)
	}
	path, _, _ := strings.Cut(strings.TrimSpace(string(r.Stdout)), "\n")
	if r.ExitCode != 0 || path == "" {
		return "", errNoPython
	}
	return path, nil
}

// varString reads a host variable as a string, evaluated as templates
// read it: a template in it is rendered, host data (Unsafe) never is.
func (m *Module) varString(h *module.Host, name string) string {
	v, ok := h.Vars[name]
	if !ok || v == nil {
		return ""
	}
	if h.Templar != nil {
		if v, _ = h.Templar.Eval(name); v == nil {
			return ""
		}
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// asString reads a string, or a string marked as host data.
func asString(v any) (string, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.String {
		return "", false
	}
	return rv.String(), true
}
