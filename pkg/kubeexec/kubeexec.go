// Package kubeexec is how tend runs its Kubernetes modules: their
// implementation (package kube, with the Helm SDK and client-go) is linked
// only into the tend-kube executable, installed beside tend. For each
// kubernetes.core task tend starts tend-kube, writes a Request as JSON on
// its standard input and reads a Response from its standard output: once
// to plan, and, when the plan changes something and the task is not in
// check mode, once more to apply.
package kubeexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/module"
)

// Binary is the helper executable's name.
const Binary = "tend-kube"

// Modes of a Request.
const (
	// ModePlan plans the task and reports the plan; nothing is changed.
	ModePlan = "plan"
	// ModeApply plans the task again and applies that plan when it
	// changes something.
	ModeApply = "apply"
)

// Request is what tend sends tend-kube.
type Request struct {
	Module string         `json:"module"`
	Mode   string         `json:"mode"`
	Diff   bool           `json:"diff"`
	Args   map[string]any `json:"args"`
}

// Response is what tend-kube answers. A task failure is a Result with
// failed set; Error is an error of the module itself (the plan could not
// be made), reported as a task failure too.
type Response struct {
	Changed bool          `json:"changed"`
	Result  module.Result `json:"result"`
	Diff    []module.Diff `json:"diff,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// Find returns the path of tend-kube: beside the running executable
// (symbolic links resolved), else on PATH.
func Find() (string, error) {
	var beside string
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		beside = filepath.Join(filepath.Dir(self), Binary)
		if fi, err := os.Stat(beside); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("the Kubernetes modules run in the %s executable, which is neither at %s nor on PATH: "+
		"build it beside tend with `make build` (bin/tend and bin/tend-kube) or "+
		"`go build -o %s ./cmd/tend-kube` in tend's source tree", Binary, beside, beside)
}

// Call runs bin with req and returns its response; env (the task's
// environment: keyword, which K8S_AUTH_* and HELM_* may come from) is
// added to tend's environment. The process is killed when ctx is
// cancelled.
func Call(ctx context.Context, bin string, env map[string]string, req Request) (*Response, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the arguments for %s: %w", Binary, err)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.WaitDelay = 5 * time.Second
	if len(env) > 0 {
		cmd.Env = os.Environ()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	runErr := cmd.Run()
	var resp Response
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if runErr != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", bin, req.Mode, ctx.Err())
			}
			return nil, fmt.Errorf("running %s to %s: %v: %s", bin, req.Mode, runErr, msg)
		}
		return nil, fmt.Errorf("reading %s's answer: %v: %s", bin, err, msg)
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return &resp, nil
}
