package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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

func TestDeb822Key(t *testing.T) {
	const armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/armored":
			io.WriteString(w, armored+"\n")
		case "/binary":
			w.Write([]byte{0x99, 0x01})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	const asc, gpg = "/k/r.asc", "/k/r.gpg"
	tests := []struct {
		name     string
		signedBy string
		present  bool
		file     string
		data     string
		fail     string
	}{
		{name: "inline key", signedBy: "  " + armored + "\n\n", present: true, file: asc, data: armored + "\n"},
		{name: "armored download", signedBy: srv.URL + "/armored", present: true, file: asc, data: armored + "\n"},
		{name: "binary download", signedBy: srv.URL + "/binary", present: true, file: gpg, data: "\x99\x01"},
		{name: "no download for absent", signedBy: srv.URL + "/armored", present: false},
		{name: "a path on the host", signedBy: "/usr/share/keyrings/r.gpg", present: true},
		{name: "download fails", signedBy: srv.URL + "/missing", present: true, fail: "Could not fetch signed_by key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, file, fail := deb822Key(context.Background(), tt.signedBy, tt.present, asc, gpg)
			if !strings.Contains(fail, tt.fail) || (tt.fail == "") != (fail == "") {
				t.Fatalf("fail = %q, want one containing %q", fail, tt.fail)
			}
			if file != tt.file || string(data) != tt.data {
				t.Errorf("deb822Key = %q, %q; want %q, %q", data, file, tt.data, tt.file)
			}
		})
	}
}

func TestDecideDeb822(t *testing.T) {
	key := []byte("key\n")
	sum := sha256.Sum256(key)
	keySum := hex.EncodeToString(sum[:])
	const repo = "Types: deb\n"
	tests := []struct {
		name                      string
		p                         deb822Probed
		keyFile                   string
		writeKey, writeSrc, chmod bool
	}{
		{name: "new", p: deb822Probed{keySums: map[string]string{}}, keyFile: "/k/r.asc", writeKey: true, writeSrc: true},
		{name: "converged", p: deb822Probed{content: repo, exists: true, mode: "644", keySums: map[string]string{"/k/r.asc": keySum}}, keyFile: "/k/r.asc"},
		{name: "key changed", p: deb822Probed{content: repo, exists: true, mode: "644", keySums: map[string]string{"/k/r.asc": "00"}}, keyFile: "/k/r.asc", writeKey: true},
		{name: "sources changed", p: deb822Probed{content: "Types: deb-src\n", exists: true, mode: "644"}, writeSrc: true},
		{name: "only the mode", p: deb822Probed{content: repo, exists: true, mode: "600"}, chmod: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wk, ws, fm := decideDeb822(tt.p, repo, tt.keyFile, key, 0o644)
			if wk != tt.writeKey || ws != tt.writeSrc || fm != tt.chmod {
				t.Errorf("decideDeb822 = %v, %v, %v; want %v, %v, %v", wk, ws, fm, tt.writeKey, tt.writeSrc, tt.chmod)
			}
		})
	}
}
