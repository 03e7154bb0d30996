package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/kubeexec"
)

func call(t *testing.T, req string) kubeexec.Response {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), strings.NewReader(req), &out); err != nil {
		t.Fatal(err)
	}
	var resp kubeexec.Response
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	return resp
}

func TestRun(t *testing.T) {
	if resp := call(t, `{"module":"nope","mode":"plan","args":{}}`); !strings.Contains(resp.Error, `no module "nope"`) {
		t.Errorf("unknown module: %+v", resp)
	}
	if resp := call(t, `{"module":"k8s","mode":"later","args":{}}`); !strings.Contains(resp.Error, "unknown mode") {
		t.Errorf("unknown mode: %+v", resp)
	}
	if err := run(context.Background(), strings.NewReader("not json"), &bytes.Buffer{}); err == nil {
		t.Error("a request that is not JSON was accepted")
	}

	// helm_repository works on a local file, so plan and apply are seen
	// end to end: removing a repository that is there.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "repositories.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: v1\nrepositories:\n- name: old\n  url: https://example.com/charts\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HELM_REPOSITORY_CONFIG", cfg)
	t.Setenv("HELM_REPOSITORY_CACHE", dir)
	req := `{"module":"helm_repository","mode":"%s","args":{"repo_name":"old","repo_state":"absent"}}`
	if resp := call(t, strings.Replace(req, "%s", "plan", 1)); !resp.Changed || resp.Error != "" {
		t.Fatalf("plan: %+v", resp)
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), "old") {
		t.Fatalf("the plan changed the file: %s", b)
	}
	if resp := call(t, strings.Replace(req, "%s", "apply", 1)); !resp.Changed || resp.Error != "" {
		t.Fatalf("apply: %+v", resp)
	}
	if b, _ := os.ReadFile(cfg); strings.Contains(string(b), "old") {
		t.Fatalf("apply left the repository: %s", b)
	}
	if resp := call(t, strings.Replace(req, "%s", "apply", 1)); resp.Changed || resp.Result["changed"] != false {
		t.Errorf("second apply: %+v", resp)
	}
}
