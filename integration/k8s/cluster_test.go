package k8s

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestCluster starts a cluster and runs a Deployment on its kwok nodes:
// the API server stores it, the controller manager makes its pods, the
// scheduler places them and kwok reports them Running.
func TestCluster(t *testing.T) {
	c := Start(t, 1)
	ctx := context.Background()
	labels := map[string]any{"app": "web"}
	err := c.Create(ctx, "/apis/apps/v1/namespaces/default/deployments", map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web"},
		"spec": map[string]any{
			"replicas": 2,
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.poll(ctx, 2*time.Minute, "the Deployment's pods", func() (bool, error) {
		code, b, err := c.Do(ctx, "GET", "/apis/apps/v1/namespaces/default/deployments/web", nil)
		if err != nil || code != http.StatusOK {
			return false, err
		}
		var d struct {
			Status struct{ AvailableReplicas int } `json:"status"`
		}
		return json.Unmarshal(b, &d) == nil && d.Status.AvailableReplicas == 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
