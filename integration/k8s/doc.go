// Package k8s starts a real Kubernetes control plane on this machine for
// integration tests: etcd (Debian's etcd-server), kube-apiserver,
// kube-controller-manager and kube-scheduler built from k8s.io/kubernetes,
// and kwok, which simulates nodes (pods reach Running, nothing runs). All
// of it listens on 127.0.0.1 on free ports; Start writes a kubeconfig and
// registers the teardown with t.Cleanup.
//
// The binaries are built once by build-bins (through the separate module in
// bins/, never tend's go.mod) and cached under /var/cache/tend-k8s, keyed
// by version; integration/prereqs builds them, and Start builds them when
// they are missing. See README.md.
package k8s
