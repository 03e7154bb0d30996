package modules

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-dev/tend/pkg/module"
)

const dpkgQueryFixture = `dpkg-query: no packages found matching nosuch
bash install ok installed 5.2.15-2+b8
nano deinstall ok config-files 7.2-1
tree install ok installed 2.1.0-1
half install ok half-configured 1.0-1
`

func TestParseDpkgQuery(t *testing.T) {
	got := parseDpkgQuery(dpkgQueryFixture)
	want := map[string]dpkgState{
		"bash": {Status: "installed", Version: "5.2.15-2+b8"},
		"nano": {Status: "config-files", Version: "7.2-1"},
		"tree": {Status: "installed", Version: "2.1.0-1"},
		"half": {Status: "half-configured", Version: "1.0-1"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseDpkgQuery (-want +got):\n%s", d)
	}
}

const aptPolicyFixture = `bash:
  Installed: 5.2.15-2+b8
  Candidate: 5.2.15-2+b13
  Version table:
     5.2.15-2+b13 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
 *** 5.2.15-2+b8 100
        100 /var/lib/dpkg/status
tree:
  Installed: (none)
  Candidate: 2.1.0-1
  Version table:
     2.1.0-1 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
ghost:
  Installed: (none)
  Candidate: (none)
  Version table:
libc6:amd64:
  Installed: 2.36-9
  Candidate: 2.36-9
`

func TestParseAptCachePolicy(t *testing.T) {
	got := parseAptCachePolicy(aptPolicyFixture)
	want := map[string]aptPolicy{
		"bash":  {Installed: "5.2.15-2+b8", Candidate: "5.2.15-2+b13"},
		"tree":  {Candidate: "2.1.0-1"},
		"ghost": {},
		"libc6": {Installed: "2.36-9", Candidate: "2.36-9"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseAptCachePolicy (-want +got):\n%s", d)
	}
}

func TestDecideApt(t *testing.T) {
	dpkg := parseDpkgQuery(dpkgQueryFixture)
	policy := parseAptCachePolicy(aptPolicyFixture)
	names := func(l []aptPkg) []string {
		out := []string{}
		for _, p := range l {
			out = append(out, p.spec())
		}
		return out
	}
	tests := []struct {
		name                     string
		pkgs                     []string
		state                    string
		purge                    bool
		policy                   map[string]aptPolicy
		install, upgrade, remove []string
		missing                  []string
	}{
		{name: "present installed", pkgs: []string{"bash", "tree"}, state: "present", install: []string{}, upgrade: []string{}, remove: []string{}},
		{name: "present missing", pkgs: []string{"bash", "jq"}, state: "present", install: []string{"jq"}, upgrade: []string{}, remove: []string{}},
		{name: "config-files is not installed", pkgs: []string{"nano"}, state: "present", install: []string{"nano"}, upgrade: []string{}, remove: []string{}},
		{name: "half-configured is reinstalled", pkgs: []string{"half"}, state: "present", install: []string{"half"}, upgrade: []string{}, remove: []string{}},
		{name: "exact pin matches", pkgs: []string{"tree=2.1.0-1"}, state: "present", install: []string{}, upgrade: []string{}, remove: []string{}},
		{name: "exact pin differs", pkgs: []string{"tree=2.0-1"}, state: "present", install: []string{"tree=2.0-1"}, upgrade: []string{}, remove: []string{}},
		{name: "glob pin matches", pkgs: []string{"bash=5.2*"}, state: "present", install: []string{}, upgrade: []string{}, remove: []string{}},
		{name: "glob pin differs", pkgs: []string{"bash=5.3*"}, state: "present", install: []string{"bash=5.3*"}, upgrade: []string{}, remove: []string{}},
		{name: "latest upgrades", pkgs: []string{"bash", "tree", "libc6"}, state: "latest", policy: policy, install: []string{"libc6"}, upgrade: []string{"bash"}, remove: []string{}},
		{name: "latest unknown package", pkgs: []string{"ghost", "nothere"}, state: "latest", policy: policy, install: []string{}, upgrade: []string{}, remove: []string{}, missing: []string{"ghost", "nothere"}},
		{name: "absent", pkgs: []string{"bash", "jq", "nano"}, state: "absent", install: []string{}, upgrade: []string{}, remove: []string{"bash"}},
		{name: "absent purge takes config files", pkgs: []string{"nano"}, state: "absent", purge: true, install: []string{}, upgrade: []string{}, remove: []string{"nano"}},
		{name: "arch qualified", pkgs: []string{"bash:amd64"}, state: "present", install: []string{}, upgrade: []string{}, remove: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, err := parseAptNames(tt.pkgs)
			if err != nil {
				t.Fatal(err)
			}
			d := decideApt(pkgs, tt.state, tt.purge, dpkg, tt.policy)
			got := [][]string{names(d.install), names(d.upgrade), names(d.remove), d.missing}
			want := [][]string{tt.install, tt.upgrade, tt.remove, tt.missing}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("install/upgrade/remove/missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAptNamesRejectsBadNames(t *testing.T) {
	for _, n := range []string{"a b", "x/y", "=1.0"} {
		if _, err := parseAptNames([]string{n}); err == nil {
			t.Errorf("parseAptNames(%q) = nil error, want one", n)
		}
	}
}

func TestAptGetCommand(t *testing.T) {
	spec := Apt{}.Spec()
	tests := []struct {
		name string
		raw  map[string]any
		sub  string
		pkgs []string
		want string
	}{
		{"defaults", map[string]any{"name": "jq"}, "install", []string{"jq"},
			"apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install -- jq"},
		{"no recommends, downgrade, release", map[string]any{"name": "jq", "install_recommends": false, "allow_downgrade": true, "default_release": "bookworm-backports"}, "install", []string{"jq=1.6*"},
			"apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends --allow-downgrades -t bookworm-backports install -- 'jq=1.6*'"},
		{"purge autoremove", map[string]any{"name": "nano", "state": "absent", "purge": true, "autoremove": true, "dpkg_options": "force-confnew"}, "remove", []string{"nano"},
			"apt-get -y -q -o Dpkg::Options::=--force-confnew --purge --auto-remove remove -- nano"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := spec.Validate(tt.raw, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := aptGetCommand(args, tt.sub, tt.pkgs); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAptSpecValidation(t *testing.T) {
	spec := Apt{}.Spec()
	tests := []struct {
		name string
		raw  map[string]any
		want string // substring of the error, "" for none
	}{
		{"name list alias", map[string]any{"pkg": []any{"a", "b"}}, ""},
		{"deb and name", map[string]any{"name": "a", "deb": "/x.deb"}, "mutually exclusive"},
		{"bad state", map[string]any{"name": "a", "state": "build-dep"}, "not one of"},
		{"nothing to do", map[string]any{"state": "present"}, "one of these arguments is required"},
		{"unknown", map[string]any{"name": "a", "force_yes": true}, "unsupported argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := spec.Validate(tt.raw, false)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestAptLatestWithVersionFails(t *testing.T) {
	args, err := Apt{}.Spec().Validate(map[string]any{"name": "jq=1.6", "state": "latest"}, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Apt{}.Plan(context.Background(), &module.Host{Name: "x"}, args)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result["failed"] != true || !strings.Contains(p.Result["msg"].(string), "inconsistent with state=latest") {
		t.Errorf("result = %v", p.Result)
	}
}

// buildDeb builds a real .deb with dpkg-deb and the given compression.
func buildDeb(t *testing.T, dir, name, version, compression string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	root := filepath.Join(dir, name+"-"+compression)
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: tend <tend@example.com>\nDescription: test package\n multi-line description\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/share/"+name), 0o755); err != nil {
		t.Fatal(err)
	}
	// Incompressible payload so the data member is big.
	payload := make([]byte, 3<<20)
	for i := range payload {
		payload[i] = byte(i*7919 + i>>8)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/"+name+"/data"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+"_"+version+"_"+compression+".deb")
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Z"+compression, "--build", root, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v: %s", err, b)
	}
	return out
}

func TestReadDebInfo(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(c, func(t *testing.T) {
			path := buildDeb(t, dir, "tend-test", "1.2-3", c)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := readDebInfo(f)
			if err != nil {
				t.Fatal(err)
			}
			want := debInfo{Package: "tend-test", Version: "1.2-3", Architecture: "all"}
			if got != want {
				t.Errorf("readDebInfo = %+v, want %+v", got, want)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		b, _ := os.ReadFile(buildDeb(t, dir, "tend-test", "1.2-3", "xz"))
		_, err := readDebInfo(strings.NewReader(string(b[:100])))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want ErrUnexpectedEOF", err)
		}
	})
	t.Run("not a deb", func(t *testing.T) {
		if _, err := readDebInfo(strings.NewReader("hello world, not an archive")); err == nil {
			t.Error("want an error")
		}
	})
}

// TestFetchDebInfoRange checks that the controller reads a remote .deb's
// control data without downloading the whole file when ranges work, and
// falls back to the full file when they do not.
func TestFetchDebInfoRange(t *testing.T) {
	path := buildDeb(t, t.TempDir(), "tend-big", "2.0", "xz")
	st, _ := os.Stat(path)
	for _, ranges := range []bool{true, false} {
		var served atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !ranges {
				r.Header.Del("Range")
			}
			f, _ := os.Open(path)
			defer f.Close()
			cw := &countWriter{ResponseWriter: w, n: &served}
			http.ServeContent(cw, r, "x.deb", st.ModTime(), f)
		}))
		info, err := fetchDebInfo(context.Background(), srv.URL+"/x.deb")
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if info.Package != "tend-big" || info.Version != "2.0" {
			t.Errorf("info = %+v", info)
		}
		if ranges && served.Load() > debHeadBytes {
			t.Errorf("with ranges the server sent %d bytes, want at most %d", served.Load(), debHeadBytes)
		}
	}
}

type countWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func TestAptLockWrapRetries(t *testing.T) {
	t.Parallel() // the retries wait
	// A command failing twice with a lock error, then succeeding.
	dir := t.TempDir()
	cnt := filepath.Join(dir, "n")
	cmd := "n=$(cat " + cnt + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + cnt +
		"; if [ $n -lt 3 ]; then echo 'E: Could not get lock /var/lib/dpkg/lock-frontend' >&2; exit 100; fi; echo done"
	out, err := exec.Command("/bin/sh", "-c", aptLockWrap(cmd, 10)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "done" {
		t.Errorf("got %q, %v; want done", out, err)
	}
	// A non-lock failure is not retried and keeps its exit status.
	err = exec.Command("/bin/sh", "-c", aptLockWrap("echo boom >&2; exit 3", 10)).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("err = %v, want exit 3", err)
	}
}

func TestAptCacheState(t *testing.T) {
	tests := []struct {
		name      string
		times     string
		validTime int
		stale     bool
		mtime     int
	}{
		{name: "no valid time is always stale", times: "1000 990\n", validTime: 0, stale: true, mtime: 990},
		{name: "fresh", times: "1000 990\n", validTime: 60, stale: false, mtime: 990},
		{name: "old", times: "1000 900\n", validTime: 60, stale: true, mtime: 900},
		{name: "unreadable", times: "", validTime: 60, stale: false, mtime: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stale, mtime := aptCacheState(tt.times, tt.validTime)
			if stale != tt.stale || mtime != tt.mtime {
				t.Errorf("aptCacheState(%q, %d) = %v, %d; want %v, %d", tt.times, tt.validTime, stale, mtime, tt.stale, tt.mtime)
			}
		})
	}
}

func TestDecideDeb(t *testing.T) {
	dpkg := parseDpkgQuery(dpkgQueryFixture)
	tests := []struct {
		name   string
		info   debInfo
		before string // "" means nothing to install
	}{
		{name: "same version installed", info: debInfo{Package: "tree", Version: "2.1.0-1"}},
		{name: "other version installed", info: debInfo{Package: "tree", Version: "2.2-1"}, before: "2.1.0-1"},
		{name: "not known", info: debInfo{Package: "jq", Version: "1.7"}, before: "not installed"},
		{name: "config files only", info: debInfo{Package: "nano", Version: "7.2-1"}, before: "not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decideDeb(tt.info, dpkg)
			if tt.before == "" {
				if d.changed() {
					t.Errorf("decideDeb(%v) installs %v; want nothing", tt.info, d.install)
				}
				return
			}
			want := aptDecision{install: []aptPkg{{name: tt.info.Package, version: tt.info.Version}},
				before: map[string]string{tt.info.Package: tt.before}, after: map[string]string{tt.info.Package: tt.info.Version}}
			if diff := cmp.Diff(want, d, cmp.AllowUnexported(aptDecision{}, aptPkg{})); diff != "" {
				t.Errorf("decideDeb(%v) (-want +got):\n%s", tt.info, diff)
			}
		})
	}
}

func TestAptRefresh(t *testing.T) {
	install := aptDecision{install: []aptPkg{{name: "jq"}}}
	missing := aptDecision{missing: []string{"ghost"}}
	tests := []struct {
		name              string
		stale             bool
		d                 aptDecision
		noPkgs            bool
		state             string
		doUpdate, changed bool
	}{
		{name: "fresh lists, nothing to do", d: aptDecision{}, state: "present"},
		{name: "fresh lists, install", d: install, state: "present", changed: true},
		{name: "stale lists, install refreshes first", stale: true, d: install, state: "present", doUpdate: true, changed: true},
		{name: "stale lists, nothing to do", stale: true, d: aptDecision{}, state: "present"},
		{name: "update_cache alone", stale: true, d: aptDecision{}, noPkgs: true, state: "present", doUpdate: true, changed: true},
		{name: "latest always refreshes stale lists", stale: true, d: aptDecision{}, state: "latest", doUpdate: true, changed: true},
		{name: "missing package looked for again", stale: true, d: missing, state: "present", doUpdate: true, changed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doUpdate, changed := aptRefresh(tt.stale, tt.d, tt.noPkgs, tt.state)
			if doUpdate != tt.doUpdate || changed != tt.changed {
				t.Errorf("aptRefresh = %v, %v; want %v, %v", doUpdate, changed, tt.doUpdate, tt.changed)
			}
		})
	}
}

func TestAptInstallAndRemoveCommands(t *testing.T) {
	pkgs := []aptPkg{{name: "bash"}, {name: "tree", version: "2.0-1"}}
	d := aptDecision{install: []aptPkg{{name: "tree", version: "2.0-1"}}}
	if diff := cmp.Diff([]string{"bash", "tree"}, aptInstallSpecs("latest", pkgs, d)); diff != "" {
		t.Errorf("latest installs names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tree=2.0-1"}, aptInstallSpecs("present", pkgs, d)); diff != "" {
		t.Errorf("present installs the planned specs (-want +got):\n%s", diff)
	}
	if got := aptInstallSpecs("absent", pkgs, d); got != nil {
		t.Errorf("absent installs %v; want nothing", got)
	}
	if sub, names := aptRemoveCommand([]aptPkg{{name: "(autoremove)"}}); sub != "autoremove" || names != nil {
		t.Errorf("autoremove marker alone = %q %v; want autoremove", sub, names)
	}
	if sub, names := aptRemoveCommand([]aptPkg{{name: "bash"}, {name: "(autoremove)"}}); sub != "remove" || !cmp.Equal(names, []string{"bash"}) {
		t.Errorf("removals = %q %v; want remove [bash]", sub, names)
	}
}

func TestAptGetCommandOptions(t *testing.T) {
	args, err := (Apt{}).Spec().Validate(map[string]any{"upgrade": "dist", "force": true, "allow_change_held_packages": true,
		"fail_on_autoremove": true, "autoremove": true, "default_release": "bookworm-backports", "dpkg_options": "force-confold"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aptGetCommand(args, "dist-upgrade", nil), "apt-get -y -q -o Dpkg::Options::=--force-confold --force-yes --allow-change-held-packages --no-remove -t bookworm-backports --auto-remove dist-upgrade"; got != want {
		t.Errorf("dist-upgrade:\n%s\nwant\n%s", got, want)
	}
	args["only_upgrade"] = true
	if got := aptGetCommand(args, "install", []string{"curl"}); !strings.Contains(got, " --only-upgrade ") || !strings.HasSuffix(got, " install -- curl") {
		t.Errorf("install: %s", got)
	}
	if got := aptGetCommand(args, "upgrade", nil); !strings.HasSuffix(got, " upgrade --with-new-pkgs") {
		t.Errorf("upgrade: %s", got)
	}
	if got := aptPolicyRcD(args, "apt-get install x"); got != "apt-get install x" {
		t.Errorf("no policy_rc_d: %s", got)
	}
	args["policy_rc_d"] = 101
	if got := aptPolicyRcD(args, "apt-get install x"); !strings.Contains(got, "exit %d\\n' 101 > /usr/sbin/policy-rc.d") || !strings.Contains(got, "( apt-get install x ); _rc=$?") {
		t.Errorf("policy_rc_d: %s", got)
	}
	d := aptDecision{install: []aptPkg{{name: "curl"}, {name: "jq"}}, before: map[string]string{"curl": "1", "jq": "not installed"}, after: map[string]string{"curl": "2", "jq": "installed"}}
	d = onlyUpgrades(d, map[string]dpkgState{"curl": {Status: "installed", Version: "1"}})
	if len(d.install) != 1 || d.install[0].name != "curl" || len(d.before) != 1 {
		t.Errorf("only_upgrade: %+v", d)
	}
}

// TestAptListsMoved: after an update, the lists count as updated only when
// their time stamp moved, as Ansible's apt module decides (an update that
// fetched nothing new is no change).
func TestAptListsMoved(t *testing.T) {
	for _, tt := range []struct {
		before  int
		out     string
		updated bool
		mtime   int
	}{
		{before: 990, out: "990\n", updated: false, mtime: 990},
		{before: 990, out: "1000\n", updated: true, mtime: 1000},
		{before: 0, out: "1000", updated: true, mtime: 1000},
		{before: 990, out: "", updated: true, mtime: 990},
	} {
		updated, mtime := aptListsMoved(tt.before, tt.out)
		if updated != tt.updated || mtime != tt.mtime {
			t.Errorf("aptListsMoved(%d, %q) = %v, %d; want %v, %d", tt.before, tt.out, updated, mtime, tt.updated, tt.mtime)
		}
	}
}
