package modules

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/getter"
	repo "helm.sh/helm/v4/pkg/repo/v1"

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
			"then name charts REPO/CHART. No helm binary is needed.",
		Args: []module.Arg{
			{Name: "repo_name", Aliases: []string{"name"}, Type: module.String, Required: true, Doc: "The repository's local name."},
			{Name: "repo_url", Aliases: []string{"url"}, Type: module.String, Doc: "The repository's URL; required with repo_state=present."},
			{Name: "repo_state", Aliases: []string{"state"}, Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present adds (or updates) the repository, absent removes it."},
			{Name: "repo_username", Aliases: []string{"username"}, Type: module.String, Doc: "Username for the repository."},
			{Name: "repo_password", Aliases: []string{"password"}, Type: module.String, NoLog: true, Doc: "Password for the repository."},
			{Name: "pass_credentials", Type: module.Bool, Default: false, Doc: "Send the credentials to every domain the repository's charts come from."},
			{Name: "force_update", Aliases: []string{"force"}, Type: module.Bool, Default: false, Doc: "Download the index again even when the repository is already there."},
			{Name: "binary_path", Type: module.Path, Doc: "Ignored: tend has Helm built in."},
		},
		RequiredTogether: [][]string{{"repo_username", "repo_password"}},
		Check:            module.CheckFull,
		Controller:       true,
		Examples: `- kubernetes.core.helm_repository:
    name: rstudio
    repo_url: https://helm.rstudio.com`,
	}
}

// Plan implements module.Module.
func (HelmRepository) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	s := cli.New()
	name := a.String("repo_name")
	fail := func(format string, args ...any) (*module.Plan, error) {
		return module.Unchanged(module.Failed("helm_repository %s: %s", name, fmt.Sprintf(format, args...))), nil
	}
	f, err := repo.LoadFile(s.RepositoryConfig)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = repo.NewFile(), nil
	}
	if err != nil {
		return fail("reading %s: %v", s.RepositoryConfig, err)
	}
	cur := f.Get(name)
	res := module.Result{"repo_name": name}
	if a.String("repo_state") == "absent" {
		if cur == nil {
			return module.Unchanged(res), nil
		}
		return &module.Plan{Changed: true, Result: res, Apply: func(context.Context) (module.Result, error) {
			f.Remove(name)
			if err := writeRepoFile(f, s.RepositoryConfig); err != nil {
				return module.Failed("helm_repository %s: %v", name, err), nil
			}
			_ = os.Remove(filepath.Join(s.RepositoryCache, name+"-index.yaml"))
			_ = os.Remove(filepath.Join(s.RepositoryCache, name+"-charts.txt"))
			return nil, nil
		}}, nil
	}
	if a.String("repo_url") == "" {
		return fail("repo_url is required with repo_state=present")
	}
	want := &repo.Entry{Name: name, URL: a.String("repo_url"), Username: a.String("repo_username"),
		Password: a.String("repo_password"), PassCredentialsAll: a.Bool("pass_credentials")}
	if cur != nil && *cur == *want && !a.Bool("force_update") {
		return module.Unchanged(res), nil
	}
	return &module.Plan{Changed: true, Result: res, Apply: func(context.Context) (module.Result, error) {
		cr, err := repo.NewChartRepository(want, getter.All(s))
		if err != nil {
			return module.Failed("helm_repository %s: %v", name, err), nil
		}
		cr.CachePath = s.RepositoryCache
		if _, err := cr.DownloadIndexFile(); err != nil {
			return module.Failed("helm_repository %s: %s is not a chart repository: %v", name, want.URL, err), nil
		}
		f.Update(want)
		if err := writeRepoFile(f, s.RepositoryConfig); err != nil {
			return module.Failed("helm_repository %s: %v", name, err), nil
		}
		return nil, nil
	}}, nil
}

func writeRepoFile(f *repo.File, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := f.WriteFile(path, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
