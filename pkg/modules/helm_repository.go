package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
)

// HelmRepository adds and removes Helm chart repositories in Helm's
// repositories file on the controller.
type HelmRepository struct{}

var _ module.Module = HelmRepository{}

// Spec implements module.Module.
func (HelmRepository) Spec() *module.Spec {
	return &module.Spec{
		Name:  "helm_repository",
		Short: "Manage Helm chart repositories (on the controller)",
		Description: "Adds, updates or removes a chart repository in Helm's repositories file on the controller " +
			"(HELM_REPOSITORY_CONFIG, default ~/.config/helm/repositories.yaml), as kubernetes.core.helm_repository " +
			"does with helm repo add: adding downloads the repository's index, so a wrong URL fails here. helm tasks " +
			"then name charts REPO/CHART. No helm binary is needed; runs in tend-kube.",
		Args: []module.Arg{
			{Name: "repo_name", Aliases: []string{"name"}, Type: module.String, Required: true, Doc: "The repository's local name."},
			{Name: "repo_url", Aliases: []string{"url"}, Type: module.String, Doc: "The repository's URL; required with repo_state=present."},
			{Name: "repo_state", Aliases: []string{"state"}, Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present adds (or updates) the repository, absent removes it."},
			{Name: "repo_username", Aliases: []string{"username"}, Type: module.String, Doc: "Username for the repository."},
			{Name: "repo_password", Aliases: []string{"password"}, Type: module.String, NoLog: true, Doc: "Password for the repository."},
			{Name: "pass_credentials", Type: module.Bool, Default: false, Doc: "Send the credentials to every domain the repository's charts come from."},
			{Name: "force_update", Aliases: []string{"force"}, Type: module.Bool, Default: false, Doc: "Download the index again even when the repository is already there."},
			{Name: "binary_path", Type: module.Path, Doc: "Ignored: tend-kube has Helm built in."},
		},
		RequiredTogether: [][]string{{"repo_username", "repo_password"}},
		Check:            module.CheckFull,
		Controller:       true,
		Examples: `- kubernetes.core.helm_repository:
    name: rstudio
    repo_url: https://helm.rstudio.com`,
	}
}

// Plan implements module.Module: tend-kube plans (and applies) the task.
func (HelmRepository) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	return kubePlan(ctx, "helm_repository", h, a)
}
