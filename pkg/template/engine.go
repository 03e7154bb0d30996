package template

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
	"github.com/tend-dev/tend/pkg/odict"
)

// Options configure an Engine.
type Options struct {
	// BaseDir is where relative paths in lookups ('file', 'template',
	// 'first_found') and the file/directory/exists tests resolve when not
	// absolute (the playbook dir). Empty means the current directory.
	BaseDir string
	// SearchPath lists extra dirs searched first by lookup('file'/'template'/
	// 'first_found') (role files/, templates/).
	SearchPath []string
}

// maxCached bounds the compiled-template cache; when it is exceeded the cache
// starts over (sources come from playbooks, so this is a safety net).
const maxCached = 20000

// Engine renders templates. It is safe for concurrent use; compiled templates
// are cached by source and shared with engines made by WithSearchPath.
type Engine struct {
	opts    Options
	search  []string
	shared  *shared
	filters map[string]filterFunc
	tests   map[string]testFunc
	lookups map[string]lookupFunc
	// noCommands refuses lookups that run commands (pipe, lines); set by
	// the fuzz test so random input never reaches a shell.
	noCommands bool
	// ctx, when set, stops loops, macro calls and commands of lookups
	// once it is cancelled (see WithContext).
	ctx context.Context
	// workLimit is maxWork; tests of cancellation raise it so that only
	// the context stops their endless templates.
	workLimit int
	// delims, when set, are the Jinja2 delimiters of the templates this
	// engine renders (the template lookup's variable_start_string...).
	delims *Delims
}

type shared struct {
	mu    sync.RWMutex
	cache map[string]*compiled
	cfg   *config.Config
	// literalCfg parses text as a Python literal (pyLiteral): delimiters
	// no text has, so "}}" in the text is text.
	literalCfg *config.Config
	cs         csGetter
}

// compiled is a parsed template.
type compiled struct {
	src  string
	root *nodes.Template
	// single is set when the template is one {{ expr }} with only whitespace
	// around it: Render then returns the expression's native value.
	single *nodes.Output
	// bareVar is the name when the template is exactly "{{ name }}":
	// Ansible returns such a variable's None, number or boolean as it is.
	bareVar string
	// keepsText is set when single ends in a filter whose text Ansible
	// keeps as text (its NativeJinjaText: to_json, string...), or is the
	// template lookup with convert_data=False.
	keepsText bool
}

// bareVarRe is Ansible's Templar.SINGLE_VAR.
var bareVarRe = regexp.MustCompile(`^\{\{\s*(\w*)\s*\}\}$`)

// New returns an Engine.
func New(opts Options) *Engine {
	cfg := config.New()
	// Ansible's defaults: trim_blocks on; Jinja2 drops the source's final
	// newline and padNewlines then restores what Ansible restores.
	cfg.TrimBlocks = true
	cfg.KeepTrailingNewline = false
	e := &Engine{
		opts:   opts,
		search: append([]string(nil), opts.SearchPath...),
		shared: &shared{cache: map[string]*compiled{}, cfg: cfg, cs: newControlStructures(),
			literalCfg: (&Delims{VariableStart: "\x00{", VariableEnd: "}\x00", BlockStart: "\x00%", BlockEnd: "%\x00", CommentStart: "\x00#", CommentEnd: "#\x00"}).config(cfg)},
		workLimit: maxWork,
	}
	e.filters = builtinFilters()
	e.tests = builtinTests()
	e.lookups = builtinLookups()
	return e
}

// Delims are Jinja2's delimiters, as the template lookup and module name
// them (variable_start_string...); an empty field keeps the default.
type Delims struct {
	BlockStart, BlockEnd, VariableStart, VariableEnd, CommentStart, CommentEnd string
}

// WithDelims returns a copy of the engine whose templates use d's
// delimiters. The copy shares the template cache (keyed by delimiters).
func (e *Engine) WithDelims(d Delims) *Engine {
	c := *e
	c.delims = nil
	if d != (Delims{}) {
		c.delims = &d
	}
	return &c
}

