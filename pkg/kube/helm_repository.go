package kube

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

// Plan works out what the task would change; Apply does it.
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
