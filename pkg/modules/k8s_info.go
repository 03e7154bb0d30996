package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
)

// K8sInfo reads Kubernetes objects, from the controller.
type K8sInfo struct{}

var _ module.Module = K8sInfo{}

// Spec implements module.Module.
func (K8sInfo) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "kind", Type: module.String, Required: true, Doc: "The objects' kind."},
		{Name: "api_version", Aliases: []string{"api", "version"}, Type: module.String, Default: "v1", Doc: "The kind's apiVersion."},
		{Name: "name", Type: module.String, Doc: "One object by name; default all."},
		{Name: "namespace", Type: module.String, Doc: "The namespace; default all namespaces (for namespaced kinds)."},
		{Name: "label_selectors", Type: module.List, Elements: module.String, Default: []any{}, Doc: "Label selectors (\"app=web\"), all of which must match."},
		{Name: "field_selectors", Type: module.List, Elements: module.String, Default: []any{}, Doc: "Field selectors (\"status.phase=Running\"), all of which must match."},
		{Name: "wait", Type: module.Bool, Default: false, Doc: "Accepted; not waited for (use until/retries)."},
		{Name: "wait_timeout", Type: module.Int, Default: 120, Doc: "Accepted with wait."},
	}
	return &module.Spec{
		Name:  "k8s_info",
		Short: "Read Kubernetes objects (on the controller)",
		Description: "Returns the objects of a kind, by name, namespace, label and field selectors, as kubernetes.core.k8s_info " +
			"does: resources (a list) and api_found. Never a change; runs in check mode, in tend-kube on the controller.",
		Args:       append(args, kubeAuthArgs()...),
		Check:      module.CheckFull,
		Controller: true,
		Examples: `- kubernetes.core.k8s_info:
    kind: Deployment
    api_version: apps/v1
    namespace: posit
    label_selectors: [app.kubernetes.io/name=rstudio-pm]
  register: rspm
  until: rspm.resources[0].status.availableReplicas | default(0) > 0
  retries: 30`,
	}
}

// Plan implements module.Module: tend-kube plans (and applies) the task.
func (K8sInfo) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	return kubePlan(ctx, "k8s_info", h, a)
}
