package module

import (
	"context"
	"errors"
	"github.com/tend-dev/tend/pkg/odict"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testSpec = &Spec{
	Name: "t",
	Args: []Arg{
		{Name: "path", Aliases: []string{"dest", "name"}, Type: Path, Required: true},
		{Name: "state", Type: String, Default: "file", Choices: []string{"file", "absent"}},
		{Name: "force", Type: Bool, Default: false},
		{Name: "count", Type: Int},
		{Name: "names", Type: List, Elements: String},
		{Name: "opts", Type: Dict},
		{Name: "a", Type: String},
		{Name: "b", Type: String},
	},
	MutuallyExclusive: [][]string{{"a", "b"}},
	RequiredTogether:  [][]string{{"count", "names"}},
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		raw     map[string]any
		static  bool
		want    Args
		wantErr string
	}{
		{name: "alias and defaults", raw: map[string]any{"dest": "/x"},
			want: Args{"path": "/x", "state": "file", "force": false}},
		{name: "coercion", raw: map[string]any{"path": "/x", "force": "yes", "count": "3", "names": "a, b", "opts": "k=v"},
			want: Args{"path": "/x", "state": "file", "force": true, "count": 3, "names": []any{"a", "b"}, "opts": map[string]any{"k": "v"}}},
		{name: "unknown argument", raw: map[string]any{"path": "/x", "pth": 1}, wantErr: `unsupported argument "pth"`},
		{name: "missing required", raw: map[string]any{}, wantErr: `missing required argument "path"`},
		{name: "bad choice", raw: map[string]any{"path": "/x", "state": "gone"}, wantErr: `value "gone" is not one of file, absent`},
		{name: "bad bool", raw: map[string]any{"path": "/x", "force": "maybe"}, wantErr: `expected a boolean`},
		{name: "bad int is not also missing", raw: map[string]any{"path": "/x", "count": "many", "names": "a"}, wantErr: `argument "count": expected an integer, got "many"`},
		{name: "mutually exclusive", raw: map[string]any{"path": "/x", "a": "1", "b": "2"}, wantErr: "mutually exclusive: a, b"},
		{name: "required together", raw: map[string]any{"path": "/x", "count": 1}, wantErr: "must be given together: count, names (missing names)"},
		{name: "alias given twice", raw: map[string]any{"path": "/x", "dest": "/y"}, wantErr: "given twice"},
		{name: "static templates pass", raw: map[string]any{"path": "/x", "force": "{{ f }}", "state": "{{ s }}"}, static: true,
			want: Args{"path": "/x", "force": "{{ f }}", "state": "{{ s }}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := testSpec.Validate(tc.raw, tc.static)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Count(err.Error(), "missing required") > 0 && !strings.Contains(tc.wantErr, "missing") {
					t.Fatalf("an invalid value must not also be reported missing: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatal(d)
			}
		})
	}
}

type fakePlan struct {
	plan *Plan
}

func (f fakePlan) Spec() *Spec { return &Spec{Name: "fake"} }
func (f fakePlan) Plan(ctx context.Context, h *Host, a Args) (*Plan, error) {
	return f.plan, nil
}