// config is the gonja configuration for d's delimiters over base.
func (d *Delims) config(base *config.Config) *config.Config {
	cfg := base.Inherit()
	for _, f := range []struct {
		dst *string
		v   string
	}{{&cfg.BlockStartString, d.BlockStart}, {&cfg.BlockEndString, d.BlockEnd},
		{&cfg.VariableStartString, d.VariableStart}, {&cfg.VariableEndString, d.VariableEnd},
		{&cfg.CommentStartString, d.CommentStart}, {&cfg.CommentEndString, d.CommentEnd}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	return cfg
}

// isTemplate is IsTemplate for the engine's delimiters.
func (e *Engine) isTemplate(s string) bool {
	if e.delims == nil {
		return IsTemplate(s)
	}
	cfg := e.delims.config(e.shared.cfg)
	for _, m := range []string{cfg.BlockStartString, cfg.VariableStartString, cfg.CommentStartString} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// WithSearchPath returns a copy of the engine with dirs searched first by
// the file lookups (role_path/files, role_path/templates...). The copy shares
// the template cache.
func (e *Engine) WithSearchPath(dirs ...string) *Engine {
	c := *e
	c.search = append(append([]string(nil), dirs...), e.search...)
	return &c
}

// WithContext returns a copy of the engine whose renders stop with an
// error wrapping ctx.Err() once ctx is cancelled: loops and macro calls
// check it as they go, and commands run by lookups are killed. The copy
// shares the template cache.
func (e *Engine) WithContext(ctx context.Context) *Engine {
	c := *e
	c.ctx = ctx
	return &c
}

// context returns the engine's context, or context.Background.
func (e *Engine) context() context.Context {
	if e.ctx == nil {
		return context.Background()
	}
	return e.ctx
}

// IsTemplate reports whether s contains Jinja2 markup ("{{", "{%" or "{#").
func IsTemplate(s string) bool {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 || i == len(s)-1 {
			return false
		}
		switch s[i+1] {
		case '{', '%', '#':
			return true
		}
		s = s[i+1:]
	}
}

// Render renders s. If s is exactly one "{{ expr }}" (surrounding whitespace
// allowed) and the value is not a string, the native value is returned (list,
// map, int, bool...), as Ansible does; otherwise a string. Strings without
// template markup are returned unchanged.
func (e *Engine) Render(s string, vars map[string]any) (any, error) {
	v, _, err := e.render(s, vars)
	return v, err
}

// render is Render that also reports whether the template read Unsafe data.
func (e *Engine) render(s string, vars map[string]any) (any, bool, error) {
	if !IsTemplate(s) {
		return s, false, nil
	}
	c, err := e.compile(s)
	if err != nil {
		return nil, false, err
	}
	st := e.newState(vars, s)
	st.finalize = true
	v, err := st.run(c, true)
	if err != nil {
		return nil, false, err
	}
	if out, ok := v.(string); ok {
		return padNewlines(s, out), st.tainted, nil
	}
	return deepCopy(v), st.tainted, nil
}

// RenderString renders s to a string; native values are printed the way
// Jinja2 prints them.
func (e *Engine) RenderString(s string, vars map[string]any) (string, error) {
	return e.renderString(s, "", vars)
}

// RenderFile renders the content of a template file (the template module)
// to a string. Ansible renders files without doubling backslashes
// (escape_backslashes=False), so string literals follow Python's escapes
// everywhere: "\n".join(x) joins with newlines.
func (e *Engine) RenderFile(s string, vars map[string]any) (string, error) {
	return e.renderString(s, condPrefix, vars)
}

func (e *Engine) renderString(s, mode string, vars map[string]any) (string, error) {
	if !IsTemplate(s) && !strings.HasPrefix(s, jinjaOverride) {
		return s, nil
	}
	c, err := e.compile(mode + s)
	if err != nil {
		return "", err
	}
	st := e.newState(vars, s)
	v, err := st.run(c, false)
	if err != nil {
		return "", err
	}
	return padNewlines(s, toStr(v)), nil
}

// RenderValue walks maps and lists and renders every string (keys included)
// in them. It returns new containers and never mutates v.
func (e *Engine) RenderValue(v any, vars map[string]any) (any, error) {
	return e.renderWalk(v, vars, e.Render, false)
}

// renderWalk renders every string in v with leaf, keys with RenderString,
// into new containers. An Unsafe value is never rendered: keepUnsafe keeps
// its mark (values stored as variables), otherwise it becomes the plain
// string it holds (module arguments).
func (e *Engine) renderWalk(v any, vars map[string]any, leaf func(string, map[string]any) (any, error), keepUnsafe bool) (any, error) {
	if u, ok := v.(Unsafe); ok {
		if keepUnsafe {
			return u, nil
		}
		return string(u), nil
	}
	switch x := normalize(v).(type) {
	case string:
		return leaf(x, vars)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			r, err := e.renderWalk(item, vars, leaf, keepUnsafe)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			key, err := e.RenderString(k, vars)
			if err != nil {
				return nil, err
			}
			r, err := e.renderWalk(item, vars, leaf, keepUnsafe)
			if err != nil {
				return nil, err
			}
			out[key] = r
		}
		return out, nil
	case *odict.Dict:
		out := odict.New(x.Len())
		for k, item := range x.All() {
			key, err := e.RenderString(k, vars)
			if err != nil {
				return nil, err
			}
			r, err := e.renderWalk(item, vars, leaf, keepUnsafe)
			if err != nil {
				return nil, err
			}
			out.Set(key, r)
		}
		return out, nil
	default:
		return x, nil
	}
}

