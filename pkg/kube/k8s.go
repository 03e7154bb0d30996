package kube

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/tend-dev/tend/pkg/module"
)

// K8s creates, updates and deletes Kubernetes objects with server-side
// apply, from the controller.
type K8s struct{}

// Plan works out what the task would change; Apply does it.
func (K8s) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	objs, err := k8sObjects(a)
	if err != nil {
		return module.Unchanged(module.Failed("k8s: %v", err)), nil
	}
	c, err := newKubeClient(kubeAuthFrom(a))
	if err != nil {
		return module.Unchanged(module.Failed("k8s: %v", err)), nil
	}
	var steps []*k8sStep
	// Namespaces this task creates: objects in them cannot be dry-run yet.
	newNS := map[string]bool{}
	for _, o := range objs {
		s, err := planObject(ctx, c, a, o, newNS)
		if err != nil {
			return module.Unchanged(module.Failed("k8s: %s: %v", objectKey(o), err)), nil
		}
		if s.changed && s.live == nil && o["kind"] == "Namespace" && o["apiVersion"] == "v1" {
			md, _ := o["metadata"].(map[string]any)
			name, _ := md["name"].(string)
			newNS[name] = true
		}
		steps = append(steps, s)
	}
	p := &module.Plan{}
	var results []any
	for _, s := range steps {
		if s.changed {
			p.Changed = true
			if h.Diff {
				p.Diff = append(p.Diff, module.Diff{
					BeforeHeader: s.key + " (before)", AfterHeader: s.key + " (after)",
					Before: mustYAML(cleanObject(s.live)), After: mustYAML(cleanObject(s.after)),
				})
			}
		}
		results = append(results, or2(s.after, s.live))
	}
	p.Result = k8sResult(results)
	if !p.Changed {
		return p, nil
	}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		var results []any
		for _, s := range steps {
			if !s.changed {
				results = append(results, or2(s.after, s.live))
				continue
			}
			obj, err := s.apply(ctx)
			if err != nil {
				return module.Failed("k8s: %s: %v", s.key, err), nil
			}
			results = append(results, obj)
		}
		res := k8sResult(results)
		res["changed"] = true
		return res, nil
	}
	return p, nil
}

func or2(a, b map[string]any) map[string]any {
	if a != nil {
		return a
	}
	return b
}

func k8sResult(results []any) module.Result {
	if len(results) == 1 {
		return module.Result{"result": results[0]}
	}
	return module.Result{"result": map[string]any{"results": results}}
}

func mustYAML(v map[string]any) string {
	s, _ := yamlOrEmpty(v)
	return s
}

// k8sStep is what the plan found for one object.
type k8sStep struct {
	key         string
	changed     bool
	live, after map[string]any
	apply       func(ctx context.Context) (map[string]any, error)
}

