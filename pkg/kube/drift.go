package kube

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/tend-dev/tend/pkg/module"
)

// helmFieldManager is the field manager the release's objects are applied
// with: the helm command's, so that tend, kubernetes.core.helm and helm
// itself share the ownership of the fields they set.
const helmFieldManager = "helm"

// liveDrift compares each object of the deployed release with what the
// cluster holds now: a server-side dry run of applying the object as
// deployed (forcing conflicts, as the repair does) tells what applying it
// again would change. An object someone edited by hand (kubectl edit,
// patch) or deleted is a difference; fields the chart does not set, and
// everything the server maintains, are not.
func (r *helmRun) liveDrift(ctx context.Context, rel *release.Release) ([]module.Diff, error) {
	objs, err := manifestObjects(rel.Manifest)
	if err != nil {
		return nil, fmt.Errorf("reading the deployed manifest: %w", err)
	}
	c, err := newKubeClient(kubeAuthFrom(r.args))
	if err != nil {
		return nil, err
	}
	var diffs []module.Diff
	for _, k := range slices.Sorted(maps.Keys(objs)) {
		d, err := r.objectDrift(ctx, c, objs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		diffs = append(diffs, d...)
	}
	return diffs, nil
}

func (r *helmRun) objectDrift(ctx context.Context, c *kubeClient, obj map[string]any) ([]module.Diff, error) {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	ri, ns, err := c.resource(apiVersion, kind, cmp.Or(ns, r.ns))
	if err != nil {
		return nil, err
	}
	want := make(map[string]any, len(obj))
	for k, v := range obj {
		want[k] = v
	}
	wmd := make(map[string]any, len(md)+1)
	for k, v := range md {
		wmd[k] = v
	}
	if ns != "" {
		wmd["namespace"] = ns
	}
	// Helm adds its ownership marks when it applies an object; they are
	// not in the stored manifest, and applying without them would drop them.
	wmd["labels"] = withEntries(wmd["labels"], map[string]any{"app.kubernetes.io/managed-by": "Helm"})
	wmd["annotations"] = withEntries(wmd["annotations"], map[string]any{"meta.helm.sh/release-name": r.name, "meta.helm.sh/release-namespace": r.ns})
	want["metadata"] = wmd
	key := "release " + r.name + ": " + objectKey(want)
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return []module.Diff{{BeforeHeader: key + " (live: missing)", AfterHeader: key + " (deployed)", After: mustYAML(want)}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading it: %w", err)
	}
	body, err := json.Marshal(want)
	if err != nil {
		return nil, err
	}
	after, err := ri.Patch(ctx, name, types.ApplyPatchType, body, metav1.PatchOptions{
		FieldManager: helmFieldManager, Force: ptr(true), DryRun: []string{metav1.DryRunAll},
	})
	if err != nil {
		return nil, fmt.Errorf("server-side apply (dry run): %w", err)
	}
	before, afterObj := cleanObject(live.Object), cleanObject(after.Object)
	if reflect.DeepEqual(before, afterObj) {
		return nil, nil
	}
	return []module.Diff{{BeforeHeader: key + " (live)", AfterHeader: key + " (deployed)", Before: mustYAML(before), After: mustYAML(afterObj)}}, nil
}

// withEntries returns a copy of the string map m with add's entries.
func withEntries(m any, add map[string]any) map[string]any {
	out := map[string]any{}
	if old, ok := m.(map[string]any); ok {
		for k, v := range old {
			out[k] = v
		}
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}
