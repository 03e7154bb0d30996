package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/registry"
	ri "helm.sh/helm/v4/pkg/release"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"sigs.k8s.io/yaml"

	"github.com/tend-dev/tend/pkg/module"
)

// Helm installs, upgrades and uninstalls Helm releases with the Helm SDK,
// from the controller: no helm binary anywhere.
type Helm struct{}

// helmRun is one task's Helm context.
type helmRun struct {
	name, ns string
	settings *cli.EnvSettings
	cfg      *action.Configuration
	args     module.Args
	timeout  time.Duration
	// forceConflicts takes back fields that someone else changed.
	forceConflicts bool
}

// Plan works out what the task would change; Apply does it.
func (Helm) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	r, err := newHelmRun(a)
	if err != nil {
		return module.Unchanged(r.failed(err)), nil
	}
	current, err := r.current()
	if err != nil {
		return module.Unchanged(r.failed(err)), nil
	}
	if a.String("release_state") == "absent" {
		return r.planAbsent(current), nil
	}
	if !a.Has("chart_ref") {
		return module.Unchanged(r.failed(errors.New("chart_ref is required with release_state=present"))), nil
	}
	plan, err := r.planPresent(ctx, h, current)
	if err != nil {
		return module.Unchanged(r.failed(err)), nil
	}
	return plan, nil
}

func newHelmRun(a module.Args) (*helmRun, error) {
	r := &helmRun{name: a.String("release_name"), ns: a.String("release_namespace"), args: a, timeout: 5 * time.Minute}
	for _, n := range []string{"timeout", "wait_timeout"} {
		if s := a.String(n); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				return r, fmt.Errorf("%s: %q is not a duration such as 5m0s", n, s)
			}
			r.timeout = d
		}
	}
	s, err := kubeAuthFrom(a).settings()
	if err != nil {
		return r, err
	}
	s.SetNamespace(r.ns)
	r.settings = s
	kube.ManagedFieldsManager = helmFieldManager
	// Helm logs through slog: keep it off tend's output.
	r.cfg = action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
	if err := r.cfg.Init(s.RESTClientGetter(), r.ns, "secret"); err != nil {
		return r, fmt.Errorf("connecting to the cluster: %w", err)
	}
	rc, err := registry.NewClient(registry.ClientOptWriter(io.Discard))
	if err != nil {
		return r, fmt.Errorf("registry client: %w", err)
	}
	r.cfg.RegistryClient = rc
	return r, nil
}

func (r *helmRun) failed(err error) module.Result {
	return module.Failed("helm release %s in namespace %s: %v", r.name, r.ns, err)
}

// current returns the release's last revision, or nil when there is none.
func (r *helmRun) current() (*release.Release, error) {
	if err := r.cfg.KubeClient.IsReachable(); err != nil {
		return nil, fmt.Errorf("cluster unreachable: %w", err)
	}
	rel, err := action.NewGet(r.cfg).Run(r.name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the release: %w", err)
	}
	return v1Release(rel)
}

func v1Release(rel ri.Releaser) (*release.Release, error) {
	switch r := rel.(type) {
	case *release.Release:
		return r, nil
	case release.Release:
		return &r, nil
	}
	return nil, fmt.Errorf("unsupported release type %T", rel)
}

func (r *helmRun) planAbsent(current *release.Release) *module.Plan {
	if current == nil {
		return module.Unchanged(module.Result{"status": nil})
	}
	p := &module.Plan{Changed: true, Result: module.Result{"status": releaseInfo(current)}}
	before, _ := manifestObjects(current.Manifest)
	p.Diff, _ = objectDiffs(before, nil, "release "+r.name)
	p.Apply = func(ctx context.Context) (module.Result, error) {
		u := action.NewUninstall(r.cfg)
		u.KeepHistory = !r.args.Bool("purge")
		u.DisableHooks = r.args.Bool("disable_hook")
		u.Timeout = r.timeout
		u.WaitStrategy = kube.HookOnlyStrategy
		if r.args.Bool("wait") {
			u.WaitStrategy = kube.StatusWatcherStrategy
		}
		if _, err := u.Run(r.name); err != nil {
			return r.failed(fmt.Errorf("uninstalling: %w", err)), nil
		}
		return module.Result{"changed": true, "status": releaseInfo(current)}, nil
	}
	return p
}