// planObject plans one object. newNS names the namespaces that earlier
// objects of the task create: an object in one of them is new, and since
// the server cannot dry-run it before its namespace exists, its planned
// state is its definition.
func planObject(ctx context.Context, c *kubeClient, a module.Args, o map[string]any, newNS map[string]bool) (*k8sStep, error) {
	md, _ := o["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	apiVersion, _ := o["apiVersion"].(string)
	kind, _ := o["kind"].(string)
	if name == "" || kind == "" {
		return nil, errors.New("the object needs kind and metadata.name")
	}
	ri, ns, err := c.resource(apiVersion, kind, cmp.Or(ns, a.String("namespace")))
	if err != nil {
		return nil, err
	}
	if ns != "" {
		md["namespace"] = ns
	}
	s := &k8sStep{key: objectKey(o)}
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("reading it: %w", err)
	default:
		s.live = live.Object
	}
	if a.String("state") == "absent" {
		if s.live == nil {
			return s, nil
		}
		s.changed = true
		s.apply = func(ctx context.Context) (map[string]any, error) {
			return s.live, deleteObject(ctx, ri, name, a.Dict("delete_options"))
		}
		return s, nil
	}
	body, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	ssa := a.Dict("server_side_apply")
	manager, _ := ssa["field_manager"].(string)
	force, _ := module.ToBool(ssa["force_conflicts"])
	opts := metav1.PatchOptions{FieldManager: cmp.Or(manager, "tend"), Force: ptr(force || a.Bool("force")), FieldValidation: "Strict"}
	dry := opts
	dry.DryRun = []string{metav1.DryRunAll}
	after, err := ri.Patch(ctx, name, types.ApplyPatchType, body, dry)
	switch {
	case err != nil && s.live == nil && newNS[ns] && apierrors.IsNotFound(err):
		s.after, s.changed = o, true
	case err != nil:
		return nil, fmt.Errorf("server-side apply (dry run): %w", err)
	default:
		s.after = after.Object
		s.changed = s.live == nil || !reflect.DeepEqual(cleanObject(s.live), cleanObject(s.after))
	}
	s.apply = func(ctx context.Context) (map[string]any, error) {
		res, err := ri.Patch(ctx, name, types.ApplyPatchType, body, opts)
		if err != nil {
			return nil, fmt.Errorf("server-side apply: %w", err)
		}
		return res.Object, nil
	}
	return s, nil
}

func ptr[T any](v T) *T { return &v }

func deleteObject(ctx context.Context, ri dynamic.ResourceInterface, name string, o map[string]any) error {
	var opts metav1.DeleteOptions
	if p, ok := o["propagationPolicy"].(string); ok {
		pp := metav1.DeletionPropagation(p)
		opts.PropagationPolicy = &pp
	}
	if g, ok := module.ToInt(o["gracePeriodSeconds"]); ok && o["gracePeriodSeconds"] != nil {
		opts.GracePeriodSeconds = ptr(int64(g))
	}
	err := ri.Delete(ctx, name, opts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting: %w", err)
	}
	return nil
}

// k8sObjects returns the objects the task names: definition, src, or
// api_version/kind/name.
func k8sObjects(a module.Args) ([]map[string]any, error) {
	var raw []any
	switch {
	case a.Has("src"):
		b, err := os.ReadFile(a.String("src"))
		if err != nil {
			return nil, fmt.Errorf("src: %w", err)
		}
		docs, err := yamlDocs(string(b))
		if err != nil {
			return nil, fmt.Errorf("src %s: %w", a.String("src"), err)
		}
		raw = docs
	case a.Has("definition"):
		switch d := a["definition"].(type) {
		case string:
			docs, err := yamlDocs(d)
			if err != nil {
				return nil, fmt.Errorf("definition: %w", err)
			}
			raw = docs
		case []any:
			raw = d
		default:
			raw = []any{d}
		}
	default:
		if a.String("kind") == "" || a.String("name") == "" {
			return nil, errors.New("give definition, src, or kind and name")
		}
		raw = []any{map[string]any{"apiVersion": a.String("api_version"), "kind": a.String("kind"),
			"metadata": map[string]any{"name": a.String("name")}}}
	}
	var objs []map[string]any
	for i, r := range raw {
		m, err := jsonValues(toStringMap(r))
		if err != nil || len(m) == 0 {
			return nil, fmt.Errorf("object %d is not a mapping", i+1)
		}
		if _, ok := m["apiVersion"]; !ok {
			m["apiVersion"] = a.String("api_version")
		}
		md, ok := m["metadata"].(map[string]any)
		if !ok {
			md = map[string]any{}
			m["metadata"] = md
		}
		if _, ok := md["name"]; !ok && a.String("name") != "" {
			md["name"] = a.String("name")
		}
		objs = append(objs, m)
	}
	return objs, nil
}

func toStringMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func yamlDocs(s string) ([]any, error) {
	var out []any
	for _, doc := range splitYAMLDocs(s) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, err
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}
