package modules

import (
	"strings"
	"testing"
)

func TestEditPamLimits(t *testing.T) {
	conf := "# /etc/security/limits.conf\n#\n*  soft  core  0\n\n@admin   hard nofile 4096 # admins\n"
	w := pamWant{domain: "@admin", typ: "hard", item: "nofile", value: "8192"}
	out, changed, msg, fail := editPamLimits(conf, w, "/etc/security/limits.conf")
	if fail != "" || !changed || msg != "@admin\thard\tnofile\t8192\t# admins\n\n" {
		t.Errorf("rewrite: changed=%v msg=%q fail=%q", changed, msg, fail)
	}
	if !strings.Contains(out, "*  soft  core  0\n") || !strings.HasSuffix(out, msg) {
		t.Errorf("out:\n%s", out)
	}
	if _, changed, _, _ := editPamLimits(out, w, ""); changed {
		t.Error("second run changes")
	}
	w.value, w.useMax = "1024", true
	if _, changed, _, _ := editPamLimits(out, w, ""); changed {
		t.Error("use_max with a smaller value changes")
	}
	w = pamWant{domain: "postgres", typ: "-", item: "nofile", value: "unlimited"}
	out, changed, msg, _ = editPamLimits("", w, "")
	if !changed || out != "postgres\t-\tnofile\tunlimited\n" || msg != out {
		t.Errorf("append: %q", out)
	}
	if _, _, _, fail := editPamLimits("* soft nofile lots\n", w, "/x"); !strings.HasPrefix(fail, "Invalid configuration found in '/x'. Value of 'lots'") {
		t.Errorf("bad file value: %q", fail)
	}
	if e := pamValueError("nice", "25", ""); !strings.Contains(e, "range -20 to 19") {
		t.Errorf("nice: %q", e)
	}
}