func (r *helmRun) planPresent(ctx context.Context, h *module.Host, current *release.Release) (*module.Plan, error) {
	ch, err := r.loadChart()
	if err != nil {
		return nil, err
	}
	vals, err := r.values()
	if err != nil {
		return nil, err
	}
	// Render against the cluster without changing it.
	rendered, err := r.run(ctx, ch, vals, current, action.DryRunServer)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", r.args.String("chart_ref"), err)
	}
	changed, diffs, err := r.compare(current, rendered, vals)
	if err != nil {
		return nil, err
	}
	// The release as recorded matches; the cluster may not.
	if !changed && current != nil {
		if diffs, err = r.liveDrift(ctx, current); err != nil {
			return nil, fmt.Errorf("comparing the release's objects with the cluster: %w", err)
		}
		// Putting them back overrides whoever changed them.
		changed, r.forceConflicts = len(diffs) > 0, len(diffs) > 0
	}
	res := module.Result{"status": releaseInfo(rendered)}
	if !changed {
		res["status"] = releaseInfo(current)
		return module.Unchanged(res), nil
	}
	p := &module.Plan{Changed: true, Result: res}
	if h.Diff {
		p.Diff = diffs
	}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		rel, err := r.run(ctx, ch, vals, current, action.DryRunNone)
		if err != nil {
			verb := "upgrading"
			if current == nil {
				verb = "installing"
			}
			return r.failed(fmt.Errorf("%s: %w", verb, err)), nil
		}
		return module.Result{"changed": true, "status": releaseInfo(rel)}, nil
	}
	return p, nil
}

