package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
)

// K8s creates, updates and deletes Kubernetes objects with server-side
// apply, from the controller.
type K8s struct{}

var _ module.Module = K8s{}

// Spec implements module.Module.
func (K8s) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present creates or updates the objects, absent deletes them."},
		{Name: "definition", Aliases: []string{"resource_definition"}, Type: module.Raw, Doc: "The objects: a mapping, a list of mappings, or YAML text (several documents allowed)."},
		{Name: "src", Type: module.Path, Doc: "A YAML file of objects on the controller, instead of definition."},
		{Name: "api_version", Aliases: []string{"api", "version"}, Type: module.String, Default: "v1", Doc: "apiVersion of the object named by kind and name (without definition or src), and the default for definitions that lack one."},
		{Name: "kind", Type: module.String, Doc: "Kind of the object named by name (without definition or src)."},
		{Name: "name", Type: module.String, Doc: "Name of the object (without definition or src), or the name given to definitions that lack one."},
		{Name: "namespace", Type: module.String, Doc: "Namespace for namespaced objects that do not name one (default: the context's)."},
		{Name: "apply", Type: module.Bool, Default: false, Doc: "Accepted: tend always applies server-side (see server_side_apply)."},
		{Name: "server_side_apply", Type: module.Dict, Doc: "field_manager (default \"tend\") and force_conflicts (default false) of the server-side apply."},
		{Name: "force", Type: module.Bool, Default: false, Doc: "Take over fields owned by other managers (force_conflicts)."},
		{Name: "wait", Type: module.Bool, Default: false, Doc: "Accepted; not waited for yet (use k8s_info with until)."},
		{Name: "wait_timeout", Type: module.Int, Default: 120, Doc: "Accepted with wait."},
		{Name: "validate", Type: module.Dict, Doc: "Accepted; the API server validates every object (strict field validation)."},
		{Name: "delete_options", Type: module.Dict, Doc: "With state=absent: propagationPolicy (Foreground, Background, Orphan) and gracePeriodSeconds."},
	}
	return &module.Spec{
		Name:  "k8s",
		Short: "Manage Kubernetes objects (server-side apply, on the controller)",
		Description: "Creates, updates or deletes Kubernetes objects as kubernetes.core.k8s does, from tend-kube (the helper " +
			"executable beside tend) on the controller. Objects are applied server-side: the plan sends each object as a server-side-apply dry run and " +
			"compares the API server's answer with the live object, so a change is reported only when the apply would " +
			"change the object, and --diff shows the object before and after. Check mode stops there. state=absent " +
			"deletes the objects that exist. Limits: merge_type, template, wait conditions and label-selector deletes " +
			"are not supported.",
		Args:              append(args, kubeAuthArgs()...),
		MutuallyExclusive: [][]string{{"definition", "src"}},
		Check:             module.CheckFull,
		Diff:              true,
		Controller:        true,
		Examples: `- kubernetes.core.k8s:
    state: present
    definition:
      apiVersion: v1
      kind: Namespace
      metadata: {name: posit}
- kubernetes.core.k8s:
    src: files/pvc.yaml
    namespace: posit
- kubernetes.core.k8s:
    state: absent
    kind: Secret
    name: old-licence
    namespace: posit`,
	}
}

// Plan implements module.Module: tend-kube plans (and applies) the task.
func (K8s) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	return kubePlan(ctx, "k8s", h, a)
}
