package modules

import (
	"strings"
	"testing"
	"time"
)

func TestRebootCommand(t *testing.T) {
	a, err := (&Reboot{}).Spec().Validate(map[string]any{"pre_reboot_delay": 130, "msg": "it's time"}, false)
	if err != nil {
		t.Fatal(err)
	}
	got := rebootCommand(a)
	if !strings.HasSuffix(got, `"$b" -r 2 'it'"'"'s time'`) || !strings.Contains(got, "for d in /sbin /bin /usr/sbin /usr/bin /usr/local/sbin;") {
		t.Errorf("default command:\n%s", got)
	}
	a, _ = (&Reboot{}).Spec().Validate(map[string]any{"reboot_command": "systemctl reboot --force"}, false)
	if got := rebootCommand(a); !strings.Contains(got, `[ -x "$d"/systemctl ]`) || !strings.HasSuffix(got, `"$b" reboot --force`) {
		t.Errorf("reboot_command:\n%s", got)
	}
}

func TestBackoffPause(t *testing.T) {
	for n, want := range []time.Duration{1, 2, 4, 8, 12, 12} {
		got := backoffPause(n)
		if got < want*time.Second || got >= (want+1)*time.Second {
			t.Errorf("pause %d = %v, want %ds plus under a second", n, got, want)
		}
	}
}
