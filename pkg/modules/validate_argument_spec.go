package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/odict"
	"github.com/tend-dev/tend/pkg/pyfmt"
	"github.com/tend-dev/tend/pkg/vars"
)

// ValidateArgumentSpec checks values against an Ansible argument spec: the
// task Ansible (and tend) put first in a role that has
// meta/argument_specs.yml, and a module playbooks call themselves.
type ValidateArgumentSpec struct{}

var _ module.Module = (*ValidateArgumentSpec)(nil)

// Spec implements module.Module.
func (*ValidateArgumentSpec) Spec() *module.Spec {
	return &module.Spec{
		Name:  "validate_argument_spec",
		Short: "Validate values against an argument spec",
		Description: "Checks the variables named in argument_spec (their values as the task sees them), with " +
			"provided_arguments on top, against that spec as Ansible's module argument validator does: type " +
			"(str, int, bool, float, list with elements, dict with nested options, path, raw, json, jsonarg), " +
			"required, choices, aliases, default, and in nested options mutually_exclusive, required_together, " +
			"required_one_of, required_if and required_by; names the spec does not know among provided_arguments " +
			"are errors. Fails with \"Validation of arguments failed\" and the list in argument_errors. Spec " +
			"defaults are not set as variables (as in ansible-core 2.14). A role with meta/argument_specs.yml " +
			"(or argument_specs: in meta/main.yml) gets this task first, named \"Validating arguments against " +
			"arg spec 'ENTRY'\", for its entry point (main or tasks_from), tagged always. Limits: the Python type " +
			"named in a type error for a string is AnsibleUnicode (a string read from YAML) even when a " +
			"template made it; " +
			"path expands ~ but not environment variables.",
		Args: []module.Arg{
			{Name: "argument_spec", Type: module.Ordered, Required: true, Doc: "The spec: option names mapped to their attributes (type, required, choices, default, elements, options...)."},
			{Name: "provided_arguments", Type: module.Ordered, Doc: "Values to validate, on top of the variables of the same names."},
			{Name: "validate_args_context", Type: module.Raw, Doc: "What is validated (a role's name, entry point and path), returned as it is."},
		},
		Controller: true,
		Examples: `- validate_argument_spec:
    argument_spec:
      port: {type: int, required: true}
      mode: {type: str, choices: [fast, slow]}
    provided_arguments:
      port: 8080`,
	}
}

// Plan implements module.Module.
func (*ValidateArgumentSpec) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	r := module.Result{"changed": false, "validate_args_context": orEmpty(a["validate_args_context"])}
	specKeys, spec, ok := odict.As(a["argument_spec"])
	if !ok {
		return module.Unchanged(module.Failed("Incorrect type for argument_spec, expected dict and got %s", pyType(a["argument_spec"]))), nil
	}
	provided := orEmpty(a["provided_arguments"])
	pKeys, pm, ok := odict.As(provided)
	if !ok {
		return module.Unchanged(module.Failed("Incorrect type for provided_arguments, expected dict and got %s", pyType(provided))), nil
	}
	params := odict.New(len(specKeys))
	for _, name := range specKeys {
		if _, defined := h.Vars[name]; !defined || h.Templar == nil {
			continue
		}
		v, err := h.Templar.Eval(name)
		if err != nil {
			return module.Unchanged(module.Failed("%v", err)), nil
		}
		params.Set(name, v)
	}
	for _, k := range pKeys {
		params.Set(k, pm[k])
	}
	v := &specValidator{}
	v.validate(specKeys, spec, nil, params, nil)
	if errs := v.finish(); len(errs) > 0 {
		r["failed"] = true
		r["msg"] = "Validation of arguments failed:\n" + strings.Join(errs, "\n")
		r["argument_spec_data"] = a["argument_spec"]
		r["argument_errors"] = errs
		return module.Unchanged(r), nil
	}
	r["msg"] = "The arg spec validation passed"
	return module.Unchanged(r), nil
}

