package modules

import (
	"reflect"
	"testing"
)

func TestParseServices(t *testing.T) {
	services := map[string]any{}
	parseSysvStatus(" [ + ]  cron\n [ - ]  procps\n [ ? ]  hwclock.sh\n", services)
	units := `  UNIT                     LOAD      ACTIVE   SUB     DESCRIPTION
  cron.service             loaded    active   running Regular background program processing daemon
  e2scrub_reap.service     loaded    inactive dead    Remove Stale Online ext4 Metadata Check Snapshots
● tend-broken.service      loaded    failed   failed  tend broken
● nfs.service              not-found inactive dead    nfs.service
● tend-masked.service      masked    inactive dead    tend-masked.service

LOAD   = Reflects whether the unit definition was properly loaded.
5 loaded units listed.
`
	parseListUnits(units, services)
	files := `UNIT FILE                 STATE           VENDOR PRESET
cron.service              enabled         enabled
e2scrub_reap.service      enabled         enabled
getty@.service            enabled         enabled
tend-broken.service       disabled        enabled
tend-masked.service       masked          enabled
ssh.service               disabled        enabled

6 unit files listed.
`
	missing := parseUnitFiles(files, services)
	if !reflect.DeepEqual(missing, []string{"getty@.service", "ssh.service"}) {
		t.Errorf("missing = %v", missing)
	}
	states := parseActiveStates("getty@.service\t\nssh.service\tActiveState=inactive\n", missing)
	batch := parseActiveStates("B\nActiveState=inactive\n", missing)
	if !reflect.DeepEqual(batch, states) {
		t.Errorf("batch states %v, per unit %v", batch, states)
	}
	for n, s := range states {
		services[n].(map[string]any)["state"] = s
	}
	want := map[string]any{
		"cron":                 map[string]any{"name": "cron", "state": "running", "source": "sysv"},
		"procps":               map[string]any{"name": "procps", "state": "stopped", "source": "sysv"},
		"cron.service":         map[string]any{"name": "cron.service", "state": "running", "status": "enabled", "source": "systemd"},
		"e2scrub_reap.service": map[string]any{"name": "e2scrub_reap.service", "state": "stopped", "status": "enabled", "source": "systemd"},
		"tend-broken.service":  map[string]any{"name": "tend-broken.service", "state": "stopped", "status": "failed", "source": "systemd"},
		"nfs.service":          map[string]any{"name": "nfs.service", "state": "stopped", "status": "not-found", "source": "systemd"},
		"tend-masked.service":  map[string]any{"name": "tend-masked.service", "state": "stopped", "status": "masked", "source": "systemd"},
		"getty@.service":       map[string]any{"name": "getty@.service", "state": "unknown", "status": "enabled", "source": "systemd"},
		"ssh.service":          map[string]any{"name": "ssh.service", "state": "inactive", "status": "disabled", "source": "systemd"},
	}
	if !reflect.DeepEqual(services, want) {
		for k, v := range services {
			if !reflect.DeepEqual(v, want[k]) {
				t.Errorf("%s = %v, want %v", k, v, want[k])
			}
		}
		for k := range want {
			if services[k] == nil {
				t.Errorf("%s missing", k)
			}
		}
	}
}

func TestPackageManagerOrder(t *testing.T) {
	for _, c := range []struct {
		given []string
		want  []string
		msg   string
	}{
		{[]string{"auto"}, packageManagers, ""},
		{[]string{"apt", "auto"}, []string{"apt", "rpm", "pacman", "pkg", "portage", "apk", "pkg_info"}, ""},
		{[]string{"APT", "apt"}, []string{"apt"}, ""},
		{[]string{"dpkg"}, nil, "Unsupported package managers requested: dpkg"},
		{[]string{"auto", "dpkg"}, nil, "Could not auto detect a usable package manager, check warnings for details."},
	} {
		got, msg := packageManagerOrder(c.given)
		if !reflect.DeepEqual(got, c.want) || msg != c.msg {
			t.Errorf("%v: got %v %q, want %v %q", c.given, got, msg, c.want, c.msg)
		}
	}
}

func TestParseDpkgPackages(t *testing.T) {
	out := "amd64\ninstalled\tbash\t5.2.15-2+b2\tamd64\tshells\n" +
		"installed\tlibc6\t2.36-9\tamd64\tlibs\n" +
		"installed\tlibc6\t2.36-9\ti386\tlibs\n" +
		"installed\ttzdata\t2024a-0+deb12u1\tall\tlocalization\n" +
		"config-files\tgone\t1.0\tamd64\tmisc\n" +
		"half-configured\tbroken\t2\tamd64\tmisc\n"
	got := parseDpkgPackages(out)
	want := map[string]any{
		"bash":       []any{map[string]any{"name": "bash", "version": "5.2.15-2+b2", "arch": "amd64", "category": "shells", "source": "apt"}},
		"libc6":      []any{map[string]any{"name": "libc6", "version": "2.36-9", "arch": "amd64", "category": "libs", "source": "apt"}},
		"libc6:i386": []any{map[string]any{"name": "libc6:i386", "version": "2.36-9", "arch": "i386", "category": "libs", "source": "apt"}},
		"tzdata":     []any{map[string]any{"name": "tzdata", "version": "2024a-0+deb12u1", "arch": "all", "category": "localization", "source": "apt"}},
		"broken":     []any{map[string]any{"name": "broken", "version": "2", "arch": "amd64", "category": "misc", "source": "apt"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	rpm := parseRpmPackages("kernel\t5.14.0\t70.el9\t(none)\tx86_64\nkernel\t5.14.0\t71.el9\t(none)\tx86_64\nbind\t9.16\t1.el9\t32\tx86_64\n")
	if l := rpm["kernel"].([]any); len(l) != 2 || l[0].(map[string]any)["epoch"] != nil {
		t.Errorf("kernel = %v", rpm["kernel"])
	}
	if e := rpm["bind"].([]any)[0].(map[string]any)["epoch"]; e != 32 {
		t.Errorf("bind epoch = %v", e)
	}
}