// canEnter refuses to render the template file path from s when it is
// already being rendered (it includes or extends itself, verb says which)
// or lookups nest too deep.
func (s *state) canEnter(path, verb string) error {
	if slices.Contains(s.files, path) {
		return fmt.Errorf("template %s %s itself (through %s)", path, verb, strings.Join(append(slices.Clip(s.files), path), " -> "))
	}
	if s.depth >= maxDepth {
		return fmt.Errorf("template lookups nested more than %d deep", maxDepth)
	}
	return nil
}

// renderFile renders src, the content of the template file path, for a
// lookup made while rendering parent: nesting depth and the files being
// rendered carry over, so a template that looks itself up is an error.
//
// A lookup keeps the file's trailing newlines, as Ansible's template lookup
// does; an include drops the final one, as Jinja2 does with every template.
func (e *Engine) renderFile(parent *state, path, src string, vars map[string]any, lookup bool) (string, error) {
	if err := parent.canEnter(path, "includes"); err != nil {
		return "", err
	}
	if !e.isTemplate(src) {
		if lookup {
			return src, nil
		}
		return strings.TrimSuffix(crlf.Replace(src), "\n"), nil
	}
	// A file is rendered with Python's string escapes (see RenderFile).
	c, err := e.compile(condPrefix + src)
	if err != nil {
		return "", err
	}
	st := e.newState(vars, src)
	st.depth = parent.depth + 1
	st.files = append(slices.Clip(parent.files), path)
	st.work = parent.budget()
	v, err := st.run(c, false)
	// What the file read from host data makes the including render host
	// data too, as for any other value it reads.
	parent.tainted = parent.tainted || st.tainted
	if err != nil {
		return "", err
	}
	if lookup {
		return padNewlines(src, toStr(v)), nil
	}
	return toStr(v), nil
}

// Eval evaluates a bare Jinja2 expression such as
// "x is defined and x | int > 2" and returns its native value.
func (e *Engine) Eval(expr string, vars map[string]any) (any, error) {
	return e.eval(expr, vars, false, false)
}

// EvalCondition is Eval with the string-escape rules of conditions
// (Ansible evaluates them as {% if %}: '\n' is a newline).
func (e *Engine) EvalCondition(expr string, vars map[string]any) (any, error) {
	return e.eval(expr, vars, true, false)
}

// EvalValue evaluates a bare expression to the value Render gives
// "{{ expr }}": typed as Ansible types a template's value (debug's var).
func (e *Engine) EvalValue(expr string, vars map[string]any) (any, error) {
	return e.eval(expr, vars, false, true)
}

// eval evaluates expr; cond selects condition string-escape rules, typed
// Ansible's typing of a template's value (see ansibleTyped).
func (e *Engine) eval(expr string, vars map[string]any, cond, typed bool) (any, error) {
	src := "{{ " + expr + " }}"
	if cond {
		src = condPrefix + src
	}
	c, err := e.compile(src)
	if err != nil {
		return nil, err
	}
	if c.single == nil {
		return nil, &SyntaxError{Msg: "not a single expression", Line: 1, Src: expr}
	}
	st := e.newState(vars, expr)
	var v any
	if typed {
		v, err = st.run(c, true)
	} else {
		v, err = st.runTemplate(c, true)
	}
	if err != nil {
		return nil, err
	}
	return deepCopy(v), nil
}

