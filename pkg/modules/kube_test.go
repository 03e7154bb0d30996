package modules

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

// Without tend-kube, a Kubernetes task fails and says how to get it.
func TestKubeModulesWithoutTendKube(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, m := range []module.Module{Helm{}, HelmRepository{}, K8s{}, K8sInfo{}} {
		p, err := m.Plan(context.Background(), &module.Host{Name: "localhost"}, module.Args{"release_name": "x"})
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := p.Result["msg"].(string)
		if p.Result["failed"] != true || p.Changed || !strings.HasPrefix(msg, m.Spec().Name+": ") ||
			!strings.Contains(msg, "tend-kube") || !strings.Contains(msg, "make build") {
			t.Errorf("%s: %+v", m.Spec().Name, p)
		}
	}
}