func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}

// specValidator collects the errors of one validation, in the order
// Ansible's ArgumentSpecValidator reports them.
type specValidator struct {
	errs        []string
	unsupported []string
	supported   map[string][]string
}

func (v *specValidator) errorf(format string, a ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, a...))
}

// finish appends the unsupported parameters' error, which Ansible reports
// last.
func (v *specValidator) finish() []string {
	if len(v.unsupported) == 0 {
		return v.errs
	}
	sort.Strings(v.unsupported)
	last := v.unsupported[len(v.unsupported)-1]
	v.errorf("%s. Supported parameters include: %s.", strings.Join(v.unsupported, ", "), strings.Join(v.supported[last], ", "))
	return v.errs
}

// found appends Ansible's " found in a -> b" to a message of a nested
// option.
func found(msg string, optCtx []string) string {
	if len(optCtx) == 0 {
		return msg
	}
	return msg + " found in " + strings.Join(optCtx, " -> ")
}

// attrs returns an option's attribute mapping.
func attrs(v any) map[string]any {
	m, _ := odict.AsMap(v)
	return m
}

// setDefaults gives absent options their default; with all set, those
// without one too (None).
func setDefaults(keys []string, spec map[string]any, params *odict.Dict, all bool) {
	for _, k := range keys {
		if _, ok := params.Get(k); ok {
			continue
		}
		if d, has := attrs(spec[k])["default"]; has && d != nil || all {
			params.Set(k, d)
		}
	}
}

// groupChecks runs the checks an option with nested options may carry for
// them.
func (v *specValidator) groupChecks(a map[string]any, params *odict.Dict, optCtx []string) {
	count := func(terms any) (n int, names []string) {
		names = strList(terms)
		if s, ok := terms.(string); ok {
			names = []string{s}
		}
		for _, t := range names {
			if _, ok := params.Get(t); ok {
				n++
			}
		}
		return n, names
	}
	groups := func(attr string) []any { l, _ := a[attr].([]any); return l }
	var excl []string
	for _, g := range groups("mutually_exclusive") {
		if n, names := count(g); n > 1 {
			excl = append(excl, strings.Join(names, "|"))
		}
	}
	if len(excl) > 0 {
		v.errorf("%s", found("parameters are mutually exclusive: "+strings.Join(excl, ", "), optCtx))
	}
	for _, g := range groups("required_together") {
		if n, names := count(g); n != 0 && n != len(names) {
			v.errorf("%s", found("parameters are required together: "+strings.Join(names, ", "), optCtx))
			break
		}
	}
	for _, g := range groups("required_one_of") {
		if n, names := count(g); n == 0 {
			v.errorf("%s", found("one of the following is required: "+strings.Join(names, ", "), optCtx))
			break
		}
	}
	v.requiredIf(groups("required_if"), params, optCtx)
	if by, ok := odict.AsMap(a["required_by"]); ok {
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if val, ok := params.Get(k); !ok || val == nil {
				continue
			}
			var miss []string
			for _, r := range append(strList(by[k]), strOne(by[k])...) {
				if val, ok := params.Get(r); !ok || val == nil {
					miss = append(miss, r)
				}
			}
			if len(miss) > 0 {
				v.errorf("%s", found(fmt.Sprintf("missing parameter(s) required by '%s': %s", k, strings.Join(miss, ", ")), optCtx))
				break
			}
		}
	}
}

// requiredIf is Ansible's check_required_if: it reports the first rule
// that fails.
func (v *specValidator) requiredIf(rules []any, params *odict.Dict, optCtx []string) {
	for _, rule := range rules {
		r, _ := rule.([]any)
		if len(r) < 3 {
			continue
		}
		key, _ := r[0].(string)
		reqs := strList(r[2])
		anyOf := false
		if len(r) > 3 {
			anyOf, _ = module.ToBool(r[3])
		}
		val, ok := params.Get(key)
		if !ok || !pyEqual(val, r[1]) {
			continue
		}
		var miss []string
		for _, q := range reqs {
			if _, ok := params.Get(q); !ok {
				miss = append(miss, q)
			}
		}
		need, requires := 0, "all"
		if anyOf {
			need, requires = len(reqs), "any"
		}
		if len(miss) > 0 && len(miss) >= need {
			v.errorf("%s", found(fmt.Sprintf("%s is %s but %s of the following are missing: %s", key, pyfmt.Str(r[1]), requires, strings.Join(miss, ", ")), optCtx))
			return
		}
	}
}

