package module

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/odict"
)

// CheckSupport says how a module behaves in check mode.
type CheckSupport int

const (
	// CheckFull: Plan predicts exactly what a real run would report.
	CheckFull CheckSupport = iota
	// CheckPartial: predicted when the arguments allow it (command with
	// creates/removes), otherwise the task is skipped in check mode.
	CheckPartial
	// CheckNone: the task is skipped in check mode.
	CheckNone
)

func (c CheckSupport) String() string {
	switch c {
	case CheckFull:
		return "full"
	case CheckPartial:
		return "partial"
	default:
		return "none"
	}
}

// Type is an argument's type. Values are coerced the way Ansible does
// ("yes" is a bool, "5" an int, "a,b" a list).
type Type string

// Argument types.
const (
	String Type = "str"
	Bool   Type = "bool"
	Int    Type = "int"
	Float  Type = "float"
	List   Type = "list"
	Dict   Type = "dict"
	Path   Type = "path"
	Raw    Type = "raw"
	// Ordered is Raw whose mappings keep their key order (*odict.Dict),
	// for a module that reports in the order the task wrote them.
	Ordered Type = "ordered"
)

// Arg describes one module argument.
type Arg struct {
	Name     string
	Aliases  []string
	Type     Type
	Elements Type // element type of a List
	Required bool
	Default  any
	Choices  []string
	NoLog    bool
	// Content marks a value that is written into a file through the
	// connection's Put and never reaches a command line, so it may hold
	// any byte, NUL included (copy's content, lineinfile's line).
	Content bool
	// NotOption marks a name that no tool accepts with a leading "-" (a
	// user, group, package, sysctl key or time zone): such a value, or
	// list element, is refused, since the tool would read it as an option.
	NotOption bool
	// Expand marks a path on the host that Ansible's module expands with
	// os.path.expandvars (type 'path' in its argument spec, or expanded
	// by the module's code, as find's paths): the engine replaces $VAR
	// and ${VAR} with the host environment's values before Plan (see
	// ExpandPaths). Controller-side paths (template's src) are not marked.
	Expand bool
	// ExpandIf names a bool argument that must be true for Expand to
	// apply: copy's src names a host file only with remote_src.
	ExpandIf string
	Doc      string
}

// Spec describes a module: its arguments, capabilities and documentation,
// printed by `tend doc MODULE`.
type Spec struct {
	Name        string
	Short       string // one line, for `tend doc --list`
	Description string
	Args        []Arg
	// FreeForm names the argument that receives free-form text
	// ("command: ls -l" puts "ls -l" in cmd). Empty: no free form.
	FreeForm          string
	MutuallyExclusive [][]string
	RequiredTogether  [][]string
	RequiredOneOf     [][]string
	// GroupsAtRun: the module itself reports a broken MutuallyExclusive or
	// RequiredOneOf group when it runs, with Ansible's result (command's
	// rc 256 "no command given"); Validate checks the groups statically
	// only (syntax check, warnings before the run).
	GroupsAtRun bool
	Check       CheckSupport
	Diff        bool
	// Controller marks modules that run on the controller only and need
	// no connection (debug, set_fact, assert...).
	Controller bool
	// Examples is YAML shown by `tend doc`.
	Examples string
	// AnyArgs accepts arguments of any name (set_fact), unvalidated.
	AnyArgs bool
	// ActionPlugin marks modules Ansible runs as action plugins that check
	// their own options: an unknown one fails with "Invalid options for
	// NAME: a,b" (debug, fail, assert, group_by, reboot,
	// wait_for_connection).
	ActionPlugin bool
	// PassThrough keeps arguments not in Args as given, for the module
	// to hand on (package passes them to apt, dnf or yum, which validate
	// them); those in Args are validated as usual.
	PassThrough bool
}

// Arg returns the spec of the named argument (or alias).
func (s *Spec) Arg(name string) (*Arg, bool) {
	for i := range s.Args {
		a := &s.Args[i]
		if a.Name == name {
			return a, true
		}
		for _, al := range a.Aliases {
			if al == name {
				return a, true
			}
		}
	}
	return nil, false
}

// Args are a module's arguments after templating and validation.
type Args map[string]any

// Has reports whether the argument was given (or defaulted).
func (a Args) Has(name string) bool { _, ok := a[name]; return ok && a[name] != nil }

