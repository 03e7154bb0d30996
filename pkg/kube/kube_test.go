package kube

import (
	"reflect"
	"strings"
	"testing"
)

func TestManifestObjectsAndDiffs(t *testing.T) {
	before, err := manifestObjects(`---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: posit
data:
  a: "1"
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: posit}
spec: {ports: [{port: 80}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 2 || before["ConfigMap posit/cfg"] == nil || before["Service posit/svc"] == nil {
		t.Fatalf("objects: %v", before)
	}
	after, err := manifestObjects(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: posit}
data: {a: "2"}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: posit}
spec:
  ports:
  - port: 80
---
apiVersion: v1
kind: Secret
metadata: {name: new, namespace: posit}
`)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := objectDiffs(before, after, "release r")
	if err != nil {
		t.Fatal(err)
	}
	var heads []string
	for _, d := range diffs {
		heads = append(heads, d.BeforeHeader)
	}
	want := []string{"release r: ConfigMap posit/cfg (before)", "release r: Secret posit/new (before)"}
	if !reflect.DeepEqual(heads, want) {
		t.Errorf("diffs for %v, want %v", heads, want)
	}
	if !strings.Contains(diffs[0].Before, `a: "1"`) || !strings.Contains(diffs[0].After, `a: "2"`) || diffs[1].Before != "" {
		t.Errorf("diff contents: %+v", diffs)
	}
}

func TestMergeValues(t *testing.T) {
	got := mergeValues(
		map[string]any{"a": map[string]any{"x": 1, "y": 2}, "b": []any{1}},
		map[string]any{"a": map[string]any{"y": 3}, "b": []any{2}, "c": "s"},
	)
	want := map[string]any{"a": map[string]any{"x": 1, "y": 3}, "b": []any{2}, "c": "s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
