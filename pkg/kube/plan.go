package kube

import (
	"context"
	"fmt"

	"github.com/tend-dev/tend/pkg/module"
)

// Plan plans the task of module name (helm, helm_repository, k8s or
// k8s_info) with validated args, as module.Module's Plan does.
func Plan(ctx context.Context, name string, h *module.Host, a module.Args) (*module.Plan, error) {
	switch name {
	case "helm":
		return Helm{}.Plan(ctx, h, a)
	case "helm_repository":
		return HelmRepository{}.Plan(ctx, h, a)
	case "k8s":
		return K8s{}.Plan(ctx, h, a)
	case "k8s_info":
		return K8sInfo{}.Plan(ctx, h, a)
	}
	return nil, fmt.Errorf("tend-kube has no module %q", name)
}