// Execute is the check-mode contract: Apply runs only for a real run of
// a changing plan.
func TestExecute(t *testing.T) {
	for _, tc := range []struct {
		name          string
		changed       bool
		unpredictable bool
		check         bool
		wantApplied   bool
		want          Result
	}{
		{"unchanged", false, false, false, false, Result{"changed": false, "path": "/x"}},
		{"changed, real run", true, false, false, true, Result{"changed": true, "applied": true}},
		{"changed, check", true, false, true, false, Result{"changed": true, "path": "/x"}},
		{"unpredictable, check", true, true, true, false, Result{"changed": false, "skipped": true, "msg": "Command would have run if not in check mode"}},
		{"unpredictable, real run", true, true, false, true, Result{"changed": true, "applied": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied := false
			p := &Plan{Changed: tc.changed, Unpredictable: tc.unpredictable, Result: Result{"path": "/x"},
				Apply: func(context.Context) (Result, error) { applied = true; return Result{"applied": true}, nil }}
			got, _, err := Execute(context.Background(), fakePlan{plan: p}, &Host{}, Args{}, tc.check)
			if err != nil {
				t.Fatal(err)
			}
			if applied != tc.wantApplied {
				t.Fatalf("applied=%v, want %v", applied, tc.wantApplied)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// TestValidateNUL: a NUL byte in any argument of a module that runs on the
// host fails validation naming the argument, except in file content.
func TestValidateNUL(t *testing.T) {
	host := &Spec{Name: "h", Args: []Arg{
		{Name: "path", Type: Path},
		{Name: "names", Type: List, Elements: String},
		{Name: "opts", Type: Dict},
		{Name: "content", Type: String, Content: true},
	}}
	ctrl := &Spec{Name: "c", Controller: true, Args: []Arg{{Name: "msg", Type: Raw}}}
	tests := []struct {
		name    string
		spec    *Spec
		raw     map[string]any
		static  bool
		wantErr string // "" means valid
	}{
		{name: "path", spec: host, raw: map[string]any{"path": "/a\x00b"}, wantErr: `argument "path" contains a NUL byte`},
		{name: "list element", spec: host, raw: map[string]any{"names": []any{"a", "b\x00"}}, wantErr: `argument "names[1]" contains a NUL byte`},
		{name: "dict value", spec: host, raw: map[string]any{"opts": map[string]any{"k": []any{"x\x00"}}}, wantErr: `argument "opts.k[0]" contains a NUL byte`},
		{name: "dict key", spec: host, raw: map[string]any{"opts": map[string]any{"k\x00": "v"}}, wantErr: `contains a NUL byte`},
		{name: "file content may hold any byte", spec: host, raw: map[string]any{"content": "a\x00b"}},
		{name: "controller module", spec: ctrl, raw: map[string]any{"msg": "a\x00b"}},
		{name: "checked at run time, not at load time", spec: host, raw: map[string]any{"path": "/a\x00b"}, static: true},
		{name: "no NUL", spec: host, raw: map[string]any{"path": "/a b", "names": "x,y", "opts": "k=v"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.spec.Validate(tc.raw, tc.static)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestCheckGroups covers the argument groups on their own, with an
// argument given through its alias and one given as null.
func TestCheckGroups(t *testing.T) {
	s := &Spec{
		Name: "g",
		Args: []Arg{
			{Name: "src", Aliases: []string{"from"}},
			{Name: "content"},
			{Name: "user"},
			{Name: "password"},
		},
		MutuallyExclusive: [][]string{{"src", "content"}},
		RequiredTogether:  [][]string{{"user", "password"}},
		RequiredOneOf:     [][]string{{"src", "content"}},
	}
	tests := []struct {
		name   string
		static bool
		raw    map[string]any
		want   []string
	}{
		{name: "one of", raw: map[string]any{"content": "x"}},
		{name: "alias counts", raw: map[string]any{"from": "x", "content": "y"}, want: []string{"arguments are mutually exclusive: src, content"}},
		{name: "null is not given", raw: map[string]any{"src": nil}, want: []string{"one of these arguments is required: src, content"}},
		{name: "together", raw: map[string]any{"src": "x", "password": "p"}, want: []string{"arguments must be given together: user, password (missing user)"}},
		// Before the run, a template may turn out to be omit: it neither
		// conflicts nor leaves a group incomplete.
		{name: "static omit exclusive", static: true, raw: map[string]any{"src": "{{ a | default(omit) }}", "content": "{{ b | default(omit) }}"}},
		{name: "static omit together", static: true, raw: map[string]any{"src": "x", "user": "{{ u | default(omit) }}"}},
		{name: "static literal exclusive", static: true, raw: map[string]any{"src": "x", "content": "y"}, want: []string{"arguments are mutually exclusive: src, content"}},
		{name: "rendered omit counts", raw: map[string]any{"src": "{{ a }}", "content": "{{ b }}"}, want: []string{"arguments are mutually exclusive: src, content"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, s.checkGroups(tc.raw, tc.static)); d != "" {
				t.Errorf("checkGroups(%v) (-want +got):\n%s", tc.raw, d)
			}
		})
	}
}

func TestCoerce(t *testing.T) {
	tests := []struct {
		name    string
		t, elem Type
		v       any
		want    any
		wantErr string
	}{
		{name: "raw", t: Raw, v: []any{1}, want: []any{1}},
		{name: "string from float", t: String, v: 1.5, want: "1.5"},
		{name: "string from int", t: Path, v: 3, want: "3"},
		{name: "string not a list", t: String, v: []any{"a"}, wantErr: "expected a string"},
		{name: "float from string", t: Float, v: " 2.5 ", want: 2.5},
		{name: "float from int", t: Float, v: 2, want: 2.0},
		{name: "float bad", t: Float, v: "x", wantErr: `expected a number, got "x"`},
		{name: "list from csv", t: List, elem: Int, v: "1, 2", want: []any{1, 2}},
		{name: "list from empty string", t: List, v: "", want: []any{}},
		{name: "list from scalar", t: List, v: 7, want: []any{7}},
		{name: "list bad element", t: List, elem: Int, v: []any{"1", "x"}, wantErr: "element 1: expected an integer"},
		{name: "list not a mapping", t: List, v: map[string]any{}, wantErr: "expected a list, got a mapping"},
		{name: "list not an ordered mapping", t: List, v: odict.FromMap(map[string]any{"a": 1}), wantErr: "expected a list, got a mapping"},
		{name: "dict from an ordered mapping", t: Dict, v: odict.FromMap(map[string]any{"a": 1}), want: map[string]any{"a": 1}},
		{name: "dict from k=v", t: Dict, v: "a=1 b=2", want: map[string]any{"a": "1", "b": "2"}},
		{name: "dict from blank", t: Dict, v: " ", want: map[string]any{}},
		{name: "dict bad", t: Dict, v: "a", wantErr: `expected a mapping, got "a"`},
		{name: "unknown type", t: Type("nope"), v: 1, wantErr: `unknown argument type "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Coerce(tc.t, tc.elem, tc.v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Coerce(%v) error %v, want one containing %q", tc.v, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Coerce(%v) (-want +got):\n%s", tc.v, d)
			}
		})
	}
}

// TestArgErrorAnsible checks the message a module fails with as Ansible's
// would: its first validation error, unknown and mutually exclusive
// arguments before missing ones.
func TestArgErrorAnsible(t *testing.T) {
	spec := &Spec{Name: "t", Args: []Arg{
		{Name: "path", Type: Path, Required: true},
		{Name: "src", Type: Path, Required: true},
		{Name: "a", Type: String},
		{Name: "b", Type: String},
	}, MutuallyExclusive: [][]string{{"a", "b"}}}
	tests := []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{}, "missing required arguments: path, src"},
		{map[string]any{"src": "x"}, "missing required arguments: path"},
		{map[string]any{"bogus": 1}, ""},
		{map[string]any{"a": "1", "b": "2"}, ""},
	}
	for _, tt := range tests {
		_, err := spec.Validate(tt.raw, false)
		var ae *ArgError
		if !errors.As(err, &ae) {
			t.Fatalf("%v: error %v", tt.raw, err)
		}
		if ae.Ansible != tt.want {
			t.Errorf("%v: Ansible message %q, want %q", tt.raw, ae.Ansible, tt.want)
		}
	}
}
