// Package template renders Ansible-compatible Jinja2 templates.
//
// Parsing is done by github.com/nikolalohinski/gonja/v2; evaluation is done
// here, on plain Go values (string, int, float64, bool, nil, []any,
// map[string]any), so that Ansible's semantics hold: undefined variables are
// errors unless guarded by default/is defined, variables holding templates
// are rendered lazily when used, a template made of a single "{{ expr }}"
// yields the native value, and filters, tests and lookups follow Ansible's
// names and behaviour.
//
// An Engine is safe for concurrent use and caches compiled templates.
//
// # Parse
//
// Engine.compile (engine.go) strips Ansible's FQCN prefixes
// (ansible.builtin.to_json is to_json), rewrites the token stream where
// gonja's grammar is narrower than Jinja2's (rewrite.go: an inline if
// anywhere in an expression, word operators before a line break, the right
// operand of in, *args and **kwargs in calls) and parses with the
// statements of structures.go and blocks.go: gonja's own where their nodes
// expose their fields; set, raw, include, with, filter, call, block and
// extends parsed here. Compiled templates are cached by source, shared by the
// engines made with WithSearchPath and WithContext.
//
// # Evaluate
//
// gonja's evaluator is not used: its values, undefined handling and
// Python semantics differ from Ansible's. Each Render creates a state
// (eval.go) holding the variables, the template-local scopes ({% set %},
// loop variables, macro arguments) and what is being rendered. The
// statements (text, if, for, set, macro, include, break, continue, do;
// with, filter, call and template inheritance in blocks.go) are in
// eval_stmt.go; expressions, operators with Python's semantics (integers
// do not overflow: bigint.go) and calls in eval_expr.go; the Python
// methods templates call ('a,b'.split(','), d.items()) in pymethods.go;
// truthiness, str() and the Python type names in values.go.
//
// # Variables
//
// A name is looked up in the template locals, then the variables, then
// Jinja2's lowercase constants (none, true, false). A variable whose value
// is a string holding a template is rendered when it is read, with the same
// variables, as Ansible's lazy templating does; the result is memoized for
// the rest of the render, and a variable that needs itself is reported as a
// recursive loop. Strings holding templates inside lists and maps are
// rendered when an element is reached (resolveLazy) or when a whole value
// leaves the evaluator (deepResolve). A Lazy value (hostvars) is computed
// only when a template reads it. A missing name is an undefined value that
// only default, mandatory and the defined/undefined tests accept; any other
// use is an UndefinedError naming it.
//
// # Unsafe data
//
// Text from managed hosts (registered results, facts) and lookup results is
// Unsafe and is never rendered as a template (unsafe.go). A render that
// reads Unsafe data is tainted: RenderMarked and RenderValueMarked then
// mark their result Unsafe too, so storing it (set_fact, loop items) never
// turns host data into a template, and values built inside such a render
// are sealed so that lazy rendering skips them.
//
// # Limits
//
// A template is input, so what one render may build is bounded, each bound
// failing like Python's MemoryError rather than exhausting the controller:
// repetition (maxRepeat), rendered text (maxRendered), nesting (maxDepth
// for lazy rendering and macro calls, maxNesting for data), integer size
// (maxIntBits), the counts in limits.go and the work one render may do
// (maxWork: loop iterations, macro calls, range items and the size of
// operator results, so that loops with an empty body cannot run for hours).
// WithContext makes loops, macro calls and lookup commands stop when the
// run is interrupted.
//
// # Filters, tests and lookups
//
// Each is a function registered by name in a table the Engine holds:
// builtinFilters (filters.go, with the text, regex, encoding and path
// groups in filters_text.go), builtinTests (tests.go) and builtinLookups
// (lookups.go). A new one is a function plus one line in its table.
// Lookups that run commands (pipe, lines) run /bin/sh on the controller in
// the playbook directory, in their own process group so cancelling kills
// the whole command.
package template
