//go:build tools

// Package k8sbins only names the commands the testbed builds, so that go mod
// tidy keeps their dependencies.
package k8sbins

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
