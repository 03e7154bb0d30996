package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoadINI loads a 10,000-host INI inventory in 100 groups and
// resolves every host's variables.
func BenchmarkLoadINI(b *testing.B) {
	var sb strings.Builder
	for g := 0; g < 100; g++ {
		fmt.Fprintf(&sb, "[g%d]\nhost%d-[000:099] port=%d tag='x'\n[g%d:vars]\nv%d=%d\n", g, g, g, g, g, g)
	}
	sb.WriteString("[all:children]\n")
	for g := 0; g < 100; g++ {
		fmt.Fprintf(&sb, "g%d\n", g)
	}
	p := filepath.Join(b.TempDir(), "hosts")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		inv, err := Load([]string{p})
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range inv.Hosts() {
			_ = inv.HostVars(h.Name)
		}
	}
}
