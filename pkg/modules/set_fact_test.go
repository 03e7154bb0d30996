package modules

import (
	"context"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

// cacheable is declared (tend doc, docs/modules.md) while every other key
// stays a variable.
func TestSetFactCacheableDeclared(t *testing.T) {
	spec := (&SetFact{}).Spec()
	if a, ok := spec.Arg("cacheable"); !ok || a.Type != module.Bool {
		t.Fatalf("set_fact spec does not declare cacheable: %+v", spec.Args)
	}
	args, err := spec.Validate(map[string]any{"cacheable": "yes", "foo": 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := (&SetFact{}).Plan(context.Background(), nil, args)
	if err != nil {
		t.Fatal(err)
	}
	facts, _ := p.Result["ansible_facts"].(map[string]any)
	if len(facts) != 1 || facts["foo"] != 1 || p.Result[module.FactsCacheable] != true {
		t.Fatalf("result %v", p.Result)
	}
	args, _ = spec.Validate(map[string]any{"foo": 1}, false)
	p, _ = (&SetFact{}).Plan(context.Background(), nil, args)
	if facts, _ := p.Result["ansible_facts"].(map[string]any); len(facts) != 1 || p.Result[module.FactsCacheable] == true {
		t.Fatalf("without cacheable: %v", p.Result)
	}
}
