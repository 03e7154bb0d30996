package kubeexec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), Binary)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCall(t *testing.T) {
	ctx := context.Background()
	// The request arrives on stdin as JSON; the answer is read from stdout.
	echo := script(t, `read -r req
[ "$K8S_AUTH_CONTEXT" = prod ] || { echo "no task environment" >&2; exit 4; }
case "$req" in *'"module":"k8s"'*'"mode":"plan"'*'"kind":"Namespace"'*) ;; *) echo "bad request: $req" >&2; exit 3;; esac
echo '{"changed":true,"result":{"x":1},"diff":[{"before":"a","after":"b"}]}'`)
	resp, err := Call(ctx, echo, map[string]string{"K8S_AUTH_CONTEXT": "prod"}, Request{Module: "k8s", Mode: ModePlan, Args: map[string]any{"kind": "Namespace"}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Changed || resp.Result["x"] != 1.0 || len(resp.Diff) != 1 || resp.Diff[0].After != "b" {
		t.Errorf("response: %+v", resp)
	}

	fail := script(t, "echo 'something broke' >&2; exit 2\n")
	if _, err := Call(ctx, fail, nil, Request{Module: "k8s", Mode: ModePlan}); err == nil || !strings.Contains(err.Error(), "something broke") {
		t.Errorf("a failing tend-kube: %v, want its stderr", err)
	}
	moduleErr := script(t, `echo '{"error":"no such module"}'`+"\n")
	if _, err := Call(ctx, moduleErr, nil, Request{Module: "x", Mode: ModePlan}); err == nil || err.Error() != "no such module" {
		t.Errorf("an error answer: %v", err)
	}
}

func TestFindMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Find()
	if err == nil {
		t.Fatal("found tend-kube with an empty PATH and none beside the test binary")
	}
	for _, w := range []string{"tend-kube", "make build", "go build -o"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	bin := script(t, "exit 0\n")
	t.Setenv("PATH", filepath.Dir(bin))
	if got, err := Find(); err != nil || got != bin {
		t.Errorf("Find on PATH = %q, %v; want %s", got, err, bin)
	}
}