func strOne(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return nil
}

func strList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// types converts each given value to its option's type, or reports why it
// cannot be.
func (v *specValidator) types(keys []string, spec map[string]any, params *odict.Dict, optCtx []string) {
	for _, k := range keys {
		val, ok := params.Get(k)
		if !ok || val == nil {
			continue
		}
		a := attrs(spec[k])
		want := typeName(a["type"])
		cv, err := convert(want, val)
		if err != nil {
			msg := fmt.Sprintf("argument '%s' is of type %s", k, pyType(val))
			if len(optCtx) > 0 {
				msg += fmt.Sprintf(" found in '%s'.", strings.Join(optCtx, " -> "))
			}
			v.errorf("%s and we were unable to convert to %s: %v", msg, want, err)
			continue
		}
		params.Set(k, cv)
		elem, has := a["elements"]
		if !has || elem == nil {
			continue
		}
		l, isList := cv.([]any)
		if want != "list" || !isList {
			msg := fmt.Sprintf("Invalid type %s for option '%s'", want, pyfmt.Str(cv))
			if len(optCtx) > 0 {
				msg += fmt.Sprintf(" found in '%s'.", strings.Join(optCtx, " -> "))
			}
			v.errorf("%s, elements value check is supported only with 'list' type", msg)
			continue
		}
		ew := typeName(elem)
		out := make([]any, 0, len(l))
		for _, e := range l {
			ce, err := convert(ew, e)
			if err != nil {
				msg := fmt.Sprintf("Elements value for option '%s'", k)
				if len(optCtx) > 0 {
					msg += fmt.Sprintf(" found in '%s'", strings.Join(optCtx, " -> "))
				}
				v.errorf("%s is of type %s and we were unable to convert to %s: %v", msg, pyType(e), ew, err)
				continue
			}
			out = append(out, ce)
		}
		params.Set(k, out)
	}
}

// choices checks values against their option's choices.
func (v *specValidator) choices(keys []string, spec map[string]any, params *odict.Dict, optCtx []string) {
	for _, k := range keys {
		cs, has := attrs(spec[k])["choices"]
		if !has || cs == nil {
			continue
		}
		list, ok := cs.([]any)
		if !ok {
			v.errorf("%s", found(fmt.Sprintf("internal error: choices for argument %s are not iterable: %s", k, pyfmt.Str(cs)), optCtx))
			continue
		}
		val, given := params.Get(k)
		if !given {
			continue
		}
		in := func(x any) bool {
			for _, c := range list {
				if pyEqual(x, c) {
					return true
				}
			}
			return false
		}
		names := make([]string, len(list))
		for i, c := range list {
			names[i] = pyfmt.Str(c)
		}
		if l, isList := val.([]any); isList {
			var bad []string
			for _, e := range l {
				if !in(e) {
					bad = append(bad, pyfmt.Str(e))
				}
			}
			if len(bad) > 0 {
				v.errorf("%s", found(fmt.Sprintf("value of %s must be one or more of: %s. Got no match for: %s", k, strings.Join(names, ", "), strings.Join(bad, ", ")), optCtx))
			}
			continue
		}
		if !in(val) {
			v.errorf("%s", found(fmt.Sprintf("value of %s must be one of: %s, got: %s", k, strings.Join(names, ", "), pyfmt.Str(val)), optCtx))
		}
	}
}

