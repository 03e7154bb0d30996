package modules

import "testing"

func TestDeb822Slug(t *testing.T) {
	for in, want := range map[string]string{"Docker CE": "docker-ce", "my_repo.v2": "my-repov2", "PostgreSQL": "postgresql"} {
		if got := deb822Slug(in); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func TestRenderDeb822(t *testing.T) {
	args, err := Deb822Repository{}.Spec().Validate(map[string]any{
		"name": "docker", "uris": "https://download.docker.com/linux/debian", "suites": "bookworm",
		"components": []any{"stable"}, "architectures": "amd64", "enabled": true, "signed_by": "https://x/gpg",
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	got := renderDeb822(args, "/etc/apt/keyrings/docker.asc")
	want := "Architectures: amd64\nComponents: stable\nEnabled: yes\nX-Repolib-Name: docker\nSigned-By: /etc/apt/keyrings/docker.asc\n" +
		"Suites: bookworm\nTypes: deb\nURIs: https://download.docker.com/linux/debian\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
