// Command tend-kube runs tend's Kubernetes modules (kubernetes.core.helm,
// helm_repository, k8s and k8s_info) for tend, which starts it for each of
// their tasks: it reads a kubeexec.Request as JSON on standard input and
// writes a kubeexec.Response on standard output. It lives apart from tend
// so that tend does not link the Helm SDK and client-go (about 100 MB and
// 30 ms of start-up). Install it beside tend: make build does.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tend-dev/tend/pkg/kube"
	"github.com/tend-dev/tend/pkg/kubeexec"
	"github.com/tend-dev/tend/pkg/module"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tend-kube:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, in io.Reader, out io.Writer) error {
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return fmt.Errorf("tend runs this program for its kubernetes.core tasks; it reads a request as JSON on standard input")
		}
	}
	var req kubeexec.Request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	return json.NewEncoder(out).Encode(handle(ctx, req))
}

// handle plans the task and, in apply mode, applies the plan.
func handle(ctx context.Context, req kubeexec.Request) kubeexec.Response {
	if req.Mode != kubeexec.ModePlan && req.Mode != kubeexec.ModeApply {
		return kubeexec.Response{Error: fmt.Sprintf("tend-kube: unknown mode %q", req.Mode)}
	}
	h := &module.Host{Name: "localhost", Diff: req.Diff, Warn: func(string) {}}
	p, err := kube.Plan(ctx, req.Module, h, module.Args(req.Args))
	if err != nil {
		return kubeexec.Response{Error: err.Error()}
	}
	resp := kubeexec.Response{Changed: p.Changed, Result: p.Result, Diff: p.Diff}
	if req.Mode == kubeexec.ModePlan {
		return resp
	}
	if !p.Changed || p.Apply == nil {
		res := module.Result{"changed": false}
		for k, v := range p.Result {
			res[k] = v
		}
		return kubeexec.Response{Result: res}
	}
	res, err := p.Apply(ctx)
	if err != nil {
		return kubeexec.Response{Error: err.Error()}
	}
	return kubeexec.Response{Changed: true, Result: res}
}