// subSpecs validates the nested options of dict options and of lists of
// dicts.
func (v *specValidator) subSpecs(keys []string, spec map[string]any, params *odict.Dict, optCtx []string) {
	for _, k := range keys {
		a := attrs(spec[k])
		want := typeName(a["type"])
		if want != "dict" && !(want == "list" && typeName(a["elements"]) == "dict") {
			continue
		}
		subKeys, sub, hasSub := odict.As(a["options"])
		val, _ := params.Get(k)
		if ad, _ := module.ToBool(a["apply_defaults"]); ad {
			if !hasSub {
				continue
			}
			if val == nil {
				val = odict.New(0)
				params.Set(k, val)
			}
		} else if !hasSub || val == nil {
			continue
		}
		elems, isList := val.([]any)
		if !isList {
			elems = []any{val}
		}
		ctx := append(append([]string{}, optCtx...), k)
		for i, e := range elems {
			sk, sm, ok := odict.As(e)
			if !ok {
				v.errorf("value of '%s' must be of type dict or list of dicts", k)
				continue
			}
			sp := odict.New(len(sk))
			for _, x := range sk {
				sp.Set(x, sm[x])
			}
			v.validate(subKeys, sub, a, sp, ctx)
			elems[i] = sp
		}
		if isList {
			params.Set(k, elems)
		} else if len(elems) == 1 {
			params.Set(k, elems[0])
		}
	}
}

