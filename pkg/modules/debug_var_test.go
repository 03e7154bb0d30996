package modules

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/module"
)

// TestDebugVarErrors: debug var= shows an undefined variable, but any
// other error (a filter's) fails the task, as in Ansible (ansible-core's
// filter_urlsplit target: urlsplit('bad_filter') must fail).
func TestDebugVarErrors(t *testing.T) {
	h := testHost(t.TempDir(), nil)
	for _, c := range []struct {
		expr   string
		failed bool
		want   string
	}{
		{"nosuch", false, "VARIABLE IS NOT DEFINED!"},
		{"'http://x/' | urlsplit('bad_filter')", true, "unknown URL component"},
		{"greeting", false, "hello"},
	} {
		p, err := (&Debug{}).Plan(context.Background(), h, module.Args{"var": c.expr})
		if err != nil {
			t.Fatal(err)
		}
		failed, _ := p.Result["failed"].(bool)
		text, _ := p.Result["msg"].(string)
		if v, ok := p.Result[c.expr].(string); ok {
			text = v
		}
		if failed != c.failed || !strings.Contains(text, c.want) {
			t.Errorf("var=%s: failed=%v %q; want failed=%v and %q", c.expr, failed, text, c.failed, c.want)
		}
	}
}
