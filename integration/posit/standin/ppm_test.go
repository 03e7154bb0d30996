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

// TestRspmRepoCommands runs rspm's create repo and subscribe against a
// file store, with the messages and exit codes of the real rspm.
func TestRspmRepoCommands(t *testing.T) {
	ctx := context.Background()
	store := &fileStore{path: filepath.Join(t.TempDir(), "db.json")}
	run := func(f func(stdout, stderr io.Writer) int) (int, string) {
		var out strings.Builder
		rc := f(&out, &out)
		return rc, out.String()
	}
	create := func(fl map[string]string) (int, string) {
		return run(func(o, e io.Writer) int { return rspmCreateRepo(ctx, store, fl, o, e) })
	}
	subscribe := func(fl map[string]string) (int, string) {
		repos, err := store.Repos(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return run(func(o, e io.Writer) int { return rspmSubscribe(ctx, store, repos, fl, o, e) })
	}
	steps := []struct {
		name string
		do   func() (int, string)
		rc   int
		out  string
	}{
		{"create", func() (int, string) { return create(map[string]string{"name": "cran", "description": "d"}) }, 0, "Repository: cran - d\n"},
		{"create again", func() (int, string) { return create(map[string]string{"name": "cran"}) }, 1, "error: a repository with the name 'cran' already exists\n"},
		{"create without name", func() (int, string) { return create(map[string]string{}) }, 2, "error: --name is required\n"},
		{"create bad type", func() (int, string) { return create(map[string]string{"name": "x", "type": "go"}) }, 1, "error: invalid repository type \"go\" (want r, python or bioconductor)\n"},
		{"subscribe", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "cran"}) }, 0, "Repository: cran\nSources:\n--cran (r)\n"},
		{"subscribe again", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "cran"}) }, 1, "error: the subscription of repository 'cran' to source 'cran' already exists\n"},
		{"subscribe unknown repo", func() (int, string) { return subscribe(map[string]string{"repo": "nope", "source": "cran"}) }, 1, "error: repository 'nope' not found\n"},
		{"subscribe unknown source", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "nope"}) }, 1, "error: source 'nope' not found\n"},
		{"subscribe wrong type", func() (int, string) { return subscribe(map[string]string{"repo": "cran", "source": "pypi"}) }, 1, "error: source 'pypi' (python) cannot be used by repository 'cran' of type r\n"},
	}
	for _, s := range steps {
		rc, out := s.do()
		if rc != s.rc || out != s.out {
			t.Errorf("%s: rc %d, output %q; want %d, %q", s.name, rc, out, s.rc, s.out)
		}
	}
}