// Truthy evaluates a when:/changed_when:/failed_when:/until:/assert that:
// condition. It accepts a bare expression, a "{{ expr }}" string (Ansible
// warns but accepts), a bool, a number, nil (true: no condition) or a list of
// conditions that must all hold. A string result is read like Ansible reads
// it: "false", "no", "off", "0" and "" are false.
func (e *Engine) Truthy(cond any, vars map[string]any) (bool, error) {
	if _, ok := cond.(Unsafe); ok {
		return false, errUnsafeCondition
	}
	switch c := normalize(cond).(type) {
	case nil:
		return true, nil
	case bool:
		return c, nil
	case int, float64:
		return truthy(c)
	case []any:
		for _, item := range c {
			ok, err := e.Truthy(item, vars)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case string:
		s := strings.TrimSpace(c)
		if s == "" {
			return true, nil
		}
		var v any
		var err error
		if IsTemplate(s) {
			var tainted bool
			v, tainted, err = e.render(s, vars)
			if err != nil {
				return false, err
			}
			if str, ok := v.(string); ok && tainted && str != "" {
				// Text from a host must not be evaluated as a condition
				// (Ansible refuses it the same way).
				return false, errUnsafeCondition
			}
			if str, ok := v.(string); ok {
				// The rendered text is itself a condition ("{{ a }} == 1"),
				// evaluated as Ansible does: text that is not an expression
				// (omit's placeholder, a bare word) is an undefined
				// variable or a syntax error, not a true string.
				if b, ok := boolWord(str); ok {
					return b, nil
				}
				if strings.TrimSpace(str) == "" {
					return false, nil
				}
				r, err := e.eval(str, vars, true, false)
				if err != nil {
					return false, fmt.Errorf("evaluating condition %q: %w", str, err)
				}
				v = r
			}
		} else {
			// A string value is true unless empty, whatever it says:
			// Ansible evaluates "{% if flag %}", so flag: "false" (an INI
			// inventory's value) is true there too.
			v, err = e.eval(s, vars, true, false)
			if err != nil {
				return false, fmt.Errorf("evaluating condition %q: %w", s, err)
			}
		}
		return truthy(v)
	default:
		return truthy(c)
	}
}

//lint:ignore ST1005 Ansible's own message, word for word
var errUnsafeCondition = errors.New("Conditional is marked as unsafe, and cannot be evaluated.")

// boolWord reads the strings Ansible treats as booleans in conditions.
func boolWord(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0", "", "none":
		return false, true
	}
	return false, false
}

// SyntaxError is a template that does not parse.
type SyntaxError struct {
	Msg  string
	Line int
	Col  int
	Src  string
}

func (e *SyntaxError) Error() string {
	msg := "template error: " + e.Msg
	if e.Line > 0 {
		msg += fmt.Sprintf(" at line %d", e.Line)
		if e.Col > 0 {
			msg += fmt.Sprintf(", column %d", e.Col)
		}
	}
	if e.Src != "" {
		msg += " in " + fmt.Sprintf("%q", truncate(e.Src, 200))
	}
	return msg
}

// condPrefix marks a cache key compiled as a condition or a template
// file: string literals with Python's escapes (see rewriteStrings).
const condPrefix = "\x00cond\x00"