// compare says whether rendered differs from the deployed release, and how.
func (r *helmRun) compare(current, rendered *release.Release, vals map[string]any) (bool, []module.Diff, error) {
	after, err := manifestObjects(rendered.Manifest)
	if err != nil {
		return false, nil, fmt.Errorf("reading the rendered manifest: %w", err)
	}
	var before map[string]map[string]any
	changed := current == nil
	if current != nil {
		if before, err = manifestObjects(current.Manifest); err != nil {
			return false, nil, fmt.Errorf("reading the deployed manifest: %w", err)
		}
		changed = current.Info == nil || current.Info.Status != "deployed" ||
			chartID(current.Chart) != chartID(rendered.Chart) ||
			!reflect.DeepEqual(normalizeJSON(orEmpty(current.Config)), normalizeJSON(orEmpty(vals)))
	}
	diffs, err := objectDiffs(before, after, "release "+r.name)
	if err != nil {
		return false, nil, err
	}
	changed = changed || len(diffs) > 0
	var cur map[string]any
	if current != nil {
		cur = current.Config
	}
	if !reflect.DeepEqual(normalizeJSON(orEmpty(cur)), normalizeJSON(orEmpty(vals))) {
		bv, _ := yamlOrEmpty(orEmpty(cur))
		av, _ := yamlOrEmpty(orEmpty(vals))
		diffs = append([]module.Diff{{BeforeHeader: "release " + r.name + ": values (before)", AfterHeader: "release " + r.name + ": values (after)", Before: bv, After: av}}, diffs...)
	}
	if current != nil && chartID(current.Chart) != chartID(rendered.Chart) {
		diffs = append([]module.Diff{{BeforeHeader: "release " + r.name + ": chart (before)", AfterHeader: "release " + r.name + ": chart (after)", Before: chartID(current.Chart) + "\n", After: chartID(rendered.Chart) + "\n"}}, diffs...)
	}
	return changed, diffs, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func chartID(c *chart.Chart) string {
	if c == nil || c.Metadata == nil {
		return ""
	}
	return c.Metadata.Name + "-" + c.Metadata.Version
}

// run installs or upgrades the release, or with dry set to DryRunServer
// only renders it.
func (r *helmRun) run(ctx context.Context, ch *chart.Chart, vals map[string]any, current *release.Release, dry action.DryRunStrategy) (*release.Release, error) {
	wait := kube.HookOnlyStrategy
	if r.args.Bool("wait") || r.args.Bool("atomic") {
		wait = kube.StatusWatcherStrategy
	}
	var rel ri.Releaser
	var err error
	if current == nil {
		in := action.NewInstall(r.cfg)
		in.ReleaseName, in.Namespace = r.name, r.ns
		in.CreateNamespace = r.args.Bool("create_namespace")
		in.DryRunStrategy = dry
		in.WaitStrategy = wait
		in.Timeout = r.timeout
		in.RollbackOnFailure = r.args.Bool("atomic")
		in.DisableHooks = r.args.Bool("disable_hook")
		in.SkipCRDs = r.args.Bool("skip_crds")
		in.ForceConflicts = r.args.Bool("force") || r.forceConflicts
		in.Version = r.args.String("chart_version")
		rel, err = in.RunWithContext(ctx, ch, vals)
	} else {
		up := action.NewUpgrade(r.cfg)
		up.Namespace = r.ns
		up.DryRunStrategy = dry
		up.WaitStrategy = wait
		up.Timeout = r.timeout
		up.RollbackOnFailure = r.args.Bool("atomic")
		up.DisableHooks = r.args.Bool("disable_hook")
		up.ForceConflicts = r.args.Bool("force") || r.forceConflicts
		up.Version = r.args.String("chart_version")
		up.MaxHistory = r.args.Int("history_max")
		up.ResetValues = true
		rel, err = up.RunWithContext(ctx, r.name, ch, vals)
	}
	if err != nil {
		return nil, err
	}
	return v1Release(rel)
}

// loadChart finds chart_ref (a local path, a repository chart or an OCI
// reference) and loads it.
func (r *helmRun) loadChart() (*chart.Chart, error) {
	ref := r.args.String("chart_ref")
	opts := action.NewInstall(r.cfg).ChartPathOptions
	opts.RepoURL = r.args.String("chart_repo_url")
	opts.Version = r.args.String("chart_version")
	path, err := opts.LocateChart(ref, r.settings)
	if err != nil {
		return nil, fmt.Errorf("locating chart %s: %w", ref, err)
	}
	c, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", ref, err)
	}
	ch, ok := c.(*chart.Chart)
	if !ok {
		return nil, fmt.Errorf("chart %s: unsupported chart API version", ref)
	}
	if v := r.args.String("chart_version"); v != "" && isLocal(ref) && ch.Metadata.Version != v {
		return nil, fmt.Errorf("chart %s has version %s, not chart_version %s", ref, ch.Metadata.Version, v)
	}
	have := map[string]bool{}
	for _, sub := range ch.Dependencies() {
		have[sub.Name()] = true
	}
	for _, d := range ch.Metadata.Dependencies {
		if !have[d.Name] {
			return nil, fmt.Errorf("chart %s: dependency %s is missing from its charts/ directory (helm dependency build puts it there)", ref, d.Name)
		}
	}
	return ch, nil
}

func isLocal(ref string) bool {
	_, err := os.Stat(ref)
	return err == nil
}

// values merges values_files, then release_values.
func (r *helmRun) values() (map[string]any, error) {
	vals := map[string]any{}
	for _, f := range r.args.List("values_files") {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("values file: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		vals = mergeValues(vals, m)
	}
	rv, err := jsonValues(r.args.Dict("release_values"))
	if err != nil {
		return nil, fmt.Errorf("release_values: %w", err)
	}
	return mergeValues(vals, rv), nil
}

// jsonValues turns template output (which may hold tend's own string and
// number types) into plain JSON-like values for Helm.
func jsonValues(m map[string]any) (map[string]any, error) {
	b, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// releaseInfo is the status dict kubernetes.core.helm returns.
func releaseInfo(rel *release.Release) map[string]any {
	if rel == nil {
		return nil
	}
	info := map[string]any{
		"name":      rel.Name,
		"namespace": rel.Namespace,
		"revision":  fmt.Sprint(rel.Version),
		"values":    orEmpty(rel.Config),
	}
	if rel.Info != nil {
		info["status"] = string(rel.Info.Status)
		info["updated"] = rel.Info.LastDeployed.UTC().Format(time.RFC3339)
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		info["chart"] = chartID(rel.Chart)
		info["app_version"] = rel.Chart.Metadata.AppVersion
	}
	return info
}