// validate checks params (changed in place: aliases, defaults, converted
// values) against one level of a spec, then its nested options; a holds
// the group checks (mutually_exclusive...) of the option whose nested
// options these are (nil at the top, where Ansible has none).
func (v *specValidator) validate(keys []string, spec, a map[string]any, params *odict.Dict, optCtx []string) {
	// Ansible's order: unsupported, mutually exclusive, defaults,
	// required, types, choices, the other group checks, defaults, nested.
	excl := map[string]any{"mutually_exclusive": a["mutually_exclusive"]}
	rest := map[string]any{"required_together": a["required_together"], "required_one_of": a["required_one_of"], "required_if": a["required_if"], "required_by": a["required_by"]}
	v.resolveAliases(keys, spec, params)
	if msg := subParamsCheck(keys, spec, params); msg != "" {
		v.errorf("%s", msg)
	}
	v.checkUnsupported(keys, spec, params, optCtx)
	v.groupChecks(excl, params, optCtx)
	setDefaults(keys, spec, params, false)
	var missing []string
	for _, k := range keys {
		if req, _ := module.ToBool(attrs(spec[k])["required"]); req {
			if _, ok := params.Get(k); !ok {
				missing = append(missing, k)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		v.errorf("%s", found("missing required arguments: "+strings.Join(missing, ", "), optCtx))
	}
	v.types(keys, spec, params, optCtx)
	v.choices(keys, spec, params, optCtx)
	v.groupChecks(rest, params, optCtx)
	setDefaults(keys, spec, params, true)
	v.subSpecs(keys, spec, params, optCtx)
}

// resolveAliases gives each option the value given under one of its
// aliases.
func (v *specValidator) resolveAliases(keys []string, spec map[string]any, params *odict.Dict) {
	for _, k := range keys {
		for _, al := range strList(attrs(spec[k])["aliases"]) {
			if val, ok := params.Get(al); ok {
				if _, has := params.Get(k); !has {
					params.Set(k, val)
				}
			}
		}
	}
}

// subParamsCheck is the check Ansible makes of nested options' values
// while it collects no_log values, before any other: a string must read
// as a dict, anything else must be a mapping. It stops at the first
// problem, as Ansible's exception does.
func subParamsCheck(keys []string, spec map[string]any, params *odict.Dict) string {
	for _, k := range keys {
		a := attrs(spec[k])
		subKeys, sub, ok := odict.As(a["options"])
		val, given := params.Get(k)
		if !ok || !given || val == nil {
			continue
		}
		want := typeName(a["type"])
		if a["type"] == nil {
			want = ""
		}
		if want != "dict" && !(want == "list" && typeName(a["elements"]) == "dict") {
			continue
		}
		elems, isList := val.([]any)
		if !isList {
			elems = []any{val}
		}
		for _, e := range elems {
			if s, isStr := e.(string); isStr {
				d, err := convertDict(s)
				if err != nil {
					return err.Error()
				}
				e = d
			}
			ek, em, ok := odict.As(e)
			if !ok {
				return fmt.Sprintf("Value '%s' in the sub parameter field '%s' must by a %s, not '%s'", pyfmt.Str(e), k, want, pyClass(e))
			}
			sp := odict.New(len(ek))
			for _, x := range ek {
				sp.Set(x, em[x])
			}
			if msg := subParamsCheck(subKeys, sub, sp); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// checkUnsupported records names the spec does not know.
func (v *specValidator) checkUnsupported(keys []string, spec map[string]any, params *odict.Dict, optCtx []string) {
	legal := map[string]bool{}
	var aliasNames []string
	for _, k := range keys {
		legal[k] = true
		for _, al := range strList(attrs(spec[k])["aliases"]) {
			legal[al] = true
			aliasNames = append(aliasNames, al)
		}
	}
	for _, k := range params.Keys() {
		if legal[k] {
			continue
		}
		name := k
		if len(optCtx) > 0 {
			name = strings.Join(append(append([]string{}, optCtx...), k), ".")
		}
		v.unsupported = append(v.unsupported, name)
		if v.supported == nil {
			v.supported = map[string][]string{}
		}
		sup := append([]string{}, keys...)
		sort.Strings(sup)
		if len(aliasNames) > 0 {
			sort.Strings(aliasNames)
			sup[len(sup)-1] += " (" + strings.Join(aliasNames, ", ") + ")"
		}
		v.supported[name] = sup
	}
}

// typeName is an option's type, str when none is given.
func typeName(t any) string {
	if s, ok := t.(string); ok && s != "" {
		return s
	}
	return "str"
}

// pyType names the Python class of a value as Ansible's messages show it:
// strings are as read from YAML (templating leaves them so), lists and
// dicts are the plain ones templating builds.
func pyType(v any) string { return "<class '" + pyClass(v) + "'>" }

// pyClass is the name of the Python class of a value (see pyType).
func pyClass(v any) string {
	if _, ok := v.(string); ok {
		return "ansible.parsing.yaml.objects.AnsibleUnicode"
	}
	return pyfmt.TypeName(v)
}

// pyEqual compares two values as Python's == does for the scalars of a
// spec (1 == 1.0 == True).
func pyEqual(a, b any) bool {
	num := func(x any) (float64, bool) {
		switch n := x.(type) {
		case bool:
			if n {
				return 1, true
			}
			return 0, true
		case int:
			return float64(n), true
		case int64:
			return float64(n), true
		case float64:
			return n, true
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		y, ok := num(b)
		return ok && x == y
	}
	if s, ok := a.(string); ok {
		t, ok := b.(string)
		return ok && s == t
	}
	return pyfmt.Repr(a) == pyfmt.Repr(b)
}

var errBoolWords = "0, 1, 'false', '0', 'true', 'yes', '1', 't', 'off', 'y', 'n', 'on', 'f', 'no'"

// convert is Ansible's type checker for one value.
func convert(want string, v any) (any, error) {
	isStr := func() (string, bool) { s, ok := v.(string); return s, ok }
	switch want {
	case "str":
		if s, ok := isStr(); ok {
			return s, nil
		}
		return pyfmt.Str(v), nil
	case "path":
		s, ok := isStr()
		if !ok {
			s = pyfmt.Str(v)
		}
		if s == "~" || strings.HasPrefix(s, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				s = home + s[1:]
			}
		}
		return s, nil
	case "raw":
		return v, nil
	case "list":
		return convertList(v)
	case "dict":
		return convertDict(v)
	case "bool":
		return convertBool(v)
	case "int":
		return convertInt(v)
	case "float":
		return convertFloat(v)
	case "json", "jsonarg":
		return convertJSON(v)
	case "bytes":
		return humanToBytes(v, false)
	case "bits":
		return humanToBytes(v, true)
	}
	return nil, fmt.Errorf("unknown type %s", want)
}

func convertList(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		parts := strings.Split(x, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case int, float64:
		return []any{pyfmt.Str(x)}, nil
	}
	return nil, fmt.Errorf("%s cannot be converted to a list", pyType(v))
}

// convertInt accepts ints (bools are ints in Python) and integer strings.
func convertInt(v any) (any, error) {
	switch x := v.(type) {
	case int, int64, bool:
		return x, nil
	case string:
		if i, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(x), "_", "")); err == nil {
			return i, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be converted to an int", pyType(v))
}

func convertFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsNaN(f) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be converted to a float", pyType(v))
}

func convertJSON(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case []any, map[string]any, *odict.Dict:
		b, err := json.Marshal(odict.Plain(x))
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("%s cannot be converted to a json string", pyType(v))
}

var humanSize = regexp.MustCompile(`^\s*(\d*\.?\d*)\s*([A-Za-z]+)?`)

// humanToBytes is Ansible's human_to_bytes for the bytes and bits types:
// "2K" is 2048, "1Mb" (bits) 1048576.
func humanToBytes(v any, bits bool) (any, error) {
	what := "Byte"
	unitClass, unitName := "B", "byte"
	if bits {
		what, unitClass, unitName = "Bit", "b", "bit"
	}
	fail := fmt.Errorf("%s cannot be converted to a %s value", pyType(v), what)
	m := humanSize.FindStringSubmatch(pyfmt.Str(v))
	if m == nil {
		return nil, fail
	}
	num, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return nil, fail
	}
	unit := m[2]
	if unit == "" {
		return int(math.RoundToEven(num)), nil
	}
	key := strings.ToUpper(unit[:1])
	shift := strings.Index("BKMGTPEZY", key)
	if shift < 0 {
		return nil, fail
	}
	if len(unit) > 1 && !strings.Contains(strings.ToLower(unit), unitName) && unit[1:2] != unitClass {
		return nil, fail
	}
	return int(math.RoundToEven(num * math.Pow(2, float64(10*shift)))), nil
}

func convertBool(v any) (any, error) {
	switch v.(type) {
	case bool, string, int, float64:
	default:
		return nil, fmt.Errorf("%s cannot be converted to a bool", pyType(v))
	}
	if b, err := vars.Boolean(v); err == nil {
		return b, nil
	}
	//lint:ignore ST1005 Ansible's own message, word for word
	return nil, fmt.Errorf("The value '%s' is not a valid boolean.  Valid booleans include: %s", pyfmt.Str(v), errBoolWords)
}

func convertDict(v any) (any, error) {
	if odict.IsDict(v) {
		return v, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%s cannot be converted to a dict", pyType(v))
	}
	if strings.HasPrefix(s, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("unable to evaluate string as dictionary")
		}
		return m, nil
	}
	if !strings.Contains(s, "=") {
		return nil, fmt.Errorf("dictionary requested, could not parse JSON or key=value")
	}
	var fields []string
	var buf strings.Builder
	var quote rune
	escape := false
	for _, c := range strings.TrimSpace(s) {
		switch {
		case escape:
			buf.WriteRune(c)
			escape = false
		case c == '\\':
			escape = true
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == ',' || c == ' '):
			if buf.Len() > 0 {
				fields = append(fields, buf.String())
			}
			buf.Reset()
		default:
			buf.WriteRune(c)
		}
	}
	if buf.Len() > 0 {
		fields = append(fields, buf.String())
	}
	out := odict.New(len(fields))
	for i, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("dictionary update sequence element #%d has length 1; 2 is required", i)
		}
		out.Set(k, val)
	}
	return out, nil
}
