package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/kubeexec"
	"github.com/tend-dev/tend/pkg/module"
)

// The Kubernetes modules (helm, helm_repository, k8s, k8s_info) keep their
// specs and documentation here; their implementation is in package kube,
// linked only into the tend-kube executable, which tend runs for their
// tasks. tend itself links neither Helm nor client-go.

// kubeAuthArgs are kubernetes.core's connection arguments, shared by its
// modules; each falls back to the K8S_AUTH_* environment variable as in
// Ansible.
func kubeAuthArgs() []module.Arg {
	return []module.Arg{
		{Name: "kubeconfig", Aliases: []string{"kubeconfig_path"}, Type: module.Path, Doc: "Path to a kubeconfig on the controller (default: K8S_AUTH_KUBECONFIG, KUBECONFIG, ~/.kube/config)."},
		{Name: "context", Aliases: []string{"kube_context"}, Type: module.String, Doc: "The kubeconfig context to use (default: K8S_AUTH_CONTEXT, else the current context)."},
		{Name: "host", Type: module.String, Doc: "The API server's URL, overriding the kubeconfig's (K8S_AUTH_HOST)."},
		{Name: "api_key", Type: module.String, NoLog: true, Doc: "A bearer token for the API server (K8S_AUTH_API_KEY)."},
		{Name: "ca_cert", Aliases: []string{"ssl_ca_cert"}, Type: module.Path, Doc: "CA certificate to verify the API server with (K8S_AUTH_SSL_CA_CERT)."},
		{Name: "validate_certs", Aliases: []string{"verify_ssl"}, Type: module.Bool, Doc: "Verify the API server's certificate (K8S_AUTH_VERIFY_SSL); false skips the check."},
	}
}

// kubePlan runs tend-kube to plan the task of module name; the plan's
// Apply runs it again to apply.
func kubePlan(ctx context.Context, name string, h *module.Host, a module.Args) (*module.Plan, error) {
	fail := func(err error) (*module.Plan, error) {
		return module.Unchanged(module.Failed("%s: %v", name, err)), nil
	}
	bin, err := kubeexec.Find()
	if err != nil {
		return fail(err)
	}
	resp, err := kubeexec.Call(ctx, bin, h.Env, kubeexec.Request{Module: name, Mode: kubeexec.ModePlan, Diff: h.Diff, Args: a})
	if err != nil {
		return fail(err)
	}
	p := &module.Plan{Changed: resp.Changed, Result: resp.Result, Diff: resp.Diff}
	if !resp.Changed {
		return p, nil
	}
	p.Apply = func(ctx context.Context) (module.Result, error) {
		resp, err := kubeexec.Call(ctx, bin, h.Env, kubeexec.Request{Module: name, Mode: kubeexec.ModeApply, Diff: h.Diff, Args: a})
		if err != nil {
			return module.Failed("%s: %v", name, err), nil
		}
		return resp.Result, nil
	}
	return p, nil
}
