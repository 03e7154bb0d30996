package k8s

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestK8sModules applies objects with kubernetes.core.k8s on a real API
// server: a Namespace and a ConfigMap are created, a second run changes
// nothing, --check --diff shows a hand edit being put back without
// changing it (with force: without, the apply conflicts), a run puts it back, k8s_info reads the object (registered
// and asserted in the playbook), and state=absent deletes it.
func TestK8sModules(t *testing.T) {
	c := Start(t, 0)
	e := &playEnv{t: t, tend: tendBinary(t), dir: t.TempDir()}
	ctx := context.Background()
	apply := func(state, value string, extra ...string) string {
		return fmt.Sprintf(`    - kubernetes.core.k8s:
        kubeconfig: %s
        state: %s
`+strings.Join(extra, "")+`        definition:
          - {apiVersion: v1, kind: Namespace, metadata: {name: tendk8s}}
          - apiVersion: v1
            kind: ConfigMap
            metadata: {name: cfg, namespace: tendk8s}
            data: {address: %q}
`, c.Kubeconfig, state, value)
	}
	ok := func(out string, code int, want string) {
		t.Helper()
		if code != 0 || recap(t, out) != want {
			t.Fatalf("exit %d, want recap %q:\n%s", code, want, out)
		}
	}
	out, code := e.play(apply("present", "http://a.example.com"))
	ok(out, code, "ok=1 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0")
	_, b, _ := c.Do(ctx, "GET", "/api/v1/namespaces/tendk8s/configmaps/cfg", nil)
	if !strings.Contains(string(b), "http://a.example.com") {
		t.Fatalf("ConfigMap not created: %s", b)
	}
	out, code = e.play(apply("present", "http://a.example.com"))
	ok(out, code, "ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0")

	// A hand edit: --check --diff reports it and leaves it; a run puts it back.
	patch := map[string]any{"data": map[string]any{"address": "http://b.example.com"}}
	if code, b, err := c.Do(ctx, "PUT", "/api/v1/namespaces/tendk8s/configmaps/cfg", map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "tendk8s"}, "data": patch["data"],
	}); err != nil || code != 200 {
		t.Fatalf("hand edit: %d %v %s", code, err, b)
	}
	// Server-side apply: the edited field now belongs to another manager,
	// so applying fails with a conflict naming it unless force is set.
	out, code = e.play(apply("present", "http://a.example.com"), "--check")
	if code == 0 || !strings.Contains(out, "conflict") || !strings.Contains(out, ".data.address") {
		t.Fatalf("apply over a hand edit without force: exit %d, want a conflict on .data.address:\n%s", code, out)
	}
	force := "        force: true\n"
	out, code = e.play(apply("present", "http://a.example.com", force), "--check", "--diff", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "ConfigMap tendk8s/cfg") || !strings.Contains(out, "http://b.example.com") {
		t.Fatalf("--check --diff after a hand edit: exit %d, want 2 and a diff of the ConfigMap:\n%s", code, out)
	}
	if _, b, _ = c.Do(ctx, "GET", "/api/v1/namespaces/tendk8s/configmaps/cfg", nil); !strings.Contains(string(b), "b.example.com") {
		t.Fatalf("--check changed the ConfigMap: %s", b)
	}
	out, code = e.play(apply("present", "http://a.example.com", force))
	ok(out, code, "ok=1 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0")

	info := fmt.Sprintf(`    - kubernetes.core.k8s_info:
        kubeconfig: %s
        kind: ConfigMap
        namespace: tendk8s
        name: cfg
      register: cm
    - assert:
        that:
          - cm.api_found
          - cm.resources | length == 1
          - cm.resources[0].data.address == "http://a.example.com"
    - kubernetes.core.k8s_info:
        kubeconfig: %s
        kind: Widget
        api_version: example.com/v1
      register: none
    - assert:
        that:
          - not none.api_found
          - none.resources | length == 0
`, c.Kubeconfig, c.Kubeconfig)
	out, code = e.play(info)
	ok(out, code, "ok=4 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0")

	out, code = e.play(apply("absent", "http://a.example.com"))
	ok(out, code, "ok=1 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0")
	if code, _, _ := c.Do(ctx, "GET", "/api/v1/namespaces/tendk8s/configmaps/cfg", nil); code != 404 {
		t.Errorf("ConfigMap still there after state=absent: %d", code)
	}
}
