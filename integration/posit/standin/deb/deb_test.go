package deb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testPackage() *Package {
	return &Package{
		Name: "rstudio-pm", Version: "2024.11.0-7", Description: "stand-in\nlonger text\n\nparagraph",
		Scripts: map[string]string{"postinst": "#!/bin/sh\nexit 0\n"},
		Files: []File{
			{Path: "/opt/rstudio-pm/bin/rstudio-pm", Data: []byte("#!/bin/sh\n"), Mode: 0o755},
			{Path: "/opt/rstudio-pm/bin/rspm", Link: "rstudio-pm"},
			{Path: "/etc/rstudio-pm/rstudio-pm.gcfg", Data: []byte("[HTTP]\nListen = :4242\n"), Mode: 0o640, Conffile: true},
			{Path: "/var/lib/rstudio-pm", Dir: true, Mode: 0o750},
		},
	}
}

func TestBuildReadByDpkgDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed: apt-get install dpkg")
	}
	data, err := testPackage().Build()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), testPackage().FileName())
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "--field", file, name).CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s: %v\n%s", name, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for name, want := range map[string]string{"Package": "rstudio-pm", "Version": "2024.11.0-7", "Architecture": "amd64"} {
		if got := field(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	out, err := exec.Command("dpkg-deb", "--contents", file).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --contents: %v\n%s", err, out)
	}
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./opt/rstudio-pm/bin/rstudio-pm",
		"./opt/rstudio-pm/bin/rspm -> rstudio-pm",
		"-rw-r----- root/root", "./etc/rstudio-pm/rstudio-pm.gcfg",
		"drwxr-x--- root/root", "./var/lib/rstudio-pm/",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("contents lack %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "--control", file, dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --control: %v\n%s", err, out)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, "conffiles"))
	if string(conf) != "/etc/rstudio-pm/rstudio-pm.gcfg\n" {
		t.Errorf("conffiles = %q", conf)
	}
	if st, err := os.Stat(filepath.Join(dir, "postinst")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("postinst: %v %v", st, err)
	}
	// Reproducible: same input, same bytes.
	again, _ := testPackage().Build()
	if string(again) != string(data) {
		t.Error("two builds of the same package differ")
	}
}

func TestBuildErrors(t *testing.T) {
	for name, p := range map[string]*Package{
		"no version":    {Name: "x"},
		"relative path": {Name: "x", Version: "1", Files: []File{{Path: "etc/x"}}},
		"unclean path":  {Name: "x", Version: "1", Files: []File{{Path: "/etc/../x"}}},
		"duplicate":     {Name: "x", Version: "1", Files: []File{{Path: "/etc/x"}, {Path: "/etc/x"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := p.Build(); err == nil {
				t.Error("no error")
			}
		})
	}
}
