// Package kube implements tend's Kubernetes modules (kubernetes.core.helm,
// helm_repository, k8s and k8s_info) with the Helm v4 SDK and client-go.
// Only the tend-kube executable links it: tend keeps the modules' specs
// and runs tend-kube for their tasks (see package kubeexec), so tend's
// own binary and start-up carry none of these libraries.
package kube

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/cli"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/tend-dev/tend/pkg/module"
)

// kubeAuth is the connection part of a Kubernetes module's arguments.
type kubeAuth struct {
	kubeconfig, context, host, token, caFile string
	insecure                                 bool
}

func kubeAuthFrom(a module.Args) kubeAuth {
	argOrEnv := func(arg, env string) string { return cmp.Or(a.String(arg), os.Getenv(env)) }
	k := kubeAuth{
		kubeconfig: argOrEnv("kubeconfig", "K8S_AUTH_KUBECONFIG"),
		context:    argOrEnv("context", "K8S_AUTH_CONTEXT"),
		host:       argOrEnv("host", "K8S_AUTH_HOST"),
		token:      argOrEnv("api_key", "K8S_AUTH_API_KEY"),
		caFile:     argOrEnv("ca_cert", "K8S_AUTH_SSL_CA_CERT"),
	}
	if a.Has("validate_certs") {
		k.insecure = !a.Bool("validate_certs")
	} else if v, ok := module.ToBool(os.Getenv("K8S_AUTH_VERIFY_SSL")); ok && os.Getenv("K8S_AUTH_VERIFY_SSL") != "" {
		k.insecure = !v
	}
	return k
}

// manifestObjects splits a multi-document YAML manifest into its objects,
// keyed "Kind namespace/name" (namespace left out when empty).
func manifestObjects(manifest string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	for _, doc := range splitYAMLDocs(manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		out[objectKey(obj)] = obj
	}
	return out, nil
}

func splitYAMLDocs(s string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimRight(line, "\r\n") == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.String())
}

func objectKey(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if ns != "" {
		return kind + " " + ns + "/" + name
	}
	return kind + " " + name
}

// objectDiffs compares two sets of objects and returns one diff per object
// that is added, removed or changed, in key order; header names the
// owner (e.g. the release).
func objectDiffs(before, after map[string]map[string]any, header string) ([]module.Diff, error) {
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var diffs []module.Diff
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		b, a := before[k], after[k]
		if reflect.DeepEqual(normalizeJSON(b), normalizeJSON(a)) {
			continue
		}
		by, err := yamlOrEmpty(b)
		if err != nil {
			return nil, err
		}
		ay, err := yamlOrEmpty(a)
		if err != nil {
			return nil, err
		}
		diffs = append(diffs, module.Diff{
			BeforeHeader: fmt.Sprintf("%s: %s (before)", header, k),
			AfterHeader:  fmt.Sprintf("%s: %s (after)", header, k),
			Before:       by, After: ay,
		})
	}
	return diffs, nil
}

func yamlOrEmpty(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if m, ok := v.(map[string]any); ok && m == nil {
		return "", nil
	}
	b, err := yaml.Marshal(v)
	return string(b), err
}

// normalizeJSON returns v as JSON would decode it (numbers as float64),
// so values from YAML, JSON and templates compare equal when they are.
func normalizeJSON(v any) any {
	b, err := yaml.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// mergeValues merges src into dst the way Helm merges values files: maps
// are merged key by key, anything else replaces.
func mergeValues(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// kubeClient is a dynamic client with a REST mapper, for k8s and k8s_info.
type kubeClient struct {
	dyn       dynamic.Interface
	mapper    meta.RESTMapper
	namespace string // the kubeconfig context's namespace, or "default"
}

// settings are Helm's and client-go's connection settings for k: the
// task's arguments over the environment (KUBECONFIG...). A kubeconfig
// named but missing is an error now rather than a default connection.
func (k kubeAuth) settings() (*cli.EnvSettings, error) {
	if k.kubeconfig != "" {
		if _, err := os.Stat(k.kubeconfig); err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
	}
	s := cli.New()
	s.KubeConfig = cmp.Or(k.kubeconfig, s.KubeConfig)
	s.KubeContext = cmp.Or(k.context, s.KubeContext)
	s.KubeAPIServer = cmp.Or(k.host, s.KubeAPIServer)
	s.KubeToken = cmp.Or(k.token, s.KubeToken)
	s.KubeCaFile = cmp.Or(k.caFile, s.KubeCaFile)
	s.KubeInsecureSkipTLSVerify = s.KubeInsecureSkipTLSVerify || k.insecure
	return s, nil
}

// newKubeClient connects as the auth arguments say. Nothing is contacted
// yet; the first request fails when the server is unreachable.
func newKubeClient(k kubeAuth) (*kubeClient, error) {
	s, err := k.settings()
	if err != nil {
		return nil, err
	}
	g := s.RESTClientGetter()
	rc, err := g.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	mapper, err := g.ToRESTMapper()
	if err != nil {
		return nil, fmt.Errorf("creating a REST mapper: %w", err)
	}
	ns, _, err := g.ToRawKubeConfigLoader().Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	return &kubeClient{dyn: dyn, mapper: mapper, namespace: ns}, nil
}

// resource returns the client for objects of apiVersion and kind in
// namespace ns (ignored for cluster-scoped kinds; empty means the
// context's namespace), and the namespace used.
func (c *kubeClient) resource(apiVersion, kind, ns string) (dynamic.ResourceInterface, string, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, "", fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	m, err := c.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	if err != nil {
		return nil, "", fmt.Errorf("kind %s in %s: %w", kind, apiVersion, err)
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource), "", nil
	}
	if ns == "" {
		ns = c.namespace
	}
	return c.dyn.Resource(m.Resource).Namespace(ns), ns, nil
}

// cleanObject drops the fields the server maintains, so that a live
// object and what applying would make of it compare equal when equal.
func cleanObject(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			switch k {
			case "managedFields", "resourceVersion", "generation", "creationTimestamp", "uid":
				continue
			}
			m[k] = v
		}
		out["metadata"] = m
	}
	return out
}

// allNamespaces returns the client for objects of apiVersion and kind in
// every namespace (or cluster-scoped).
func (c *kubeClient) allNamespaces(apiVersion, kind string) (dynamic.ResourceInterface, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	m, err := c.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	if err != nil {
		return nil, fmt.Errorf("kind %s in %s: %w", kind, apiVersion, err)
	}
	return c.dyn.Resource(m.Resource), nil
}