// String returns a string argument or "".
func (a Args) String(name string) string {
	v, ok := a[name]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Bool returns a bool argument or false.
func (a Args) Bool(name string) bool {
	b, _ := ToBool(a[name])
	return b
}

// Int returns an int argument or 0.
func (a Args) Int(name string) int {
	i, _ := ToInt(a[name])
	return i
}

// List returns a list argument with string elements.
func (a Args) List(name string) []string {
	l, _ := a[name].([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// Dict returns a dict argument or nil.
func (a Args) Dict(name string) map[string]any {
	d, _ := a[name].(map[string]any)
	return d
}

// ArgError is an argument validation error.
type ArgError struct {
	Module string
	Msg    string
	// Unknown are the arguments the module does not take, in name order.
	Unknown []string
	// Ansible, when set, is the message Ansible's module fails with for
	// these arguments (its first validation error, worded as Ansible
	// words it), which content may test: "missing required arguments:
	// path".
	Ansible string
}

const mutuallyExclusiveMsg = "arguments are mutually exclusive: "

func (e *ArgError) Error() string { return fmt.Sprintf("module %s: %s", e.Module, e.Msg) }

// IsTemplated reports whether v still holds template syntax, so its value
// is known only at run time and static checks must let it pass.
func IsTemplated(v any) bool {
	s, ok := v.(string)
	return ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%"))
}

// Validate checks raw arguments against the spec and returns them with
// aliases resolved, values coerced and defaults applied. With static set,
// values that still hold templates are accepted as they are (they are
// checked again after templating at run time); unknown and missing
// arguments are always reported.
func (s *Spec) Validate(raw map[string]any, static bool) (Args, error) {
	out := Args{}
	if s.AnyArgs {
		for k, v := range raw {
			out[k] = v
		}
		return out, nil
	}
	var errs, unknown []string
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, ok := s.Arg(k)
		if !ok && s.PassThrough {
			out[k] = raw[k]
			continue
		}
		if !ok {
			errs = append(errs, s.unsupported(k))
			unknown = append(unknown, k)
			continue
		}
		if _, dup := out[a.Name]; dup {
			errs = append(errs, fmt.Sprintf("argument %q given twice (through an alias)", a.Name))
			continue
		}
		v, msg := s.validateValue(a, raw[k], static)
		if msg != "" {
			errs = append(errs, msg)
		}
		out[a.Name] = v
	}
	var missing []string
	for _, a := range s.Args {
		if _, given := out[a.Name]; given && out[a.Name] != nil {
			continue
		}
		if a.Required {
			errs = append(errs, fmt.Sprintf("missing required argument %q", a.Name))
			missing = append(missing, a.Name)
			continue
		}
		if a.Default != nil {
			out[a.Name] = a.Default
		}
	}
	groupErrs := s.checkGroups(raw, static)
	errs = append(errs, groupErrs...)
	if len(errs) > 0 {
		e := &ArgError{Module: s.Name, Msg: strings.Join(errs, "; "), Unknown: unknown}
		// Ansible's argument spec validation checks unknown arguments
		// and mutually exclusive ones before required ones, and a
		// module fails with its first error.
		if len(unknown) == 0 && len(missing) > 0 && !hasPrefixed(groupErrs, mutuallyExclusiveMsg) {
			sort.Strings(missing)
			e.Ansible = "missing required arguments: " + strings.Join(missing, ", ")
		}
		return out, e
	}
	return out, nil
}

func hasPrefixed(l []string, prefix string) bool {
	for _, s := range l {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// unsupported is the message for an unknown argument k, with the closest
// name or else the list of names.
func (s *Spec) unsupported(k string) string {
	msg := fmt.Sprintf("unsupported argument %q", k)
	if c := Closest(k, s.allNames()); c != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", c)
	}
	return msg + fmt.Sprintf(" (supported: %s)", s.argNames())
}

// validateValue coerces and checks the value v given for a. It returns
// the value to keep and, if v is invalid, the message; an invalid value is
// kept as given, so that it does not count as missing too.
func (s *Spec) validateValue(a *Arg, v any, static bool) (any, string) {
	if v == nil || static && IsTemplated(v) {
		return v, ""
	}
	cv, err := Coerce(a.Type, a.Elements, v)
	if err != nil {
		return v, fmt.Sprintf("argument %q: %v", a.Name, err)
	}
	if !static && !s.Controller && !a.Content {
		if where, found := findNUL(cv); found {
			return v, fmt.Sprintf("argument %q contains a NUL byte", a.Name+where)
		}
	}
	if a.NotOption && !static {
		if bad, found := optionLike(cv); found {
			return v, fmt.Sprintf("argument %q: %q starts with \"-\": it is not a valid name, and the command would read it as an option", a.Name, bad)
		}
	}
	if len(a.Choices) > 0 {
		cs := fmt.Sprint(cv)
		if b, isBool := cv.(bool); isBool {
			cs = strconv.FormatBool(b)
		}
		if !contains(a.Choices, cs) {
			return v, fmt.Sprintf("argument %q: value %q is not one of %s", a.Name, cs, strings.Join(a.Choices, ", "))
		}
	}
	return cv, ""
}

// given reports whether argument n, or one of its aliases when n itself
// is not there, has a value in raw, and whether that value is a template.
func (s *Spec) given(raw map[string]any, n string) (given, templated bool) {
	if v, ok := raw[n]; ok {
		return v != nil, IsTemplated(v)
	}
	for _, a := range s.Args {
		if a.Name != n {
			continue
		}
		for _, al := range a.Aliases {
			if v, ok := raw[al]; ok {
				return v != nil, IsTemplated(v)
			}
		}
	}
	return false, false
}

// checkGroups checks the spec's MutuallyExclusive, RequiredTogether and
// RequiredOneOf groups against the arguments given. With static set, a
// value that is still a template may turn out to be omit (the argument
// vanishes) or anything else: it neither conflicts with another argument
// nor leaves a group incomplete, and is checked again once rendered.
func (s *Spec) checkGroups(raw map[string]any, static bool) []string {
	if s.GroupsAtRun && !static {
		return nil
	}
	var errs []string
	split := func(group []string) (set, unset []string, unsure bool) {
		for _, n := range group {
			given, templated := s.given(raw, n)
			switch {
			case given && templated && static:
				unsure = true
			case given:
				set = append(set, n)
			default:
				unset = append(unset, n)
			}
		}
		return set, unset, unsure
	}
	for _, group := range s.MutuallyExclusive {
		if set, _, _ := split(group); len(set) > 1 {
			errs = append(errs, fmt.Sprintf(mutuallyExclusiveMsg+"%s", strings.Join(set, ", ")))
		}
	}
	for _, group := range s.RequiredTogether {
		if set, unset, unsure := split(group); !unsure && len(set) > 0 && len(unset) > 0 {
			errs = append(errs, fmt.Sprintf("arguments must be given together: %s (missing %s)", strings.Join(group, ", "), strings.Join(unset, ", ")))
		}
	}
	for _, group := range s.RequiredOneOf {
		if set, _, unsure := split(group); len(set) == 0 && !unsure {
			errs = append(errs, fmt.Sprintf("one of these arguments is required: %s", strings.Join(group, ", ")))
		}
	}
	return errs
}

// optionLike returns the first string of v (a string or a list) that
// starts with "-".
func optionLike(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, strings.HasPrefix(v, "-")
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && strings.HasPrefix(s, "-") {
				return s, true
			}
		}
	}
	return "", false
}

// findNUL looks for a NUL byte in a string, or in a list's elements or a
// mapping's keys and values, and returns where (e.g. "[2]" or ".HOME"). A
// NUL cannot reach the host: it ends a C string, so the host would act on
// a different value than the task says, and sshd drops the connection on
// a command that holds one. Ansible fails such a task too.
func findNUL(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return "", strings.IndexByte(v, 0) >= 0
	case []any:
		for i, e := range v {
			if where, ok := findNUL(e); ok {
				return fmt.Sprintf("[%d]%s", i, where), true
			}
		}
	case []string:
		for i, e := range v {
			if strings.IndexByte(e, 0) >= 0 {
				return fmt.Sprintf("[%d]", i), true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.IndexByte(k, 0) >= 0 {
				return fmt.Sprintf("[%q]", k), true
			}
			if where, ok := findNUL(v[k]); ok {
				return "." + k + where, true
			}
		}
	}
	return "", false
}

func (s *Spec) argNames() string {
	names := make([]string, 0, len(s.Args))
	for _, a := range s.Args {
		names = append(names, a.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// allNames lists argument names and aliases, for suggestions.
func (s *Spec) allNames() []string {
	var names []string
	for _, a := range s.Args {
		if !strings.HasPrefix(a.Name, "_") {
			names = append(names, a.Name)
		}
		for _, al := range a.Aliases {
			if !strings.HasPrefix(al, "_") {
				names = append(names, al)
			}
		}
	}
	return names
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// Coerce converts v to type t the way Ansible's argument spec does.
func Coerce(t, elem Type, v any) (any, error) {
	if t == Ordered {
		return v, nil
	}
	// Mappings from YAML and templates keep their key order; modules take
	// plain maps.
	if d, ok := v.(*odict.Dict); ok {
		v = odict.Plain(d)
	}
	switch t {
	case "", Raw:
		return v, nil
	case String, Path:
		return coerceString(v)
	case Bool:
		b, ok := ToBool(v)
		if !ok {
			return nil, fmt.Errorf("expected a boolean (yes/no/true/false), got %q", fmt.Sprint(v))
		}
		return b, nil
	case Int:
		i, ok := ToInt(v)
		if !ok {
			return nil, fmt.Errorf("expected an integer, got %q", fmt.Sprint(v))
		}
		return i, nil
	case Float:
		return coerceFloat(v)
	case List:
		return coerceList(elem, v)
	case Dict:
		return coerceDict(v)
	}
	return nil, fmt.Errorf("unknown argument type %q", t)
}

// coerceString accepts any scalar; numbers are written as Python does.
func coerceString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any, []any:
		return nil, fmt.Errorf("expected a string, got %T", v)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	default:
		return fmt.Sprint(v), nil
	}
}

func coerceFloat(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, fmt.Errorf("expected a number, got %q", x)
		}
		return f, nil
	}
	return nil, fmt.Errorf("expected a number, got %T", v)
}

// coerceList accepts a list, a comma-separated string or a single value,
// and coerces the elements to elem.
func coerceList(elem Type, v any) (any, error) {
	var l []any
	switch x := v.(type) {
	case []any:
		l = x
	case []string:
		for _, e := range x {
			l = append(l, e)
		}
	case string:
		if x == "" {
			l = []any{}
		} else {
			for _, p := range strings.Split(x, ",") {
				l = append(l, strings.TrimSpace(p))
			}
		}
	case map[string]any:
		return nil, fmt.Errorf("expected a list, got a mapping")
	default:
		l = []any{x}
	}
	if elem == "" || elem == Raw {
		return l, nil
	}
	out := make([]any, len(l))
	for i, e := range l {
		ce, err := Coerce(elem, "", e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %v", i, err)
		}
		out[i] = ce
	}
	return out, nil
}

// coerceDict accepts a mapping or Ansible's k=v k2=v2 string form.
func coerceDict(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return map[string]any{}, nil
		}
		m := map[string]any{}
		for _, p := range strings.Fields(x) {
			k, val, ok := strings.Cut(p, "=")
			if !ok {
				return nil, fmt.Errorf("expected a mapping, got %q", x)
			}
			m[k] = val
		}
		return m, nil
	}
	return nil, fmt.Errorf("expected a mapping, got %T", v)
}

// ToBool converts Ansible's boolean spellings.
func ToBool(v any) (bool, bool) {
	switch x := plainString(v).(type) {
	case bool:
		return x, true
	case int:
		return x != 0, x == 0 || x == 1
	case float64:
		return x != 0, x == 0 || x == 1
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "on", "1", "true", "t", "y":
			return true, true
		case "no", "off", "0", "false", "f", "n", "":
			return false, true
		}
	}
	return false, false
}

// ToInt converts ints, integral floats and numeric strings.
func ToInt(v any) (int, bool) {
	switch x := plainString(v).(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case uint64:
		return int(x), true
	case float64:
		if x == math.Trunc(x) {
			return int(x), true
		}
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err == nil {
			return i, true
		}
	}
	return 0, false
}

// plainString reads a named string type (the template engine's Unsafe
// marks variables that came from a host) as a string.
func plainString(v any) any {
	if _, ok := v.(string); ok || v == nil {
		return v
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String()
	}
	return v
}