func (e *Engine) compile(src string) (*compiled, error) {
	sh := e.shared
	key, cfg := src, sh.cfg
	if e.delims != nil {
		d := e.delims
		key = strings.Join([]string{"\x00delims", d.BlockStart, d.BlockEnd, d.VariableStart, d.VariableEnd, d.CommentStart, d.CommentEnd, src}, "\x00")
		cfg = d.config(sh.cfg)
	}
	sh.mu.RLock()
	c, ok := sh.cache[key]
	sh.mu.RUnlock()
	if ok {
		return c, nil
	}
	// gonja's parser does not accept dotted filter names; Ansible's FQCN
	// prefixes name the same builtins.
	parsed, cond := strings.CutPrefix(src, condPrefix)
	parsed = crlf.Replace(parsed)
	if strings.HasPrefix(parsed, jinjaOverride) {
		var err error
		if parsed, cfg, err = overrides(parsed, cfg); err != nil {
			return nil, err
		}
	}
	c, err := parse(parsed, cond, cfg, sh.cs)
	if err != nil {
		return nil, err
	}
	if m := bareVarRe.FindStringSubmatch(parsed); m != nil && e.delims == nil {
		c.bareVar = m[1]
	}
	if c.single != nil {
		c.keepsText = keepsText(c.single.Expression)
	}
	sh.mu.Lock()
	if len(sh.cache) >= maxCached {
		sh.cache = map[string]*compiled{}
	}
	sh.cache[key] = c
	sh.mu.Unlock()
	return c, nil
}

// jinjaOverride starts a template's first line that sets Jinja2's
// environment options for that template (Ansible's JINJA2_OVERRIDE):
// "#jinja2: trim_blocks: True, lstrip_blocks: True".
const jinjaOverride = "#jinja2:"

