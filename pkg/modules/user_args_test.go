package modules

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUserLinuxArgs: umask and seuser reach useradd as in Ansible's
// Linux user module; the BSD/macOS/Solaris-only arguments change nothing.
func TestUserLinuxArgs(t *testing.T) {
	absent := userState{expireDays: -1}
	s, _ := parseUserProbe(userFixture)
	tests := []struct {
		name string
		raw  map[string]any
		st   userState
		cmds []string
	}{
		{"umask", map[string]any{"name": "new", "umask": "077"}, absent, []string{"useradd -m -K UMASK=077 new"}},
		{"umask without home", map[string]any{"name": "new", "umask": "077", "create_home": false}, absent, []string{"useradd -M new"}},
		{"seuser", map[string]any{"name": "new", "seuser": "user_u", "create_home": false}, absent, []string{"useradd -Z user_u -M new"}},
		{"seuser existing", map[string]any{"name": "app", "seuser": "user_u", "umask": "077"}, s, nil},
		{"bsd only", map[string]any{"name": "app", "login_class": "staff", "hidden": true, "profile": "p", "authorization": "a", "role": "r"}, s, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := User{}.Spec().Validate(tt.raw, false)
			if err != nil {
				t.Fatal(err)
			}
			p := decideUser(args, tt.st)
			if d := cmp.Diff(tt.cmds, p.cmds); d != "" || p.fail != "" {
				t.Errorf("fail %q, cmds (-want +got):\n%s", p.fail, d)
			}
		})
	}
	args, _ := User{}.Spec().Validate(map[string]any{"name": "x", "umask": "077", "local": true}, false)
	p, err := User{}.Plan(context.Background(), nil, args)
	if err != nil || !strings.Contains(p.Result["msg"].(string), "can not be used with 'local'") {
		t.Errorf("umask with local: %v %v", p, err)
	}
}
