package modules

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

func TestParseGetcap(t *testing.T) {
	for _, c := range []struct {
		out  string
		want []fileCap
	}{
		{"/usr/bin/ping", nil},
		{"/usr/bin/ping cap_net_raw=ep", []fileCap{{"cap_net_raw", "=", "ep"}}},
		{"/usr/bin/x = cap_net_admin,cap_net_raw+ep cap_sys_time+i", []fileCap{{"cap_net_admin", "+", "ep"}, {"cap_net_raw", "+", "ep"}, {"cap_sys_time", "+", "i"}}},
		{"/usr/bin/x cap_chown,cap_net_raw=eip", []fileCap{{"cap_chown", "=", "eip"}, {"cap_net_raw", "=", "eip"}}},
	} {
		p := strings.Fields(c.out)[0]
		if got := parseGetcap(c.out+"\n", p); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v, want %v", c.out, got, c.want)
		}
	}
	if c, ok := parseCap("cap_net_raw", false); !ok || c.name != "cap_net_raw" || c.op != "" {
		t.Errorf("no operator, absent: %v", c)
	}
	if _, ok := parseCap("cap_net_raw", true); ok {
		t.Error("no operator accepted for present")
	}
}

func TestAptKeyIDs(t *testing.T) {
	for id, want := range map[string][3]string{
		"0x7FA2AF80": {"7FA2AF80", "7FA2AF80", "7FA2AF80"},
		"9DC858229FC7DD38854AE2D88D81803C0EBFCD88": {"0EBFCD88", "8D81803C0EBFCD88", "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"},
		"8d81803c0ebfcd88":                         {"0EBFCD88", "8D81803C0EBFCD88", "8D81803C0EBFCD88"},
	} {
		s, fp, full, ok := parseAptKeyID(id)
		if !ok || [3]string{s, fp, full} != want {
			t.Errorf("%s: %s %s %s %v", id, s, fp, full, ok)
		}
	}
	for _, bad := range []string{"", "0x", "123", "XYZ12345", "1234567890"} {
		if _, _, _, ok := parseAptKeyID(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	list := `/etc/apt/trusted.gpg
--------------------
pub   rsa4096/8D81803C0EBFCD88 2017-02-22 [SCEA]
      9DC858229FC7DD38854AE2D88D81803C0EBFCD88
uid                 [ unknown] Docker Release (CE deb) <docker@docker.com>
sub   rsa4096/5B4E8A1A62A5E1F2 2017-02-22 [S] [expired: 2020-01-01]
sub   rsa4096/1111222233334444 2017-02-22 [S]
`
	if got := parseAptKeys(list, false); !reflect.DeepEqual(got, []string{"8D81803C0EBFCD88", "1111222233334444"}) {
		t.Errorf("list: %v", got)
	}
	colons := "pub:-:4096:1:8D81803C0EBFCD88:1487788586:::-:Docker:\nfpr:::::::::9DC858229FC7DD38854AE2D88D81803C0EBFCD88:\n"
	if got := parseAptKeys(colons, true); !reflect.DeepEqual(got, []string{"0EBFCD88"}) {
		t.Errorf("colons: %v", got)
	}
}

func TestModprobePersistence(t *testing.T) {
	mods := []confFile{{path: "/etc/modules-load.d/modules.conf", content: "# comment\nloop\n", mode: 0o644}}
	opts := []confFile{{path: "/etc/modprobe.d/old.conf", content: "options dummy numdummies=1\nblacklist x\n", mode: 0o600}}
	s := newModprobeState("dummy", mods, opts)
	w := s.persistentWrites("present", "numdummies=2")
	want := map[string]confFile{
		"/etc/modules-load.d/dummy.conf": {path: "/etc/modules-load.d/dummy.conf", content: "dummy\n"},
		// community.general joins readlines() with "\n": a blank line follows each line.
		"/etc/modprobe.d/old.conf":   {path: "/etc/modprobe.d/old.conf", content: "#options dummy numdummies=1\n\nblacklist x\n", mode: 0o600},
		"/etc/modprobe.d/dummy.conf": {path: "/etc/modprobe.d/dummy.conf", content: "options dummy numdummies=2\n"},
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("present:\n%v\nwant\n%v", w, want)
	}
	done := newModprobeState("dummy", []confFile{want["/etc/modules-load.d/dummy.conf"]}, []confFile{want["/etc/modprobe.d/dummy.conf"]})
	if w := done.persistentWrites("present", "numdummies=2"); w != nil {
		t.Errorf("second run writes %v", w)
	}
	if w := done.persistentWrites("absent", ""); len(w) != 2 || w["/etc/modules-load.d/dummy.conf"].content != "#dummy\n" {
		t.Errorf("absent: %v", w)
	}
	if w := s.persistentWrites("disabled", "x=1"); w != nil {
		t.Errorf("disabled: %v", w)
	}
	files, err := parseConfFiles("@@F 5 644 /etc/a.conf\nloop\n@@F 0 600 /etc/b conf\n@@F 3 644 /etc/c\nx\ny")
	if err != nil || len(files) != 3 || files[0].content != "loop\n" || files[1].path != "/etc/b conf" || files[2].content != "x\ny" || files[1].mode != 0o600 {
		t.Errorf("parseConfFiles: %+v %v", files, err)
	}
}

func TestUfwRules(t *testing.T) {
	args, err := (&Ufw{}).Spec().Validate(map[string]any{"rule": "allow", "port": "22", "proto": "tcp", "from": "10.0.0.0/8", "comment": "ssh in", "direction": "in", "interface": "eth0"}, false)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ufwRuleWords(args, 0, false, true), " ")
	if want := "allow in on eth0 from 10.0.0.0/8 to any port 22 proto tcp comment ssh in"; got != want {
		t.Errorf("words %q, want %q", got, want)
	}
	if d, c := ufwCommand("allow", "comment", "a b"); d != "ufw allow comment a b" || c != "LANG=C ufw allow comment 'a b'" {
		t.Errorf("command %q %q", d, c)
	}
	numbered := "Status: active\n\n     To                         Action      From\n     --                         ------      ----\n" +
		"[ 1] 22/tcp                     ALLOW IN    Anywhere\n[ 2] 80/tcp                     ALLOW IN    Anywhere\n" +
		"[ 3] 22/tcp (v6)                ALLOW IN    Anywhere (v6)\n[ 4] 80/tcp (v6)                ALLOW IN    Anywhere (v6)\n"
	for _, c := range []struct {
		rel  string
		ins  int
		want int
		ok   bool
	}{{"zero", 1, 1, true}, {"first-ipv4", 0, 1, true}, {"last-ipv4", 0, 2, true}, {"first-ipv6", 0, 3, true}, {"last-ipv6", 0, 4, true}, {"last-ipv6", 1, 0, false}} {
		if n, ok := ufwInsertAt(c.ins, c.rel, numbered); n != c.want || ok != c.ok {
			t.Errorf("%s %d: %d %v", c.rel, c.ins, n, ok)
		}
	}
	pre := "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow tcp 22 ::/0 any ::/0 in\n"
	dry := "*filter\n" + pre + "COMMIT\n"
	if ufwRuleChanged(module.Args(args), dry, pre) {
		t.Error("same rules reported changed")
	}
	if !ufwRuleChanged(module.Args(args), "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n", pre) {
		t.Error("new rule not reported")
	}
	if ufwRuleChanged(module.Args(args), "Skipping adding existing rule\nSkipping adding existing rule (v6)\n", pre) {
		t.Error("skipped rule reported changed")
	}
}

func TestSameCap(t *testing.T) {
	if !sameCap(fileCap{"cap_net_raw", "=", "ep"}, fileCap{"cap_net_raw", "+", "pe"}) {
		t.Error("+pe differs from =ep")
	}
	if sameCap(fileCap{"cap_net_raw", "=", "ep"}, fileCap{"cap_net_raw", "+", "eip"}) || sameCap(fileCap{"cap_net_raw", "=", "ep"}, fileCap{"cap_net_raw", "-", "ep"}) {
		t.Error("different flags or operator match")
	}
}
