package recap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	out := `PLAY RECAP *********************************************************************
db                         : ok=12   changed=3    unreachable=0    failed=1    skipped=4    rescued=2    ignored=5   
web.example.com            : ok=7    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   
not a recap line: ok=1
`
	want := []Host{
		{Name: "db", Counts: Counts{OK: 12, Changed: 3, Failed: 1, Skipped: 4, Rescued: 2, Ignored: 5}},
		{Name: "web.example.com", Counts: Counts{OK: 7, Unreachable: 1}},
	}
	if diff := cmp.Diff(want, Parse(out)); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if c, ok := Of(out, "web.example.com"); !ok || c.OK != 7 {
		t.Errorf("Of(web.example.com) = %+v, %v", c, ok)
	}
	if _, ok := Of(out, "missing"); ok {
		t.Error("Of(missing) found a line")
	}
	if total, hosts := Sum(out); hosts != 2 || total.OK != 19 || total.Unreachable != 1 {
		t.Errorf("Sum = %+v over %d hosts", total, hosts)
	}
}
