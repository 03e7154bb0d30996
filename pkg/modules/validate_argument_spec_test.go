package modules

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/vars"
)

// TestValidateArgumentSpecMessages checks the validator against the error
// messages of ansible-core 2.14's ArgumentSpecValidator for the same
// specs and values (obtained with its Python code; values given as plain
// Python str there, so "<class 'str'>" reads AnsibleUnicode here, the class
// of a string read from YAML).
func TestValidateArgumentSpecMessages(t *testing.T) {
	cases := []struct {
		name, spec, params string
		want               []string
	}{
		{"aliases and conversions pass", `{name: {aliases: [n]}, count: {type: int}}`, `{n: x, count: "12"}`, nil},
		{"list of dicts with group checks", `{users: {type: list, elements: dict, options: {name: {required: true}, state: {choices: [present, absent], default: present}, home: {}, shell: {}},
			required_if: [[state, absent, [home, shell], true]], required_together: [[home, shell]], required_by: {shell: [home]}}}`,
			`{users: [{name: a, state: absent}, {state: gone, shell: /bin/sh}]}`, []string{
				"state is absent but any of the following are missing: home, shell found in users",
				"missing required arguments: name found in users",
				"value of state must be one of: present, absent, got: gone found in users",
				"parameters are required together: home, shell found in users",
				"missing parameter(s) required by 'shell': home found in users",
			}},
		{"conversions fail", `{pkgs: {type: list, choices: [a, b]}, ratio: {type: float}, opts: {type: dict}, f: {type: bool}}`,
			`{pkgs: "a,c", ratio: x, opts: k=v other, f: "on"}`, []string{
				"argument 'ratio' is of type <class 'str'> and we were unable to convert to float: <class 'str'> cannot be converted to a float",
				"argument 'opts' is of type <class 'str'> and we were unable to convert to dict: dictionary update sequence element #1 has length 1; 2 is required",
				"value of pkgs must be one or more of: a, b. Got no match for: c",
			}},
		{"apply_defaults, elements on a str, unknown name", `{conf: {type: dict, apply_defaults: true, options: {x: {required: true}}}, s: {type: str, elements: str}}`,
			`{s: a, zzz: 1}`, []string{
				"Invalid type str for option 'a', elements value check is supported only with 'list' type",
				"missing required arguments: x found in conf",
				"zzz. Supported parameters include: conf, s.",
			}},
		{"elements and required_one_of", `{conf: {type: dict, options: {a: {}, b: {}}, required_one_of: [[a, b]]}, l: {type: list, elements: int}}`,
			`{conf: {}, l: [1, "2", x]}`, []string{
				"Elements value for option 'l' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
				"one of the following is required: a, b found in conf",
			}},
		{"dict, list and float values; bytes and bits", `{tidy: {type: list}, sdict: {type: dict}, sint: {type: int}, sbits: {type: bits}, sbytes: {type: bytes}, sb2: {type: bytes}}`,
			`{tidy: {k: v}, sdict: [a], sint: 37.0, sbits: foo, sbytes: 2K, sb2: 1Mb}`, []string{
				"argument 'tidy' is of type <class 'dict'> and we were unable to convert to list: <class 'dict'> cannot be converted to a list",
				"argument 'sdict' is of type <class 'list'> and we were unable to convert to dict: <class 'list'> cannot be converted to a dict",
				"argument 'sint' is of type <class 'float'> and we were unable to convert to int: <class 'float'> cannot be converted to an int",
				"argument 'sbits' is of type <class 'str'> and we were unable to convert to bits: <class 'str'> cannot be converted to a Bit value",
				"argument 'sb2' is of type <class 'str'> and we were unable to convert to bytes: <class 'str'> cannot be converted to a Byte value",
			}},
		{"nested option values that are not dicts", `{lst: {type: list, elements: dict, options: {n: {}}}, more: {type: dict, options: {l: {}}}}`,
			`{lst: [5], more: x}`, []string{
				"Value '5' in the sub parameter field 'lst' must by a list, not 'int'",
				"Elements value for option 'lst' is of type <class 'int'> and we were unable to convert to dict: <class 'int'> cannot be converted to a dict",
				"argument 'more' is of type <class 'str'> and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
				"value of 'more' must be of type dict or list of dicts",
			}},
		{"a string for nested options stops the first check", `{more: {type: dict, options: {l: {}}}, lst: {type: list, elements: dict, options: {n: {}}}}`,
			`{lst: [5], more: x}`, []string{
				"dictionary requested, could not parse JSON or key=value",
				"argument 'more' is of type <class 'str'> and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
				"Elements value for option 'lst' is of type <class 'int'> and we were unable to convert to dict: <class 'int'> cannot be converted to a dict",
				"value of 'more' must be of type dict or list of dicts",
			}},
	}
	decode := func(t *testing.T, src string) any {
		t.Helper()
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		v, err := vars.Decode("test.yml", n.Content[0])
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := module.Args{"argument_spec": decode(t, c.spec), "provided_arguments": decode(t, c.params)}
			p, err := (&ValidateArgumentSpec{}).Plan(context.Background(), &module.Host{Name: "h"}, args)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := p.Result["argument_errors"].([]string)
			var want []string
			for _, w := range c.want {
				want = append(want, strings.ReplaceAll(w, "<class 'str'>", "<class 'ansible.parsing.yaml.objects.AnsibleUnicode'>"))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("argument_errors (-ansible +tend):\n%s", d)
			}
			if failed := p.Result["failed"] == true; failed != (len(want) > 0) {
				t.Errorf("failed=%v, want %v: %v", failed, len(want) > 0, p.Result)
			}
		})
	}
}
