package modules

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/module"
)

const rpmQueryFixture = "nginx\tnginx 1:1.20.1-14.el9.x86_64\njq-1.6\tjq 0:1.6-15.el9.x86_64\ncurl\tcurl 0:7.76.1-26.el9.x86_64\nhtop\tpackage htop is not installed\n"

const checkUpdateFixture = `
curl.x86_64                     7.76.1-29.el9_4           baseos
Obsoleting Packages
foo.noarch                      2.0-1.el9                  appstream
    foo-old.noarch              1.0-1.el9                  @appstream
`

func TestParseRPM(t *testing.T) {
	got := parseRPMQuery(rpmQueryFixture)
	want := map[string]rpmInstalled{
		"nginx":  {"nginx", "1:1.20.1-14.el9.x86_64"},
		"jq-1.6": {"jq", "0:1.6-15.el9.x86_64"},
		"curl":   {"curl", "0:7.76.1-26.el9.x86_64"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseRPMQuery (-want +got):\n%s", d)
	}
	up := parseCheckUpdate(checkUpdateFixture)
	if up["curl"] != "7.76.1-29.el9_4" || up["foo-old"] != "" {
		t.Errorf("parseCheckUpdate = %v", up)
	}
}

func TestDecideRPM(t *testing.T) {
	inst := parseRPMQuery(rpmQueryFixture)
	up := parseCheckUpdate(checkUpdateFixture)
	d := decideRPM([]string{"nginx", "curl", "htop"}, "latest", inst, up)
	if d2 := cmp.Diff([][]string{{"htop"}, {"curl"}, nil}, [][]string{d.install, d.upgrade, d.remove}); d2 != "" {
		t.Error(d2)
	}
	d = decideRPM([]string{"nginx", "htop"}, "absent", inst, nil)
	if d2 := cmp.Diff([]string{"nginx"}, d.remove); d2 != "" || len(d.install) > 0 {
		t.Error(d2)
	}
	d = decideRPM([]string{"nginx", "jq-1.6"}, "present", inst, nil)
	if len(d.install)+len(d.upgrade)+len(d.remove) != 0 {
		t.Errorf("converged host would change: %+v", d)
	}
}

func TestRPMCommand(t *testing.T) {
	tests := []struct {
		tool string
		raw  map[string]any
		sub  string
		want string
	}{
		{"dnf", map[string]any{"name": "x"}, "install", "dnf -y -q install -- x"},
		{"dnf", map[string]any{"name": "x", "disable_gpg_check": true, "enablerepo": "epel,crb", "disablerepo": "*", "install_weak_deps": false, "update_cache": true}, "install",
			"dnf -y -q --nogpgcheck --enablerepo=epel --enablerepo=crb '--disablerepo=*' --setopt=install_weak_deps=False --refresh install -- x"},
		{"yum", map[string]any{"name": "x", "install_weak_deps": false, "update_cache": true}, "install", "yum -y -q install -- x"},
		{"dnf", map[string]any{"name": "x", "state": "absent"}, "remove", "dnf -y -q --setopt=clean_requirements_on_remove=False remove -- x"},
	}
	for _, tt := range tests {
		args, err := rpmSpec(tt.tool).Validate(tt.raw, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := rpmCommand(tt.tool, args, tt.sub, []string{"x"}); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	if p := rpmProbe([]string{"a b", "c"}); !strings.Contains(p, "for _n in 'a b' c;") {
		t.Errorf("probe = %s", p)
	}
}

func TestRPMUnsupportedNames(t *testing.T) {
	args, _ := Dnf{}.Spec().Validate(map[string]any{"name": "@Development Tools"}, false)
	p, err := Dnf{}.Plan(context.Background(), &module.Host{Name: "x"}, args)
	if err != nil || p.Result["failed"] != true {
		t.Errorf("group name: %v %v", p, err)
	}
}

func TestPackageDispatch(t *testing.T) {
	args, _ := Package{}.Spec().Validate(map[string]any{"name": "jq", "state": "present"}, false)
	h := &module.Host{Name: "x", Vars: map[string]any{}}
	p, err := Package{}.Plan(context.Background(), h, args)
	if err != nil || p.Result["failed"] != true || !strings.Contains(p.Result["msg"].(string), "package manager") {
		t.Errorf("no fact: %v %v", p.Result, err)
	}
	h.Vars["ansible_facts"] = map[string]any{"pkg_mgr": "pacman"}
	p, _ = Package{}.Plan(context.Background(), h, args)
	if p.Result["failed"] != true || !strings.Contains(p.Result["msg"].(string), "pacman") {
		t.Errorf("pacman: %v", p.Result)
	}
	for mgr, want := range map[string]string{"apt": "apt", "dnf": "dnf", "dnf5": "dnf", "yum": "yum"} {
		m, ok := packageBackend(mgr)
		if !ok || m.Spec().Name != want {
			t.Errorf("%s -> %v", mgr, m)
		}
	}
}