// overrides applies the options of src's "#jinja2:" line to a copy of cfg
// and returns src without that line, as Ansible's Templar does. Options
// tend's parser has no switch for are an error naming them.
func overrides(src string, cfg *config.Config) (string, *config.Config, error) {
	eol := strings.IndexByte(src, '\n')
	line := src[len(jinjaOverride):]
	if eol >= 0 {
		line, src = src[len(jinjaOverride):eol], src[eol+1:]
	}
	cfg = cfg.Inherit()
	var stmtPrefix, commentPrefix string
	for _, pair := range strings.Split(line, ",") {
		key, val, ok := strings.Cut(pair, ":")
		if !ok {
			return "", nil, fmt.Errorf("failed to parse jinja2 override '%s'. Did you use something different from colon as key-value separator?", strings.TrimSpace(pair))
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		linePrefix := (*string)(nil)
		switch key {
		case "line_statement_prefix":
			linePrefix = &stmtPrefix
		case "line_comment_prefix":
			linePrefix = &commentPrefix
		}
		if delim := cmp.Or(delimOverride(cfg, key), linePrefix); delim != nil {
			// A Python string literal, as Ansible reads it.
			if len(val) < 2 || (val[0] != '\'' && val[0] != '"') || val[len(val)-1] != val[0] {
				return "", nil, fmt.Errorf("jinja2 override %s: value %s: write a quoted string", key, val)
			}
			*delim = val[1 : len(val)-1]
			continue
		}
		var dst *bool
		switch key {
		case "trim_blocks":
			dst = &cfg.TrimBlocks
		case "lstrip_blocks":
			dst = &cfg.LeftStripBlocks
		default:
			return "", nil, fmt.Errorf("jinja2 override %q is not supported by tend (trim_blocks, lstrip_blocks, the *_start_string/*_end_string delimiters and line_statement_prefix/line_comment_prefix are)", key)
		}
		switch val {
		case "True":
			*dst = true
		case "False":
			*dst = false
		default:
			return "", nil, fmt.Errorf("jinja2 override %s: value %q: write True or False", key, val)
		}
	}
	return lineSyntax(src, cfg, stmtPrefix, commentPrefix), cfg, nil
}

// lineSyntax rewrites Jinja2's line statements (a line starting with
// stmt, "# for x in y", whole, newline included) into block tags, and drops
// line comments (from comment to the end of a line).
func lineSyntax(src string, cfg *config.Config, stmt, comment string) string {
	if stmt == "" && comment == "" {
		return src
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(src, "\n") {
		body := strings.TrimRight(line, "\n")
		if trimmed := strings.TrimLeft(body, " \t"); stmt != "" && strings.HasPrefix(trimmed, stmt) {
			b.WriteString(cfg.BlockStartString + " " + strings.TrimSpace(trimmed[len(stmt):]) + " " + cfg.BlockEndString)
			continue
		}
		if comment != "" {
			if i := strings.Index(body, comment); i >= 0 {
				line = body[:i] + line[len(body):]
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// delimOverride is the configuration field a "#jinja2:" delimiter option
// sets, nil for another option.
func delimOverride(cfg *config.Config, key string) *string {
	switch key {
	case "block_start_string":
		return &cfg.BlockStartString
	case "block_end_string":
		return &cfg.BlockEndString
	case "variable_start_string":
		return &cfg.VariableStartString
	case "variable_end_string":
		return &cfg.VariableEndString
	case "comment_start_string":
		return &cfg.CommentStartString
	case "comment_end_string":
		return &cfg.CommentEndString
	}
	return nil
}

// parse compiles src, turning gonja's panics into errors.
func parse(src string, cond bool, cfg *config.Config, cs csGetter) (c *compiled, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, &SyntaxError{Msg: fmt.Sprint(r), Src: src}
		}
	}()
	src = normalizeTagSpaces(src, cfg)
	toks := rewriteStarArgs(rewriteInOperand(rewriteKeywords(rewriteFQCN(lexAll(src, cfg)), src)))
	if err := checkNesting(toks, src); err != nil {
		return nil, err
	}
	final := rewriteInlineIf(rewriteStrings(rewriteTestKwargs(toks), cond))
	stream := tokens.NewStream(final)
	p := parser.NewParser("template", stream, cfg, nil, cs)
	root, perr := p.Parse()
	if perr != nil {
		return nil, syntaxError(perr, src, cfg, stream)
	}
	unchainComparisons(root, final)
	c = &compiled{src: src, root: root}
	for _, n := range root.Nodes {
		switch x := n.(type) {
		case *nodes.Output:
			if c.single != nil {
				c.single = nil
				return c, nil
			}
			c.single = x
		case *nodes.Data:
			if strings.TrimSpace(x.Data.Val) != "" {
				c.single = nil
				return c, nil
			}
		default:
			c.single = nil
			return c, nil
		}
	}
	return c, nil
}

// maxNesting bounds how deeply brackets and "not" may nest in a template.
// The parser and the evaluator recurse once per level; Jinja2 itself runs
// out of Python stack long before this depth.
const maxNesting = 1000

// checkNesting refuses templates nested deeper than maxNesting, naming
// the line and column of the first bracket or "not" too deep.
func checkNesting(toks []*tokens.Token, src string) error {
	depth, nots := 0, 0
	for _, t := range toks {
		switch {
		case isOpener(t.Type):
			depth++
		case isCloser(t.Type):
			depth = max(depth-1, 0)
		}
		if t.Type == tokens.Not {
			nots++
		} else {
			nots = 0
		}
		if depth+nots > maxNesting {
			return &SyntaxError{Msg: fmt.Sprintf("expression nested more than %d levels deep", maxNesting), Line: t.Line, Col: t.Col, Src: src}
		}
	}
	return nil
}

// syntaxError locates a parse failure: a lexer error token, the parser's
// own position, or else where the parser stopped.
func syntaxError(err error, src string, cfg *config.Config, stopped *tokens.Stream) error {
	lex := tokens.LexAll(src, cfg)
	for tok := lex.Current(); tok != nil; tok = lex.Current() {
		if tok.Type == tokens.EOF {
			break
		}
		if tok.Type == tokens.Error {
			line := 1 + strings.Count(src[:min(tok.Pos, len(src))], "\n")
			col := tok.Pos - strings.LastIndexByte(src[:min(tok.Pos, len(src))], '\n')
			return &SyntaxError{Msg: lowerFirst(tok.Val), Line: line, Col: col, Src: src}
		}
		lex.Next()
	}
	var se *parser.SyntaxError
	if errors.As(err, &se) && se.Line > 0 {
		msg := se.Message
		if se.Raw != "" && se.Raw != msg {
			msg = fmt.Sprintf("%s near %q", msg, se.Raw)
		}
		return &SyntaxError{Msg: lowerFirst(msg), Line: se.Line, Col: se.Column, Src: src}
	}
	out := &SyntaxError{Msg: lowerFirst(err.Error()), Src: src}
	if tok := stopped.Current(); tok != nil {
		out.Line, out.Col = tok.Line, tok.Col
	}
	return out
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// lexAll returns the tokens of src, ending with EOF or an error token.
func lexAll(src string, cfg *config.Config) []*tokens.Token {
	stream := tokens.LexAll(src, cfg)
	var out []*tokens.Token
	for tok := stream.Current(); tok != nil; tok = stream.Current() {
		out = append(out, tok)
		if tok.Type == tokens.EOF || tok.Type == tokens.Error {
			break
		}
		stream.Next()
	}
	return out
}

// rewriteTestKwargs turns `x is [not] name(args, k=v)` into
// `x | __test__('name', args, k=v[, __negate=true])`: gonja parses a test's
// arguments as one literal and cannot take keyword arguments, filters can.
func rewriteTestKwargs(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if tok.Type != tokens.Is {
			out = append(out, tok)
			continue
		}
		j := i + 1
		negate := j < len(toks) && toks[j].Type == tokens.Not
		if negate {
			j++
		}
		if j+1 >= len(toks) || toks[j].Type != tokens.Name || toks[j+1].Type != tokens.LeftParenthesis {
			out = append(out, tok)
			continue
		}
		depth, end, hasKw := 0, -1, false
		for k := j + 1; k < len(toks) && end < 0; k++ {
			switch toks[k].Type {
			case tokens.LeftParenthesis:
				depth++
			case tokens.RightParenthesis:
				depth--
				if depth == 0 {
					end = k
				}
			case tokens.Assign:
				if depth == 1 {
					hasKw = true
				}
			}
		}
		if end < 0 || !hasKw {
			out = append(out, tok)
			continue
		}
		at := func(t tokens.Type, val string) *tokens.Token {
			return &tokens.Token{Type: t, Val: val, Pos: tok.Pos, Line: tok.Line, Col: tok.Col}
		}
		out = append(out, at(tokens.Pipe, "|"), at(tokens.Name, testFilter), at(tokens.LeftParenthesis, "("),
			at(tokens.String, toks[j].Val), at(tokens.Comma, ","))
		out = append(out, toks[j+2:end]...)
		if negate {
			out = append(out, at(tokens.Comma, ","), at(tokens.Name, "__negate"), at(tokens.Assign, "="), at(tokens.Name, "true"))
		}
		out = append(out, toks[end])
		i = end
	}
	return out
}

// Check parses s as a template without rendering it and reports syntax
// errors, so a playbook can be validated before any host is contacted.
func (e *Engine) Check(s string) error {
	if !IsTemplate(s) {
		return nil
	}
	_, err := e.compile(s)
	return err
}

// CheckCondition parses a when:/changed_when:/failed_when:/until:
// condition the way Truthy reads it, without evaluating it.
func (e *Engine) CheckCondition(cond any) error {
	switch c := normalize(cond).(type) {
	case []any:
		for _, item := range c {
			if err := e.CheckCondition(item); err != nil {
				return err
			}
		}
	case string:
		s := strings.TrimSpace(c)
		if s == "" {
			return nil
		}
		if IsTemplate(s) {
			return e.Check(s)
		}
		cc, err := e.compile(condPrefix + "{{ " + s + " }}")
		if err != nil {
			return err
		}
		if cc.single == nil {
			return &SyntaxError{Msg: "not a single expression", Line: 1, Src: s}
		}
	}
	return nil
}

// crlf turns every line ending of a template's source into "\n", as
// Jinja2's lexer does.
var crlf = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// padNewlines gives a rendered template as many trailing "\n" as its
// source has when it has fewer, as Ansible's templar does after rendering
// with Jinja2's keep_trailing_newline off: "{{ text }}\n" with text ending in
// a newline renders one newline, not two, and a final "{% endif %}\n" keeps
// the file's last newline.
func padNewlines(src, out string) string {
	want := len(src) - len(strings.TrimRight(src, "\n"))
	have := len(out) - len(strings.TrimRight(out, "\n"))
	if want > have {
		out += strings.Repeat("\n", want-have)
	}
	return out
}

// RenderText returns what Ansible's template module writes for a source
// without template markup: Jinja2 still turns its line endings into "\n"
// and drops the final newline, which padNewlines then restores.
func RenderText(src string) string {
	if strings.HasPrefix(src, jinjaOverride) {
		// The template module renders every file: its "#jinja2:" line
		// goes even when nothing else is markup.
		if body, _, err := overrides(src, config.New()); err == nil {
			src = body
		}
	}
	return padNewlines(src, strings.TrimSuffix(crlf.Replace(src), "\n"))
}
