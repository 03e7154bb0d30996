package kube

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/tend-dev/tend/pkg/module"
)

// K8sInfo reads Kubernetes objects, from the controller.
type K8sInfo struct{}

// Plan works out what the task would change; Apply does it.
func (K8sInfo) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	c, err := newKubeClient(kubeAuthFrom(a))
	if err != nil {
		return module.Unchanged(module.Failed("k8s_info: %v", err)), nil
	}
	ns := a.String("namespace")
	var ri dynamic.ResourceInterface
	if ns == "" {
		ri, err = c.allNamespaces(a.String("api_version"), a.String("kind"))
	} else {
		ri, _, err = c.resource(a.String("api_version"), a.String("kind"), ns)
	}
	if meta.IsNoMatchError(err) {
		return module.Unchanged(module.Result{"api_found": false, "resources": []any{}}), nil
	}
	if err != nil {
		return module.Unchanged(module.Failed("k8s_info: %v", err)), nil
	}
	var items []any
	if name := a.String("name"); name != "" {
		obj, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return module.Unchanged(module.Failed("k8s_info: reading %s %s: %v", a.String("kind"), name, err)), nil
		}
		if err == nil {
			items = append(items, obj.Object)
		}
	} else {
		list, err := ri.List(ctx, metav1.ListOptions{
			LabelSelector: strings.Join(a.List("label_selectors"), ","),
			FieldSelector: strings.Join(a.List("field_selectors"), ","),
		})
		if err != nil {
			return module.Unchanged(module.Failed("k8s_info: listing %s: %v", a.String("kind"), err)), nil
		}
		for _, it := range list.Items {
			items = append(items, it.Object)
		}
	}
	if items == nil {
		items = []any{}
	}
	return module.Unchanged(module.Result{"api_found": true, "resources": items}), nil
}
