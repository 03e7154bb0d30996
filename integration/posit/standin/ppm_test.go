package standin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-dev/tend/integration/posit/standin/conf"
)

func TestPackageManagerRoutes(t *testing.T) {
	dir := t.TempDir()
	store := &fileStore{path: filepath.Join(dir, "db.json")}
	ctx := context.Background()
	for _, r := range []RepoRecord{{Name: "cran", Type: "r"}, {Name: "pypi", Type: "python"}, {Name: "empty", Type: "r"}} {
		if err := store.CreateRepo(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CreateRepo(ctx, RepoRecord{Name: "cran", Type: "r"}); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	for repo, src := range map[string]string{"cran": "cran", "pypi": "pypi"} {
		if err := store.Subscribe(ctx, repo, src); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Subscribe(ctx, "cran", "cran"); !errors.Is(err, ErrExists) {
		t.Errorf("second subscribe: %v, want ErrExists", err)
	}
	d := &daemon{p: productNamed(PackageManager), eff: &conf.Effective{DataDir: dir}, store: store, node: "pm1", files: dir}
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/__ping__", 200, "{}"},
		{"/cran/latest/src/contrib/PACKAGES", 200, "Package: A3"},
		{"/cran/2024-06-01/src/contrib/PACKAGES", 200, "Package: xtable"},
		{"/cran/__linux__/bookworm/latest/src/contrib/PACKAGES", 200, "(bookworm)"},
		{"/pypi/latest/simple/", 200, `href="/pypi/latest/simple/requests/"`},
		{"/pypi/latest/simple/requests/", 200, "requests-1.0.0-py3-none-any.whl"},
		{"/pypi/latest/simple/nosuch/", 404, ""},
		{"/empty/latest/src/contrib/PACKAGES", 404, ""}, // not subscribed
		{"/pypi/latest/src/contrib/PACKAGES", 404, ""},  // wrong type
		{"/cran/latest/simple/", 404, ""},
		{"/nosuch/latest/src/contrib/PACKAGES", 404, ""},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(body), c.want) {
				t.Errorf("%d %q, want %d containing %q", resp.StatusCode, body, c.code, c.want)
			}
			if resp.Header.Get("X-Tend-Node") != "pm1" {
				t.Errorf("X-Tend-Node = %q", resp.Header.Get("X-Tend-Node"))
			}
		})
	}
}

func TestFlags(t *testing.T) {
	fl, pos, _ := flags([]string{"create", "repo", "--name=cran", "--type", "r", "--description=R packages", "--force"})
	if fl["name"] != "cran" || fl["type"] != "r" || fl["description"] != "R packages" || fl["force"] != "true" || strings.Join(pos, " ") != "create repo" {
		t.Errorf("flags = %v, positional = %v", fl, pos)
	}
}
