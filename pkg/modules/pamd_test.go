package modules

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

// pamdCommonPassword is Debian 12's /etc/pam.d/common-password (comments
// shortened), with a trailing comment after the last rule.
const pamdCommonPassword = `#
# /etc/pam.d/common-password - password-related modules common to all services
#

# here are the per-package modules (the "Primary" block)
password	[success=1 default=ignore]	pam_unix.so obscure yescrypt
# here's the fallback if no module succeeds
password	requisite			pam_deny.so
# prime the stack with a positive return value if there isn't one already;
password	required			pam_permit.so
# end of pam-auth-update config
`

const pamdLogin = `auth       optional   pam_faildelay.so  delay=3000000
auth [success=ok new_authtok_reqd=ok ignore=ignore user_unknown=bad default=die] pam_securetty.so
auth       requisite  pam_nologin.so
@include common-auth
session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close
session       required   pam_env.so readenv=1 envfile=/etc/default/locale
session    optional   pam_motd.so  motd=/run/motd.dynamic
-session   optional   pam_systemd.so
`

var pamdCases = []struct {
	name    string
	content string
	args    map[string]any
}{
	{"args_present adds and updates", pamdCommonPassword, map[string]any{"type": "password", "control": "[success=1 default=ignore]",
		"module_path": "pam_unix.so", "state": "args_present", "module_arguments": []any{"rounds=65536", "obscure"}}},
	{"args_present changes a value", pamdLogin, map[string]any{"type": "session", "control": "required",
		"module_path": "pam_env.so", "state": "args_present", "module_arguments": []any{"readenv=0"}}},
	{"args_present nothing to do", pamdLogin, map[string]any{"type": "session", "control": "required",
		"module_path": "pam_env.so", "state": "args_present", "module_arguments": []any{"readenv=1"}}},
	{"args_absent", pamdCommonPassword, map[string]any{"type": "password", "control": "[success=1 default=ignore]",
		"module_path": "pam_unix.so", "state": "args_absent", "module_arguments": []any{"obscure"}}},
	{"updated control and args", pamdLogin, map[string]any{"type": "auth", "control": "requisite", "module_path": "pam_nologin.so",
		"new_control": "required", "module_arguments": []any{"file=/etc/nologin.tend"}}},
	{"updated nothing matches", pamdLogin, map[string]any{"type": "auth", "control": "required", "module_path": "pam_nope.so", "new_control": "optional"}},
	{"before", pamdCommonPassword, map[string]any{"type": "password", "control": "requisite", "module_path": "pam_deny.so",
		"state": "before", "new_type": "password", "new_control": "optional", "new_module_path": "pam_tend.so", "module_arguments": []any{"a=b"}}},
	{"before the first rule", pamdLogin, map[string]any{"type": "auth", "control": "optional", "module_path": "pam_faildelay.so",
		"state": "before", "new_type": "auth", "new_control": "required", "new_module_path": "pam_first.so"}},
	{"before already there", pamdLogin, map[string]any{"type": "auth", "control": "requisite", "module_path": "pam_nologin.so",
		"state": "before", "new_type": "auth", "new_control": "[success=ok new_authtok_reqd=ok ignore=ignore user_unknown=bad default=die]", "new_module_path": "pam_securetty.so"}},
	{"after the last rule", pamdCommonPassword, map[string]any{"type": "password", "control": "required", "module_path": "pam_permit.so",
		"state": "after", "new_type": "password", "new_control": "optional", "new_module_path": "pam_gnome_keyring.so"}},
	{"after in the middle", pamdLogin, map[string]any{"type": "auth", "control": "requisite", "module_path": "pam_nologin.so",
		"state": "after", "new_type": "auth", "new_control": "optional", "new_module_path": "pam_group.so"}},
	{"absent", pamdLogin, map[string]any{"type": "session", "control": "optional", "module_path": "pam_motd.so", "state": "absent"}},
	{"absent the first line", pamdLogin, map[string]any{"type": "auth", "control": "optional", "module_path": "pam_faildelay.so", "state": "absent"}},
	{"invalid control", pamdLogin, map[string]any{"type": "auth", "control": "requisite", "module_path": "pam_nologin.so", "new_control": "sometimes"}},
	{"bracketed args_present", pamdLogin, map[string]any{"type": "auth", "control": "requisite", "module_path": "pam_nologin.so",
		"state": "args_present", "module_arguments": []any{"[a=b]"}}},
	{"already updated mark", "auth required pam_a.so\n# Updated by Ansible - 2020-01-01T00:00:00\nauth required pam_b.so\n",
		map[string]any{"type": "auth", "control": "required", "module_path": "pam_b.so", "state": "args_present", "module_arguments": []any{"x"}}},
}

