package module

import (
	"reflect"
	"testing"
)

func TestDiffsOf(t *testing.T) {
	got := DiffsOf([]any{
		map[string]any{"before": "a\n", "after": "b\n", "before_header": "/f", "after_header": "/f"},
		map[string]any{"before": nil, "after": map[string]any{"k": 1, "a": []any{true}}},
		map[string]any{"prepared": "x"},
		"junk",
	})
	want := []Diff{
		{BeforeHeader: "/f", AfterHeader: "/f", Before: "a\n", After: "b\n"},
		{Before: "", After: "{\n    \"a\": [\n        true\n    ],\n    \"k\": 1\n}\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if DiffsOf("x") != nil || DiffsOf(nil) != nil {
		t.Fatal("not a diff")
	}
}
