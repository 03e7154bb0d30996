package odict

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOrder(t *testing.T) {
	d := New(0)
	d.Set("z", 1)
	d.Set("a", 2)
	d.Set("m", 3)
	d.Set("z", 4) // an existing key keeps its place
	d.Delete("a")
	d.Set("a", 5) // a deleted key comes back last
	if got := strings.Join(d.Keys(), ","); got != "z,m,a" {
		t.Fatalf("keys %s, want z,m,a", got)
	}
	b, err := json.Marshal(map[string]any{"d": d})
	if err != nil || string(b) != `{"d":{"z":4,"m":3,"a":5}}` {
		t.Fatalf("json %s %v", b, err)
	}
	c := d.Clone()
	c.Set("new", 1)
	if d.Len() != 3 || c.Len() != 4 {
		t.Fatalf("clone shares its keys: %d %d", d.Len(), c.Len())
	}
}

func TestUpdateCopiesOnlyOnChange(t *testing.T) {
	d := New(0)
	d.Set("b", "x")
	d.Set("a", "y")
	same, changed, _ := d.Update(func(v any) (any, bool, error) { return v, false, nil })
	if changed || same != d {
		t.Fatal("Update without a change must return the dict itself")
	}
	up, changed, _ := d.Update(func(v any) (any, bool, error) {
		return v.(string) + "!", v == "y", nil
	})
	if !changed || up == d || strings.Join(up.Keys(), ",") != "b,a" || up.Map()["a"] != "y!" || up.Map()["b"] != "x" || d.Map()["a"] != "y" {
		t.Fatalf("Update: %v %v (original %v)", up.Keys(), up.Map(), d.Map())
	}
}

func TestPlainAndAs(t *testing.T) {
	inner := New(0)
	inner.Set("k", 1)
	plainMap := map[string]any{"l": []any{1}}
	v := []any{map[string]any{"d": inner}, plainMap}
	p := Plain(v).([]any)
	if m, ok := p[0].(map[string]any)["d"].(map[string]any); !ok || m["k"] != 1 {
		t.Fatalf("Plain did not convert the nested dict: %#v", p[0])
	}
	if _, ok := v[0].(map[string]any)["d"].(*Dict); !ok {
		t.Fatal("Plain modified its input")
	}
	if got := Plain(plainMap).(map[string]any); len(got) != 1 {
		t.Fatal("Plain of a plain map")
	}
	keys, m, ok := As(map[string]any{"b": 1, "a": 2})
	if !ok || strings.Join(keys, ",") != "a,b" || len(m) != 2 {
		t.Fatalf("As on a plain map: %v %v", keys, ok)
	}
	if _, _, ok := As([]any{}); ok || IsDict("x") || !IsDict(inner) {
		t.Fatal("As/IsDict accept a non-dict")
	}
}
