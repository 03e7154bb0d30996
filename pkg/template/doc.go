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
package template
