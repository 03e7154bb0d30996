package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
)

// Helm installs, upgrades and uninstalls Helm releases with the Helm SDK,
// from the controller: no helm binary anywhere.
type Helm struct{}

var _ module.Module = Helm{}

// Spec implements module.Module.
func (Helm) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "release_name", Aliases: []string{"name"}, Type: module.String, Required: true, Doc: "The release's name."},
		{Name: "release_namespace", Aliases: []string{"namespace"}, Type: module.String, Required: true, Doc: "The release's namespace."},
		{Name: "release_state", Aliases: []string{"state"}, Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present installs or upgrades the release, absent uninstalls it."},
		{Name: "chart_ref", Type: module.Path, Doc: "The chart: a chart directory or packaged chart on the controller, a chart name in chart_repo_url, REPO/NAME from a repository added with helm_repository, an oci:// reference or a chart URL. Required with release_state=present."},
		{Name: "chart_repo_url", Type: module.String, Doc: "The chart repository's URL, where chart_ref is the chart's name."},
		{Name: "chart_version", Type: module.String, Doc: "The chart version (or constraint); default the newest."},
		{Name: "release_values", Aliases: []string{"values"}, Type: module.Dict, Default: map[string]any{}, Doc: "Values for the chart, merged over values_files."},
		{Name: "values_files", Type: module.List, Elements: module.Path, Default: []any{}, Doc: "Values files on the controller, merged in order (later ones win)."},
		{Name: "create_namespace", Type: module.Bool, Default: false, Doc: "Create release_namespace when it does not exist."},
		{Name: "wait", Type: module.Bool, Default: false, Doc: "Wait until the release's resources are ready (Deployments available, PVCs bound...), up to timeout."},
		{Name: "wait_timeout", Type: module.String, Doc: "Deprecated alias of timeout (as in kubernetes.core)."},
		{Name: "timeout", Type: module.String, Doc: "How long to wait for Kubernetes operations, as a Go duration (\"5m0s\", the default)."},
		{Name: "atomic", Type: module.Bool, Default: false, Doc: "Roll the release back (on install: uninstall it) when the install or upgrade fails; implies wait."},
		{Name: "disable_hook", Type: module.Bool, Default: false, Doc: "Do not run the chart's hooks."},
		{Name: "skip_crds", Type: module.Bool, Default: false, Doc: "Do not install the chart's CRDs."},
		{Name: "force", Type: module.Bool, Default: false, Doc: "Force conflicting field ownership on server-side apply (helm --force-conflicts)."},
		{Name: "purge", Type: module.Bool, Default: true, Doc: "With release_state=absent: false keeps the release history."},
		{Name: "history_max", Type: module.Int, Doc: "How many revisions to keep."},
		{Name: "dependency_update", Type: module.Bool, Default: false, Doc: "Accepted for compatibility; the chart's dependencies must be in its charts/ directory."},
		{Name: "update_repo_cache", Type: module.Bool, Default: false, Doc: "Accepted for compatibility; repository indexes are read when the chart is located."},
		{Name: "binary_path", Type: module.Path, Doc: "Ignored: tend-kube has Helm built in."},
	}
	return &module.Spec{
		Name:  "helm",
		Short: "Manage Helm releases (Helm SDK, on the controller)",
		Description: "Installs, upgrades or uninstalls a Helm release as kubernetes.core.helm does, with the Helm v4 SDK in " +
			"tend-kube, the helper executable installed beside tend, which tend runs on the controller whatever the " +
			"task's host; no helm binary or Python client is needed. The plan renders the chart against the cluster (a server-side dry run) and compares it with " +
			"the deployed release: the chart's name and version, the values given and the rendered manifest; only a " +
			"difference is a change, and --diff shows it resource by resource. Check mode stops there. A failed or " +
			"pending release is upgraded again. Changes made to the objects behind Helm's back (kubectl edit) are not " +
			"compared; a change of value or chart is.",
		Args:       append(args, kubeAuthArgs()...),
		Check:      module.CheckFull,
		Diff:       true,
		Controller: true,
		Examples: `- name: Package Manager
  kubernetes.core.helm:
    release_name: rspm
    release_namespace: posit
    create_namespace: true
    chart_ref: rstudio/rstudio-pm
    chart_version: 0.5.45
    release_values:
      replicas: 2
    values_files: [files/rspm-values.yaml]
    wait: true`,
	}
}

// Plan implements module.Module: tend-kube plans (and applies) the task.
func (Helm) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	return kubePlan(ctx, "helm", h, a)
}