const pamdMark = "2026-01-01T00:00:00.000000"

func pamdEdit(t *testing.T, content string, raw map[string]any) (int, string, string) {
	t.Helper()
	args, err := (&Pamd{}).Spec().Validate(map[string]any{"name": "x", "type": raw["type"], "control": raw["control"], "module_path": raw["module_path"]}, false)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range raw {
		args[k] = v
	}
	if _, ok := raw["state"]; !ok {
		args["state"] = "updated"
	}
	return editPamd(content, module.Args(args), pamdMark)
}

func TestPamdEdits(t *testing.T) {
	n, out, fail := pamdEdit(t, pamdCommonPassword, pamdCases[0].args)
	want := "#\n# Updated by Ansible - " + pamdMark + "\n# /etc/pam.d/common-password - password-related modules common to all services\n"
	if fail != "" || n != 1 || !bytes.HasPrefix([]byte(out), []byte(want)) {
		t.Fatalf("args_present: %d %q %s", n, out, fail)
	}
	if !bytes.Contains([]byte(out), []byte("\npassword   [success=1 default=ignore] pam_unix.so obscure yescrypt rounds=65536\n")) {
		t.Errorf("rule not rewritten: %s", out)
	}
	if n, _, _ := pamdEdit(t, out, pamdCases[0].args); n != 0 {
		t.Errorf("second run changes %d rules", n)
	}
	if _, _, fail := pamdEdit(t, pamdLogin, pamdCases[13].args); fail != "Rule control, sometimes, is not valid in rule auth       sometimes pam_nologin.so" {
		t.Errorf("invalid control: %q", fail)
	}
}

// pamdOracle is community.general's own pamd code, run on the same input,
// with the time of the mark line fixed.
const pamdOracle = `import json, sys
from ansible_collections.community.general.plugins.modules import pamd as P
class FixedDT:
    @staticmethod
    def now():
        class N:
            def isoformat(self): return "` + pamdMark + `"
        return N()
P.datetime = FixedDT
case = json.load(sys.stdin)
svc = P.PamdService(case["content"])
a = case["args"]
st = a.get("state", "updated")
ma = a.get("module_arguments")
r = lambda f: f(a["type"], a["control"], a["module_path"], a.get("new_type"), a.get("new_control"), a.get("new_module_path"), ma)
if st == "updated": n = r(svc.update_rule)
elif st == "before": n = r(svc.insert_before)
elif st == "after": n = r(svc.insert_after)
elif st == "args_absent": n = svc.remove_module_arguments(a["type"], a["control"], a["module_path"], ma)
elif st == "args_present":
    if [x for x in P.parse_module_arguments(ma) if x.startswith("[")]:
        print(json.dumps({"fail": "Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'."})); sys.exit(0)
    n = svc.add_module_arguments(a["type"], a["control"], a["module_path"], ma)
elif st == "absent": n = svc.remove(a["type"], a["control"], a["module_path"])
ok, msg = svc.validate()
print(json.dumps({"changes": n, "out": str(svc), "fail": "" if ok else msg}))
`

// TestPamdOracle runs every case through community.general's pamd code
// (installed with Ansible) and requires the same file and change count.
func TestPamdOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle comparison skipped with -short")
	}
	const py = "/usr/bin/python3"
	if _, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/community/general/plugins/modules/pamd.py"); err != nil {
		t.Skip("community.general not installed (apt-get install ansible) - skipping the oracle comparison")
	}
	for _, c := range pamdCases {
		t.Run(c.name, func(t *testing.T) {
			in, _ := json.Marshal(map[string]any{"content": c.content, "args": c.args})
			cmd := exec.Command(py, "-c", pamdOracle)
			cmd.Stdin = bytes.NewReader(in)
			cmd.Env = append(os.Environ(), "PYTHONPATH=/usr/lib/python3/dist-packages")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("oracle: %v", err)
			}
			var want struct {
				Changes int
				Out     string
				Fail    string
			}
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("oracle output %q: %v", out, err)
			}
			n, got, fail := pamdEdit(t, c.content, c.args)
			if want.Fail != "" || fail != "" {
				if fail != want.Fail {
					t.Errorf("failure %q, Ansible %q", fail, want.Fail)
				}
				return
			}
			if n != want.Changes || got != want.Out {
				t.Errorf("tend: %d changes\n%s\nAnsible: %d changes\n%s", n, got, want.Changes, want.Out)
			}
		})
	}
}
